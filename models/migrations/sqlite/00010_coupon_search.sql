-- Search anywhere in a code, and the list's orders by uses.
--
-- coupon_search: a full-text index of every coupon's code, cut into
-- trigrams (case-insensitive), so that a fragment of three characters or
-- more finds its codes without reading the table. It holds the index
-- only (the codes stay in coupons) and no positions, which LIKE on it
-- does not need. Triggers keep it for every coupon but the codes a batch
-- inserts, which the batch engine indexes per chunk in the chunk's
-- transaction (one statement per chunk rather than one trigger per code).
--
-- idx_coupons_uses: the coupons used at least once, in order of their
-- uses (and id), for the list's orders by uses; unused coupons follow in
-- id order.

-- +goose Up
CREATE VIRTUAL TABLE coupon_search USING fts5(code, content = 'coupons', content_rowid = 'id', tokenize = 'trigram', detail = 'none', columnsize = 0);
INSERT INTO coupon_search (coupon_search) VALUES ('rebuild');
-- The batch engine commits a chunk of codes every 75 ms or so, each a
-- new segment of the index: merging segments once 16 of a size pile up
-- (rather than 4) halves what generating codes costs, and a search still
-- reads few segments.
INSERT INTO coupon_search (coupon_search, rank) VALUES ('automerge', 16);

-- +goose StatementBegin
CREATE TRIGGER coupon_search_insert AFTER INSERT ON coupons WHEN NEW.batch_id IS NULL
BEGIN
    INSERT INTO coupon_search (rowid, code) VALUES (NEW.id, NEW.code);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER coupon_search_delete AFTER DELETE ON coupons
BEGIN
    INSERT INTO coupon_search (coupon_search, rowid, code) VALUES ('delete', OLD.id, OLD.code);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER coupon_search_update AFTER UPDATE OF code ON coupons
BEGIN
    INSERT INTO coupon_search (coupon_search, rowid, code) VALUES ('delete', OLD.id, OLD.code);
    INSERT INTO coupon_search (rowid, code) VALUES (NEW.id, NEW.code);
END;
-- +goose StatementEnd

CREATE INDEX idx_coupons_uses ON coupons (uses) WHERE uses > 0;

-- +goose Down
DROP INDEX idx_coupons_uses;
DROP TRIGGER coupon_search_update;
DROP TRIGGER coupon_search_delete;
DROP TRIGGER coupon_search_insert;
DROP TABLE coupon_search;
