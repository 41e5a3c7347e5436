-- Search anywhere in a code, and the list's orders by uses and ends.
--
-- idx_coupons_code_trgm: a trigram index (pg_trgm) of the lower-cased
-- codes, which answers lower(code) LIKE '%fragment%' for fragments of
-- three characters or more without reading the table. pg_trgm ships with
-- PostgreSQL and is a trusted extension: the database's owner may create
-- it. The operator class is named in the schema the extension lives in,
-- whatever the search_path. New entries wait in the index's pending list
-- (read in full by every search) until it is merged: the batch engine
-- merges each chunk's, autovacuum the rest.
--
-- idx_coupons_uses: the coupons used at least once, in order of their
-- uses and id, for the list's orders by uses; unused coupons follow in id
-- order. idx_coupons_expires_at gains the id, so that paging through
-- coupons that end at the same moment (a batch) stays a range.

-- +goose Up
-- +goose StatementBegin
DO $$
DECLARE
    trgm text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE EXTENSION pg_trgm;
    END IF;
    SELECT extnamespace::regnamespace::text INTO trgm FROM pg_extension WHERE extname = 'pg_trgm';
    EXECUTE format('CREATE INDEX idx_coupons_code_trgm ON coupons USING gin (lower(code) %s.gin_trgm_ops)', trgm);
END
$$;
-- +goose StatementEnd
CREATE INDEX idx_coupons_uses ON coupons (uses, id) WHERE uses > 0;
DROP INDEX idx_coupons_expires_at;
CREATE INDEX idx_coupons_expires_at ON coupons (expires_at, id) WHERE expires_at IS NOT NULL;

-- +goose Down
DROP INDEX idx_coupons_expires_at;
CREATE INDEX idx_coupons_expires_at ON coupons (expires_at) WHERE expires_at IS NOT NULL;
DROP INDEX idx_coupons_uses;
DROP INDEX idx_coupons_code_trgm;
