-- A generated coupon remembers the base code it was generated from, so
-- listings need no join with its batch.

-- +goose Up
ALTER TABLE coupons ADD COLUMN grouping_key text;
UPDATE coupons SET grouping_key = (SELECT base_code FROM batches WHERE batches.id = coupons.batch_id) WHERE batch_id IS NOT NULL;

-- +goose Down
ALTER TABLE coupons DROP COLUMN grouping_key;
