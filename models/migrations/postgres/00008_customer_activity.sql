-- Each customer's latest activity (its latest issue or redemption), its
-- live redemptions and what they saved it (the sum of their discounts,
-- in minor units), kept by every issue, redemption and cancellation in
-- its own transaction so that the customer list never sums redemptions.
-- The list is paged newest activity first, and searched by the start of
-- an email. Every customer id a redemption names gets a customer.

-- +goose Up
ALTER TABLE customers ADD COLUMN last_activity_at timestamptz;
ALTER TABLE customers ADD COLUMN redemptions bigint NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN savings bigint NOT NULL DEFAULT 0;

INSERT INTO customers (id, created_at)
    SELECT customer_id, min(created_at) FROM redemptions GROUP BY customer_id
    ON CONFLICT (id) DO NOTHING;

UPDATE customers c SET
    redemptions = coalesce(r.uses, 0),
    savings = coalesce(r.saved, 0),
    last_activity_at = greatest(c.created_at, r.latest, i.latest)
FROM customers c2
    LEFT JOIN (SELECT customer_id COLLATE "default" AS customer_id,
            count(*) FILTER (WHERE cancelled_at IS NULL) AS uses,
            sum(discount) FILTER (WHERE cancelled_at IS NULL) AS saved,
            max(created_at) AS latest
        FROM redemptions GROUP BY customer_id) r ON r.customer_id = c2.id
    LEFT JOIN (SELECT customer_id, max(issued_at) AS latest FROM issuances GROUP BY customer_id) i ON i.customer_id = c2.id
WHERE c2.id = c.id;

ALTER TABLE customers ALTER COLUMN last_activity_at SET NOT NULL;
CREATE INDEX idx_customers_activity ON customers (last_activity_at DESC, id);
-- The search by the start of an email, whatever the database's collation.
CREATE INDEX idx_customers_email_prefix ON customers (email text_pattern_ops) WHERE email IS NOT NULL;

-- +goose Down
DROP INDEX idx_customers_email_prefix;
DROP INDEX idx_customers_activity;
ALTER TABLE customers DROP COLUMN savings;
ALTER TABLE customers DROP COLUMN redemptions;
ALTER TABLE customers DROP COLUMN last_activity_at;
