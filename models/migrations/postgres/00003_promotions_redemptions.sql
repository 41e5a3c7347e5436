-- Promotions give coupons their discount; redemptions record each use.
-- The live-use counters on coupons and promotions are what the limits
-- are checked against inside the redeeming transaction.

-- +goose Up
CREATE TABLE promotions (
    id bigserial PRIMARY KEY,
    name varchar(200) NOT NULL,
    description text NOT NULL DEFAULT '',
    status text NOT NULL,
    kind text NOT NULL,
    discount_type text NOT NULL,
    discount_value bigint NOT NULL,
    discount_cap bigint,
    applies_to text NOT NULL DEFAULT 'bill',
    begins_at timestamptz,
    ends_at timestamptz,
    max_usage bigint NOT NULL DEFAULT 0,
    max_usage_per_client bigint NOT NULL DEFAULT 0,
    utm_source text,
    utm_campaign text,
    uses bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX idx_promotions_utm_source ON promotions (lower(utm_source));
CREATE INDEX idx_promotions_utm_campaign ON promotions (lower(utm_campaign));
CREATE INDEX idx_promotions_status_id ON promotions (status, id);

ALTER TABLE coupons ADD COLUMN max_usage_per_client bigint NOT NULL DEFAULT 0;
ALTER TABLE coupons ADD COLUMN customer_id varchar(128) COLLATE "C";
-- Coupons are matched to promotions by tag ignoring case, and listed by
-- tag the same way.
DROP INDEX idx_coupons_utm_source_code;
DROP INDEX idx_coupons_utm_campaign_code;
CREATE INDEX idx_coupons_utm_source_key ON coupons (lower(utm_source), lower(code));
CREATE INDEX idx_coupons_utm_campaign_key ON coupons (lower(utm_campaign), lower(code));
ALTER TABLE coupons ADD COLUMN uses bigint NOT NULL DEFAULT 0;

CREATE TABLE redemptions (
    id bigserial PRIMARY KEY,
    coupon_id bigint NOT NULL REFERENCES coupons (id),
    code text NOT NULL,
    customer_id varchar(128) COLLATE "C" NOT NULL,
    order_id varchar(128) COLLATE "C" NOT NULL,
    items bigint NOT NULL,
    order_amount bigint,
    discount bigint,
    created_at timestamptz NOT NULL,
    cancelled_at timestamptz
);
CREATE UNIQUE INDEX idx_redemptions_coupon_order ON redemptions (coupon_id, order_id);
CREATE INDEX idx_redemptions_coupon_customer ON redemptions (coupon_id, customer_id, created_at);

CREATE TABLE redemption_promotions (
    redemption_id bigint NOT NULL REFERENCES redemptions (id),
    promotion_id bigint NOT NULL REFERENCES promotions (id),
    customer_id varchar(128) COLLATE "C" NOT NULL,
    discount bigint,
    cancelled boolean NOT NULL DEFAULT false,
    PRIMARY KEY (redemption_id, promotion_id)
);
CREATE INDEX idx_redemption_promotions_customer ON redemption_promotions (promotion_id, customer_id);
CREATE INDEX idx_redemption_promotions_promotion ON redemption_promotions (promotion_id, redemption_id);

-- Failed look-ups of unknown codes, by client address and by customer,
-- for the guessing protection.
CREATE TABLE lookup_failures (
    id bigserial PRIMARY KEY,
    subject text NOT NULL,
    at timestamptz NOT NULL
);
CREATE INDEX idx_lookup_failures_subject_at ON lookup_failures (subject, at);
CREATE INDEX idx_lookup_failures_at ON lookup_failures (at);

-- +goose Down
DROP TABLE lookup_failures;
DROP TABLE redemption_promotions;
DROP TABLE redemptions;
ALTER TABLE coupons DROP COLUMN uses;
DROP INDEX idx_coupons_utm_campaign_key;
DROP INDEX idx_coupons_utm_source_key;
CREATE INDEX idx_coupons_utm_source_code ON coupons (utm_source, lower(code));
CREATE INDEX idx_coupons_utm_campaign_code ON coupons (utm_campaign, lower(code));
ALTER TABLE coupons DROP COLUMN customer_id;
ALTER TABLE coupons DROP COLUMN max_usage_per_client;
DROP TABLE promotions;
