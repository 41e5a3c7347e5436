-- Totals of live redemptions per quarter hour (UTC), kept by each
-- redemption and cancellation in its own transaction, so that the
-- dashboard and the performance pages read a few rows instead of the
-- redemptions: for everything (scope 'all'), per promotion, per UTM
-- source and per UTM campaign (lower-cased). slot is the Unix time
-- divided by 900. The same totals are kept per UTC day too (day is the
-- Unix time divided by 86,400), so that a long period reads its whole days
-- from redemption_totals_daily and only its two ends by quarter hour. A
-- redemption keeps the tags its coupon carried, so
-- that cancelling it takes it out of the totals it went into. Distinct
-- customers are counted from redemption_customers, a row per customer
-- and quarter hour with a live redemption in it, each holding the
-- customer's previous such quarter hour (prev_slot): a period's customers
-- are its rows whose previous quarter hour lies before the period.

-- +goose Up
ALTER TABLE redemptions ADD COLUMN utm_source text;
ALTER TABLE redemptions ADD COLUMN utm_campaign text;
UPDATE redemptions SET
    utm_source = (SELECT lower(c.utm_source) FROM coupons c WHERE c.id = redemptions.coupon_id),
    utm_campaign = (SELECT lower(c.utm_campaign) FROM coupons c WHERE c.id = redemptions.coupon_id);

CREATE TABLE redemption_totals (
    scope text NOT NULL,
    scope_key text NOT NULL,
    slot integer NOT NULL,
    shard integer NOT NULL,
    redemptions integer NOT NULL,
    discount integer NOT NULL,
    revenue integer NOT NULL,
    PRIMARY KEY (scope, scope_key, slot, shard)
) WITHOUT ROWID;
CREATE INDEX idx_redemption_totals_slot ON redemption_totals (scope, slot);

CREATE TABLE redemption_totals_daily (
    scope text NOT NULL,
    scope_key text NOT NULL,
    day integer NOT NULL,
    shard integer NOT NULL,
    redemptions integer NOT NULL,
    discount integer NOT NULL,
    revenue integer NOT NULL,
    PRIMARY KEY (scope, scope_key, day, shard)
) WITHOUT ROWID;
CREATE INDEX idx_redemption_totals_daily_day ON redemption_totals_daily (scope, day);

CREATE TABLE redemption_customers (
    scope text NOT NULL,
    scope_key text NOT NULL,
    slot integer NOT NULL,
    customer_id text NOT NULL,
    live integer NOT NULL,
    prev_slot integer,
    PRIMARY KEY (scope, scope_key, slot, customer_id)
) WITHOUT ROWID;
CREATE INDEX idx_redemption_customers_chain ON redemption_customers (scope, scope_key, customer_id, slot);

INSERT INTO redemption_totals (scope, scope_key, slot, shard, redemptions, discount, revenue)
SELECT 'all', '', CAST(strftime('%s', created_at) AS integer) / 900, 0, count(*), coalesce(sum(discount), 0), coalesce(sum(order_amount), 0)
FROM redemptions WHERE cancelled_at IS NULL GROUP BY 3;
INSERT INTO redemption_totals (scope, scope_key, slot, shard, redemptions, discount, revenue)
SELECT 'utm_source', utm_source, CAST(strftime('%s', created_at) AS integer) / 900, 0, count(*), coalesce(sum(discount), 0), coalesce(sum(order_amount), 0)
FROM redemptions WHERE cancelled_at IS NULL AND utm_source IS NOT NULL GROUP BY 2, 3;
INSERT INTO redemption_totals (scope, scope_key, slot, shard, redemptions, discount, revenue)
SELECT 'utm_campaign', utm_campaign, CAST(strftime('%s', created_at) AS integer) / 900, 0, count(*), coalesce(sum(discount), 0), coalesce(sum(order_amount), 0)
FROM redemptions WHERE cancelled_at IS NULL AND utm_campaign IS NOT NULL GROUP BY 2, 3;
INSERT INTO redemption_totals (scope, scope_key, slot, shard, redemptions, discount, revenue)
SELECT 'promotion', CAST(rp.promotion_id AS text), CAST(strftime('%s', r.created_at) AS integer) / 900, 0, count(*), coalesce(sum(rp.discount), 0), coalesce(sum(r.order_amount), 0)
FROM redemption_promotions rp JOIN redemptions r ON r.id = rp.redemption_id WHERE r.cancelled_at IS NULL GROUP BY 2, 3;

INSERT INTO redemption_customers (scope, scope_key, slot, customer_id, live)
SELECT 'all', '', CAST(strftime('%s', created_at) AS integer) / 900, customer_id, count(*)
FROM redemptions WHERE cancelled_at IS NULL GROUP BY 3, 4;
INSERT INTO redemption_customers (scope, scope_key, slot, customer_id, live)
SELECT 'promotion', CAST(rp.promotion_id AS text), CAST(strftime('%s', r.created_at) AS integer) / 900, r.customer_id, count(*)
FROM redemption_promotions rp JOIN redemptions r ON r.id = rp.redemption_id WHERE r.cancelled_at IS NULL GROUP BY 2, 3, 4;

INSERT INTO redemption_totals_daily (scope, scope_key, day, shard, redemptions, discount, revenue)
SELECT scope, scope_key, slot / 96, shard, sum(redemptions), sum(discount), sum(revenue)
FROM redemption_totals GROUP BY scope, scope_key, slot / 96, shard;

UPDATE redemption_customers SET prev_slot = (
    SELECT max(p.slot) FROM redemption_customers p
    WHERE p.scope = redemption_customers.scope AND p.scope_key = redemption_customers.scope_key
      AND p.customer_id = redemption_customers.customer_id AND p.slot < redemption_customers.slot);

-- +goose Down
DROP TABLE redemption_customers;
DROP TABLE redemption_totals_daily;
DROP TABLE redemption_totals;
ALTER TABLE redemptions DROP COLUMN utm_campaign;
ALTER TABLE redemptions DROP COLUMN utm_source;
