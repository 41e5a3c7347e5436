-- Promotions give coupons their discount; redemptions record each use.
-- The live-use counters on coupons and promotions are what the limits
-- are checked against inside the redeeming transaction.

-- +goose Up
CREATE TABLE promotions (
    id integer PRIMARY KEY AUTOINCREMENT,
    name text NOT NULL,
    description text NOT NULL DEFAULT '',
    status text NOT NULL,
    kind text NOT NULL,
    discount_type text NOT NULL,
    discount_value integer NOT NULL,
    discount_cap integer,
    applies_to text NOT NULL DEFAULT 'bill',
    begins_at datetime,
    ends_at datetime,
    max_usage integer NOT NULL DEFAULT 0,
    max_usage_per_client integer NOT NULL DEFAULT 0,
    utm_source text,
    utm_campaign text,
    uses integer NOT NULL DEFAULT 0,
    created_at datetime NOT NULL,
    updated_at datetime NOT NULL
);
CREATE INDEX idx_promotions_utm_source ON promotions (lower(utm_source));
CREATE INDEX idx_promotions_utm_campaign ON promotions (lower(utm_campaign));
CREATE INDEX idx_promotions_status_id ON promotions (status, id);

ALTER TABLE coupons ADD COLUMN max_usage_per_client integer NOT NULL DEFAULT 0;
ALTER TABLE coupons ADD COLUMN customer_id text;
-- Coupons are matched to promotions by tag ignoring case, and listed by
-- tag the same way.
DROP INDEX idx_coupons_utm_source_code;
DROP INDEX idx_coupons_utm_campaign_code;
CREATE INDEX idx_coupons_utm_source_key ON coupons (lower(utm_source), lower(code));
CREATE INDEX idx_coupons_utm_campaign_key ON coupons (lower(utm_campaign), lower(code));
ALTER TABLE coupons ADD COLUMN uses integer NOT NULL DEFAULT 0;

CREATE TABLE redemptions (
    id integer PRIMARY KEY AUTOINCREMENT,
    coupon_id integer NOT NULL REFERENCES coupons (id),
    code text NOT NULL,
    customer_id text NOT NULL,
    order_id text NOT NULL,
    items integer NOT NULL,
    order_amount integer,
    discount integer,
    created_at datetime NOT NULL,
    cancelled_at datetime
);
CREATE UNIQUE INDEX idx_redemptions_coupon_order ON redemptions (coupon_id, order_id);
CREATE INDEX idx_redemptions_coupon_customer ON redemptions (coupon_id, customer_id, created_at);

CREATE TABLE redemption_promotions (
    redemption_id integer NOT NULL REFERENCES redemptions (id),
    promotion_id integer NOT NULL REFERENCES promotions (id),
    customer_id text NOT NULL,
    discount integer,
    cancelled boolean NOT NULL DEFAULT false,
    PRIMARY KEY (redemption_id, promotion_id)
);
CREATE INDEX idx_redemption_promotions_customer ON redemption_promotions (promotion_id, customer_id);
CREATE INDEX idx_redemption_promotions_promotion ON redemption_promotions (promotion_id, redemption_id);

-- Failed look-ups of unknown codes, by client address and by customer,
-- for the guessing protection.
CREATE TABLE lookup_failures (
    id integer PRIMARY KEY AUTOINCREMENT,
    subject text NOT NULL,
    at datetime NOT NULL
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
