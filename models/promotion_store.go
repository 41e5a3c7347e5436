package models

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Promotion returns one promotion. It fails with ErrNotFound.
func (s *Store) Promotion(ctx context.Context, id int64) (Promotion, error) {
	var p Promotion
	if err := s.db.WithContext(ctx).Take(&p, id).Error; err != nil {
		return Promotion{}, fmt.Errorf("get promotion %d: %w", id, notFound(err, "promotion", strconv.FormatInt(id, 10)))
	}
	return p, nil
}

// errSeriesElsewhere refuses a series made as a plain promotion.
func errSeriesElsewhere() error {
	return Invalid(FieldKind, "a series has a code format and issuing limits of its own: create it with POST /v2/coupon/series or on the console's Series page")
}

// CreatePromotion stores a new promotion with no uses. A series is made
// with CreateSeries.
func (s *Store) CreatePromotion(ctx context.Context, spec PromotionSpec) (Promotion, error) {
	if spec.Kind == KindSeries {
		return Promotion{}, fmt.Errorf("create promotion %q: %w", spec.Name, errSeriesElsewhere())
	}
	var p Promotion
	err := s.write(ctx, func(tx *gorm.DB) error {
		return s.createPromotion(ctx, tx, spec, &p)
	})
	if err != nil {
		return Promotion{}, fmt.Errorf("create promotion %q: %w", spec.Name, translate(err))
	}
	return p, nil
}

func (s *Store) createPromotion(ctx context.Context, tx *gorm.DB, spec PromotionSpec, p *Promotion) error {
	spec.apply(p)
	if err := tx.Create(p).Error; err != nil {
		return err
	}
	return s.audit(ctx, tx, ActionPromotionCreate, EntityPromotion, strconv.FormatInt(p.ID, 10), promotionSummary(*p))
}

// UpdatePromotion replaces every field of a promotion; its uses stay. A
// limit lowered below the uses so far stops further redemptions and
// cancels none. It fails with ErrNotFound.
func (s *Store) UpdatePromotion(ctx context.Context, id int64, spec PromotionSpec) (Promotion, error) {
	var kindErr error
	p, err := s.changePromotion(ctx, id, ActionPromotionUpdate, func(p *Promotion) {
		if (p.Kind == KindSeries) != (spec.Kind == KindSeries) {
			kindErr = Invalid(FieldKind, fmt.Sprintf("a %s promotion cannot become a %s one: a series has a code format and issuing limits of its own; make a new one", p.Kind, spec.Kind))
			return
		}
		spec.apply(p)
	})
	if err == nil && kindErr != nil {
		err = kindErr
	}
	if err != nil {
		return Promotion{}, fmt.Errorf("update promotion %d: %w", id, err)
	}
	return p, nil
}

// ArchivePromotion sets a promotion's status to archived; coupons no
// longer reach it. Archiving twice is harmless. It fails with
// ErrNotFound.
func (s *Store) ArchivePromotion(ctx context.Context, id int64) (Promotion, error) {
	p, err := s.changePromotion(ctx, id, ActionPromotionArchive, func(p *Promotion) { p.Status = PromotionArchived })
	if err != nil {
		return Promotion{}, fmt.Errorf("archive promotion %d: %w", id, err)
	}
	return p, nil
}

// UnarchivePromotion brings an archived promotion back as inactive, so
// that its discount starts again only when someone makes it active; a
// promotion that is not archived is returned as it is. It fails with
// ErrNotFound.
func (s *Store) UnarchivePromotion(ctx context.Context, id int64) (Promotion, error) {
	p, err := s.changePromotion(ctx, id, ActionPromotionUnarchive, func(p *Promotion) {
		if p.Status == PromotionArchived {
			p.Status = PromotionInactive
		}
	})
	if err != nil {
		return Promotion{}, fmt.Errorf("unarchive promotion %d: %w", id, err)
	}
	return p, nil
}

// LinkPromotionTag makes a promotion listen to a UTM source or campaign
// (field is FieldUTMSource or FieldUTMCampaign), replacing the one it
// had. It fails with ErrNotFound and a *ValidationError.
func (s *Store) LinkPromotionTag(ctx context.Context, id int64, field, tag string) (Promotion, error) {
	v, err := normalizeUTM(&tag)
	switch {
	case field != FieldUTMSource && field != FieldUTMCampaign:
		err = Invalid(FieldUTM, "choose a UTM source or a UTM campaign")
	case err != nil:
		err = Invalid(FieldUTM, err.Error())
	case v == nil:
		err = Invalid(FieldUTM, "choose a tag to link")
	}
	if err != nil {
		return Promotion{}, fmt.Errorf("link tag to promotion %d: %w", id, err)
	}
	p, err := s.changePromotion(ctx, id, ActionPromotionUpdate, func(p *Promotion) {
		if field == FieldUTMSource {
			p.UTMSource = v
		} else {
			p.UTMCampaign = v
		}
	})
	if err != nil {
		return Promotion{}, fmt.Errorf("link tag to promotion %d: %w", id, err)
	}
	return p, nil
}

// changePromotion locks a promotion, changes it with fn and records the
// difference under action.
func (s *Store) changePromotion(ctx context.Context, id int64, action string, fn func(*Promotion)) (Promotion, error) {
	var p Promotion
	err := s.write(ctx, func(tx *gorm.DB) error {
		if err := s.forUpdate(tx).Take(&p, id).Error; err != nil {
			return err
		}
		before := p
		fn(&p)
		diff := promotionDiff(before, p)
		if diff == "no change" {
			return nil
		}
		if err := tx.Select("*").Omit("id", "uses", "created_at").Updates(&p).Error; err != nil {
			return err
		}
		if err := s.recountUses(tx, before, &p); err != nil {
			return err
		}
		return s.audit(ctx, tx, action, EntityPromotion, strconv.FormatInt(p.ID, 10), diff)
	})
	if err != nil {
		return Promotion{}, notFound(err, "promotion", strconv.FormatInt(id, 10))
	}
	return p, nil
}

// PromotionFilter selects and pages promotions, newest first.
type PromotionFilter struct {
	// Status and Kind match exactly when not empty.
	Status string
	Kind   string
	// UTM matches promotions listening to it as source or campaign,
	// ignoring case.
	UTM string
	// Name matches promotions whose name holds it anywhere, ignoring
	// case.
	Name string
	// After is the cursor of the previous page's Next.
	After string
	// Limit is the page size: 0 means DefaultListLimit.
	Limit int
}

// PromotionPage is one page of promotions and the cursor of the next,
// empty on the last page.
type PromotionPage struct {
	Promotions []Promotion
	Next       string
}

// ListPromotions returns a page of promotions by keyset pagination on
// the id, newest first. It fails with a *ValidationError for a bad
// filter, limit or cursor.
func (s *Store) ListPromotions(ctx context.Context, f PromotionFilter) (PromotionPage, error) {
	var verr ValidationError
	limit := pageLimit(f.Limit, &verr)
	if f.Status != "" && !slices.Contains(PromotionStatuses, f.Status) {
		verr.Add(FieldStatus, "must be one of "+strings.Join(PromotionStatuses, ", "))
	}
	if f.Kind != "" && !slices.Contains(PromotionKinds, f.Kind) {
		verr.Add(FieldKind, "must be one of "+strings.Join(PromotionKinds, ", "))
	}
	after := idCursor(f.After, &verr)
	if err := verr.Err(); err != nil {
		return PromotionPage{}, fmt.Errorf("list promotions: %w", err)
	}
	q := s.db.WithContext(ctx).Model(&Promotion{})
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if name := strings.TrimSpace(f.Name); name != "" {
		q = q.Where(`lower(name) LIKE ? ESCAPE '\'`, "%"+likeEscaper.Replace(strings.ToLower(name))+"%")
	}
	if utm := strings.TrimSpace(f.UTM); utm != "" {
		q = q.Where("lower(utm_source) = ? OR lower(utm_campaign) = ?", strings.ToLower(utm), strings.ToLower(utm))
	}
	if after > 0 {
		q = q.Where("id < ?", after)
	}
	var ps []Promotion
	if err := q.Order("id DESC").Limit(limit + 1).Find(&ps).Error; err != nil {
		return PromotionPage{}, fmt.Errorf("list promotions: %w", err)
	}
	page := PromotionPage{Promotions: ps}
	if len(ps) > limit {
		page.Promotions = ps[:limit]
		page.Next = nextIDCursor(ps[limit-1].ID)
	}
	return page, nil
}

// idCursor reads a cursor of a list ordered by id, newest first: the
// last id of the previous page. A bad one is recorded in verr; "" is 0.
func idCursor(after string, verr *ValidationError) int64 {
	if after == "" {
		return 0
	}
	b, err := base64.RawURLEncoding.DecodeString(after)
	var id int64
	if err == nil {
		id, err = strconv.ParseInt(string(b), 10, 64)
	}
	if err != nil || id < 1 {
		verr.Add(FieldCursor, "is not a cursor this server handed out; start again without it")
	}
	return id
}

// nextIDCursor is the cursor of the page after the one ending with id.
func nextIDCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
}

// reachingQuery selects the promotions coupon c reaches, in id order:
// the promotion that owns it (a generated code of a bulk promotion) and
// those listening to its tags. A coupon with neither reaches none.
func reachingQuery(q *gorm.DB, c Coupon) *gorm.DB {
	cond, args := reachCond(c)
	if cond == "" {
		return q.Where("1 = 0")
	}
	return q.Where(cond, args...).Order("id")
}

// reachCond is the condition, with its arguments, of the promotions
// coupon c reaches, whatever their status; "" when it reaches none.
func reachCond(c Coupon) (string, []any) {
	var conds []string
	var args []any
	if c.PromotionID != nil {
		conds, args = append(conds, "id = ?"), append(args, *c.PromotionID)
	}
	if c.UTMSource != nil {
		conds, args = append(conds, "lower(utm_source) = ?"), append(args, strings.ToLower(*c.UTMSource))
	}
	if c.UTMCampaign != nil {
		conds, args = append(conds, "lower(utm_campaign) = ?"), append(args, strings.ToLower(*c.UTMCampaign))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return "(" + strings.Join(conds, " OR ") + ")", args
}

// reaching is the active promotions coupon c reaches, in id order;
// with lock, on PostgreSQL, locked as lockPromotions locks them.
func (s *Store) reaching(tx *gorm.DB, c Coupon, lock bool) ([]Promotion, error) {
	where, args := reachingWhere(c)
	if where == "" {
		return nil, nil
	}
	db := s.conn(tx)
	rows, err := db.query("SELECT "+promotionColumns+" FROM promotions WHERE "+where, args...)
	if err != nil {
		return nil, err
	}
	ps, err := scanPromotions(rows)
	if err != nil || !lock || !db.pg {
		return ps, err
	}
	return lockPromotions(db, ps, where, args)
}

// reachingWhere is the condition, with its arguments, of the active
// promotions coupon c reaches; "" when its tags reach none.
func reachingWhere(c Coupon) (string, []any) {
	cond, args := reachCond(c)
	if cond == "" {
		return "", nil
	}
	return "status = '" + PromotionActive + "' AND " + cond, args
}

// On PostgreSQL a promotion with no limit is not counted in its own row:
// every checkout reaching it would queue on that row. A redemption, a
// hold or a cancellation locks a promotion with a limit (of all uses or
// of a customer's) FOR UPDATE, and counts it in the row; one without a
// limit only FOR KEY SHARE, which no other checkout waits for. Giving a
// promotion a limit takes its row FOR UPDATE, so it waits for the
// checkouts in flight, and then counts its uses from the live
// redemptions (recountUses). Its uses are read from the totals until
// then (freeUses).

// errLimitAppeared stops a checkout that found a promotion without a
// limit and, once it had locked it, with one: it runs again from the
// start, with the new limit.
var errLimitAppeared = errors.New("a promotion was given a limit while a checkout read it")

// limited reports whether p has a limit: of all uses or of a customer's.
func (p Promotion) limited() bool { return p.MaxUsage > 0 || p.MaxUsagePerClient > 0 }

// lockPromotions locks ps (those still matching where, with its args,
// when where is not "") on PostgreSQL, in id order: those with a limit
// FOR UPDATE, the others FOR KEY SHARE, a run of the same kind in one
// statement. One order for both kinds keeps two checkouts from waiting
// for each other whatever each took a promotion to be. It returns them as
// they are once locked, in id order, and fails with errLimitAppeared when
// one read without a limit has one now.
func lockPromotions(db conn, ps []Promotion, where string, args []any) ([]Promotion, error) {
	ps = slices.SortedFunc(slices.Values(ps), func(a, b Promotion) int { return cmp.Compare(a.ID, b.ID) })
	var out []Promotion
	for start := 0; start < len(ps); {
		limited := ps[start].limited()
		end := start + 1
		for end < len(ps) && ps[end].limited() == limited {
			end++
		}
		qargs := make([]any, 0, end-start+len(args))
		for _, p := range ps[start:end] {
			qargs = append(qargs, p.ID)
		}
		q := "SELECT " + promotionColumns + " FROM promotions WHERE id IN (?" + strings.Repeat(", ?", end-start-1) + ")"
		if where != "" {
			q += " AND " + where
			qargs = append(qargs, args...)
		}
		lock := " ORDER BY id FOR KEY SHARE"
		if limited {
			lock = " ORDER BY id FOR UPDATE"
		}
		rows, err := db.query(q+lock, qargs...)
		if err != nil {
			return nil, err
		}
		got, err := scanPromotions(rows)
		if err != nil {
			return nil, err
		}
		if !limited && slices.ContainsFunc(got, Promotion.limited) {
			return nil, errLimitAppeared
		}
		out = append(out, got...)
		start = end
	}
	return out, nil
}

// countsUses reports whether the store keeps p's uses in its row.
func (s *Store) countsUses(p Promotion) bool {
	return s.dialect != DialectPostgres || p.limited()
}

// recountUses counts, on PostgreSQL, the uses of promotion p (changed
// from before, inside tx, its row locked FOR UPDATE) in its row once it
// has a limit where it had none.
func (s *Store) recountUses(tx *gorm.DB, before Promotion, p *Promotion) error {
	if s.countsUses(before) || !p.limited() {
		return nil
	}
	return s.conn(tx).queryRow("UPDATE promotions SET uses = (SELECT count(*) FROM redemption_promotions WHERE promotion_id = ? AND NOT cancelled) WHERE id = ? RETURNING uses",
		p.ID, p.ID).Scan(&p.Uses)
}

// CouponPromotions returns every promotion a coupon's tags reach, whatever
// its status or dates, in id order.
func (s *Store) CouponPromotions(ctx context.Context, c Coupon) ([]Promotion, error) {
	if c.PromotionID == nil && c.UTMSource == nil && c.UTMCampaign == nil {
		return nil, nil
	}
	var ps []Promotion
	if err := reachingQuery(s.db.WithContext(ctx), c).Find(&ps).Error; err != nil {
		return nil, fmt.Errorf("promotions of coupon %q: %w", c.Code, err)
	}
	return ps, nil
}

// TagSet is the UTM tags that live promotions listen to, case-folded,
// and the ids of the live promotions.
type TagSet struct {
	Promotions map[int64]bool
	Sources    map[string]bool
	Campaigns  map[string]bool
}

// Reaches reports whether a coupon with these tags reaches one of the
// promotions the set was read from.
func (t TagSet) Reaches(c Coupon) bool {
	return c.PromotionID != nil && t.Promotions[*c.PromotionID] ||
		c.UTMSource != nil && t.Sources[strings.ToLower(*c.UTMSource)] || c.UTMCampaign != nil && t.Campaigns[strings.ToLower(*c.UTMCampaign)]
}

// LiveTags returns the tags of every promotion that is active and in
// date now, so that a list can mark coupons that reach none.
func (s *Store) LiveTags(ctx context.Context) (TagSet, error) {
	var ps []Promotion
	err := s.db.WithContext(ctx).Select("id", "utm_source", "utm_campaign", "begins_at", "ends_at", "status").
		Where("status = ?", PromotionActive).Find(&ps).Error
	if err != nil {
		return TagSet{}, fmt.Errorf("read promotion tags: %w", err)
	}
	t := TagSet{Promotions: map[int64]bool{}, Sources: map[string]bool{}, Campaigns: map[string]bool{}}
	now := s.now()
	for _, p := range ps {
		if !p.Live(now) {
			continue
		}
		t.Promotions[p.ID] = true
		if p.UTMSource != nil {
			t.Sources[strings.ToLower(*p.UTMSource)] = true
		}
		if p.UTMCampaign != nil {
			t.Campaigns[strings.ToLower(*p.UTMCampaign)] = true
		}
	}
	return t, nil
}

// LinkedCoupons counts the coupons that carry a promotion's UTM source
// and its UTM campaign, ignoring case.
func (s *Store) LinkedCoupons(ctx context.Context, p Promotion) (bySource, byCampaign int64, err error) {
	count := func(col string, tag *string) (int64, error) {
		if tag == nil {
			return 0, nil
		}
		var n int64
		err := s.db.WithContext(ctx).Model(&Coupon{}).Where(col+" IS NOT NULL AND lower("+col+") = ?", strings.ToLower(*tag)).Count(&n).Error
		return n, err
	}
	if bySource, err = count("utm_source", p.UTMSource); err == nil {
		byCampaign, err = count("utm_campaign", p.UTMCampaign)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("count coupons of promotion %d: %w", p.ID, err)
	}
	return bySource, byCampaign, nil
}

// TagCount is one UTM tag that coupons carry and how many carry it.
type TagCount struct {
	Tag     string
	Coupons int64
}

// maxTagCounts bounds the tags CouponTags returns per kind.
const maxTagCounts = 500

// CouponTags returns the UTM sources and campaigns that coupons carry,
// each with its number of coupons (tags that differ only in case are one
// tag, as promotions match them), most used first (at most 500 of each),
// so that a marketer links a promotion to a tag that matches something.
func (s *Store) CouponTags(ctx context.Context) (sources, campaigns []TagCount, err error) {
	read := func(col string) ([]TagCount, error) {
		var out []TagCount
		err := s.db.WithContext(ctx).Model(&Coupon{}).
			Select("min(" + col + ") AS tag, count(*) AS coupons").Where(col + " IS NOT NULL").
			Group("lower(" + col + ")").Order("coupons DESC, tag").Limit(maxTagCounts).Scan(&out).Error
		return out, err
	}
	if sources, err = read("utm_source"); err == nil {
		campaigns, err = read("utm_campaign")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read coupon tags: %w", err)
	}
	return sources, campaigns, nil
}

// CreateSingleUse creates, in one transaction, a single-use coupon and
// the promotion it alone reaches (see SingleUseInput.Plan). Nothing is
// kept when any part fails. It fails with a *ValidationError, a
// *DuplicateCodeError when the code exists, and *ActiveCapError.
func (s *Store) CreateSingleUse(ctx context.Context, in SingleUseInput) (Coupon, Promotion, error) {
	if strings.TrimSpace(in.Code) != "" || strings.TrimSpace(in.Pattern) == "" {
		return s.createSingleUse(ctx, in)
	}
	// A code drawn from the pattern; one that exists already is drawn
	// again, a few times.
	f, err := FormatInput{Pattern: strings.TrimSpace(in.Pattern)}.Compile()
	if err != nil {
		msg := err.Error()
		if verr := (*ValidationError)(nil); errors.As(err, &verr) {
			msg = cmp.Or(verr.Message(FieldFormatPattern), verr.Message(FieldFormat), msg)
		}
		return Coupon{}, Promotion{}, fmt.Errorf("create single-use coupon: %w", Invalid(FieldFormatPattern, msg))
	}
	gen := f.Generator(s.rand)
	const draws = 8
	for range draws {
		code, err := gen.Append(nil)
		if err != nil {
			return Coupon{}, Promotion{}, fmt.Errorf("create single-use coupon: %w", err)
		}
		in.Code = string(code)
		c, p, err := s.createSingleUse(ctx, in)
		if dup := (*DuplicateCodeError)(nil); !errors.As(err, &dup) {
			return c, p, err
		}
	}
	return Coupon{}, Promotion{}, fmt.Errorf("create single-use coupon: %w",
		Invalid(FieldFormatPattern, fmt.Sprintf("%d codes drawn from %s exist already: add characters to the pattern, such as ##", draws, in.Pattern)))
}

func (s *Store) createSingleUse(ctx context.Context, in SingleUseInput) (Coupon, Promotion, error) {
	cspec, pspec, err := in.Plan(s.now())
	if err != nil {
		return Coupon{}, Promotion{}, fmt.Errorf("create single-use coupon: %w", err)
	}
	if err := s.checkLiteralCode(s.db.WithContext(ctx), cspec.Code); err != nil {
		return Coupon{}, Promotion{}, fmt.Errorf("create single-use coupon: %w", err)
	}
	var c Coupon
	var p Promotion
	err = s.write(ctx, func(tx *gorm.DB) error {
		if _, err := s.lockCoupon(tx, cspec.Code); err == nil {
			return &DuplicateCodeError{Code: cspec.Code, Item: NoItem}
		} else if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		if err := s.createPromotion(ctx, tx, pspec, &p); err != nil {
			return err
		}
		c = Coupon{}
		if err := s.applyUnderCap(tx, &c, cspec); err != nil {
			return err
		}
		if err := tx.Create(&c).Error; err != nil {
			return err
		}
		if c.CustomerID != nil {
			if err := s.customerActive(tx, *c.CustomerID, c.CreatedAt, 0, 0); err != nil {
				return err
			}
			if err := tx.Create(&Issuance{CouponID: c.ID, CustomerID: *c.CustomerID, IssuedAt: c.CreatedAt}).Error; err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, ActionSingleUseCreate, EntityCoupon, c.Code, fmt.Sprintf("promotion=%d %s", p.ID, couponSummary(c)))
	})
	if err != nil {
		return Coupon{}, Promotion{}, fmt.Errorf("create single-use coupon %q: %w", cspec.Code, translate(err))
	}
	return c, p, nil
}

// NewTag makes a fresh UTM tag, prefix and 16 hex digits drawn from the
// store's random source (Config.Rand), for a promotion that must reach
// no coupon until one is tagged with it. It fails when the source does.
func (s *Store) NewTag(prefix string) (string, error) {
	b := make([]byte, 8)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", fmt.Errorf("make a UTM tag: %w", err)
	}
	return prefix + hex.EncodeToString(b), nil
}

// PromotionsByID returns the promotions with the given ids, in id order;
// ids no promotion has are left out.
func (s *Store) PromotionsByID(ctx context.Context, ids []int64) ([]Promotion, error) {
	var ps []Promotion
	if len(ids) == 0 {
		return ps, nil
	}
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Order("id").Find(&ps).Error; err != nil {
		return nil, fmt.Errorf("read promotions %v: %w", ids, err)
	}
	return ps, nil
}

// CountActivePromotions is how many promotions are live at now: active
// and within their dates.
func (s *Store) CountActivePromotions(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&Promotion{}).Where("status = ? AND (begins_at IS NULL OR begins_at <= ?) AND (ends_at IS NULL OR ends_at > ?)",
		PromotionActive, now.UTC(), now.UTC()).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("count live promotions: %w", err)
	}
	return n, nil
}

// PromotionsReaching returns every promotion that reaches one of cs,
// whatever its status or dates, in id order: what a page of coupons
// needs to show each coupon's promotions and state (CouponState).
func (s *Store) PromotionsReaching(ctx context.Context, cs []Coupon) ([]Promotion, error) {
	var ids []int64
	var sources, campaigns []string
	for _, c := range cs {
		if c.PromotionID != nil {
			ids = append(ids, *c.PromotionID)
		}
		if c.UTMSource != nil {
			sources = append(sources, strings.ToLower(*c.UTMSource))
		}
		if c.UTMCampaign != nil {
			campaigns = append(campaigns, strings.ToLower(*c.UTMCampaign))
		}
	}
	var conds []string
	var args []any
	if len(ids) > 0 {
		conds, args = append(conds, "id IN ?"), append(args, slices.Compact(slices.Sorted(slices.Values(ids))))
	}
	if len(sources) > 0 {
		conds, args = append(conds, "(utm_source IS NOT NULL AND lower(utm_source) IN ?)"), append(args, slices.Compact(slices.Sorted(slices.Values(sources))))
	}
	if len(campaigns) > 0 {
		conds, args = append(conds, "(utm_campaign IS NOT NULL AND lower(utm_campaign) IN ?)"), append(args, slices.Compact(slices.Sorted(slices.Values(campaigns))))
	}
	if len(conds) == 0 {
		return nil, nil
	}
	var ps []Promotion
	if err := s.db.WithContext(ctx).Where(strings.Join(conds, " OR "), args...).Order("id").Find(&ps).Error; err != nil {
		return nil, fmt.Errorf("promotions of %d coupons: %w", len(cs), err)
	}
	return ps, nil
}

// ActivePromotions returns every promotion whose status is active,
// whatever its dates, in id order: the promotions an export judges its
// coupons' states and discounts by. A store holds few enough of them to
// read at once.
func (s *Store) ActivePromotions(ctx context.Context) ([]Promotion, error) {
	var ps []Promotion
	if err := s.db.WithContext(ctx).Where("status = ?", PromotionActive).Order("id").Find(&ps).Error; err != nil {
		return nil, fmt.Errorf("read active promotions: %w", err)
	}
	return ps, nil
}

// TaggedCoupons counts the coupons whose UTM source (field
// FieldUTMSource) or campaign (FieldUTMCampaign) is tag, ignoring case:
// the coupons a promotion linked to the tag would reach.
func (s *Store) TaggedCoupons(ctx context.Context, field, tag string) (int64, error) {
	col := "utm_source"
	if field == FieldUTMCampaign {
		col = "utm_campaign"
	}
	var n int64
	err := s.db.WithContext(ctx).Model(&Coupon{}).Where(col+" IS NOT NULL AND lower("+col+") = ?", strings.ToLower(strings.TrimSpace(tag))).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("count coupons tagged %q: %w", tag, err)
	}
	return n, nil
}

// likeEscaper escapes the wildcards of LIKE (and its escape character),
// so that a search for "50%" finds the text "50%".
var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

// freeUses reads, after every GORM read of whole promotions on
// PostgreSQL, the uses of those without a limit, which their rows do not
// count (see lockPromotions), from the totals of their live redemptions.
func freeUses(db *gorm.DB) {
	if db.Error != nil || db.Statement.Schema == nil || db.Statement.Schema.Table != "promotions" || len(db.Statement.Selects) > 0 {
		return
	}
	var ps []*Promotion
	switch d := db.Statement.Dest.(type) {
	case *Promotion:
		ps = []*Promotion{d}
	case *[]Promotion:
		for i := range *d {
			ps = append(ps, &(*d)[i])
		}
	}
	free := map[string]*Promotion{}
	var keys []any
	for _, p := range ps {
		if p.ID != 0 && !p.limited() {
			key := strconv.FormatInt(p.ID, 10)
			free[key], keys = p, append(keys, key)
			p.Uses = 0
		}
	}
	if len(keys) == 0 {
		return
	}
	c := conn{ctx: db.Statement.Context, pool: db.Statement.ConnPool, pg: true}
	rows, err := c.query("SELECT scope_key, sum(redemptions) FROM redemption_totals_daily WHERE scope = '"+ScopePromotion+"' AND scope_key IN (?"+
		strings.Repeat(", ?", len(keys)-1)+") GROUP BY scope_key", keys...)
	if err != nil {
		_ = db.AddError(fmt.Errorf("read the uses of promotions without a limit: %w", err))
		return
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var uses int
		if err := rows.Scan(&key, &uses); err != nil {
			_ = db.AddError(err)
			return
		}
		free[key].Uses = uses
	}
	if err := rows.Err(); err != nil {
		_ = db.AddError(err)
	}
}
