-- The list of every redemption is filtered by customer and by when a
-- redemption was made, each newest first.

-- +goose Up
CREATE INDEX idx_redemptions_customer_id ON redemptions (customer_id, id);
CREATE INDEX idx_redemptions_created_at ON redemptions (created_at, id);

-- +goose Down
DROP INDEX idx_redemptions_created_at;
DROP INDEX idx_redemptions_customer_id;
