-- An import's rows are sorted by code while its file is uploaded and
-- kept in import_chunks, as blobs of a few thousand encoded rows each
-- (first is the place of a chunk's first row in that order); the runner
-- reads a chunk at a time and deletes it once done. import_rows keeps
-- only the rows refused, for the error report, in line order. Imports
-- that were waiting or running in the former layout cannot go on: they
-- are marked failed, their rows to do deleted.

-- +goose Up
CREATE TABLE import_chunks (
    batch_id integer NOT NULL,
    first integer NOT NULL,
    data blob NOT NULL,
    PRIMARY KEY (batch_id, first)
);
UPDATE batches SET status = 'failed', lease_owner = NULL, lease_until = NULL, finished_at = CURRENT_TIMESTAMP, updated_at = CURRENT_TIMESTAMP,
    error = 'coupond was upgraded while it ran; what was imported is kept: import the file again (the rows imported are refused as existing)'
    WHERE kind = 'import' AND status IN ('pending', 'running');
DELETE FROM import_rows WHERE problem = '';
DROP INDEX idx_import_rows_code;
ALTER TABLE batches DROP COLUMN import_cursor;

-- +goose Down
UPDATE batches SET status = 'failed', lease_owner = NULL, lease_until = NULL, finished_at = CURRENT_TIMESTAMP, updated_at = CURRENT_TIMESTAMP,
    error = 'coupond was downgraded while it ran; what was imported is kept: import the file again (the rows imported are refused as existing)'
    WHERE kind = 'import' AND status IN ('pending', 'running');
ALTER TABLE batches ADD COLUMN import_cursor text NOT NULL DEFAULT '';
CREATE INDEX idx_import_rows_code ON import_rows (batch_id, lower(code), line);
DROP TABLE import_chunks;
