-- Each customer's latest activity (its latest issue or redemption), its
-- live redemptions and what they saved it (the sum of their discounts,
-- in minor units), kept by every issue, redemption and cancellation in
-- its own transaction so that the customer list never sums redemptions.
-- The list is paged newest activity first. Every customer id a
-- redemption names gets a customer.

-- +goose Up
ALTER TABLE customers ADD COLUMN last_activity_at datetime NOT NULL DEFAULT '1970-01-01 00:00:00+00:00';
ALTER TABLE customers ADD COLUMN redemptions integer NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN savings integer NOT NULL DEFAULT 0;

INSERT INTO customers (id, created_at)
    SELECT customer_id, min(created_at) FROM redemptions
    WHERE customer_id NOT IN (SELECT id FROM customers)
    GROUP BY customer_id;

UPDATE customers SET
    redemptions = (SELECT count(*) FROM redemptions r WHERE r.customer_id = customers.id AND r.cancelled_at IS NULL),
    savings = (SELECT coalesce(sum(r.discount), 0) FROM redemptions r WHERE r.customer_id = customers.id AND r.cancelled_at IS NULL),
    last_activity_at = max(
        created_at,
        coalesce((SELECT max(r.created_at) FROM redemptions r WHERE r.customer_id = customers.id), created_at),
        coalesce((SELECT max(i.issued_at) FROM issuances i WHERE i.customer_id = customers.id), created_at));

CREATE INDEX idx_customers_activity ON customers (last_activity_at DESC, id);

-- +goose Down
DROP INDEX idx_customers_activity;
ALTER TABLE customers DROP COLUMN savings;
ALTER TABLE customers DROP COLUMN redemptions;
ALTER TABLE customers DROP COLUMN last_activity_at;
