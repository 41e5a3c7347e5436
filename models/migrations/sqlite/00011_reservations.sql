-- Reservations: one use of a coupon, and of each promotion it reaches,
-- held for an order while its customer pays. A hold counts against every
-- limit while it is live: not ended (released or redeemed) and not past
-- expires_at, judged when the limits are read, so nothing needs to sweep
-- expired holds for the limits to be right.
--
-- reservation_promotions repeats the hold's coupon, order, customer and
-- expiry per promotion, so that a promotion's holds are counted from one
-- index without a join.

-- +goose Up
CREATE TABLE reservations (
    id integer PRIMARY KEY AUTOINCREMENT,
    coupon_id integer NOT NULL,
    code text NOT NULL,
    customer_id text NOT NULL,
    order_id text NOT NULL,
    items integer NOT NULL,
    order_amount integer,
    discount integer,
    created_at datetime NOT NULL,
    expires_at datetime NOT NULL,
    ended_at datetime,
    ended text NOT NULL DEFAULT '',
    redemption_id integer
);
CREATE UNIQUE INDEX idx_reservations_order ON reservations (coupon_id, order_id) WHERE ended_at IS NULL;
CREATE INDEX idx_reservations_held ON reservations (coupon_id, expires_at) WHERE ended_at IS NULL;

CREATE TABLE reservation_promotions (
    reservation_id integer NOT NULL REFERENCES reservations (id),
    promotion_id integer NOT NULL,
    coupon_id integer NOT NULL,
    order_id text NOT NULL,
    customer_id text NOT NULL,
    discount integer,
    expires_at datetime NOT NULL,
    ended boolean NOT NULL DEFAULT false,
    PRIMARY KEY (reservation_id, promotion_id)
);
CREATE INDEX idx_reservation_promotions_held ON reservation_promotions (promotion_id, expires_at) WHERE NOT ended;

-- +goose Down
DROP TABLE reservation_promotions;
DROP TABLE reservations;
