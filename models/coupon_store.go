package models

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// writeAttempts bounds retries of a write transaction that lost a race on
// the unique code index to another writer (PostgreSQL with several
// instances); SQLite's immediate transactions never race.
const writeAttempts = 3

// Coupon returns the coupon whose code matches, ignoring case and
// surrounding spaces. It fails with ErrNotFound, also for a string that
// cannot be a code.
func (s *Store) Coupon(ctx context.Context, code string) (Coupon, error) {
	return s.couponIn(s.db.WithContext(ctx), code)
}

// couponIn is Coupon reading through q.
func (s *Store) couponIn(q *gorm.DB, code string) (Coupon, error) {
	if !couldBeCode(code) {
		return Coupon{}, fmt.Errorf("get coupon: %w", &NotFoundError{Entity: "coupon", Key: code})
	}
	key, ok, err := s.codeKey(q, code)
	if err != nil {
		return Coupon{}, fmt.Errorf("get coupon %q: %w", code, err)
	}
	if !ok {
		return Coupon{}, fmt.Errorf("get coupon: %w", &NotFoundError{Entity: "coupon", Key: code})
	}
	c, err := scanCoupon(s.conn(q).queryRow("SELECT "+couponRow+" FROM coupons WHERE lower(code) = ?", key))
	if err != nil {
		return Coupon{}, fmt.Errorf("get coupon %q: %w", code, notFound(err, "coupon", code))
	}
	return c, nil
}

// couldBeCode reports whether s, trimmed, uses only code characters; a
// look-up of anything else finds nothing without asking the database
// (which may refuse bytes such as NUL).
func couldBeCode(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > MaxCodeLength {
		return false
	}
	for _, r := range s {
		if !isCodeRune(r) {
			return false
		}
	}
	return true
}

// lockCoupon reads a coupon for update inside tx (a row lock on
// PostgreSQL; SQLite's write transaction already excludes other writers).
// A string that cannot be a code is not found.
func (s *Store) lockCoupon(tx *gorm.DB, code string) (Coupon, error) {
	if !couldBeCode(code) {
		return Coupon{}, gorm.ErrRecordNotFound
	}
	key, ok, err := s.codeKey(tx, code)
	if err != nil || !ok {
		return Coupon{}, cmp.Or(err, gorm.ErrRecordNotFound)
	}
	db := s.conn(tx)
	q := "SELECT " + couponRow + " FROM coupons WHERE lower(code) = ?"
	if db.pg {
		q += " FOR UPDATE"
	}
	return scanCoupon(db.queryRow(q, key))
}

// checkActiveCap fails with *ActiveCapError when adding more active
// coupons would pass the configured cap. It runs inside the write
// transaction, serialised with every other check of the cap.
func (s *Store) checkActiveCap(tx *gorm.DB, adding int) error {
	if s.maxActive <= 0 || adding <= 0 {
		return nil
	}
	if err := s.lock(tx, lockActiveCap); err != nil {
		return err
	}
	// Every coupon less the archived ones, which a partial index holds:
	// no index holds the active ones alone.
	var all, archived int64
	if err := tx.Model(&Coupon{}).Count(&all).Error; err != nil {
		return fmt.Errorf("count coupons: %w", err)
	}
	if err := tx.Model(&Coupon{}).Where(s.archivedIs(true)).Count(&archived).Error; err != nil {
		return fmt.Errorf("count archived coupons: %w", err)
	}
	active := all - archived
	if active+int64(adding) > int64(s.maxActive) {
		return &ActiveCapError{Cap: s.maxActive, Active: active, Adding: adding}
	}
	return nil
}

// archivedIs is the condition that a coupon is archived (or not) written
// as the partial index on archived coupons is, so that the planner uses
// it: with a literal, not a parameter.
func (s *Store) archivedIs(archived bool) string {
	switch {
	case s.dialect == DialectPostgres && archived:
		return "archived = true"
	case s.dialect == DialectPostgres:
		return "archived = false"
	case archived:
		return "archived = 1"
	}
	return "archived = 0"
}

// applyUnderCap applies spec to c (a new coupon when c.ID is 0) and
// checks the active cap when that makes one more coupon active.
func (s *Store) applyUnderCap(tx *gorm.DB, c *Coupon, spec CouponSpec) error {
	wasActive := c.ID != 0 && !c.Archived
	spec.apply(c)
	if !c.Archived && !wasActive {
		return s.checkActiveCap(tx, 1)
	}
	return nil
}

// UpsertCoupon creates the coupon with spec's code or, when the code
// exists, replaces its configuration (the code itself never changes). It
// reports whether the coupon was created. It fails with *ActiveCapError.
func (s *Store) UpsertCoupon(ctx context.Context, spec CouponSpec) (Coupon, bool, error) {
	var c Coupon
	var created bool
	err := s.retryWrite(ctx, func(tx *gorm.DB) error {
		var err error
		c, err = s.lockCoupon(tx, spec.Code)
		created = errors.Is(err, gorm.ErrRecordNotFound)
		if err != nil && !created {
			return err
		}
		before := c
		if created {
			if err := s.checkLiteralCode(tx, spec.Code); err != nil {
				return err
			}
		}
		if err := s.applyUnderCap(tx, &c, spec); err != nil {
			return err
		}
		if created {
			if err := tx.Create(&c).Error; err != nil {
				return err
			}
			return s.audit(ctx, tx, ActionCouponCreate, EntityCoupon, c.Code, couponSummary(c))
		}
		if err := tx.Save(&c).Error; err != nil {
			return err
		}
		return s.audit(ctx, tx, ActionCouponUpdate, EntityCoupon, c.Code, couponDiff(before, c))
	})
	if err != nil {
		return Coupon{}, false, fmt.Errorf("upsert coupon %q: %w", spec.Code, translate(err))
	}
	return c, created, nil
}

// CreateCoupon creates one coupon. It fails with *DuplicateCodeError when
// the code exists in any case, and with *ActiveCapError.
func (s *Store) CreateCoupon(ctx context.Context, spec CouponSpec) (Coupon, error) {
	cs, err := s.createCoupons(ctx, []CouponRequest{{Quantity: 1, Spec: spec}}, false)
	if err != nil {
		return Coupon{}, fmt.Errorf("create coupon %q: %w", spec.Code, err)
	}
	return cs[0], nil
}

// UpdateCoupon replaces the configuration of the coupon with code; spec's
// code is ignored. It fails with ErrNotFound and *ActiveCapError.
func (s *Store) UpdateCoupon(ctx context.Context, code string, spec CouponSpec) (Coupon, error) {
	var c Coupon
	err := s.write(ctx, func(tx *gorm.DB) error {
		var err error
		if c, err = s.lockCoupon(tx, code); err != nil {
			return err
		}
		before := c
		if err := s.applyUnderCap(tx, &c, spec); err != nil {
			return err
		}
		if err := tx.Save(&c).Error; err != nil {
			return err
		}
		return s.audit(ctx, tx, ActionCouponUpdate, EntityCoupon, c.Code, couponDiff(before, c))
	})
	if err != nil {
		return Coupon{}, fmt.Errorf("update coupon %q: %w", code, notFound(err, "coupon", code))
	}
	return c, nil
}

// CouponPatch changes part of a coupon's configuration; a nil field is
// left as it is, and a tag set to "" is removed.
type CouponPatch struct {
	UTMSource                *string
	UTMCampaign              *string
	MaxUsage                 *int
	MaxUsagePerClient        *int
	MaxItemsPerClient        *int
	ExpirationIntervalPerUse *string
}

// PatchCoupon applies p to the coupon with code, judging the result as a
// whole configuration (CouponInput.Validate), in one transaction with
// the coupon locked, so that two patches of different fields both land.
// It fails with ErrNotFound and a *ValidationError.
func (s *Store) PatchCoupon(ctx context.Context, code string, p CouponPatch) (Coupon, error) {
	var c Coupon
	err := s.write(ctx, func(tx *gorm.DB) error {
		var err error
		if c, err = s.lockCoupon(tx, code); err != nil {
			return err
		}
		before := c
		in := CouponInput{Code: c.Code, UTMSource: c.UTMSource, UTMCampaign: c.UTMCampaign, MaxItemsPerClient: c.MaxItemsPerClient,
			ExpirationIntervalPerUse: FormatTimeSpan(c.ExpirationIntervalPerUse), MaxUsage: c.MaxUsage, MaxUsagePerClient: &c.MaxUsagePerClient}
		in.UTMSource = cmp.Or(p.UTMSource, in.UTMSource)
		in.UTMCampaign = cmp.Or(p.UTMCampaign, in.UTMCampaign)
		in.MaxUsage = *cmp.Or(p.MaxUsage, &in.MaxUsage)
		in.MaxUsagePerClient = cmp.Or(p.MaxUsagePerClient, in.MaxUsagePerClient)
		in.MaxItemsPerClient = *cmp.Or(p.MaxItemsPerClient, &in.MaxItemsPerClient)
		in.ExpirationIntervalPerUse = *cmp.Or(p.ExpirationIntervalPerUse, &in.ExpirationIntervalPerUse)
		spec, err := in.Validate()
		if err != nil {
			return err
		}
		spec.apply(&c)
		changes := couponChanges(before, c)
		if len(changes) == 0 {
			// Nothing to write, and nothing for the audit log.
			return nil
		}
		if err := tx.Save(&c).Error; err != nil {
			return err
		}
		return s.audit(ctx, tx, ActionCouponUpdate, EntityCoupon, c.Code, strings.Join(changes, ", "))
	})
	if err != nil {
		return Coupon{}, fmt.Errorf("change coupon %q: %w", code, notFound(err, "coupon", code))
	}
	return c, nil
}

// SetCouponArchived archives or unarchives one coupon. Unarchiving checks
// the active cap. It fails with ErrNotFound and *ActiveCapError.
func (s *Store) SetCouponArchived(ctx context.Context, code string, archived bool) (Coupon, error) {
	var c Coupon
	err := s.write(ctx, func(tx *gorm.DB) error {
		var err error
		if c, err = s.lockCoupon(tx, code); err != nil {
			return err
		}
		if c.Archived == archived {
			return nil
		}
		if !archived {
			if err := s.checkActiveCap(tx, 1); err != nil {
				return err
			}
		}
		c.Archived = archived
		if err := tx.Model(&c).Select("archived", "updated_at").Updates(&c).Error; err != nil {
			return err
		}
		if archived {
			return s.audit(ctx, tx, ActionCouponArchive, EntityCoupon, c.Code, "archived")
		}
		return s.audit(ctx, tx, ActionCouponUnarchive, EntityCoupon, c.Code, "unarchived")
	})
	if err != nil {
		verb := "archive"
		if !archived {
			verb = "unarchive"
		}
		return Coupon{}, fmt.Errorf("%s coupon %q: %w", verb, code, notFound(err, "coupon", code))
	}
	return c, nil
}

// CreateCoupons creates every coupon the requests ask for, all or nothing,
// and returns them in request order. A literal request keeps its code; a
// generating one makes codes in a new Batch. It fails with a
// *ValidationError, a *DuplicateCodeError naming the element, or
// *ActiveCapError.
func (s *Store) CreateCoupons(ctx context.Context, reqs []CouponRequest) ([]Coupon, error) {
	if err := ValidateCouponRequests(reqs); err != nil {
		return nil, fmt.Errorf("create coupons: %w", err)
	}
	cs, err := s.createCoupons(ctx, reqs, true)
	if err != nil {
		return nil, fmt.Errorf("create coupons: %w", err)
	}
	return cs, nil
}

// GenerateCoupons creates the coupons of one request, as CreateCoupons
// does, with errors about the request as a whole.
func (s *Store) GenerateCoupons(ctx context.Context, r CouponRequest) ([]Coupon, error) {
	var verr ValidationError
	CheckQuantity(r, &verr, NoItem)
	if err := verr.Err(); err != nil {
		return nil, fmt.Errorf("generate coupons: %w", err)
	}
	cs, err := s.createCoupons(ctx, []CouponRequest{r}, false)
	if err != nil {
		return nil, fmt.Errorf("generate coupons from %q: %w", r.Spec.Code, err)
	}
	return cs, nil
}

// createCoupons writes the coupons of reqs in one transaction; itemized
// says whether a duplicate names its element or the request as a whole.
// Literal coupons are written first, so that a generated code never takes
// a code the request names.
func (s *Store) createCoupons(ctx context.Context, reqs []CouponRequest, itemized bool) ([]Coupon, error) {
	var verr ValidationError
	for i, r := range reqs {
		if r.Generate {
			continue
		}
		err := s.checkLiteralCode(s.db.WithContext(ctx), r.Spec.Code)
		var v *ValidationError
		switch {
		case errors.As(err, &v) && itemized:
			verr.Merge(i, v)
		case errors.As(err, &v):
			verr.Merge(NoItem, v)
		case err != nil:
			return nil, err
		}
	}
	if err := verr.Err(); err != nil {
		return nil, err
	}
	var out []Coupon
	generated := 0
	err := s.retryWrite(ctx, func(tx *gorm.DB) error {
		out, generated = out[:0], 0
		adding := 0
		literal := map[string]int{}
		var literals []Coupon
		for i, r := range reqs {
			if r.Spec.Archived == nil || !*r.Spec.Archived {
				adding += r.Quantity
			}
			if !r.Generate {
				literal[CodeKey(r.Spec.Code)] = i
				c := Coupon{}
				r.Spec.apply(&c)
				literals = append(literals, c)
			}
		}
		if err := s.checkActiveCap(tx, adding); err != nil {
			return err
		}
		taken, err := existingKeys(tx, keysOf(literal))
		if err != nil {
			return err
		}
		if len(taken) > 0 {
			first := -1
			for k := range taken {
				if i := literal[k]; first < 0 || i < first {
					first = i
				}
			}
			item := NoItem
			if itemized {
				item = first
			}
			return &DuplicateCodeError{Code: reqs[first].Spec.Code, Item: item}
		}
		if len(literals) > 0 {
			if err := tx.CreateInBatches(&literals, 500).Error; err != nil {
				return err
			}
		}
		for _, c := range literals {
			if err := s.audit(ctx, tx, ActionCouponCreate, EntityCoupon, c.Code, couponSummary(c)); err != nil {
				return err
			}
		}
		for _, r := range reqs {
			if !r.Generate {
				out = append(out, literals[0])
				literals = literals[1:]
				continue
			}
			_, cs, err := s.generateTx(ctx, tx, baseCodeBatch(r))
			if err != nil {
				return err
			}
			generated += len(cs)
			out = append(out, cs...)
		}
		return nil
	})
	if err != nil {
		return nil, translate(err)
	}
	s.observer.CodesGenerated(generated)
	return out, nil
}

// baseCodeBatch is the batch that a request for several generated codes
// with a base code is: each code is the base code, "-" and
// GeneratedSuffixLength random lower-case letters and digits.
func baseCodeBatch(r CouponRequest) BatchSpec {
	in := FormatInput{Prefix: r.Spec.Code, Delimiter: "-", Length: GeneratedSuffixLength, Charset: CharsetLowerAlnum}
	f, err := in.Compile()
	if err != nil {
		// CheckQuantity has bounded the base code, which NormalizeCode
		// has checked: the format is always valid.
		panic(fmt.Sprintf("format of the codes of base code %q %+v: %v", r.Spec.Code, in, err))
	}
	return BatchSpec{Quantity: r.Quantity, Format: f, Coupon: r.Spec}
}

// existingKeys returns which of keys are already codes in the table.
func existingKeys(tx *gorm.DB, keys []string) (map[string]struct{}, error) {
	taken := map[string]struct{}{}
	for start := 0; start < len(keys); start += 1000 {
		chunk := keys[start:min(start+1000, len(keys))]
		var found []string
		if err := tx.Model(&Coupon{}).Where("lower(code) IN ?", chunk).Pluck("lower(code)", &found).Error; err != nil {
			return nil, fmt.Errorf("look up existing codes: %w", err)
		}
		for _, k := range found {
			taken[k] = struct{}{}
		}
	}
	return taken, nil
}

func keysOf(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// retryWrite runs fn in a write transaction and runs it again when it
// lost a race on the unique code index, so that its reads see the
// winner's row.
func (s *Store) retryWrite(ctx context.Context, fn func(tx *gorm.DB) error) error {
	var err error
	for range writeAttempts {
		err = s.write(ctx, fn)
		if !errors.Is(translate(err), ErrDuplicateCode) {
			return err
		}
	}
	return err
}

// Listing limits.
const (
	DefaultListLimit = 50
	MaxListLimit     = 1000
)

// pageLimit is the page size asked for, DefaultListLimit for 0; a size
// outside 1..MaxListLimit is recorded in verr.
func pageLimit(limit int, verr *ValidationError) int {
	switch {
	case limit == 0:
		return DefaultListLimit
	case limit < 1 || limit > MaxListLimit:
		verr.Add(FieldLimit, fmt.Sprintf("must be between 1 and %d", MaxListLimit))
	}
	return limit
}

// Batch returns one generation run. It fails with ErrNotFound.
func (s *Store) Batch(ctx context.Context, id int64) (Batch, error) {
	var b Batch
	if err := s.db.WithContext(ctx).Take(&b, id).Error; err != nil {
		return Batch{}, fmt.Errorf("get batch %d: %w", id, notFound(err, "batch", fmt.Sprint(id)))
	}
	return b, nil
}

// BatchCodes returns up to limit codes of a batch in generation order.
func (s *Store) BatchCodes(ctx context.Context, id int64, limit int) ([]string, error) {
	var codes []string
	err := s.db.WithContext(ctx).Model(&Coupon{}).Where("batch_id = ?", id).Order("id").Limit(limit).Pluck("code", &codes).Error
	if err != nil {
		return nil, fmt.Errorf("read codes of batch %d: %w", id, err)
	}
	return codes, nil
}

// streamChunk is how many rows one query of a streaming read fetches:
// each chunk is its own short read, so a long export never pins an old
// snapshot (which would keep SQLite from resetting its WAL).
const streamChunk = 1000

// EachCoupon calls fn with every coupon that f selects, in code order,
// reading page by page so memory does not grow with the table; f's Limit
// and After are ignored. It stops at fn's first error and returns it.
func (s *Store) EachCoupon(ctx context.Context, f CouponFilter, fn func(Coupon) error) error {
	f.After, f.Limit = "", streamChunk
	for {
		page, err := s.ListCoupons(ctx, f)
		if err != nil {
			return err
		}
		for _, c := range page.Coupons {
			if err := fn(c); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		f.After = page.Next
	}
}

// ArchivedCoupon returns the archived coupon whose code matches, ignoring
// case. It fails with ErrNotFound when no coupon has the code or the
// coupon is not archived.
func (s *Store) ArchivedCoupon(ctx context.Context, code string) (Coupon, error) {
	c, err := s.Coupon(ctx, code)
	if err == nil && !c.Archived {
		err = &NotFoundError{Entity: "archived coupon", Key: code}
	}
	if err != nil {
		return Coupon{}, fmt.Errorf("get archived coupon %q: %w", code, err)
	}
	return c, nil
}
