-- The generation engine: a batch records its format, the coupon
-- configuration its codes get, its progress and which instance runs it
-- (a lease that another instance takes over once it expires). Codes of a
-- bulk promotion belong to it directly. Idempotency keys remember the
-- first response to a request so that a retry returns it again.

-- +goose Up
ALTER TABLE batches ADD COLUMN promotion_id bigint REFERENCES promotions (id);
ALTER TABLE batches ADD COLUMN format text NOT NULL DEFAULT '';
ALTER TABLE batches ADD COLUMN archived boolean NOT NULL DEFAULT false;
ALTER TABLE batches ADD COLUMN shape text NOT NULL DEFAULT '';
ALTER TABLE batches ADD COLUMN generated bigint NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN next_bucket bigint NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN bucket_order bigint NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN max_usage bigint NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN max_usage_per_client bigint NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN max_items_per_client bigint NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN expiration_interval_per_use bigint NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN utm_source text;
ALTER TABLE batches ADD COLUMN utm_campaign text;
ALTER TABLE batches ADD COLUMN created_by text NOT NULL DEFAULT '';
ALTER TABLE batches ADD COLUMN error text NOT NULL DEFAULT '';
ALTER TABLE batches ADD COLUMN lease_owner text;
ALTER TABLE batches ADD COLUMN lease_until timestamptz;
ALTER TABLE batches ADD COLUMN started_at timestamptz;
ALTER TABLE batches ADD COLUMN finished_at timestamptz;
UPDATE batches SET generated = quantity, finished_at = created_at WHERE status = 'done';
CREATE INDEX idx_batches_status_id ON batches (status, id);
CREATE INDEX idx_batches_shape ON batches (shape);
CREATE INDEX idx_batches_promotion_id ON batches (promotion_id);

-- No foreign key: it would check every generated code one by one, and
-- promotions are archived, never deleted.
ALTER TABLE coupons ADD COLUMN promotion_id bigint;
CREATE INDEX idx_coupons_promotion_id ON coupons (promotion_id, id);
-- A batch's codes are read in id order, page by page (its CSV); SQLite's
-- index on batch_id holds the rowid already.
DROP INDEX idx_coupons_batch_id;
CREATE INDEX idx_coupons_batch_id_id ON coupons (batch_id, id);

-- Generated codes are random: every index keyed by the code takes each
-- new code at a random place, which is most of what inserting a code
-- costs. Only the unique index must hold every code; the list filters'
-- indexes hold just the coupons they select (archived, tagged).
DROP INDEX idx_coupons_archived_code;
CREATE INDEX idx_coupons_archived_key ON coupons (lower(code)) WHERE archived = true;
DROP INDEX idx_coupons_utm_source_key;
CREATE INDEX idx_coupons_utm_source_key ON coupons (lower(utm_source), lower(code)) WHERE utm_source IS NOT NULL;
DROP INDEX idx_coupons_utm_campaign_key;
CREATE INDEX idx_coupons_utm_campaign_key ON coupons (lower(utm_campaign), lower(code)) WHERE utm_campaign IS NOT NULL;

CREATE TABLE idempotency_keys (
    id bigserial PRIMARY KEY,
    scope text NOT NULL,
    idem_key text NOT NULL,
    request_hash text NOT NULL,
    status integer NOT NULL DEFAULT 0,
    content_type text NOT NULL DEFAULT '',
    location text NOT NULL DEFAULT '',
    body bytea,
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX idx_idempotency_keys_scope_key ON idempotency_keys (scope, idem_key);
CREATE INDEX idx_idempotency_keys_created_at ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP INDEX idx_coupons_utm_campaign_key;
CREATE INDEX idx_coupons_utm_campaign_key ON coupons (lower(utm_campaign), lower(code));
DROP INDEX idx_coupons_utm_source_key;
CREATE INDEX idx_coupons_utm_source_key ON coupons (lower(utm_source), lower(code));
DROP INDEX idx_coupons_archived_key;
CREATE INDEX idx_coupons_archived_code ON coupons (archived, lower(code));
DROP INDEX idx_coupons_batch_id_id;
CREATE INDEX idx_coupons_batch_id ON coupons (batch_id);
DROP INDEX idx_coupons_promotion_id;
ALTER TABLE coupons DROP COLUMN promotion_id;
DROP INDEX idx_batches_promotion_id;
DROP INDEX idx_batches_shape;
DROP INDEX idx_batches_status_id;
ALTER TABLE batches DROP COLUMN finished_at;
ALTER TABLE batches DROP COLUMN started_at;
ALTER TABLE batches DROP COLUMN lease_until;
ALTER TABLE batches DROP COLUMN lease_owner;
ALTER TABLE batches DROP COLUMN error;
ALTER TABLE batches DROP COLUMN created_by;
ALTER TABLE batches DROP COLUMN utm_campaign;
ALTER TABLE batches DROP COLUMN utm_source;
ALTER TABLE batches DROP COLUMN expiration_interval_per_use;
ALTER TABLE batches DROP COLUMN max_items_per_client;
ALTER TABLE batches DROP COLUMN max_usage_per_client;
ALTER TABLE batches DROP COLUMN max_usage;
ALTER TABLE batches DROP COLUMN bucket_order;
ALTER TABLE batches DROP COLUMN next_bucket;
ALTER TABLE batches DROP COLUMN generated;
ALTER TABLE batches DROP COLUMN shape;
ALTER TABLE batches DROP COLUMN archived;
ALTER TABLE batches DROP COLUMN format;
ALTER TABLE batches DROP COLUMN promotion_id;
