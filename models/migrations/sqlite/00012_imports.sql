-- Imports: a CSV file of codes customers already hold becomes a batch of
-- kind 'import', whose rows wait in import_rows until the batch runner
-- takes them a chunk at a time. A row imported is deleted from
-- import_rows; a row refused stays with its problem, for the error
-- report. rejected counts the refused rows (generated the imported ones),
-- file_name is the file's name, for people.

-- +goose Up
ALTER TABLE batches ADD COLUMN kind text NOT NULL DEFAULT 'generate';
ALTER TABLE batches ADD COLUMN rejected integer NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN file_name text NOT NULL DEFAULT '';
CREATE TABLE import_rows (
    batch_id integer NOT NULL,
    line integer NOT NULL,
    code text NOT NULL,
    max_usage integer NOT NULL,
    max_usage_per_client integer NOT NULL,
    utm_source text,
    utm_campaign text,
    promotion_id integer,
    customer_id text,
    expires_at datetime,
    problem text NOT NULL DEFAULT '',
    PRIMARY KEY (batch_id, line)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE import_rows;
ALTER TABLE batches DROP COLUMN file_name;
ALTER TABLE batches DROP COLUMN rejected;
ALTER TABLE batches DROP COLUMN kind;
