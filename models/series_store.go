package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// issueAttempts bounds the fresh codes one issue draws before it gives up
// on a format whose codes are nearly all taken.
const issueAttempts = 20

// CreateSeries stores a new series and its promotion. It fails with a
// *ValidationError.
func (s *Store) CreateSeries(ctx context.Context, spec SeriesSpec) (Series, error) {
	if err := s.checkNewFormat(ctx, spec.Format); err != nil {
		return Series{}, fmt.Errorf("create series: %w", err)
	}
	var ser Series
	err := s.write(ctx, func(tx *gorm.DB) error {
		var p Promotion
		spec.Promotion.Kind = KindSeries
		if err := s.createPromotion(ctx, tx, spec.Promotion, &p); err != nil {
			return err
		}
		ser = Series{PromotionID: p.ID}
		if err := spec.apply(&ser); err != nil {
			return err
		}
		if err := tx.Create(&ser).Error; err != nil {
			return err
		}
		ser.Promotion = p
		return s.audit(ctx, tx, ActionSeriesCreate, EntityPromotion, strconv.FormatInt(p.ID, 10), seriesSummary(ser))
	})
	if err != nil {
		return Series{}, fmt.Errorf("create series %q: %w", spec.Promotion.Name, translate(err))
	}
	if spec.Format.readsCarefully() {
		s.forgetFormats()
	}
	return ser, nil
}

// UpdateSeries replaces every field of a series and its promotion; what
// was issued and redeemed stays. The code format cannot change once codes
// are issued (look-ups read codes by it), and maxCreate cannot fall below
// the codes issued. It fails with ErrNotFound (also for a promotion that
// is not a series) and a *ValidationError.
func (s *Store) UpdateSeries(ctx context.Context, id int64, spec SeriesSpec) (Series, error) {
	var ser Series
	var formatChanged bool
	err := s.write(ctx, func(tx *gorm.DB) error {
		var err error
		if ser, err = s.lockSeries(tx, id); err != nil {
			return err
		}
		before := ser
		if err := spec.apply(&ser); err != nil {
			return err
		}
		var verr ValidationError
		if formatChanged = ser.Format != before.Format; formatChanged && before.Issued > 0 {
			verr.Add(FieldFormat, fmt.Sprintf("cannot change: %s issued in the current format, and look-ups read codes by it; make a new series for codes of another format", counted(before.Issued, "code was", "codes were")))
		}
		if ser.MaxCreate > 0 && ser.MaxCreate < before.Issued {
			verr.Add(FieldMaxCreate, fmt.Sprintf("must be at least the %s already issued, or 0 (unlimited)", counted(before.Issued, "code", "codes")))
		}
		if err := verr.Err(); err != nil {
			return err
		}
		p := ser.Promotion
		spec.Promotion.Kind = KindSeries
		spec.Promotion.apply(&p)
		diff := promotionDiff(ser.Promotion, p)
		if diff != "no change" {
			if err := tx.Select("*").Omit("id", "uses", "created_at").Updates(&p).Error; err != nil {
				return err
			}
			if err := s.recountUses(tx, ser.Promotion, &p); err != nil {
				return err
			}
		}
		ser.Promotion = p
		if err := tx.Select("*").Omit("promotion_id", "issued").Updates(&ser).Error; err != nil {
			return err
		}
		return s.audit(ctx, tx, ActionSeriesUpdate, EntityPromotion, strconv.FormatInt(id, 10), diff+"; "+seriesSummary(ser))
	})
	if err != nil {
		return Series{}, fmt.Errorf("update series %d: %w", id, translate(notFound(err, "coupon series", strconv.FormatInt(id, 10))))
	}
	if formatChanged {
		s.forgetFormats()
	}
	return ser, nil
}

// lockSeries reads a series and its promotion for update inside tx (the
// promotion's row first, as a redemption locks it).
func (s *Store) lockSeries(tx *gorm.DB, id int64) (Series, error) {
	var p Promotion
	if err := s.forUpdate(tx).Where("kind = ?", KindSeries).Take(&p, id).Error; err != nil {
		return Series{}, err
	}
	var ser Series
	if err := s.forUpdate(tx).Take(&ser, "promotion_id = ?", id).Error; err != nil {
		return Series{}, err
	}
	ser.Promotion = p
	return ser, nil
}

// Series returns one series with its promotion. It fails with
// ErrNotFound, also for a promotion of another kind.
func (s *Store) Series(ctx context.Context, id int64) (Series, error) {
	ss, err := s.SeriesByIDs(ctx, []int64{id})
	if err != nil {
		return Series{}, err
	}
	if len(ss) == 0 {
		return Series{}, fmt.Errorf("get series: %w", &NotFoundError{Entity: "coupon series", Key: strconv.FormatInt(id, 10)})
	}
	return ss[0], nil
}

// SeriesByIDs returns the series among ids that exist, in the order of
// ids, each once.
func (s *Store) SeriesByIDs(ctx context.Context, ids []int64) ([]Series, error) {
	ids, _ = dedupeIDs(ids)
	found, err := loadSeries(s.db.WithContext(ctx), ids, nil)
	if err != nil {
		return nil, fmt.Errorf("get series: %w", err)
	}
	out := make([]Series, 0, len(found))
	for _, id := range ids {
		if ser, ok := found[id]; ok {
			out = append(out, ser)
		}
	}
	return out, nil
}

// loadSeries reads the series among ids with their promotions, through
// q; with lock (a write transaction) the promotions' rows are locked, in
// id order.
func loadSeries(q *gorm.DB, ids []int64, lock func(*gorm.DB) *gorm.DB) (map[int64]Series, error) {
	out := map[int64]Series{}
	if len(ids) == 0 {
		return out, nil
	}
	pq := q.Where("id IN ? AND kind = ?", ids, KindSeries).Order("id")
	if lock != nil {
		pq = lock(pq)
	}
	var ps []Promotion
	if err := pq.Find(&ps).Error; err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return out, nil
	}
	pids := make([]int64, 0, len(ps))
	for _, p := range ps {
		pids = append(pids, p.ID)
	}
	var ss []Series
	if err := q.Where("promotion_id IN ?", pids).Find(&ss).Error; err != nil {
		return nil, err
	}
	byID := make(map[int64]Promotion, len(ps))
	for _, p := range ps {
		byID[p.ID] = p
	}
	for _, ser := range ss {
		ser.Promotion = byID[ser.PromotionID]
		out[ser.PromotionID] = ser
	}
	return out, nil
}

// SeriesFilter pages series, newest first.
type SeriesFilter struct {
	Status string
	// Name matches series whose name holds it, ignoring case.
	Name  string
	After string
	Limit int
}

// SeriesPage is one page of series and the cursor of the next.
type SeriesPage struct {
	Series []Series
	Next   string
}

// ListSeries returns a page of series, newest first. It fails with a
// *ValidationError for a bad limit or cursor.
func (s *Store) ListSeries(ctx context.Context, f SeriesFilter) (SeriesPage, error) {
	page, err := s.ListPromotions(ctx, PromotionFilter{Kind: KindSeries, Status: f.Status, Name: f.Name, After: f.After, Limit: f.Limit})
	if err != nil {
		return SeriesPage{}, fmt.Errorf("list series: %w", err)
	}
	ids := make([]int64, 0, len(page.Promotions))
	for _, p := range page.Promotions {
		ids = append(ids, p.ID)
	}
	ss, err := s.SeriesByIDs(ctx, ids)
	if err != nil {
		return SeriesPage{}, fmt.Errorf("list series: %w", err)
	}
	return SeriesPage{Series: ss, Next: page.Next}, nil
}

// Issue hands the customer one fresh code from each listed series, in
// one transaction: each series succeeds or fails on its own (the
// result's Reason says why), and a series listed twice is issued once.
// The customer is created when no customer has any of its identifiers.
// Every limit is checked with the series' row locked, so concurrent
// issues never pass maxCreate or maxPerCustomer. It fails as a whole with
// a *ValidationError (no series, too many, a bad customer reference) and
// *CustomerMismatchError.
func (s *Store) Issue(ctx context.Context, req IssueRequest) (Customer, []IssueResult, error) {
	var verr ValidationError
	ids, listed := dedupeIDs(req.SeriesIDs)
	switch {
	case len(ids) == 0:
		verr.Add(FieldSeries, "list at least one series id")
	case len(ids) > MaxIssueSeries:
		verr.Add(FieldSeries, fmt.Sprintf("lists %d series; at most %d are issued in one request", len(ids), MaxIssueSeries))
	}
	ref, err := req.Customer.Normalize(FieldCustomer + ".")
	if err != nil {
		verr.Merge(NoItem, asValidation(err))
	}
	if msg := checkText(req.Source, 64, false); msg != "" {
		verr.Add(FieldSource, msg)
	}
	if err := verr.Err(); err != nil {
		return Customer{}, nil, fmt.Errorf("issue codes: %w", err)
	}
	var cust Customer
	var results []IssueResult
	err = s.write(ctx, func(tx *gorm.DB) error {
		// The series' rows first, then the customer's, the order a
		// redemption locks a promotion and then its customer in.
		found, err := loadSeries(tx, ids, s.forUpdate)
		if err != nil {
			return err
		}
		if cust, err = s.ensureCustomer(tx, ref); err != nil {
			return err
		}
		results = make([]IssueResult, len(ids))
		index := make(map[int64]int, len(ids))
		for i, id := range ids {
			index[id] = i
			results[i] = IssueResult{SeriesID: id, Listed: listed[id]}
		}
		// In id order, the order the rows were locked in.
		for _, id := range slices.Sorted(slices.Values(ids)) {
			r := &results[index[id]]
			ser, ok := found[id]
			if !ok {
				r.Reason, r.Message = IssueSeriesNotFound, fmt.Sprintf("no coupon series has id %d", id)
				continue
			}
			r.Series = &ser
			if err := s.issueOne(ctx, tx, &ser, cust, req.Source, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Customer{}, nil, fmt.Errorf("issue codes to %s: %w", ref, translate(err))
	}
	return cust, results, nil
}

// issueOne issues one code of ser (locked) to cust inside tx, or records
// in r why it cannot.
func (s *Store) issueOne(ctx context.Context, tx *gorm.DB, ser *Series, cust Customer, source string, r *IssueResult) error {
	now := s.now()
	p := ser.Promotion
	switch {
	case p.Status == PromotionArchived:
		r.Reason, r.Message = IssueSeriesInactive, fmt.Sprintf("coupon series %d is archived", p.ID)
		return nil
	case p.Status != PromotionActive:
		r.Reason, r.Message = IssueSeriesInactive, fmt.Sprintf("coupon series %d is %s", p.ID, p.Status)
		return nil
	case p.EndsAt != nil && !now.Before(*p.EndsAt):
		r.Reason, r.Message = IssueSeriesExpired, fmt.Sprintf("coupon series %d ended at %s", p.ID, p.EndsAt.UTC().Format("2006-01-02 15:04:05 UTC"))
		return nil
	case ser.MaxCreate > 0 && ser.Issued >= ser.MaxCreate:
		r.Reason, r.Limit, r.Held = IssueMaxCreate, ser.MaxCreate, ser.Issued
		if ser.MaxCreate == 1 {
			r.Message = fmt.Sprintf("coupon series %d has issued its 1 code, the most it may issue", p.ID)
		} else {
			r.Message = fmt.Sprintf("coupon series %d has issued all %s of its codes, the most it may issue", p.ID, thousands(ser.MaxCreate))
		}
		return nil
	}
	if ser.MaxPerCustomer > 0 {
		var held int64
		if err := tx.Model(&Issuance{}).Where("series_id = ? AND customer_id = ?", p.ID, cust.ID).Count(&held).Error; err != nil {
			return fmt.Errorf("count the customer's codes of series %d: %w", p.ID, err)
		}
		if held >= int64(ser.MaxPerCustomer) {
			r.Reason, r.Limit, r.Held = IssueCustomerLimit, ser.MaxPerCustomer, int(held)
			r.Message = fmt.Sprintf("customer %q already holds %s of coupon series %d, the most one customer may hold", cust.ID, counted(int(held), "code", "codes"), p.ID)
			return nil
		}
	}
	var capErr *ActiveCapError
	if err := s.checkActiveCap(tx, 1); errors.As(err, &capErr) {
		r.Reason, r.Message = IssueActiveCap, capErr.Error()
		return nil
	} else if err != nil {
		return err
	}
	f, err := ser.CodeFormat()
	if err != nil {
		return err
	}
	c := Coupon{PromotionID: &p.ID, CustomerID: &cust.ID, MaxUsage: ser.UsesPerCode, ExpiresAt: ser.CodeExpiry(now), CreatedAt: now, UpdatedAt: now}
	gen := f.Generator(s.rand)
	var buf []byte
	inserted := false
	for attempt := 0; attempt < issueAttempts && !inserted; attempt++ {
		if buf, err = gen.Append(buf[:0]); err != nil {
			return err
		}
		code := string(buf)
		// A code that look-ups would read as another is never handed out.
		if key, ok, err := s.codeKey(tx, code); err != nil {
			return err
		} else if !ok || key != CodeKey(code) {
			continue
		}
		c.ID, c.Code = 0, code
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&c)
		if res.Error != nil {
			return res.Error
		}
		inserted = res.RowsAffected == 1
	}
	if !inserted {
		r.Reason, r.Message = IssueCodesExhausted, fmt.Sprintf("coupon series %d drew %d codes of its format %s and every one was taken; its format has too few codes left", p.ID, issueAttempts, f.Describe())
		return nil
	}
	if err := tx.Model(&Series{}).Where("promotion_id = ?", p.ID).UpdateColumn("issued", gorm.Expr("issued + 1")).Error; err != nil {
		return err
	}
	ser.Issued++
	is := Issuance{SeriesID: &p.ID, CouponID: c.ID, CustomerID: cust.ID, Source: source, IssuedAt: now}
	if err := tx.Create(&is).Error; err != nil {
		return err
	}
	if err := s.customerActive(tx, cust.ID, now, 0, 0); err != nil {
		return err
	}
	r.Coupon, r.Issuance = &c, &is
	return s.audit(ctx, tx, ActionIssue, EntityCoupon, c.Code, fmt.Sprintf("series=%d customer=%s source=%s", p.ID, cust.ID, source))
}

// SeriesCodeFilter pages through a series' codes, oldest first.
type SeriesCodeFilter struct {
	SeriesID int64
	After    string
	Limit    int
}

// SeriesCodePage is one page of a series' codes and the next cursor.
type SeriesCodePage struct {
	Codes []IssuedCode
	Next  string
}

// SeriesCodes returns a page of a series' codes in the order they were
// issued, by keyset pagination on the id. It fails with a
// *ValidationError for a bad cursor or limit.
func (s *Store) SeriesCodes(ctx context.Context, f SeriesCodeFilter) (SeriesCodePage, error) {
	var verr ValidationError
	limit := pageLimit(f.Limit, &verr)
	cursor := idCursor(f.After, &verr)
	if err := verr.Err(); err != nil {
		return SeriesCodePage{}, fmt.Errorf("list the series' codes: %w", err)
	}
	var cs []Coupon
	err := s.db.WithContext(ctx).Where("promotion_id = ? AND id > ?", f.SeriesID, cursor).Order("id").Limit(limit + 1).Find(&cs).Error
	if err != nil {
		return SeriesCodePage{}, fmt.Errorf("list the series' codes: %w", err)
	}
	var page SeriesCodePage
	if len(cs) > limit {
		cs = cs[:limit]
		page.Next = nextIDCursor(cs[len(cs)-1].ID)
	}
	if page.Codes, err = s.issuedCodes(s.db.WithContext(ctx), cs); err != nil {
		return SeriesCodePage{}, fmt.Errorf("list the series' codes: %w", err)
	}
	return page, nil
}

// EachSeriesCode calls fn with every code of a series in the order they
// were issued, reading them in pages so that a long export holds no
// transaction open. It stops at fn's first error.
func (s *Store) EachSeriesCode(ctx context.Context, seriesID int64, fn func(IssuedCode) error) error {
	after := ""
	for {
		page, err := s.SeriesCodes(ctx, SeriesCodeFilter{SeriesID: seriesID, After: after, Limit: MaxListLimit})
		if err != nil {
			return err
		}
		for _, ic := range page.Codes {
			if err := fn(ic); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		after = page.Next
	}
}

// seriesSummary writes a series' own settings for the audit log.
func seriesSummary(ser Series) string {
	return fmt.Sprintf("series discountCode=%q expiry=%s days=%d format=%s maxCreate=%d maxPerCustomer=%d usesPerCode=%d",
		ser.DiscountCode, ser.Expiry, ser.ExpiryDays, ser.Format, ser.MaxCreate, ser.MaxPerCustomer, ser.UsesPerCode)
}
