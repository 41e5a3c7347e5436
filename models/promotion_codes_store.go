package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"gorm.io/gorm"
)

// Limits on the codes of one promotion read or deleted by one request.
const (
	// MaxCodePageLimit is the most codes one page of a promotion's codes
	// holds.
	MaxCodePageLimit = 250
	// MaxCodesPerDelete is the most codes one deletion may name.
	MaxCodesPerDelete = 250
)

// ErrNotBulkPromotion is matched by a *NotBulkPromotionError.
var ErrNotBulkPromotion = errors.New("not a bulk promotion")

// NotBulkPromotionError says that codes were to be generated for a
// promotion that does not own generated codes. It matches
// ErrNotBulkPromotion.
type NotBulkPromotionError struct {
	ID   int64
	Kind string
}

// Error names the promotion and its kind.
func (e *NotBulkPromotionError) Error() string {
	return fmt.Sprintf("promotion %d is a %s promotion; codes are generated only for bulk promotions, which own their codes", e.ID, e.Kind)
}

// Is makes errors.Is(err, ErrNotBulkPromotion) true.
func (e *NotBulkPromotionError) Is(target error) bool { return target == ErrNotBulkPromotion }

// GeneratePromotionCodes makes spec's codes for the bulk promotion
// spec.PromotionID at once, with GenerateCodes. Before anything is
// written it fails with a *ValidationError when spec names no promotion,
// ErrNotFound for an unknown promotion and *NotBulkPromotionError for a
// promotion of another kind; then as GenerateCodes does.
func (s *Store) GeneratePromotionCodes(ctx context.Context, spec BatchSpec) (Batch, []Coupon, error) {
	if spec.PromotionID == nil {
		return Batch{}, nil, fmt.Errorf("generate promotion codes: %w", Invalid(FieldPromotionID, "is required"))
	}
	p, err := s.Promotion(ctx, *spec.PromotionID)
	if err != nil {
		return Batch{}, nil, fmt.Errorf("generate promotion codes: %w", err)
	}
	if p.Kind != KindBulk {
		return Batch{}, nil, fmt.Errorf("generate promotion codes: %w", &NotBulkPromotionError{ID: p.ID, Kind: p.Kind})
	}
	return s.GenerateCodes(ctx, spec)
}

// PromotionCodeFilter selects and pages the codes a promotion owns, in id
// order.
type PromotionCodeFilter struct {
	PromotionID int64
	// Code selects the code equal to it, ignoring case, when not empty.
	Code string
	// After pages forwards from a page's End; Before backwards from a
	// page's Start. At most one of them is given.
	After  string
	Before string
	// Limit is the page size: 0 means DefaultListLimit, at most
	// MaxCodePageLimit.
	Limit int
}

// PromotionCodePage is one page of a promotion's codes in id order.
type PromotionCodePage struct {
	Coupons []Coupon
	// Limit is the page size used.
	Limit int
	// Start and End are the cursors of the first and the last code, ""
	// on an empty page.
	Start, End string
	// HasBefore reports whether codes come before the first one.
	HasBefore bool
	// Total counts every code the filter selects on a page asked for
	// without a cursor; it is -1 on a page asked for with one.
	Total int64
}

// PromotionCodes returns one page of the codes promotion f.PromotionID
// owns, by keyset pagination on the id: forwards after a cursor,
// backwards before one. It fails with ErrNotFound for an unknown
// promotion and a *ValidationError for a bad limit or cursor, or for both
// cursors at once.
func (s *Store) PromotionCodes(ctx context.Context, f PromotionCodeFilter) (PromotionCodePage, error) {
	var verr ValidationError
	limit := f.Limit
	switch {
	case limit == 0:
		limit = DefaultListLimit
	case limit < 1 || limit > MaxCodePageLimit:
		verr.Add(FieldLimit, fmt.Sprintf("must be between 1 and %d", MaxCodePageLimit))
	}
	after := cursorOf(f.After, FieldAfter, &verr)
	before := cursorOf(f.Before, FieldBefore, &verr)
	if f.After != "" && f.Before != "" {
		verr.Add(FieldBefore, "cannot be given together with after: page forwards with after, or backwards with before")
	}
	if err := verr.Err(); err != nil {
		return PromotionCodePage{}, fmt.Errorf("list codes of promotion %d: %w", f.PromotionID, err)
	}
	if _, err := s.Promotion(ctx, f.PromotionID); err != nil {
		return PromotionCodePage{}, fmt.Errorf("list codes: %w", err)
	}
	page := PromotionCodePage{Limit: limit, Total: -1}
	if f.Code != "" && !couldBeCode(f.Code) {
		// No code holds such characters; the database is not asked.
		if after == 0 && before == 0 {
			page.Total = 0
		}
		return page, nil
	}
	codes := func() *gorm.DB {
		q := s.db.WithContext(ctx).Model(&Coupon{}).Where("promotion_id = ?", f.PromotionID)
		if f.Code != "" {
			q = q.Where("lower(code) = ?", CodeKey(f.Code))
		}
		return q
	}
	var cs []Coupon
	var err error
	switch {
	case before > 0:
		err = codes().Where("id < ?", before).Order("id DESC").Limit(limit + 1).Find(&cs).Error
		if len(cs) > limit {
			cs, page.HasBefore = cs[:limit], true
		}
		slices.Reverse(cs)
	case after > 0:
		if err = codes().Where("id > ?", after).Order("id").Limit(limit).Find(&cs).Error; err == nil && len(cs) > 0 {
			var earlier []int64
			err = codes().Where("id < ?", cs[0].ID).Limit(1).Pluck("id", &earlier).Error
			page.HasBefore = len(earlier) > 0
		}
	default:
		if err = codes().Order("id").Limit(limit).Find(&cs).Error; err == nil {
			err = codes().Count(&page.Total).Error
		}
	}
	if err != nil {
		return PromotionCodePage{}, fmt.Errorf("list codes of promotion %d: %w", f.PromotionID, err)
	}
	page.Coupons = cs
	if len(cs) > 0 {
		page.Start, page.End = nextIDCursor(cs[0].ID), nextIDCursor(cs[len(cs)-1].ID)
	}
	return page, nil
}

// cursorOf reads a cursor handed out as a page's Start or End; a bad one
// is recorded in verr under field. "" is 0.
func cursorOf(raw, field string, verr *ValidationError) int64 {
	var bad ValidationError
	id := idCursor(raw, &bad)
	if msg := bad.Message(FieldCursor); msg != "" {
		verr.Add(field, msg)
	}
	return id
}

// CodeDeletion tells what a deletion of a promotion's codes did.
type CodeDeletion struct {
	// Requested is how many ids were named.
	Requested int
	// Kept says why each id that was not deleted was kept, by its index
	// among the ids named: FieldID for an id that is no code of the
	// promotion, FieldCode for a code that has been redeemed.
	Kept []FieldError
}

// Deleted is how many of the ids named were deleted.
func (d CodeDeletion) Deleted() int { return d.Requested - len(d.Kept) }

// errDeleteRace stops a deletion that deleted other rows than the ones
// it had checked under their locks.
var errDeleteRace = errors.New("the codes to delete changed while they were locked")

// DeletePromotionCodes deletes the codes of promotion promotionID named
// by ids (1 to MaxCodesPerDelete, repeats allowed), in one transaction.
// A code that has been redeemed (any redemption, cancelled or not) is
// kept with its history, a code a checkout holds (a live reservation) is
// kept until the hold ends, and an id that is no code of the promotion
// is reported too; the others are deleted, each with an audit event. It
// fails with a *ValidationError for too few or too many ids and with
// ErrNotFound for an unknown promotion.
func (s *Store) DeletePromotionCodes(ctx context.Context, promotionID int64, ids []int64) (CodeDeletion, error) {
	if len(ids) < 1 || len(ids) > MaxCodesPerDelete {
		return CodeDeletion{}, fmt.Errorf("delete codes of promotion %d: %w", promotionID,
			Invalid(FieldIDs, fmt.Sprintf("must name from 1 to %d codes (%d given); delete more in several requests", MaxCodesPerDelete, len(ids))))
	}
	distinct := slices.Compact(slices.Sorted(slices.Values(ids)))
	var d CodeDeletion
	err := s.write(ctx, func(tx *gorm.DB) error {
		d = CodeDeletion{Requested: len(ids)}
		var p Promotion
		if err := tx.Take(&p, promotionID).Error; err != nil {
			return err
		}
		var cs []Coupon
		if err := s.forUpdate(tx.Where("promotion_id = ? AND id IN ?", promotionID, distinct).Order("id")).Find(&cs).Error; err != nil {
			return err
		}
		found := make(map[int64]Coupon, len(cs))
		foundIDs := make([]int64, 0, len(cs))
		for _, c := range cs {
			found[c.ID] = c
			foundIDs = append(foundIDs, c.ID)
		}
		var redeemed []int64
		if len(cs) > 0 {
			err := tx.Model(&Redemption{}).Where("coupon_id IN ?", foundIDs).Distinct("coupon_id").Pluck("coupon_id", &redeemed).Error
			if err != nil {
				return err
			}
		}
		now := s.now()
		var held []int64
		if len(cs) > 0 {
			err := tx.Model(&Reservation{}).Where("coupon_id IN ? AND ended_at IS NULL AND expires_at > ?", foundIDs, now).
				Distinct("coupon_id").Pluck("coupon_id", &held).Error
			if err != nil {
				return err
			}
		}
		kept := make(map[int64]bool, len(redeemed)+len(held))
		for _, id := range redeemed {
			kept[id] = true
		}
		isHeld := make(map[int64]bool, len(held))
		for _, id := range held {
			kept[id], isHeld[id] = true, true
		}
		var gone []Coupon
		for _, c := range cs {
			if c.Uses > 0 {
				kept[c.ID] = true
			}
			if !kept[c.ID] {
				gone = append(gone, c)
			}
		}
		for i, id := range ids {
			c, ok := found[id]
			switch {
			case !ok:
				d.Kept = append(d.Kept, FieldError{Item: i, Field: FieldID, Message: fmt.Sprintf("no code of promotion %d has id %d", promotionID, id)})
			case isHeld[id] && c.Uses == 0 && !slices.Contains(redeemed, id):
				d.Kept = append(d.Kept, FieldError{Item: i, Field: FieldCode, Message: fmt.Sprintf("code %s (id %d) is held for an order being paid for; delete it once the hold ends", c.Code, id)})
			case kept[id]:
				d.Kept = append(d.Kept, FieldError{Item: i, Field: FieldCode, Message: fmt.Sprintf("code %s (id %d) has been redeemed; a redeemed code is kept with its history", c.Code, id)})
			}
		}
		if len(gone) == 0 {
			return nil
		}
		goneIDs := make([]int64, len(gone))
		for i, c := range gone {
			goneIDs[i] = c.ID
		}
		// The conditions again, in the statement: no code with a use or a
		// redemption is deleted whatever was read before.
		res := tx.Where("id IN ? AND promotion_id = ? AND uses = 0 AND NOT EXISTS (SELECT 1 FROM redemptions r WHERE r.coupon_id = coupons.id)"+
			" AND NOT EXISTS (SELECT 1 FROM reservations h WHERE h.coupon_id = coupons.id AND h.ended_at IS NULL AND h.expires_at > ?)", goneIDs, promotionID, now).
			Delete(&Coupon{})
		switch {
		case res.Error != nil:
			return res.Error
		case res.RowsAffected != int64(len(gone)):
			return errDeleteRace
		}
		for _, c := range gone {
			summary := fmt.Sprintf("deleted code id=%d of promotion %d", c.ID, promotionID)
			if c.BatchID != nil {
				summary += fmt.Sprintf(" (batch %d)", *c.BatchID)
			}
			if err := s.audit(ctx, tx, ActionCouponDelete, EntityCoupon, c.Code, summary); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return CodeDeletion{}, fmt.Errorf("delete codes of promotion %d: %w", promotionID, notFound(err, "promotion", strconv.FormatInt(promotionID, 10)))
	}
	return d, nil
}
