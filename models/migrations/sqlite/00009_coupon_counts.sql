-- What the batch and series pages and the dashboard's "active coupons"
-- read without counting the coupons.
--
-- Redemption totals per batch (scope 'batch', keyed by the batch's id),
-- kept like the others by each redemption and cancellation, filled here
-- from the live redemptions of batch codes.
--
-- Partial indexes on the coupons that have been used at least once, per
-- batch and per owning promotion (a series, a bulk promotion), so that
-- "codes redeemed" reads the used codes only.
--
-- coupon_counts: how many coupons are usable (not archived, not used
-- up) per key a promotion reaches them by (owning promotion, lower-cased
-- UTM source and campaign; 0 and '' for none) and per UTC day their own
-- expiry falls in (-1 for none). Triggers keep it for every row change,
-- except the codes a batch inserts, which the batch engine counts per
-- chunk in the chunk's transaction. Rows are spread over 8 shards by
-- coupon id; only their sum means anything.

-- +goose Up
INSERT INTO redemption_totals (scope, scope_key, slot, shard, redemptions, discount, revenue)
SELECT 'batch', CAST(c.batch_id AS text), CAST(strftime('%s', r.created_at) AS integer) / 900, 0, count(*), coalesce(sum(r.discount), 0), coalesce(sum(r.order_amount), 0)
FROM redemptions r JOIN coupons c ON c.id = r.coupon_id WHERE r.cancelled_at IS NULL AND c.batch_id IS NOT NULL GROUP BY 2, 3;
INSERT INTO redemption_totals_daily (scope, scope_key, day, shard, redemptions, discount, revenue)
SELECT scope, scope_key, slot / 96, shard, sum(redemptions), sum(discount), sum(revenue)
FROM redemption_totals WHERE scope = 'batch' GROUP BY scope, scope_key, slot / 96, shard;

CREATE INDEX idx_coupons_batch_used ON coupons (batch_id) WHERE uses > 0 AND batch_id IS NOT NULL;
CREATE INDEX idx_coupons_promotion_used ON coupons (promotion_id) WHERE uses > 0 AND promotion_id IS NOT NULL;
CREATE INDEX idx_coupons_expires_at ON coupons (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE coupon_counts (
    promotion_id integer NOT NULL,
    utm_source text NOT NULL,
    utm_campaign text NOT NULL,
    expiry_day integer NOT NULL,
    shard integer NOT NULL,
    usable integer NOT NULL,
    PRIMARY KEY (promotion_id, utm_source, utm_campaign, expiry_day, shard)
) WITHOUT ROWID;

INSERT INTO coupon_counts (promotion_id, utm_source, utm_campaign, expiry_day, shard, usable)
SELECT coalesce(promotion_id, 0), lower(coalesce(utm_source, '')), lower(coalesce(utm_campaign, '')),
       CASE WHEN expires_at IS NULL THEN -1 ELSE CAST(strftime('%s', expires_at) AS integer) / 86400 END, 0, count(*)
FROM coupons
WHERE NOT archived AND (max_usage = 0 OR uses < max_usage)
  AND NOT (customer_id IS NOT NULL AND max_usage_per_client > 0 AND expiration_interval_per_use = 0 AND uses >= max_usage_per_client)
GROUP BY 1, 2, 3, 4;

-- +goose StatementBegin
CREATE TRIGGER coupon_counts_insert AFTER INSERT ON coupons
WHEN NEW.batch_id IS NULL AND NOT NEW.archived AND (NEW.max_usage = 0 OR NEW.uses < NEW.max_usage)
  AND NOT (NEW.customer_id IS NOT NULL AND NEW.max_usage_per_client > 0 AND NEW.expiration_interval_per_use = 0 AND NEW.uses >= NEW.max_usage_per_client)
BEGIN
    INSERT INTO coupon_counts (promotion_id, utm_source, utm_campaign, expiry_day, shard, usable)
    VALUES (coalesce(NEW.promotion_id, 0), lower(coalesce(NEW.utm_source, '')), lower(coalesce(NEW.utm_campaign, '')),
            CASE WHEN NEW.expires_at IS NULL THEN -1 ELSE CAST(strftime('%s', NEW.expires_at) AS integer) / 86400 END, NEW.id % 8, 1)
    ON CONFLICT (promotion_id, utm_source, utm_campaign, expiry_day, shard) DO UPDATE SET usable = usable + 1;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER coupon_counts_delete AFTER DELETE ON coupons
WHEN NOT OLD.archived AND (OLD.max_usage = 0 OR OLD.uses < OLD.max_usage)
  AND NOT (OLD.customer_id IS NOT NULL AND OLD.max_usage_per_client > 0 AND OLD.expiration_interval_per_use = 0 AND OLD.uses >= OLD.max_usage_per_client)
BEGIN
    INSERT INTO coupon_counts (promotion_id, utm_source, utm_campaign, expiry_day, shard, usable)
    VALUES (coalesce(OLD.promotion_id, 0), lower(coalesce(OLD.utm_source, '')), lower(coalesce(OLD.utm_campaign, '')),
            CASE WHEN OLD.expires_at IS NULL THEN -1 ELSE CAST(strftime('%s', OLD.expires_at) AS integer) / 86400 END, OLD.id % 8, -1)
    ON CONFLICT (promotion_id, utm_source, utm_campaign, expiry_day, shard) DO UPDATE SET usable = usable - 1;
END;
-- +goose StatementEnd

-- An update moves the coupon out of its old key and into its new one,
-- each only where it is usable; the trigger fires only when usability or
-- the key changed, so a use that leaves a code usable writes nothing.
-- +goose StatementBegin
CREATE TRIGGER coupon_counts_update AFTER UPDATE OF archived, uses, max_usage, max_usage_per_client, customer_id, expiration_interval_per_use, promotion_id, utm_source, utm_campaign, expires_at ON coupons
WHEN (NOT OLD.archived AND (OLD.max_usage = 0 OR OLD.uses < OLD.max_usage) AND NOT (OLD.customer_id IS NOT NULL AND OLD.max_usage_per_client > 0 AND OLD.expiration_interval_per_use = 0 AND OLD.uses >= OLD.max_usage_per_client)) IS NOT (NOT NEW.archived AND (NEW.max_usage = 0 OR NEW.uses < NEW.max_usage) AND NOT (NEW.customer_id IS NOT NULL AND NEW.max_usage_per_client > 0 AND NEW.expiration_interval_per_use = 0 AND NEW.uses >= NEW.max_usage_per_client))
  OR OLD.promotion_id IS NOT NEW.promotion_id OR lower(OLD.utm_source) IS NOT lower(NEW.utm_source)
  OR lower(OLD.utm_campaign) IS NOT lower(NEW.utm_campaign) OR OLD.expires_at IS NOT NEW.expires_at
BEGIN
    INSERT INTO coupon_counts (promotion_id, utm_source, utm_campaign, expiry_day, shard, usable)
    SELECT coalesce(OLD.promotion_id, 0), lower(coalesce(OLD.utm_source, '')), lower(coalesce(OLD.utm_campaign, '')),
           CASE WHEN OLD.expires_at IS NULL THEN -1 ELSE CAST(strftime('%s', OLD.expires_at) AS integer) / 86400 END, OLD.id % 8, -1
    WHERE NOT OLD.archived AND (OLD.max_usage = 0 OR OLD.uses < OLD.max_usage)
      AND NOT (OLD.customer_id IS NOT NULL AND OLD.max_usage_per_client > 0 AND OLD.expiration_interval_per_use = 0 AND OLD.uses >= OLD.max_usage_per_client)
    ON CONFLICT (promotion_id, utm_source, utm_campaign, expiry_day, shard) DO UPDATE SET usable = usable - 1;
    INSERT INTO coupon_counts (promotion_id, utm_source, utm_campaign, expiry_day, shard, usable)
    SELECT coalesce(NEW.promotion_id, 0), lower(coalesce(NEW.utm_source, '')), lower(coalesce(NEW.utm_campaign, '')),
           CASE WHEN NEW.expires_at IS NULL THEN -1 ELSE CAST(strftime('%s', NEW.expires_at) AS integer) / 86400 END, NEW.id % 8, 1
    WHERE NOT NEW.archived AND (NEW.max_usage = 0 OR NEW.uses < NEW.max_usage)
      AND NOT (NEW.customer_id IS NOT NULL AND NEW.max_usage_per_client > 0 AND NEW.expiration_interval_per_use = 0 AND NEW.uses >= NEW.max_usage_per_client)
    ON CONFLICT (promotion_id, utm_source, utm_campaign, expiry_day, shard) DO UPDATE SET usable = usable + 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER coupon_counts_update;
DROP TRIGGER coupon_counts_delete;
DROP TRIGGER coupon_counts_insert;
DROP TABLE coupon_counts;
DROP INDEX idx_coupons_expires_at;
DROP INDEX idx_coupons_promotion_used;
DROP INDEX idx_coupons_batch_used;
DELETE FROM redemption_totals_daily WHERE scope = 'batch';
DELETE FROM redemption_totals WHERE scope = 'batch';
