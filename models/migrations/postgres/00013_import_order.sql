-- An import takes its rows in the order of their codes, not of their
-- lines: the indexes on the coupons' codes then take a chunk's codes a
-- few pages at a time rather than a page each, whatever order the file
-- has them in. import_cursor is the last code done (case-folded), with
-- next_bucket the last line of that code; idx_import_rows_code reads the
-- rows in that order.

-- +goose Up
ALTER TABLE batches ADD COLUMN import_cursor text NOT NULL DEFAULT '';
CREATE INDEX idx_import_rows_code ON import_rows (batch_id, lower(code), line);

-- +goose Down
DROP INDEX idx_import_rows_code;
ALTER TABLE batches DROP COLUMN import_cursor;
