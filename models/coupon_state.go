package models

import (
	"context"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
)

// The states of a coupon, the ones its validation reasons name: whether
// a customer could redeem it now, and if not, why not.
const (
	// CouponActive reaches a promotion that is live and has uses left.
	CouponActive = "active"
	// CouponUsedUp has no uses left: its own limit is reached (or its
	// one customer has used it), or every promotion it would reach now
	// has used up its limit.
	CouponUsedUp = "used_up"
	// CouponExpired has passed its own end, or every promotion it
	// reaches has ended.
	CouponExpired = "expired"
	// CouponNotStarted reaches promotions that have not begun yet.
	CouponNotStarted = "not_started"
	// CouponNoActivePromotion reaches no promotion whose status is
	// active.
	CouponNoActivePromotion = "no_active_promotion"
	// CouponArchived was archived.
	CouponArchived = "archived"
)

// CouponStates lists every state, in the order the console offers them.
var CouponStates = []string{CouponActive, CouponUsedUp, CouponExpired, CouponNotStarted, CouponNoActivePromotion, CouponArchived}

// ValidCouponState reports whether state is one of CouponStates.
func ValidCouponState(state string) bool { return slices.Contains(CouponStates, state) }

// UsedUp reports whether c has no uses left of its own: its uses reached
// its limit, or, for a code of one customer with a limit per customer
// and no renewal interval, that customer's uses reached it.
func (c Coupon) UsedUp() bool {
	return c.MaxUsage > 0 && c.Uses >= c.MaxUsage ||
		c.CustomerID != nil && c.MaxUsagePerClient > 0 && c.ExpirationIntervalPerUse == 0 && c.Uses >= c.MaxUsagePerClient
}

// CouponState is c's state at now, judged with ps, the promotions that
// reach it (CouponPromotions: any status; those that do not reach c are
// passed over). The first that holds wins: archived, used up, expired by
// its own end, then by the promotions it reaches: active when one is live
// with uses left, not started when one is yet to begin, used up when the
// live ones have no uses left, expired when all have ended, and no
// active promotion when none is active.
func CouponState(c Coupon, ps []Promotion, now time.Time) string {
	switch {
	case c.Archived:
		return CouponArchived
	case c.UsedUp():
		return CouponUsedUp
	case c.ExpiresAt != nil && !now.Before(*c.ExpiresAt):
		return CouponExpired
	}
	var live, starting, full, ended bool
	for _, p := range ps {
		if p.Status != PromotionActive || !p.Reaches(c) {
			continue
		}
		switch p.DateReason(now) {
		case ReasonNotStarted:
			starting = true
		case ReasonExpired:
			ended = true
		default:
			if p.MaxUsage > 0 && p.Uses >= p.MaxUsage {
				full = true
			} else {
				live = true
			}
		}
	}
	switch {
	case live:
		return CouponActive
	case starting:
		return CouponNotStarted
	case full:
		return CouponUsedUp
	case ended:
		return CouponExpired
	}
	return CouponNoActivePromotion
}

// Classes of active promotions at a time (the first argument, given
// twice or thrice), as SQL conditions on promotions; they part the active
// promotions as CouponState does.
const (
	promotionLiveSQL     = "status = 'active' AND (begins_at IS NULL OR begins_at <= ?) AND (ends_at IS NULL OR ends_at > ?) AND (max_usage = 0 OR uses < max_usage)"
	promotionFullSQL     = "status = 'active' AND (begins_at IS NULL OR begins_at <= ?) AND (ends_at IS NULL OR ends_at > ?) AND max_usage > 0 AND uses >= max_usage"
	promotionStartingSQL = "status = 'active' AND begins_at IS NOT NULL AND begins_at > ?"
	promotionEndedSQL    = "status = 'active' AND (begins_at IS NULL OR begins_at <= ?) AND ends_at IS NOT NULL AND ends_at <= ?"
	promotionAnySQL      = "status = 'active'"
	couponUsedUpSQL      = "((max_usage > 0 AND uses >= max_usage) OR (customer_id IS NOT NULL AND max_usage_per_client > 0 AND expiration_interval_per_use = 0 AND uses >= max_usage_per_client))"
	couponOwnEndSQL      = "(expires_at IS NOT NULL AND expires_at <= ?)"
)

// reachSQL is the condition that a coupon reaches a promotion of the
// class cond (with its args), written for the table of coupons (or the
// counts, whose columns are named alike but hold 0 and ” for none). It
// never yields NULL, so that NOT of it holds where it does not.
func reachSQL(cond string, args []any, counts bool) (string, []any) {
	id, src, camp := "promotion_id IS NOT NULL AND promotion_id", "utm_source IS NOT NULL AND lower(utm_source)", "utm_campaign IS NOT NULL AND lower(utm_campaign)"
	if counts {
		id, src, camp = "promotion_id", "utm_source", "utm_campaign"
	}
	sql := "((" + id + " IN (SELECT id FROM promotions WHERE " + cond + "))" +
		" OR (" + src + " IN (SELECT lower(utm_source) FROM promotions WHERE utm_source IS NOT NULL AND " + cond + "))" +
		" OR (" + camp + " IN (SELECT lower(utm_campaign) FROM promotions WHERE utm_campaign IS NOT NULL AND " + cond + ")))"
	all := make([]any, 0, 3*len(args))
	for range 3 {
		all = append(all, args...)
	}
	return sql, all
}

// stateWhere narrows q, a query of coupons, to those in state at now, as
// CouponState would judge them.
func (s *Store) stateWhere(q *gorm.DB, state string, now time.Time) *gorm.DB {
	now = now.UTC()
	if state == CouponArchived {
		return q.Where(s.archivedIs(true))
	}
	q = q.Where(s.archivedIs(false))
	live, liveArgs := reachSQL(promotionLiveSQL, []any{now, now}, false)
	starting, startingArgs := reachSQL(promotionStartingSQL, []any{now}, false)
	full, fullArgs := reachSQL(promotionFullSQL, []any{now, now}, false)
	ended, endedArgs := reachSQL(promotionEndedSQL, []any{now, now}, false)
	notLiveNorStarting := "NOT " + live + " AND NOT " + starting
	notLiveNorStartingArgs := append(append([]any{}, liveArgs...), startingArgs...)
	switch state {
	case CouponUsedUp:
		return q.Where("("+couponUsedUpSQL+" OR (NOT "+couponOwnEndSQL+" AND "+notLiveNorStarting+" AND "+full+"))",
			append(append([]any{now}, notLiveNorStartingArgs...), fullArgs...)...)
	case CouponExpired:
		return q.Where("NOT "+couponUsedUpSQL).Where("("+couponOwnEndSQL+" OR ("+notLiveNorStarting+" AND NOT "+full+" AND "+ended+"))",
			append(append(append([]any{now}, notLiveNorStartingArgs...), fullArgs...), endedArgs...)...)
	}
	q = q.Where("NOT "+couponUsedUpSQL).Where("NOT "+couponOwnEndSQL, now)
	switch state {
	case CouponActive:
		return q.Where(live, liveArgs...)
	case CouponNotStarted:
		return q.Where("NOT "+live, liveArgs...).Where(starting, startingArgs...)
	}
	anyActive, anyArgs := reachSQL(promotionAnySQL, nil, false)
	return q.Where("NOT "+anyActive, anyArgs...)
}

// ActiveCoupons is how many coupons a customer could redeem at now: not
// archived, not used up, not past their own end, and reaching a promotion
// that is live with uses left. It reads the kept counts of usable
// coupons per promotion key (coupon_counts), not the coupons, but for
// those whose own end falls on now's UTC day, which it reads by their
// end.
func (s *Store) ActiveCoupons(ctx context.Context, now time.Time) (int64, error) {
	now = now.UTC()
	day := now.Unix() / 86400
	live, liveArgs := reachSQL(promotionLiveSQL, []any{now, now}, true)
	var today int64
	var counted struct {
		Usable int64
		Rows   int64
	}
	db := s.db.WithContext(ctx)
	err := db.Raw("SELECT coalesce(sum(CASE WHEN (expiry_day = -1 OR expiry_day > ?) AND "+live+" THEN usable END), 0) AS usable, count(*) AS rows FROM coupon_counts",
		append([]any{day}, liveArgs...)...).Scan(&counted).Error
	if err != nil {
		return 0, fmt.Errorf("count active coupons: %w", err)
	}
	if err := s.foldCouponCounts(ctx, counted.Rows); err != nil {
		return 0, err
	}
	dayEnd := time.Unix((day+1)*86400, 0).UTC()
	liveCoupons, liveCouponArgs := reachSQL(promotionLiveSQL, []any{now, now}, false)
	err = db.Model(&Coupon{}).Where("expires_at IS NOT NULL AND expires_at > ? AND expires_at < ?", now, dayEnd).
		Where(s.archivedIs(false)).Where("NOT "+couponUsedUpSQL).Where(liveCoupons, liveCouponArgs...).Count(&today).Error
	if err != nil {
		return 0, fmt.Errorf("count active coupons ending today: %w", err)
	}
	return counted.Usable + today, nil
}

// countBatchCodes adds n codes that exec has just inserted for b to the
// counts of usable coupons, in the same transaction: the triggers that
// keep the counts leave a batch's inserts to the batch engine, which
// counts a chunk at once.
func (s *Store) countBatchCodes(exec func(q string, args ...any) (int64, error), b Batch, n int64) error {
	if n == 0 || b.Archived {
		return nil
	}
	var promotion int64
	if b.PromotionID != nil {
		promotion = *b.PromotionID
	}
	var source, campaign string
	if b.UTMSource != nil {
		source = *b.UTMSource
	}
	if b.UTMCampaign != nil {
		campaign = *b.UTMCampaign
	}
	return s.countCodes(exec, promotion, source, campaign, -1, b.ID%8, n)
}

// countCodes adds n usable coupons of one key (promotion, UTM source and
// campaign, UTC day of their own expiry or -1) to the counts, on the
// given shard where SQLite keeps shards.
func (s *Store) countCodes(exec func(q string, args ...any) (int64, error), promotion int64, source, campaign string, day, shard, n int64) error {
	// lower() in SQL, as the triggers fold the tags.
	q := "INSERT INTO coupon_counts (promotion_id, utm_source, utm_campaign, expiry_day, usable) VALUES (?, lower(CAST(? AS text)), lower(CAST(? AS text)), ?, ?)"
	args := []any{promotion, source, campaign, day, n}
	if s.dialect != DialectPostgres {
		q = "INSERT INTO coupon_counts (promotion_id, utm_source, utm_campaign, expiry_day, shard, usable) VALUES (?, lower(CAST(? AS text)), lower(CAST(? AS text)), ?, ?, ?)" +
			" ON CONFLICT (promotion_id, utm_source, utm_campaign, expiry_day, shard) DO UPDATE SET usable = coupon_counts.usable + excluded.usable"
		args = []any{promotion, source, campaign, day, shard, n}
	}
	if _, err := exec(q, args...); err != nil {
		return fmt.Errorf("count the new codes: %w", err)
	}
	return nil
}

// countsFoldAt is how many rows of changes the counts of usable coupons
// may gather on PostgreSQL before a read folds them.
const countsFoldAt = 2_000

// foldCouponCounts folds the log of changes to the counts of usable
// coupons on PostgreSQL into one row per key, once it holds more than
// countsFoldAt rows, in one statement: the rows it deletes are the rows
// it adds up, and rows that other transactions append meanwhile stay.
// One instance folds at a time; the others pass.
func (s *Store) foldCouponCounts(ctx context.Context, rows int64) error {
	if s.dialect != DialectPostgres || rows <= countsFoldAt {
		return nil
	}
	return s.write(ctx, func(tx *gorm.DB) error {
		var mine bool
		if err := tx.Raw("SELECT pg_try_advisory_xact_lock(?)", lockCouponCounts).Scan(&mine).Error; err != nil || !mine {
			return err
		}
		err := tx.Exec(`WITH gone AS (DELETE FROM coupon_counts RETURNING promotion_id, utm_source, utm_campaign, expiry_day, usable)
			INSERT INTO coupon_counts (promotion_id, utm_source, utm_campaign, expiry_day, usable)
			SELECT promotion_id, utm_source, utm_campaign, expiry_day, sum(usable) FROM gone
			GROUP BY promotion_id, utm_source, utm_campaign, expiry_day HAVING sum(usable) <> 0`).Error
		if err != nil {
			return fmt.Errorf("fold the counts of usable coupons: %w", err)
		}
		return nil
	})
}

// RedeemedCodes counts the codes of a batch (batch set) or of the
// promotion that owns its codes, a series or a bulk promotion (promotion
// set), that hold a live use now; the partial indexes on used codes make
// it read those codes alone.
func (s *Store) RedeemedCodes(ctx context.Context, batch, promotion *int64) (int64, error) {
	q := s.db.WithContext(ctx).Model(&Coupon{}).Where("uses > 0")
	switch {
	case batch != nil:
		q = q.Where("batch_id IS NOT NULL AND batch_id = ?", *batch)
	case promotion != nil:
		q = q.Where("promotion_id IS NOT NULL AND promotion_id = ?", *promotion)
	default:
		return 0, nil
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count redeemed codes: %w", err)
	}
	return n, nil
}
