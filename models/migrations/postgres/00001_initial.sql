-- The schema as the first releases made it. IF NOT EXISTS lets a
-- database made by those releases take this migration as already done.

-- +goose Up
CREATE TABLE IF NOT EXISTS batches (
    id bigserial PRIMARY KEY,
    base_code varchar(64) NOT NULL,
    quantity bigint NOT NULL,
    status varchar(16) NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
-- Codes compare byte-wise, so keyset pages and prefix ranges agree with
-- Go's ordering whatever the cluster's locale.
CREATE TABLE IF NOT EXISTS coupons (
    id bigserial PRIMARY KEY,
    code varchar(64) COLLATE "C" NOT NULL,
    utm_source varchar(255),
    utm_campaign varchar(255),
    archived boolean NOT NULL DEFAULT false,
    max_items_per_client bigint NOT NULL DEFAULT 0,
    expiration_interval_per_use bigint NOT NULL DEFAULT 0,
    max_usage bigint NOT NULL DEFAULT 0,
    batch_id bigint,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_coupons_batch_id ON coupons (batch_id);
CREATE UNIQUE INDEX IF NOT EXISTS idx_coupons_code_key ON coupons (lower(code));
CREATE INDEX IF NOT EXISTS idx_coupons_archived_code ON coupons (archived, lower(code));
CREATE INDEX IF NOT EXISTS idx_coupons_utm_source_code ON coupons (utm_source, lower(code));
CREATE INDEX IF NOT EXISTS idx_coupons_utm_campaign_code ON coupons (utm_campaign, lower(code));
CREATE TABLE IF NOT EXISTS users (
    id bigserial PRIMARY KEY,
    email varchar(254) NOT NULL,
    password_hash varchar(100) NOT NULL,
    role varchar(16) NOT NULL,
    disabled boolean NOT NULL DEFAULT false,
    session_version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_users_email ON users (email);
CREATE TABLE IF NOT EXISTS api_tokens (
    id bigserial PRIMARY KEY,
    name varchar(100) NOT NULL,
    scope varchar(16) NOT NULL,
    hash varchar(64) NOT NULL,
    hint varchar(16) NOT NULL,
    created_by varchar(300) NOT NULL,
    created_at timestamptz,
    last_used_at timestamptz,
    revoked_at timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_api_tokens_hash ON api_tokens (hash);
CREATE TABLE IF NOT EXISTS setup_tokens (
    id bigserial PRIMARY KEY,
    hash varchar(64) NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_setup_tokens_hash ON setup_tokens (hash);
CREATE TABLE IF NOT EXISTS audit_events (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL,
    actor varchar(300) NOT NULL,
    action varchar(64) NOT NULL,
    entity varchar(32) NOT NULL,
    entity_id varchar(128) NOT NULL,
    summary varchar(2000) NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_audit_entity_id ON audit_events (entity);
CREATE INDEX IF NOT EXISTS idx_audit_action_id ON audit_events (action);
CREATE INDEX IF NOT EXISTS idx_audit_actor_id ON audit_events (actor);
CREATE INDEX IF NOT EXISTS idx_audit_events_at ON audit_events (at);
CREATE TABLE IF NOT EXISTS sessions (token text PRIMARY KEY, data bytea NOT NULL, expiry timestamptz NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_expiry_idx ON sessions (expiry);

-- +goose Down
DROP TABLE sessions;
DROP TABLE audit_events;
DROP TABLE setup_tokens;
DROP TABLE api_tokens;
DROP TABLE users;
DROP TABLE coupons;
DROP TABLE batches;
