-- Customers a code is for, coupon series (promotions of kind series with
-- a code format and issuing limits of their own), and the issuance of
-- each personal code. A coupon may expire on its own (a series' codes
-- that last a number of days from their issue).

-- +goose Up
CREATE TABLE customers (
    id text PRIMARY KEY,
    mobile text,
    email text,
    external_id text,
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX idx_customers_mobile ON customers (mobile) WHERE mobile IS NOT NULL;
CREATE UNIQUE INDEX idx_customers_email ON customers (email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX idx_customers_external_id ON customers (external_id) WHERE external_id IS NOT NULL;

CREATE TABLE series (
    promotion_id bigint PRIMARY KEY REFERENCES promotions (id),
    discount_code text NOT NULL DEFAULT '',
    expiry text NOT NULL,
    expiry_days bigint NOT NULL DEFAULT 0,
    format text NOT NULL,
    max_create bigint NOT NULL DEFAULT 0,
    max_per_customer bigint NOT NULL DEFAULT 0,
    uses_per_code bigint NOT NULL DEFAULT 1,
    issued bigint NOT NULL DEFAULT 0,
    extra text NOT NULL DEFAULT '{}'
);

CREATE TABLE issuances (
    id bigserial PRIMARY KEY,
    series_id bigint REFERENCES promotions (id),
    coupon_id bigint NOT NULL REFERENCES coupons (id),
    customer_id text NOT NULL,
    source text NOT NULL DEFAULT '',
    issued_at timestamptz NOT NULL
);
CREATE INDEX idx_issuances_series_customer ON issuances (series_id, customer_id);
CREATE INDEX idx_issuances_coupon ON issuances (coupon_id);

ALTER TABLE coupons ADD COLUMN expires_at timestamptz;
CREATE INDEX idx_coupons_customer_id ON coupons (customer_id, id) WHERE customer_id IS NOT NULL;

-- The customers single-use coupons were made for before customers had a
-- record of their own.
INSERT INTO customers (id, created_at)
    SELECT customer_id, min(created_at) FROM coupons WHERE customer_id IS NOT NULL GROUP BY customer_id;
INSERT INTO issuances (coupon_id, customer_id, issued_at)
    SELECT id, customer_id, created_at FROM coupons WHERE customer_id IS NOT NULL;

-- +goose Down
DROP INDEX idx_coupons_customer_id;
ALTER TABLE coupons DROP COLUMN expires_at;
DROP TABLE issuances;
DROP TABLE series;
DROP TABLE customers;
