-- The schema that coupond made with GORM AutoMigrate before versioned
-- migrations, dumped from a database it created; the migration tests
-- upgrade it.
CREATE TABLE api_tokens (
    id bigint NOT NULL,
    name character varying(100) NOT NULL,
    scope character varying(16) NOT NULL,
    hash character varying(64) NOT NULL,
    hint character varying(16) NOT NULL,
    created_by character varying(300) NOT NULL,
    created_at timestamp with time zone,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone
);
CREATE SEQUENCE api_tokens_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE api_tokens_id_seq OWNED BY api_tokens.id;
CREATE TABLE audit_events (
    id bigint NOT NULL,
    at timestamp with time zone NOT NULL,
    actor character varying(300) NOT NULL,
    action character varying(64) NOT NULL,
    entity character varying(32) NOT NULL,
    entity_id character varying(128) NOT NULL,
    summary character varying(2000) NOT NULL
);
CREATE SEQUENCE audit_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE audit_events_id_seq OWNED BY audit_events.id;
CREATE TABLE batches (
    id bigint NOT NULL,
    base_code character varying(64) NOT NULL,
    quantity bigint NOT NULL,
    status character varying(16) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);
CREATE SEQUENCE batches_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE batches_id_seq OWNED BY batches.id;
CREATE TABLE coupons (
    id bigint NOT NULL,
    code character varying(64) NOT NULL COLLATE pg_catalog."C",
    utm_source character varying(255),
    utm_campaign character varying(255),
    archived boolean DEFAULT false NOT NULL,
    max_items_per_client bigint DEFAULT 0 NOT NULL,
    expiration_interval_per_use bigint DEFAULT 0 NOT NULL,
    max_usage bigint DEFAULT 0 NOT NULL,
    batch_id bigint,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);
CREATE SEQUENCE coupons_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE coupons_id_seq OWNED BY coupons.id;
CREATE TABLE sessions (
    token text NOT NULL,
    data bytea NOT NULL,
    expiry timestamp with time zone NOT NULL
);
CREATE TABLE setup_tokens (
    id bigint NOT NULL,
    hash character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL
);
CREATE SEQUENCE setup_tokens_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE setup_tokens_id_seq OWNED BY setup_tokens.id;
CREATE TABLE users (
    id bigint NOT NULL,
    email character varying(254) NOT NULL,
    password_hash character varying(100) NOT NULL,
    role character varying(16) NOT NULL,
    disabled boolean DEFAULT false NOT NULL,
    session_version bigint DEFAULT 1 NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);
CREATE SEQUENCE users_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE users_id_seq OWNED BY users.id;
ALTER TABLE ONLY api_tokens ALTER COLUMN id SET DEFAULT nextval('api_tokens_id_seq'::regclass);
ALTER TABLE ONLY audit_events ALTER COLUMN id SET DEFAULT nextval('audit_events_id_seq'::regclass);
ALTER TABLE ONLY batches ALTER COLUMN id SET DEFAULT nextval('batches_id_seq'::regclass);
ALTER TABLE ONLY coupons ALTER COLUMN id SET DEFAULT nextval('coupons_id_seq'::regclass);
ALTER TABLE ONLY setup_tokens ALTER COLUMN id SET DEFAULT nextval('setup_tokens_id_seq'::regclass);
ALTER TABLE ONLY users ALTER COLUMN id SET DEFAULT nextval('users_id_seq'::regclass);
ALTER TABLE ONLY api_tokens
    ADD CONSTRAINT api_tokens_pkey PRIMARY KEY (id);
ALTER TABLE ONLY audit_events
    ADD CONSTRAINT audit_events_pkey PRIMARY KEY (id);
ALTER TABLE ONLY batches
    ADD CONSTRAINT batches_pkey PRIMARY KEY (id);
ALTER TABLE ONLY coupons
    ADD CONSTRAINT coupons_pkey PRIMARY KEY (id);
ALTER TABLE ONLY sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (token);
ALTER TABLE ONLY setup_tokens
    ADD CONSTRAINT setup_tokens_pkey PRIMARY KEY (id);
ALTER TABLE ONLY users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX idx_api_tokens_hash ON api_tokens USING btree (hash);
CREATE INDEX idx_audit_action_id ON audit_events USING btree (action);
CREATE INDEX idx_audit_actor_id ON audit_events USING btree (actor);
CREATE INDEX idx_audit_entity_id ON audit_events USING btree (entity);
CREATE INDEX idx_audit_events_at ON audit_events USING btree (at);
CREATE INDEX idx_coupons_archived_code ON coupons USING btree (archived, lower((code)::text));
CREATE INDEX idx_coupons_batch_id ON coupons USING btree (batch_id);
CREATE UNIQUE INDEX idx_coupons_code_key ON coupons USING btree (lower((code)::text));
CREATE INDEX idx_coupons_utm_campaign_code ON coupons USING btree (utm_campaign, lower((code)::text));
CREATE INDEX idx_coupons_utm_source_code ON coupons USING btree (utm_source, lower((code)::text));
CREATE UNIQUE INDEX idx_setup_tokens_hash ON setup_tokens USING btree (hash);
CREATE UNIQUE INDEX idx_users_email ON users USING btree (email);
CREATE INDEX sessions_expiry_idx ON sessions USING btree (expiry);
