package models

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// A redemption locks, in this order, the coupon's row and then the rows
// of the promotions it reaches (by id); a cancellation locks the
// redemption, then the same. Every count a limit is checked against is
// read after those locks, so on PostgreSQL two instances redeeming at
// once see each other's committed uses; SQLite's one writer runs them one
// after the other. The use counters are raised with conditional updates
// as well, so a limit holds even if a check were wrong.

// Check evaluates whether in could be redeemed now, without redeeming.
// client names the caller for the guessing protection. It fails with a
// *ValidationError and a *TooManyGuessesError.
func (s *Store) Check(ctx context.Context, in CheckInput, client string) (Verdict, error) {
	v, err := s.check(ctx, in, client)
	var reasons []string
	if err == nil && !v.Valid {
		reasons = v.Reasons
	}
	s.attempt(OperationValidation, OutcomeValid, false, reasons, err)
	return v, err
}

func (s *Store) check(ctx context.Context, in CheckInput, client string) (Verdict, error) {
	in, err := in.Validate()
	if err != nil {
		return Verdict{}, fmt.Errorf("check coupon: %w", err)
	}
	subjects := guessSubjects(client, in.CustomerID)
	// The guessing check, the coupon and what stands against it are read
	// in one read transaction: each one SQLite begins costs a check of
	// the WAL.
	var v Verdict
	known := true
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.guessGateIn(tx, subjects); err != nil {
			return err
		}
		c, err := s.couponIn(tx, in.Code)
		if errors.Is(err, ErrNotFound) {
			known = false
			return nil
		}
		if err != nil {
			return err
		}
		a := Attempt{CustomerID: in.CustomerID, Items: in.Items, OrderAmount: in.OrderAmount, Now: s.now()}
		v, err = s.verdict(tx, c, a, false)
		return err
	})
	if err == nil && !known {
		if err = s.recordGuess(ctx, subjects); err == nil {
			return Evaluate(nil, nil, Usage{}, Attempt{}), nil
		}
	}
	if err != nil {
		return Verdict{}, fmt.Errorf("check coupon %q: %w", in.Code, err)
	}
	return v, nil
}

// verdict evaluates attempt a on coupon c inside tx, with the active
// promotions c reaches and the usage counted against it. With lock (a
// redemption) the promotions' rows are locked, after the coupon's; a
// validation locks nothing.
func (s *Store) verdict(tx *gorm.DB, c Coupon, a Attempt, lock bool) (Verdict, error) {
	ps, err := s.reaching(tx, c, lock)
	if err != nil {
		return Verdict{}, err
	}
	u, err := s.usage(tx, c, ps, a, !lock)
	if err != nil {
		return Verdict{}, err
	}
	h, err := s.held(tx, c, ps, a, s.now(), !lock)
	if err != nil {
		return Verdict{}, err
	}
	h.add(&u)
	return Evaluate(&c, ps, u, a), nil
}

// usage counts what stands against attempt a on coupon c and its
// promotions ps: the customer's live uses and items of the coupon within
// its renewal interval (only where a limit needs them, or always with
// all, as a validation shows them), and the customer's live uses of each
// promotion with a limit per customer.
func (s *Store) usage(tx *gorm.DB, c Coupon, ps []Promotion, a Attempt, all bool) (Usage, error) {
	u := Usage{PromotionCustomerUses: map[int64]int{}}
	if a.CustomerID == "" {
		return u, nil
	}
	if all || c.MaxUsagePerClient > 0 || c.MaxItemsPerClient > 0 {
		if err := s.customerUses(tx, c, a, &u); err != nil {
			return Usage{}, err
		}
	}
	return u, s.promotionCustomerUses(tx, ps, a, &u)
}

// customerUses counts the customer's live uses and items of coupon c in
// u, within its renewal interval.
func (s *Store) customerUses(tx *gorm.DB, c Coupon, a Attempt, u *Usage) error {
	q := "SELECT count(*), coalesce(sum(items), 0) FROM redemptions WHERE coupon_id = ? AND customer_id = ? AND cancelled_at IS NULL"
	args := []any{c.ID, a.CustomerID}
	if since := CountingSince(a.Now, c.ExpirationIntervalPerUse); !since.IsZero() {
		// Uses less than an interval apart, either way, count against
		// each other: a redemption recorded at an earlier time (At) must
		// not leave a later window holding more uses than the limit.
		q += " AND created_at > ? AND created_at < ?"
		args = append(args, since, a.Now.Add(c.ExpirationIntervalPerUse))
	}
	if err := s.conn(tx).queryRow(q, args...).Scan(&u.CustomerUses, &u.CustomerItems); err != nil {
		return fmt.Errorf("count the customer's uses: %w", err)
	}
	return nil
}

// promotionCustomerUses counts in u the customer's live uses of each of
// ps that limits a customer's uses.
func (s *Store) promotionCustomerUses(tx *gorm.DB, ps []Promotion, a Attempt, u *Usage) error {
	ids := make([]int64, 0, len(ps))
	for _, p := range ps {
		if p.MaxUsagePerClient > 0 {
			ids = append(ids, p.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var counts []struct {
		PromotionID int64
		Uses        int
	}
	err := tx.Model(&RedemptionPromotion{}).Select("promotion_id, count(*) AS uses").
		Where("promotion_id IN ? AND customer_id = ? AND cancelled = ?", ids, a.CustomerID, false).
		Group("promotion_id").Scan(&counts).Error
	if err != nil {
		return fmt.Errorf("count the customer's promotion uses: %w", err)
	}
	for _, pc := range counts {
		u.PromotionCustomerUses[pc.PromotionID] = pc.Uses
	}
	return nil
}

// Redeem records one use of a code by a customer for an order, with every
// limit checked and the use counted in one transaction. Asking again for
// the same code and order returns the first redemption, unchanged, with
// created false. A redemption with a time (in.At) is recorded at that
// time and judged by it; the time must lie from MaxRedemptionAge (30
// days) before the store's clock to MaxRedemptionLead (a minute) after
// it. client names the caller for the guessing protection. It fails with
// a *ValidationError (on FieldRedeemedAt for a time outside the window),
// a *TooManyGuessesError, and a *NotRedeemableError listing every reason.
func (s *Store) Redeem(ctx context.Context, in RedemptionInput, client string) (r Redemption, created bool, err error) {
	defer func() {
		s.attempt(OperationRedemption, OutcomeRedeemed, err == nil && !created, nil, err)
	}()
	if in, err = s.validateRedemption(in); err != nil {
		return Redemption{}, false, fmt.Errorf("redeem coupon: %w", err)
	}
	subjects := guessSubjects(client, in.CustomerID)
	if err := s.guessGate(ctx, subjects); err != nil {
		return Redemption{}, false, fmt.Errorf("redeem coupon %q: %w", in.Code, err)
	}
	var res RedeemResult
	err = s.write(ctx, func(tx *gorm.DB) error {
		c, err := s.lockRedeemable(tx, in.Code)
		if err != nil {
			return err
		}
		res, err = s.redeemCode(ctx, tx, c, in, s.now())
		return err
	})
	if err == nil {
		err = s.recordUnknown(ctx, subjects, []RedeemResult{res})
	}
	if err == nil && len(res.Reasons) > 0 {
		err = &NotRedeemableError{Code: res.Code, Reasons: res.Reasons}
	}
	if err != nil {
		return Redemption{}, false, fmt.Errorf("redeem coupon %q: %w", in.Code, translate(err))
	}
	return res.Redemption, res.Created, nil
}

// validateRedemption is in.Validate with in.At checked against the
// store's clock.
func (s *Store) validateRedemption(in RedemptionInput) (RedemptionInput, error) {
	in, err := in.Validate()
	var verr ValidationError
	if err != nil {
		verr.Merge(NoItem, asValidation(err))
	}
	if msg := checkRedeemedAt(in.At, s.now()); msg != "" {
		verr.Add(FieldRedeemedAt, msg)
	}
	return in, verr.Err()
}

// lockRedeemable locks the coupon of code inside tx, for a redemption:
// nil when no coupon has the code.
func (s *Store) lockRedeemable(tx *gorm.DB, code string) (*Coupon, error) {
	c, err := s.lockCoupon(tx, code)
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return &c, nil
}

// redeemCode is the one redemption step of a code, shared by Redeem and
// RedeemAll: inside tx, with the code's coupon c already locked (nil when
// no coupon has the code), it returns the order's earlier redemption of
// c unchanged, or judges the attempt and, when it is valid, inserts the
// redemption, raises the use counters and writes the audit event. The
// attempt is judged and recorded at in.At, or at now when in.At is zero.
// A refusal is the result's Reasons (ReasonNotFound for no coupon), not
// an error.
func (s *Store) redeemCode(ctx context.Context, tx *gorm.DB, c *Coupon, in RedemptionInput, now time.Time) (RedeemResult, error) {
	res := RedeemResult{Code: in.Code}
	if c == nil {
		res.Reasons = []string{ReasonNotFound}
		return res, nil
	}
	res.Coupon, res.Code = c, c.Code
	var err error
	res.Redemption, err = scanRedemption(s.conn(tx).queryRow("SELECT "+redemptionRow+" FROM redemptions WHERE coupon_id = ? AND order_id = ?", c.ID, in.OrderID))
	if err == nil {
		return res, s.loadPromotions(tx, []*Redemption{&res.Redemption})
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return res, err
	}
	at := now
	if !in.At.IsZero() {
		at = in.At
		if at.Before(c.CreatedAt) {
			return res, Invalid(FieldRedeemedAt, fmt.Sprintf("must not be before the code existed: %s is before %s, when %s was made",
				at.UTC().Format(time.RFC3339), c.CreatedAt.UTC().Format(time.RFC3339), c.Code))
		}
	}
	a := Attempt{CustomerID: in.CustomerID, OrderID: in.OrderID, Items: in.Items, OrderAmount: in.OrderAmount, Now: at}
	v, err := s.verdict(tx, *c, a, true)
	if err != nil {
		return res, err
	}
	if !v.Valid {
		res.Reasons = v.Reasons
		return res, nil
	}
	if res.Redemption, err = s.insertRedemption(ctx, tx, *c, in, at, v); err != nil {
		return res, err
	}
	res.Created = true
	return res, nil
}

// recordUnknown records a failed look-up for each result whose code no
// coupon has. It runs after the redemption's transaction, as Check
// records its look-ups, so that an all-or-nothing redemption rolled back
// by a refusal still counts the codes it guessed.
func (s *Store) recordUnknown(ctx context.Context, subjects []string, results []RedeemResult) error {
	for _, r := range results {
		if slices.Contains(r.Reasons, ReasonNotFound) {
			if err := s.recordGuess(ctx, subjects); err != nil {
				return err
			}
		}
	}
	return nil
}

// errCounterRace stops a redemption whose conditional counter update
// found the limit already reached: the checks before it said otherwise,
// which the locks are there to prevent.
var errCounterRace = errors.New("a use counter was at its limit although the checks passed")

// raiseUses counts one more use on the row id of table (coupons or
// promotions), only while it is under its max_usage.
func raiseUses(c conn, table string, id int64) error {
	one, err := c.execOne("UPDATE "+table+" SET uses = uses + 1 WHERE id = ? AND (max_usage = 0 OR uses < max_usage)", id)
	switch {
	case err != nil:
		return err
	case !one:
		return errCounterRace
	}
	return nil
}

// insertRedemption writes a valid redemption made at at, its promotions,
// the raised counters and the audit event.
func (s *Store) insertRedemption(ctx context.Context, tx *gorm.DB, c Coupon, in RedemptionInput, at time.Time, v Verdict) (Redemption, error) {
	r := Redemption{CouponID: c.ID, Code: c.Code, CustomerID: in.CustomerID, OrderID: in.OrderID, Items: in.Items,
		OrderAmount: in.OrderAmount, Discount: v.Discount, CreatedAt: at, UTMSource: lowerTag(c.UTMSource), UTMCampaign: lowerTag(c.UTMCampaign)}
	db := s.conn(tx)
	summary := fmt.Sprintf("code=%s customer=%s order=%s items=%d promotions=%d", c.Code, r.CustomerID, r.OrderID, r.Items, len(v.Promotions))
	if r.Discount != nil {
		summary += fmt.Sprintf(" amount=%d discount=%d", *r.OrderAmount, *r.Discount)
	}
	if !in.At.IsZero() {
		summary += " redeemedAt=" + at.Format(time.RFC3339Nano)
	}
	if db.pg {
		return s.insertRedemptionPG(ctx, tx, c, r, v, summary)
	}
	var err error
	r.ID, err = db.insert("INSERT INTO redemptions (coupon_id, code, customer_id, order_id, items, order_amount, discount, created_at, utm_source, utm_campaign) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		r.CouponID, r.Code, r.CustomerID, r.OrderID, r.Items, r.OrderAmount, r.Discount, r.CreatedAt, r.UTMSource, r.UTMCampaign)
	if err != nil {
		return Redemption{}, err
	}
	if err := raiseUses(db, "coupons", c.ID); err != nil {
		return Redemption{}, err
	}
	if err := s.takeHold(tx, c, in.OrderID, r.ID, at); err != nil {
		return Redemption{}, err
	}
	for _, ap := range v.Promotions {
		rp := RedemptionPromotion{RedemptionID: r.ID, PromotionID: ap.Promotion.ID, CustomerID: in.CustomerID, Discount: ap.Discount,
			Name: ap.Promotion.Name, DiscountType: ap.Promotion.DiscountType, DiscountValue: ap.Promotion.DiscountValue}
		_, err := db.exec("INSERT INTO redemption_promotions (redemption_id, promotion_id, customer_id, discount, cancelled) VALUES (?, ?, ?, ?, ?)",
			rp.RedemptionID, rp.PromotionID, rp.CustomerID, rp.Discount, false)
		if err != nil {
			return Redemption{}, err
		}
		if s.countsUses(ap.Promotion) {
			if err := raiseUses(db, "promotions", ap.Promotion.ID); err != nil {
				return Redemption{}, err
			}
		}
		r.Promotions = append(r.Promotions, rp)
	}
	// A customer without a live redemption has no quarter hour in any
	// chain for this one to link to (customers.redemptions counts the
	// live ones).
	var live int64
	if err := db.queryRow("SELECT redemptions FROM customers WHERE id = ?", r.CustomerID).Scan(&live); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Redemption{}, err
	}
	if err := s.countRedemption(tx, r); err != nil {
		return Redemption{}, err
	}
	if err := s.addTotals(tx, r, c.BatchID, 1, live == 0); err != nil {
		return Redemption{}, err
	}
	return r, s.audit(ctx, tx, ActionRedeem, EntityRedemption, strconv.FormatInt(r.ID, 10), summary)
}

// insertRedemptionPG is insertRedemption on PostgreSQL, where each
// statement is a round trip: the redemption, its promotions, the raised
// counters, the order's hold taken, the customer's figures and the audit
// event are one statement, and the totals another (addTotalsPG).
func (s *Store) insertRedemptionPG(ctx context.Context, tx *gorm.DB, c Coupon, r Redemption, v Verdict, summary string) (Redemption, error) {
	var promotions, discounts, counted []int64
	for _, ap := range v.Promotions {
		promotions = append(promotions, ap.Promotion.ID)
		var d int64
		if ap.Discount != nil {
			d = *ap.Discount
		}
		discounts = append(discounts, d)
		if s.countsUses(ap.Promotion) {
			counted = append(counted, ap.Promotion.ID)
		}
	}
	var saved int64
	if r.Discount != nil {
		saved = *r.Discount
	}
	var raised, raisedPromotions int
	err := s.conn(tx).queryRow(`WITH r AS (INSERT INTO redemptions (coupon_id, code, customer_id, order_id, items, order_amount, discount, created_at, utm_source, utm_campaign)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id),
		c AS (UPDATE coupons SET uses = uses + 1 WHERE id = $1 AND (max_usage = 0 OR uses < max_usage) RETURNING id),
		p AS (INSERT INTO redemption_promotions (redemption_id, promotion_id, customer_id, discount, cancelled)
			SELECT r.id, x.promotion_id, $3, CASE WHEN $7::bigint IS NULL THEN NULL ELSE x.discount END, false
			FROM r, unnest($11::bigint[], $12::bigint[]) AS x (promotion_id, discount)),
		u AS (UPDATE promotions SET uses = uses + 1 WHERE id = ANY($13::bigint[]) AND (max_usage = 0 OR uses < max_usage) RETURNING id),
		h AS (UPDATE reservations SET ended_at = $8, ended = $14, redemption_id = (SELECT id FROM r)
			WHERE coupon_id = $1 AND order_id = $4 AND ended_at IS NULL AND expires_at > $15 RETURNING reservations.id),
		hp AS (UPDATE reservation_promotions SET ended = true WHERE reservation_id IN (SELECT id FROM h)),
		k AS (INSERT INTO customers (id, created_at, last_activity_at, redemptions, savings) VALUES ($3, $8, $8, 1, $16)
			ON CONFLICT (id) DO UPDATE SET redemptions = customers.redemptions + 1, savings = customers.savings + excluded.savings,
				last_activity_at = GREATEST(customers.last_activity_at, excluded.last_activity_at)),
		a AS (INSERT INTO audit_events (at, actor, action, entity, entity_id, summary)
			SELECT $15, $17, $18, $19, r.id::text, $20 FROM r)
		SELECT r.id, (SELECT count(*) FROM c), (SELECT count(*) FROM u) FROM r`,
		r.CouponID, r.Code, r.CustomerID, r.OrderID, r.Items, r.OrderAmount, r.Discount, r.CreatedAt.UTC(), r.UTMSource, r.UTMCampaign,
		promotions, discounts, counted, ReservationRedeemed, s.now(), saved,
		ActorFrom(ctx).String(), ActionRedeem, EntityRedemption, truncate(summary, 2000)).Scan(&r.ID, &raised, &raisedPromotions)
	if err != nil {
		return Redemption{}, err
	}
	if raised != 1 || raisedPromotions != len(counted) {
		return Redemption{}, errCounterRace
	}
	for _, ap := range v.Promotions {
		r.Promotions = append(r.Promotions, RedemptionPromotion{RedemptionID: r.ID, PromotionID: ap.Promotion.ID, CustomerID: r.CustomerID, Discount: ap.Discount,
			Name: ap.Promotion.Name, DiscountType: ap.Promotion.DiscountType, DiscountValue: ap.Promotion.DiscountValue})
	}
	if err := s.addTotals(tx, r, c.BatchID, 1, false); err != nil {
		return Redemption{}, err
	}
	return r, nil
}

// CancelRedemption marks a redemption cancelled so that it no longer
// counts against any limit; the record stays. Cancelling a cancelled
// redemption returns it unchanged. It fails with ErrNotFound.
func (s *Store) CancelRedemption(ctx context.Context, id int64) (Redemption, error) {
	var r Redemption
	cancelled := false
	err := s.write(ctx, func(tx *gorm.DB) error {
		cancelled = false
		if err := s.forUpdate(tx).Take(&r, id).Error; err != nil {
			return err
		}
		if err := s.loadPromotions(tx, []*Redemption{&r}); err != nil {
			return err
		}
		if !r.Live() {
			return nil
		}
		// The coupon first, then the promotions, as Redeem locks them.
		var c Coupon
		if err := s.forUpdate(tx).Take(&c, r.CouponID).Error; err != nil {
			return err
		}
		ids := make([]int64, 0, len(r.Promotions))
		for _, rp := range r.Promotions {
			ids = append(ids, rp.PromotionID)
		}
		counted, err := s.lockApplied(tx, ids)
		if err != nil {
			return err
		}
		now := s.now()
		r.CancelledAt = &now
		cancelled = true
		if err := tx.Model(&Redemption{}).Where("id = ?", r.ID).Update("cancelled_at", now).Error; err != nil {
			return err
		}
		if err := tx.Model(&RedemptionPromotion{}).Where("redemption_id = ?", r.ID).Update("cancelled", true).Error; err != nil {
			return err
		}
		if err := tx.Model(&Coupon{}).Where("id = ? AND uses > 0", r.CouponID).UpdateColumn("uses", gorm.Expr("uses - 1")).Error; err != nil {
			return err
		}
		if len(counted) > 0 {
			if err := tx.Model(&Promotion{}).Where("id IN ? AND uses > 0", counted).UpdateColumn("uses", gorm.Expr("uses - 1")).Error; err != nil {
				return err
			}
		}
		for i := range r.Promotions {
			r.Promotions[i].Cancelled = true
		}
		if err := s.countRedemption(tx, r); err != nil {
			return err
		}
		// Out of the totals of the day it was made.
		if err := s.addTotals(tx, r, c.BatchID, -1, false); err != nil {
			return err
		}
		summary := fmt.Sprintf("code=%s customer=%s order=%s", r.Code, r.CustomerID, r.OrderID)
		return s.audit(ctx, tx, ActionRedeemCancel, EntityRedemption, strconv.FormatInt(r.ID, 10), summary)
	})
	if err != nil {
		return Redemption{}, fmt.Errorf("cancel redemption %d: %w", id, notFound(err, "redemption", strconv.FormatInt(id, 10)))
	}
	if cancelled {
		s.observer.Cancelled()
	}
	return r, nil
}

// Redemption returns one redemption with its promotions. It fails with
// ErrNotFound.
func (s *Store) Redemption(ctx context.Context, id int64) (Redemption, error) {
	var r Redemption
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Take(&r, id).Error; err != nil {
			return err
		}
		return s.loadPromotions(tx, []*Redemption{&r})
	})
	if err != nil {
		return Redemption{}, fmt.Errorf("get redemption %d: %w", id, notFound(err, "redemption", strconv.FormatInt(id, 10)))
	}
	return r, nil
}

// loadPromotions fills in the promotions of each redemption, with the
// promotions' names and discounts as they are now.
func (s *Store) loadPromotions(tx *gorm.DB, rs []*Redemption) error {
	if len(rs) == 0 {
		return nil
	}
	byID := make(map[int64]*Redemption, len(rs))
	ids := make([]int64, 0, len(rs))
	for _, r := range rs {
		r.Promotions = nil
		byID[r.ID] = r
		ids = append(ids, r.ID)
	}
	var rows []RedemptionPromotion
	err := tx.Table("redemption_promotions AS rp").
		Select("rp.redemption_id, rp.promotion_id, rp.customer_id, rp.discount, rp.cancelled, p.name, p.discount_type, p.discount_value").
		Joins("JOIN promotions p ON p.id = rp.promotion_id").
		Where("rp.redemption_id IN ?", ids).Order("rp.redemption_id, rp.promotion_id").Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("read redemption promotions: %w", err)
	}
	for _, rp := range rows {
		byID[rp.RedemptionID].Promotions = append(byID[rp.RedemptionID].Promotions, rp)
	}
	return nil
}

// RedemptionFilter selects redemptions, newest first. Every field set
// narrows the selection; the zero filter selects every redemption.
type RedemptionFilter struct {
	CouponID    int64
	PromotionID int64
	// Code selects the redemptions of the coupon a look-up of Code finds
	// (ignoring case); none when no coupon has it.
	Code string
	// CustomerID selects one customer's redemptions, as the checkout
	// named the customer.
	CustomerID string
	// UTMSource and UTMCampaign select the redemptions of coupons that
	// carried the tag when they were redeemed, ignoring case.
	UTMSource   string
	UTMCampaign string
	// From and To bound when the redemption was made: From included, To
	// left out; a zero time leaves that side open.
	From, To time.Time
	// Cancelled, when set, selects only cancelled (true) or only live
	// (false) redemptions.
	Cancelled *bool
	After     string
	Limit     int
}

// Validate checks what f asks for regardless of the data: a period must
// end after it starts. It fails with a *ValidationError.
func (f RedemptionFilter) Validate() error {
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return Invalid(FieldTo, "must be after the start of the period")
	}
	return nil
}

// RedemptionPage is one page of redemptions and the cursor of the next,
// empty on the last page.
type RedemptionPage struct {
	Redemptions []Redemption
	Next        string
}

// ListRedemptions returns a page of the redemptions f selects, newest
// first, with their promotions. It fails with a *ValidationError for a
// bad limit or cursor, or a period that ends before it starts.
func (s *Store) ListRedemptions(ctx context.Context, f RedemptionFilter) (RedemptionPage, error) {
	var verr ValidationError
	limit := pageLimit(f.Limit, &verr)
	after := idCursor(f.After, &verr)
	if err := f.Validate(); err != nil {
		verr.Merge(NoItem, asValidation(err))
	}
	if err := verr.Err(); err != nil {
		return RedemptionPage{}, fmt.Errorf("list redemptions: %w", err)
	}
	var page RedemptionPage
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q, ok, err := s.redemptionQuery(tx, f)
		if err != nil || !ok {
			return err
		}
		if after > 0 {
			q = q.Where("id < ?", after)
		}
		var rs []Redemption
		if err := q.Order("id DESC").Limit(limit + 1).Find(&rs).Error; err != nil {
			return err
		}
		if len(rs) > limit {
			page.Next = nextIDCursor(rs[limit-1].ID)
			rs = rs[:limit]
		}
		ptrs := make([]*Redemption, len(rs))
		for i := range rs {
			ptrs[i] = &rs[i]
		}
		page.Redemptions = rs
		return s.loadPromotions(tx, ptrs)
	})
	if err != nil {
		return RedemptionPage{}, fmt.Errorf("list redemptions: %w", err)
	}
	return page, nil
}

// redemptionQuery is the query of the redemptions f selects, its paging
// left to the caller; ok is false when f can select none (a code no
// coupon has).
func (s *Store) redemptionQuery(tx *gorm.DB, f RedemptionFilter) (q *gorm.DB, ok bool, err error) {
	q = tx.Model(&Redemption{})
	if f.CouponID != 0 {
		q = q.Where("coupon_id = ?", f.CouponID)
	}
	if f.Code != "" {
		if !couldBeCode(f.Code) {
			return nil, false, nil
		}
		key, found, err := s.codeKey(tx, f.Code)
		if err != nil || !found {
			return nil, false, err
		}
		q = q.Where("coupon_id IN (?)", tx.Model(&Coupon{}).Select("id").Where("lower(code) = ?", key))
	}
	if f.PromotionID != 0 {
		q = q.Where("id IN (?)", tx.Model(&RedemptionPromotion{}).Select("redemption_id").Where("promotion_id = ?", f.PromotionID))
	}
	if f.CustomerID != "" {
		q = q.Where("customer_id = ?", f.CustomerID)
	}
	if f.UTMSource != "" {
		q = q.Where("utm_source = ?", strings.ToLower(f.UTMSource))
	}
	if f.UTMCampaign != "" {
		q = q.Where("utm_campaign = ?", strings.ToLower(f.UTMCampaign))
	}
	if !f.From.IsZero() {
		q = q.Where("created_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("created_at < ?", f.To.UTC())
	}
	if f.Cancelled != nil {
		if *f.Cancelled {
			q = q.Where("cancelled_at IS NOT NULL")
		} else {
			q = q.Where("cancelled_at IS NULL")
		}
	}
	return q, true, nil
}

// EachRedemption calls fn with every redemption f selects, newest first,
// with its promotions, reading a page at a time so that memory does not
// grow with the list and no read is held open while fn waits (on a slow
// client, say); f's Limit and After are ignored. It stops at fn's first
// error and returns it, and fails as ListRedemptions does.
func (s *Store) EachRedemption(ctx context.Context, f RedemptionFilter, fn func(Redemption) error) error {
	f.After, f.Limit = "", streamChunk
	for {
		page, err := s.ListRedemptions(ctx, f)
		if err != nil {
			return err
		}
		for _, r := range page.Redemptions {
			if err := fn(r); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		f.After = page.Next
	}
}

// EachLiveRedemption calls fn with every live redemption of a coupon in
// the order they were made, reading in chunks so memory does not grow
// with the uses. It stops at fn's first error and returns it.
func (s *Store) EachLiveRedemption(ctx context.Context, couponID int64, fn func(Redemption) error) error {
	var after int64
	for {
		var rs []Redemption
		err := s.db.WithContext(ctx).Where("coupon_id = ? AND cancelled_at IS NULL AND id > ?", couponID, after).
			Order("id").Limit(streamChunk).Find(&rs).Error
		if err != nil {
			return fmt.Errorf("read redemptions of coupon %d: %w", couponID, err)
		}
		for _, r := range rs {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(rs) < streamChunk {
			return nil
		}
		after = rs[len(rs)-1].ID
	}
}

// MaxRedeemCodes bounds the codes of one all-or-nothing redemption.
const MaxRedeemCodes = 100

// ReasonOtherCode is why a code of an all-or-nothing redemption was not
// redeemed although it could have been: another code of the request
// could not.
const ReasonOtherCode = "OTHER_CODE_REFUSED"

// RedeemResult is one code of an all-or-nothing redemption: its
// redemption when all were redeemed (Created false for one the same order
// had already redeemed), or the reasons it was not.
type RedeemResult struct {
	Code       string
	Coupon     *Coupon
	Redemption Redemption
	Created    bool
	Reasons    []string
}

// RedeemAll redeems several codes for one customer and one order, all or
// none, in one transaction: when any code cannot be redeemed, none is,
// and the others carry ReasonOtherCode. Each code is idempotent on the
// order as Redeem is, and each input's time (At) is taken as Redeem
// takes it: from MaxRedemptionAge (30 days) before the store's clock to
// MaxRedemptionLead (a minute) after it. The coupons are locked in code
// order and then every promotion they reach in id order, so that
// requests naming the same codes in any order never deadlock. It reports
// whether every code was redeemed, and fails with a *ValidationError (on
// FieldRedeemedAt for a time outside the window) and a
// *TooManyGuessesError.
func (s *Store) RedeemAll(ctx context.Context, ins []RedemptionInput, client string) (results []RedeemResult, all bool, err error) {
	// Each code counts as one redemption.
	defer func() {
		if err != nil {
			for range ins {
				s.attempt(OperationRedemption, OutcomeRedeemed, false, nil, err)
			}
			return
		}
		for _, r := range results {
			s.attempt(OperationRedemption, OutcomeRedeemed, !r.Created, r.Reasons, nil)
		}
	}()
	var verr ValidationError
	switch {
	case len(ins) == 0:
		verr.Add(FieldItems, "list at least one code")
	case len(ins) > MaxRedeemCodes:
		verr.Add(FieldItems, fmt.Sprintf("lists %d codes; at most %d are redeemed in one request", len(ins), MaxRedeemCodes))
	}
	seen := map[string]int{}
	for i := range ins {
		in, err := s.validateRedemption(ins[i])
		if err != nil {
			verr.Merge(i, asValidation(err))
			continue
		}
		ins[i] = in
		if j, dup := seen[CodeKey(in.Code)]; dup {
			verr.AddItem(i, FieldCode, fmt.Sprintf("is listed twice (also at %d); each code is redeemed once per order", j))
		}
		seen[CodeKey(in.Code)] = i
	}
	if err := verr.Err(); err != nil {
		return nil, false, fmt.Errorf("redeem coupons: %w", err)
	}
	subjects := guessSubjects(client, ins[0].CustomerID)
	if err := s.guessGate(ctx, subjects); err != nil {
		return nil, false, fmt.Errorf("redeem coupons: %w", err)
	}
	order := make([]int, len(ins))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(CodeKey(ins[a].Code), CodeKey(ins[b].Code)) })
	refusedAny := false
	err = s.write(ctx, func(tx *gorm.DB) error {
		results = make([]RedeemResult, len(ins))
		refusedAny = false
		coupons := make([]*Coupon, len(ins))
		for _, i := range order {
			var err error
			if coupons[i], err = s.lockRedeemable(tx, ins[i].Code); err != nil {
				return err
			}
		}
		if err := s.lockReached(tx, coupons); err != nil {
			return err
		}
		now := s.now()
		for _, i := range order {
			var err error
			if results[i], err = s.redeemCode(ctx, tx, coupons[i], ins[i], now); err != nil {
				return err
			}
			refusedAny = refusedAny || len(results[i].Reasons) > 0
		}
		if refusedAny {
			return errRefusedAll
		}
		return nil
	})
	if errors.Is(err, errRefusedAll) {
		err = nil
		for i := range results {
			r := &results[i]
			if r.Reasons == nil {
				r.Reasons, r.Redemption, r.Created = []string{ReasonOtherCode}, Redemption{}, false
			}
		}
	}
	if err == nil {
		err = s.recordUnknown(ctx, subjects, results)
	}
	if err != nil {
		return nil, false, fmt.Errorf("redeem coupons: %w", translate(err))
	}
	return results, !refusedAny, nil
}

// errRefusedAll rolls back an all-or-nothing redemption that refused a
// code.
var errRefusedAll = errors.New("a code of the redemption was refused")

// lockReached locks, in id order, every active promotion any of the
// coupons (nil ones skipped) reaches.
func (s *Store) lockReached(tx *gorm.DB, coupons []*Coupon) error {
	if s.dialect != DialectPostgres {
		return nil
	}
	db := s.conn(tx)
	reached := map[int64]Promotion{}
	for _, c := range coupons {
		if c == nil {
			continue
		}
		ps, err := s.reaching(tx, *c, false)
		if err != nil {
			return err
		}
		for _, p := range ps {
			reached[p.ID] = p
		}
	}
	ps := slices.SortedFunc(maps.Values(reached), func(a, b Promotion) int { return cmp.Compare(a.ID, b.ID) })
	_, err := lockPromotions(db, ps, "", nil)
	return err
}

// lockApplied locks the promotions ids (those a redemption applied) as a
// redemption locks them (lockPromotions) and returns those whose uses the
// store counts in their rows.
func (s *Store) lockApplied(tx *gorm.DB, ids []int64) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	db := s.conn(tx)
	rows, err := db.query("SELECT "+promotionColumns+" FROM promotions WHERE id IN (?"+strings.Repeat(", ?", len(ids)-1)+")", args...)
	if err != nil {
		return nil, err
	}
	ps, err := scanPromotions(rows)
	if err == nil && db.pg {
		ps, err = lockPromotions(db, ps, "", nil)
	}
	if err != nil {
		return nil, err
	}
	var counted []int64
	for _, p := range ps {
		if s.countsUses(p) {
			counted = append(counted, p.ID)
		}
	}
	return counted, nil
}

// lowerTag is tag lower-cased, as redemptions keep their coupon's tags.
func lowerTag(tag *string) *string {
	if tag == nil {
		return nil
	}
	return new(strings.ToLower(*tag))
}
