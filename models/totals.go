package models

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Scopes of the redemption totals: everything, one promotion, one UTM
// source, one UTM campaign, the codes of one batch.
const (
	ScopeAll         = "all"
	ScopePromotion   = "promotion"
	ScopeUTMSource   = "utm_source"
	ScopeUTMCampaign = "utm_campaign"
	ScopeBatch       = "batch"
)

// SlotLength is the span of time one row of totals covers: a quarter of
// an hour, counted from the Unix epoch, so that every day and every hour
// of any time zone in use (whose offsets are whole quarter hours) is a
// run of whole slots.
const SlotLength = 15 * time.Minute

// slotsPerDay is how many slots make a UTC day, the unit of the daily
// totals.
const slotsPerDay = int64(24 * time.Hour / SlotLength)

// totalShards spreads the totals of one scope and slot over several rows
// on PostgreSQL, so that concurrent redemptions do not queue on one row;
// SQLite has one writer, and one row.
const totalShards = 8

// slotOf is the slot that t falls in.
func slotOf(t time.Time) int64 {
	s := t.Unix()
	n := int64(SlotLength / time.Second)
	if s < 0 {
		return (s - n + 1) / n
	}
	return s / n
}

// SlotStart is when slot begins, in UTC.
func SlotStart(slot int64) time.Time {
	return time.Unix(slot*int64(SlotLength/time.Second), 0).UTC()
}

// SlotEnd is when the slot that t falls in ends: the end of a period
// "until now" that takes in what was made at now.
func SlotEnd(t time.Time) time.Time {
	return SlotStart(slotOf(t) + 1)
}

// Totals are what live redemptions add up to: how many, the discount
// they gave and the order amounts they carried (revenue), both in minor
// units; Customers is how many distinct customers made them, where it is
// counted.
type Totals struct {
	Redemptions int64
	Discount    int64
	Revenue     int64
	Customers   int64
}

// SlotTotals are the totals of one slot.
type SlotTotals struct {
	Slot int64
	Totals
}

// KeyTotals are the totals of one key of a scope: a promotion's id, a
// tag.
type KeyTotals struct {
	Key string
	Totals
}

// totalsRow is one row of redemption_totals.
type totalsRow struct {
	Scope       string
	ScopeKey    string
	Slot        int64
	Shard       int
	Redemptions int64
	Discount    int64
	Revenue     int64
}

// addTotals adds r, a redemption of a code of batch (nil for none), to
// the totals (sign 1), or takes it out (sign -1), inside tx: to
// everything, to each promotion it reached (with that promotion's part of
// the discount), to its UTM source and campaign, to its batch, and to the
// distinct customers of everything and of each promotion, in the slot it
// was made in. fresh says that r's customer had no live redemption
// before r, so that no chain of theirs has a quarter hour to link to.
func (s *Store) addTotals(tx *gorm.DB, r Redemption, batch *int64, sign int64, fresh bool) error {
	slot, shard := slotOf(r.CreatedAt), 0
	if s.dialect == DialectPostgres {
		shard = int(r.ID % totalShards)
	}
	amount := func(p *int64) int64 {
		if p == nil {
			return 0
		}
		return sign * *p
	}
	rows := []totalsRow{{ScopeAll, "", slot, shard, sign, amount(r.Discount), amount(r.OrderAmount)}}
	customers := [][2]string{{ScopeAll, ""}}
	for _, rp := range r.Promotions {
		key := strconv.FormatInt(rp.PromotionID, 10)
		rows = append(rows, totalsRow{ScopePromotion, key, slot, shard, sign, amount(rp.Discount), amount(r.OrderAmount)})
		customers = append(customers, [2]string{ScopePromotion, key})
	}
	if r.UTMSource != nil {
		rows = append(rows, totalsRow{ScopeUTMSource, *r.UTMSource, slot, shard, sign, amount(r.Discount), amount(r.OrderAmount)})
	}
	if r.UTMCampaign != nil {
		rows = append(rows, totalsRow{ScopeUTMCampaign, *r.UTMCampaign, slot, shard, sign, amount(r.Discount), amount(r.OrderAmount)})
	}
	if batch != nil {
		rows = append(rows, totalsRow{ScopeBatch, strconv.FormatInt(*batch, 10), slot, shard, sign, amount(r.Discount), amount(r.OrderAmount)})
	}
	db := s.conn(tx)
	if db.pg && sign > 0 {
		return addTotalsPG(db, rows, customers, r.CustomerID, slot, shard)
	}
	// One statement for the quarter hours, one for the days, and then
	// the customers' chains: the redemption's transaction is the
	// checkout's hot path.
	var sql strings.Builder
	args := make([]any, 0, 7*len(rows))
	for _, t := range []struct{ table, column string }{{"redemption_totals", "slot"}, {"redemption_totals_daily", "day"}} {
		sql.Reset()
		args = args[:0]
		sql.WriteString("INSERT INTO " + t.table + " (scope, scope_key, " + t.column + ", shard, redemptions, discount, revenue) VALUES ")
		for i, row := range rows {
			if i > 0 {
				sql.WriteString(", ")
			}
			sql.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			at := row.Slot
			if t.column == "day" {
				at = row.Slot / slotsPerDay
			}
			args = append(args, row.Scope, row.ScopeKey, at, row.Shard, row.Redemptions, row.Discount, row.Revenue)
		}
		sql.WriteString(" ON CONFLICT (scope, scope_key, " + t.column + ", shard) DO UPDATE SET redemptions = " + t.table + ".redemptions + excluded.redemptions, " +
			"discount = " + t.table + ".discount + excluded.discount, revenue = " + t.table + ".revenue + excluded.revenue")
		if _, err := db.exec(sql.String(), args...); err != nil {
			return fmt.Errorf("add to the redemption totals: %w", err)
		}
	}
	if sign > 0 {
		for _, c := range customers {
			if err := addCustomerSlot(db, c[0], c[1], r.CustomerID, slot, fresh); err != nil {
				return err
			}
		}
		return nil
	}
	for _, c := range customers {
		if err := takeCustomerSlot(db, c[0], c[1], r.CustomerID, slot); err != nil {
			return err
		}
	}
	return nil
}

// addTotalsPG adds a redemption's rows of the totals and its customer's
// quarter hours in every chain, as addTotals and addCustomerSlot do, in
// one statement: on PostgreSQL each statement is a round trip.
func addTotalsPG(db conn, rows []totalsRow, chains [][2]string, customer string, slot int64, shard int) error {
	var scopes, keys, chainScopes, chainKeys []string
	var redemptions, discounts, revenues []int64
	for _, r := range rows {
		scopes, keys = append(scopes, r.Scope), append(keys, r.ScopeKey)
		redemptions, discounts, revenues = append(redemptions, r.Redemptions), append(discounts, r.Discount), append(revenues, r.Revenue)
	}
	for _, c := range chains {
		chainScopes, chainKeys = append(chainScopes, c[0]), append(chainKeys, c[1])
	}
	add := func(table string) string {
		return table + ".redemptions + excluded.redemptions, discount = " + table + ".discount + excluded.discount, revenue = " + table + ".revenue + excluded.revenue"
	}
	_, err := db.exec(`WITH t AS (SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[]) AS t (scope, scope_key, redemptions, discount, revenue)),
		q AS (INSERT INTO redemption_totals (scope, scope_key, slot, shard, redemptions, discount, revenue)
			SELECT scope, scope_key, $6, $7, redemptions, discount, revenue FROM t
			ON CONFLICT (scope, scope_key, slot, shard) DO UPDATE SET redemptions = `+add("redemption_totals")+`),
		d AS (INSERT INTO redemption_totals_daily (scope, scope_key, day, shard, redemptions, discount, revenue)
			SELECT scope, scope_key, $8, $7, redemptions, discount, revenue FROM t
			ON CONFLICT (scope, scope_key, day, shard) DO UPDATE SET redemptions = `+add("redemption_totals_daily")+`),
		n AS (SELECT c.scope, c.scope_key,
				(SELECT max(r.slot) FROM redemption_customers r WHERE r.scope = c.scope AND r.scope_key = c.scope_key AND r.customer_id = $11 AND r.slot < $6 AND r.live > 0) AS prev,
				(SELECT min(r.slot) FROM redemption_customers r WHERE r.scope = c.scope AND r.scope_key = c.scope_key AND r.customer_id = $11 AND r.slot > $6 AND r.live > 0) AS next
			FROM unnest($9::text[], $10::text[]) AS c (scope, scope_key)),
		i AS (INSERT INTO redemption_customers (scope, scope_key, slot, customer_id, live, prev_slot)
			SELECT scope, scope_key, $6, $11, 1, prev FROM n
			ON CONFLICT (scope, scope_key, slot, customer_id) DO UPDATE SET live = redemption_customers.live + 1,
				prev_slot = CASE WHEN redemption_customers.live > 0 THEN redemption_customers.prev_slot ELSE excluded.prev_slot END)
		UPDATE redemption_customers r SET prev_slot = $6 FROM n
		WHERE r.scope = n.scope AND r.scope_key = n.scope_key AND r.customer_id = $11 AND r.slot = n.next`,
		scopes, keys, redemptions, discounts, revenues, slot, shard, slot/slotsPerDay, chainScopes, chainKeys, customer)
	if err != nil {
		return fmt.Errorf("add to the redemption totals: %w", err)
	}
	return nil
}

// The live rows of one customer's chain (a scope, a key and a customer)
// each point at the customer's previous live quarter hour (prev_slot), so
// that counting distinct customers over a range reads each customer once.
// The caller holds the customer's row lock (see countRedemption), so
// chains of one customer are never relinked at once.
const chain = "scope = ? AND scope_key = ? AND customer_id = ?"

// addCustomerSlot counts one more live redemption of customer in slot of
// a chain. A row that becomes live takes the previous live quarter hour,
// and the next live row takes this one; for a row that was live already
// both are what they were, so the statements need not know which it was.
// The neighbours are read first: a statement that reads the table it
// writes has SQLite copy what it read aside first, which cost four times
// the write. A fresh customer (see addTotals) has none to read.
func addCustomerSlot(db conn, scope, key, customer string, slot int64, fresh bool) error {
	var prev, next *int64
	var err error
	if !fresh {
		prev, next, err = customerNeighbours(db, scope, key, customer, slot)
	}
	if err == nil {
		_, err = db.exec("INSERT INTO redemption_customers (scope, scope_key, slot, customer_id, live, prev_slot) VALUES (?, ?, ?, ?, 1, ?) "+
			"ON CONFLICT (scope, scope_key, slot, customer_id) DO UPDATE SET live = redemption_customers.live + 1, "+
			"prev_slot = CASE WHEN redemption_customers.live > 0 THEN redemption_customers.prev_slot ELSE excluded.prev_slot END",
			scope, key, slot, customer, prev)
	}
	if err == nil && next != nil {
		_, err = db.exec("UPDATE redemption_customers SET prev_slot = ? WHERE "+chain+" AND slot = ?", slot, scope, key, customer, *next)
	}
	if err != nil {
		return fmt.Errorf("add to the redemption customers: %w", err)
	}
	return nil
}

// neighbourList is how many of a customer's live quarter hours in a chain
// customerNeighbours reads as a list.
const neighbourList = 64

// customerNeighbours returns the live quarter hours of customer's chain
// just before and just after slot (nil for none). It reads the chain's
// live quarter hours as a list and picks them, which took a quarter of
// the time of asking SQLite for the nearest on either side; a customer
// with more than neighbourList of them is asked the nearest.
func customerNeighbours(db conn, scope, key, customer string, slot int64) (prev, next *int64, err error) {
	rows, err := db.query("SELECT slot FROM "+db.chainIndex()+" WHERE "+chain+" AND live > 0 AND slot <> ? LIMIT "+strconv.Itoa(neighbourList+1),
		scope, key, customer, slot)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		var at int64
		if err := rows.Scan(&at); err != nil {
			return nil, nil, err
		}
		switch {
		case at < slot && (prev == nil || at > *prev):
			prev = &at
		case at > slot && (next == nil || at < *next):
			next = &at
		}
	}
	if err := rows.Err(); err != nil || n <= neighbourList {
		return prev, next, err
	}
	err = db.queryRow("SELECT (SELECT max(slot) FROM "+db.chainIndex()+" WHERE "+chain+" AND slot < ? AND live > 0), "+
		"(SELECT min(slot) FROM "+db.chainIndex()+" WHERE "+chain+" AND slot > ? AND live > 0)",
		scope, key, customer, slot, scope, key, customer, slot).Scan(&prev, &next)
	return prev, next, err
}

// nextCustomerSlot points the next live row of a chain after a slot at a
// quarter hour (the first argument).
func nextCustomerSlot(db conn) string {
	return "UPDATE redemption_customers SET prev_slot = ? WHERE " + chain +
		" AND slot = (SELECT min(slot) FROM " + db.chainIndex() + " WHERE " + chain + " AND slot > ? AND live > 0)"
}

// chainIndex is the table of the chains, read through the chains' index:
// SQLite's planner would rather walk the primary key (scope, scope_key,
// slot) for the nearest slot, past every other customer's quarter hours.
func (c conn) chainIndex() string {
	if c.pg {
		return "redemption_customers"
	}
	return "redemption_customers INDEXED BY idx_redemption_customers_chain"
}

// takeCustomerSlot counts one live redemption of customer in slot of a
// chain less; a row that stops being live hands its previous quarter
// hour to the next live row.
func takeCustomerSlot(db conn, scope, key, customer string, slot int64) error {
	var live int64
	var prev *int64
	err := db.queryRow("UPDATE redemption_customers SET live = live - 1 WHERE "+chain+" AND slot = ? RETURNING live, prev_slot",
		scope, key, customer, slot).Scan(&live, &prev)
	if err != nil {
		return fmt.Errorf("take from the redemption customers: %w", err)
	}
	if live > 0 {
		return nil
	}
	if _, err := db.exec(nextCustomerSlot(db), prev, scope, key, customer, scope, key, customer, slot); err != nil {
		return fmt.Errorf("unlink the customer's quarter hour: %w", err)
	}
	return nil
}

// slotRange is the slots from from (included) to to (left out); a time
// inside a slot takes the whole slot in.
func slotRange(from, to time.Time) (int64, int64) {
	end := slotOf(to)
	if !SlotStart(end).Equal(to.UTC()) {
		end++
	}
	return slotOf(from), end
}

// totalsUnion is a query of the totals rows matching where (a condition
// on scope and scope_key, with its args) that cover slots lo to hi (left
// out): whole UTC days from the daily totals, and the quarter hours
// before the first whole day and after the last from the slot totals.
// Its columns are scope_key, redemptions, discount and revenue.
func totalsUnion(where string, whereArgs []any, lo, hi int64) (string, []any) {
	const cols = "scope_key, redemptions, discount, revenue"
	firstDay, lastDay := (lo+slotsPerDay-1)/slotsPerDay, hi/slotsPerDay
	if firstDay >= lastDay {
		return "SELECT " + cols + " FROM redemption_totals WHERE " + where + " AND slot >= ? AND slot < ?", append(slices.Clone(whereArgs), lo, hi)
	}
	args := append(slices.Clone(whereArgs), lo, firstDay*slotsPerDay, lastDay*slotsPerDay, hi)
	args = append(append(args, whereArgs...), firstDay, lastDay)
	return "SELECT " + cols + " FROM redemption_totals WHERE " + where + " AND ((slot >= ? AND slot < ?) OR (slot >= ? AND slot < ?))" +
		" UNION ALL SELECT " + cols + " FROM redemption_totals_daily WHERE " + where + " AND day >= ? AND day < ?", args
}

// TotalsBetween adds up the live redemptions of one scope and key (""
// for ScopeAll) made from from (included) to to (left out), with their
// distinct customers where they are counted (ScopeAll, ScopePromotion).
// Times inside a slot take the whole slot in. It reads totals, never the
// redemptions.
func (s *Store) TotalsBetween(ctx context.Context, scope, key string, from, to time.Time) (Totals, error) {
	lo, hi := slotRange(from, to)
	var t Totals
	db := s.db.WithContext(ctx)
	q, args := totalsUnion("scope = ? AND scope_key = ?", []any{scope, key}, lo, hi)
	err := db.Raw("SELECT coalesce(sum(redemptions), 0) AS redemptions, coalesce(sum(discount), 0) AS discount, coalesce(sum(revenue), 0) AS revenue FROM ("+q+") AS parts",
		args...).Scan(&t).Error
	if err == nil && (scope == ScopeAll || scope == ScopePromotion) {
		// Each customer once: where its first live quarter hour in the
		// period is, the one whose previous lies before the period.
		err = db.Table("redemption_customers").Select("count(*)").
			Where("scope = ? AND scope_key = ? AND slot >= ? AND slot < ? AND live > 0 AND (prev_slot IS NULL OR prev_slot < ?)", scope, key, lo, hi, lo).Scan(&t.Customers).Error
	}
	if err != nil {
		return Totals{}, fmt.Errorf("read the totals of %s %q: %w", scope, key, err)
	}
	return t, nil
}

// TotalsBySlot is the totals of one scope and key slot by slot, from
// from (included) to to (left out), in slot order; slots without live
// redemptions are left out. Distinct customers are not counted.
func (s *Store) TotalsBySlot(ctx context.Context, scope, key string, from, to time.Time) ([]SlotTotals, error) {
	lo, hi := slotRange(from, to)
	var out []SlotTotals
	err := s.db.WithContext(ctx).Table("redemption_totals").
		Select("slot, sum(redemptions) AS redemptions, sum(discount) AS discount, sum(revenue) AS revenue").
		Where("scope = ? AND scope_key = ? AND slot >= ? AND slot < ?", scope, key, lo, hi).
		Group("slot").Having("sum(redemptions) <> 0").Order("slot").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("read the totals of %s %q by slot: %w", scope, key, err)
	}
	return out, nil
}

// TopTotals is the keys of a scope (promotions by id, tags) with live
// redemptions from from (included) to to (left out), ranked twice: by
// redemptions and by discount, the largest first, ties by the other
// figure and then by key; at most limit in each. One aggregation serves
// both rankings.
func (s *Store) TopTotals(ctx context.Context, scope string, from, to time.Time, limit int) (byRedemptions, byDiscount []KeyTotals, err error) {
	lo, hi := slotRange(from, to)
	var all []KeyTotals
	q, args := totalsUnion("scope = ?", []any{scope}, lo, hi)
	err = s.db.WithContext(ctx).Raw("SELECT scope_key AS key, sum(redemptions) AS redemptions, sum(discount) AS discount, sum(revenue) AS revenue FROM ("+q+
		") AS parts GROUP BY scope_key HAVING sum(redemptions) > 0", args...).Scan(&all).Error
	if err != nil {
		return nil, nil, fmt.Errorf("read the top %s totals: %w", scope, err)
	}
	rank := func(first, second func(KeyTotals) int64) []KeyTotals {
		out := slices.Clone(all)
		slices.SortFunc(out, func(a, b KeyTotals) int {
			return cmp.Or(cmp.Compare(first(b), first(a)), cmp.Compare(second(b), second(a)), strings.Compare(a.Key, b.Key))
		})
		return out[:min(limit, len(out))]
	}
	redemptions := func(t KeyTotals) int64 { return t.Redemptions }
	discount := func(t KeyTotals) int64 { return t.Discount }
	return rank(redemptions, discount), rank(discount, redemptions), nil
}
