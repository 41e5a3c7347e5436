package models

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// A reservation is judged and written as a redemption is: under the
// coupon's row lock and then its promotions' (PostgreSQL), or on the one
// writer (SQLite), with every limit read after the locks. Holds are
// counted as live when not ended and not past their expiry by the
// store's clock at the moment the limits are read.

// heldUses is what the live holds of other orders take from a coupon and
// its promotions, in all and for one customer.
type heldUses struct {
	coupon, customerUses, customerItems int
	promotion, promotionCustomer        map[int64]int
}

// held counts the live holds that stand against attempt a on coupon c and
// its promotions ps, leaving out a.OrderID's own hold of c: only where a
// limit needs them, or the coupon's in all when all is set (a
// validation shows them).
func (s *Store) held(tx *gorm.DB, c Coupon, ps []Promotion, a Attempt, now time.Time, all bool) (heldUses, error) {
	h := heldUses{promotion: map[int64]int{}, promotionCustomer: map[int64]int{}}
	perCustomer := a.CustomerID != "" && (c.MaxUsagePerClient > 0 || c.MaxItemsPerClient > 0)
	if all || c.MaxUsage > 0 || perCustomer {
		var row struct{ Holds, CustomerHolds, CustomerItems int }
		err := s.conn(tx).queryRow("SELECT count(*), coalesce(sum(CASE WHEN customer_id = ? THEN 1 ELSE 0 END), 0), "+
			"coalesce(sum(CASE WHEN customer_id = ? THEN items ELSE 0 END), 0) FROM reservations "+
			"WHERE coupon_id = ? AND ended_at IS NULL AND expires_at > ? AND order_id <> ?",
			a.CustomerID, a.CustomerID, c.ID, now, a.OrderID).Scan(&row.Holds, &row.CustomerHolds, &row.CustomerItems)
		if err != nil {
			return h, fmt.Errorf("count the coupon's holds: %w", err)
		}
		h.coupon = row.Holds
		if a.CustomerID != "" {
			h.customerUses, h.customerItems = row.CustomerHolds, row.CustomerItems
		}
	}
	var ids []int64
	for _, p := range ps {
		if p.MaxUsage > 0 || (a.CustomerID != "" && p.MaxUsagePerClient > 0) {
			ids = append(ids, p.ID)
		}
	}
	if len(ids) == 0 {
		return h, nil
	}
	var rows []struct {
		PromotionID          int64
		Holds, CustomerHolds int
	}
	err := tx.Model(&ReservationPromotion{}).
		Select("promotion_id, count(*) AS holds, coalesce(sum(CASE WHEN customer_id = ? THEN 1 ELSE 0 END), 0) AS customer_holds", a.CustomerID).
		Where("promotion_id IN ? AND NOT ended AND expires_at > ? AND NOT (coupon_id = ? AND order_id = ?)", ids, now, c.ID, a.OrderID).
		Group("promotion_id").Scan(&rows).Error
	if err != nil {
		return h, fmt.Errorf("count the promotions' holds: %w", err)
	}
	for _, r := range rows {
		h.promotion[r.PromotionID] = r.Holds
		if a.CustomerID != "" {
			h.promotionCustomer[r.PromotionID] = r.CustomerHolds
		}
	}
	return h, nil
}

// add counts the holds h in u.
func (h heldUses) add(u *Usage) {
	u.CouponHeld = h.coupon
	u.CustomerUses += h.customerUses
	u.CustomerItems += h.customerItems
	u.PromotionHeld = h.promotion
	for id, n := range h.promotionCustomer {
		u.PromotionCustomerUses[id] += n
	}
}

// Reserve holds one use of a code, and of each promotion it would apply,
// for an order for the TTL asked (DefaultReservationTTL by default): the
// use counts against every limit until the hold is redeemed, released or
// runs out. Asking again for the same code and order while the hold
// lasts returns it, unchanged, with created false. client names the
// caller for the guessing protection. It fails with a *ValidationError, a
// *TooManyGuessesError, and a *NotRedeemableError listing every reason a
// redemption would give.
func (s *Store) Reserve(ctx context.Context, in ReservationInput, client string) (r Reservation, created bool, err error) {
	defer func() {
		s.attempt(OperationReservation, OutcomeHeld, err == nil && !created, nil, err)
	}()
	rin, ttl, err := in.Validate()
	if err != nil {
		return Reservation{}, false, fmt.Errorf("reserve coupon: %w", err)
	}
	subjects := guessSubjects(client, rin.CustomerID)
	if err := s.guessGate(ctx, subjects); err != nil {
		return Reservation{}, false, fmt.Errorf("reserve coupon %q: %w", rin.Code, err)
	}
	var reasons []string
	code := rin.Code
	err = s.write(ctx, func(tx *gorm.DB) error {
		r, created, reasons = Reservation{}, false, nil
		c, err := s.lockRedeemable(tx, rin.Code)
		if err != nil {
			return err
		}
		if c == nil {
			reasons = []string{ReasonNotFound}
			return nil
		}
		code = c.Code
		now := s.now()
		err = tx.Where("coupon_id = ? AND order_id = ? AND ended_at IS NULL", c.ID, rin.OrderID).Take(&r).Error
		switch {
		case err == nil && now.Before(r.ExpiresAt):
			return s.loadHeldPromotions(tx, []*Reservation{&r})
		case err == nil:
			// The order's earlier hold ran out: it ends so that the order
			// may hold again.
			if err := endReservation(tx, r.ID, r.ExpiresAt, ReservationExpired, nil); err != nil {
				return err
			}
			r = Reservation{}
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return err
		}
		a := Attempt{CustomerID: rin.CustomerID, OrderID: rin.OrderID, Items: rin.Items, OrderAmount: rin.OrderAmount, Now: now}
		v, err := s.verdict(tx, *c, a, true)
		if err != nil {
			return err
		}
		if !v.Valid {
			reasons = v.Reasons
			return nil
		}
		r = Reservation{CouponID: c.ID, Code: c.Code, CustomerID: rin.CustomerID, OrderID: rin.OrderID, Items: rin.Items,
			OrderAmount: rin.OrderAmount, Discount: v.Discount, CreatedAt: now, ExpiresAt: now.Add(ttl)}
		if err := tx.Create(&r).Error; err != nil {
			return err
		}
		for _, ap := range v.Promotions {
			rp := ReservationPromotion{ReservationID: r.ID, PromotionID: ap.Promotion.ID, CouponID: c.ID, OrderID: r.OrderID,
				CustomerID: r.CustomerID, Discount: ap.Discount, ExpiresAt: r.ExpiresAt}
			if err := tx.Create(&rp).Error; err != nil {
				return err
			}
			rp.Name, rp.DiscountType, rp.DiscountValue = ap.Promotion.Name, ap.Promotion.DiscountType, ap.Promotion.DiscountValue
			r.Promotions = append(r.Promotions, rp)
		}
		created = true
		return s.audit(ctx, tx, ActionReserve, EntityReservation, strconv.FormatInt(r.ID, 10),
			fmt.Sprintf("code=%s customer=%s order=%s items=%d promotions=%d ends=%s", c.Code, r.CustomerID, r.OrderID, r.Items,
				len(r.Promotions), r.ExpiresAt.UTC().Format(time.RFC3339)))
	})
	if err == nil && len(reasons) == 1 && reasons[0] == ReasonNotFound {
		err = s.recordGuess(ctx, subjects)
	}
	if err == nil && len(reasons) > 0 {
		err = &NotRedeemableError{Code: code, Reasons: reasons}
	}
	if err != nil {
		return Reservation{}, false, fmt.Errorf("reserve coupon %q: %w", rin.Code, translate(err))
	}
	return r, created, nil
}

// endReservation marks a hold and its promotions' holds ended at at.
func endReservation(tx *gorm.DB, id int64, at time.Time, how string, redemption *int64) error {
	if err := tx.Model(&Reservation{}).Where("id = ?", id).
		Updates(map[string]any{"ended_at": at, "ended": how, "redemption_id": redemption}).Error; err != nil {
		return err
	}
	return tx.Model(&ReservationPromotion{}).Where("reservation_id = ?", id).Update("ended", true).Error
}

// takeHold ends order's live hold of coupon c, if it has one, as redeemed
// by redemption: the redemption now counts the use the hold held.
func (s *Store) takeHold(tx *gorm.DB, c Coupon, order string, redemption int64, at time.Time) error {
	ids, err := s.conn(tx).ids("SELECT id FROM reservations WHERE coupon_id = ? AND order_id = ? AND ended_at IS NULL AND expires_at > ?", c.ID, order, s.now())
	if err != nil {
		return fmt.Errorf("find the order's hold: %w", err)
	}
	for _, id := range ids {
		if err := endReservation(tx, id, at, ReservationRedeemed, &redemption); err != nil {
			return fmt.Errorf("end the order's hold: %w", err)
		}
	}
	return nil
}

// ReleaseReservation ends a hold, freeing its use. Releasing a hold that
// has ended (released, redeemed or run out) returns it unchanged. It
// fails with ErrNotFound.
func (s *Store) ReleaseReservation(ctx context.Context, id int64) (Reservation, error) {
	var r Reservation
	err := s.write(ctx, func(tx *gorm.DB) error {
		if err := s.forUpdate(tx).Take(&r, id).Error; err != nil {
			return notFound(err, "reservation", strconv.FormatInt(id, 10))
		}
		now := s.now()
		if r.Status(now) == ReservationHeld {
			if err := endReservation(tx, r.ID, now, ReservationReleased, nil); err != nil {
				return err
			}
			r.EndedAt, r.Ended = &now, ReservationReleased
			if err := s.audit(ctx, tx, ActionReservationRelease, EntityReservation, strconv.FormatInt(r.ID, 10),
				fmt.Sprintf("code=%s customer=%s order=%s", r.Code, r.CustomerID, r.OrderID)); err != nil {
				return err
			}
		}
		return s.loadHeldPromotions(tx, []*Reservation{&r})
	})
	if err != nil {
		return Reservation{}, fmt.Errorf("release reservation %d: %w", id, err)
	}
	return r, nil
}

// Reservation returns one reservation with its promotions. It fails with
// ErrNotFound.
func (s *Store) Reservation(ctx context.Context, id int64) (Reservation, error) {
	var r Reservation
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Take(&r, id).Error; err != nil {
			return notFound(err, "reservation", strconv.FormatInt(id, 10))
		}
		return s.loadHeldPromotions(tx, []*Reservation{&r})
	})
	if err != nil {
		return Reservation{}, fmt.Errorf("get reservation %d: %w", id, err)
	}
	return r, nil
}

// HeldReservations returns up to limit live holds of a coupon, soonest
// to run out first.
func (s *Store) HeldReservations(ctx context.Context, couponID int64, limit int) ([]Reservation, error) {
	var rs []Reservation
	err := s.db.WithContext(ctx).Where("coupon_id = ? AND ended_at IS NULL AND expires_at > ?", couponID, s.now()).
		Order("expires_at, id").Limit(limit).Find(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("read the holds of coupon %d: %w", couponID, err)
	}
	return rs, nil
}

// loadHeldPromotions fills each reservation's promotions, with their
// names and discounts, in two reads for all of them.
func (s *Store) loadHeldPromotions(tx *gorm.DB, rs []*Reservation) error {
	byID := make(map[int64]*Reservation, len(rs))
	ids := make([]int64, 0, len(rs))
	for _, r := range rs {
		byID[r.ID], r.Promotions = r, nil
		ids = append(ids, r.ID)
	}
	var rps []ReservationPromotion
	if err := tx.Where("reservation_id IN ?", ids).Order("reservation_id, promotion_id").Find(&rps).Error; err != nil {
		return err
	}
	if len(rps) == 0 {
		return nil
	}
	var ps []Promotion
	pids := make([]int64, 0, len(rps))
	for _, rp := range rps {
		pids = append(pids, rp.PromotionID)
	}
	if err := tx.Select("id", "name", "discount_type", "discount_value").Where("id IN ?", pids).Find(&ps).Error; err != nil {
		return err
	}
	promos := make(map[int64]Promotion, len(ps))
	for _, p := range ps {
		promos[p.ID] = p
	}
	for _, rp := range rps {
		p := promos[rp.PromotionID]
		rp.Name, rp.DiscountType, rp.DiscountValue = p.Name, p.DiscountType, p.DiscountValue
		r := byID[rp.ReservationID]
		r.Promotions = append(r.Promotions, rp)
	}
	return nil
}
