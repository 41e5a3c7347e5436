package models

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// CouponSorts are the orders coupons can be listed in: by code (the
// default), by when they were made, by uses and by their own end, each
// ascending or, with a leading '-', descending. Coupons without an end of
// their own come after those with one ("ends") and before them ("-ends").
var CouponSorts = []string{"code", "-code", "created", "-created", "uses", "-uses", "ends", "-ends"}

// CouponFilter selects coupons and pages them in one of CouponSorts.
type CouponFilter struct {
	// Prefix matches codes starting with it, ignoring case.
	Prefix string
	// Search matches codes that contain it anywhere, ignoring case.
	Search string
	// UTMSource and UTMCampaign match ignoring case when not empty: the
	// whole tag, or its start when TagPrefix is set.
	UTMSource   string
	UTMCampaign string
	TagPrefix   bool
	// Archived selects archived (true) or not archived (false) coupons;
	// nil both.
	Archived *bool
	// State selects the coupons in one of CouponStates at At (the
	// store's clock when zero); "" any.
	State string
	At    time.Time
	// Sort is one of CouponSorts; "" means "code".
	Sort string
	// After is the cursor of the previous page's Next, under the same
	// Sort.
	After string
	// Limit is the page size: 0 means DefaultListLimit.
	Limit int
}

// CouponPage is one page of coupons and the cursor of the next page, empty
// on the last page.
type CouponPage struct {
	Coupons []Coupon
	Next    string
}

// searchCandidates is how many codes a search may find in SQLite's search
// index before the list reads the codes in order instead: up to it, the
// coupons found are fetched by id and sorted; past it the fragment is
// common enough that reading in order meets a page of matches soon.
const searchCandidates = 5000

// listSegment is a run of a list order: the coupons where holds, ordered
// by key and then id, or by key alone where it is unique (the code), or
// by id alone where key is empty.
type listSegment struct {
	where  string
	key    string
	unique bool
	// value is a coupon's key, as a cursor carries it.
	value func(Coupon) string
	// parse turns a cursor's key back into a value to compare.
	parse func(string) (any, error)
}

func parseInt(v string) (any, error) { return strconv.ParseInt(v, 10, 64) }

func parseTime(v string) (any, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	return t.UTC(), err
}

// segmentsOf returns the runs of order sort, in ascending order, and
// whether they are read descending (runs and keys reversed).
func segmentsOf(sort string) ([]listSegment, bool) {
	desc := strings.HasPrefix(sort, "-")
	var segs []listSegment
	switch strings.TrimPrefix(sort, "-") {
	case "created":
		segs = []listSegment{{}}
	case "uses":
		// Unused coupons (most of them) in id order, then the used ones
		// from the partial index on uses.
		segs = []listSegment{
			{where: "uses = 0"},
			{where: "uses > 0", key: "uses", value: func(c Coupon) string { return strconv.Itoa(c.Uses) }, parse: parseInt},
		}
	case "ends":
		segs = []listSegment{
			{where: "expires_at IS NOT NULL", key: "expires_at", value: func(c Coupon) string { return c.ExpiresAt.UTC().Format(time.RFC3339Nano) }, parse: parseTime},
			{where: "expires_at IS NULL"},
		}
	default:
		segs = []listSegment{{key: "lower(code)", unique: true, value: func(c Coupon) string { return CodeKey(c.Code) },
			parse: func(v string) (any, error) {
				if !couldBeCode(v) {
					return nil, fmt.Errorf("not a code")
				}
				return v, nil
			}}}
	}
	if desc {
		slices.Reverse(segs)
	}
	return segs, desc
}

// listCursor is where a page ends: the run, the last coupon's key in it
// and its id.
type listCursor struct {
	sort string
	seg  int
	key  any
	id   int64
}

func (c listCursor) encode(seg listSegment, last Coupon) string {
	key := ""
	if seg.value != nil {
		key = seg.value(last)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(c.sort + "|" + strconv.Itoa(c.seg) + "|" + strconv.FormatInt(last.ID, 10) + "|" + key))
}

// decodeCursor reads a cursor of order sort; ok is false for anything
// this server did not hand out under that order.
func decodeCursor(raw, sort string, segs []listSegment) (listCursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return listCursor{}, false
	}
	parts := strings.SplitN(string(b), "|", 4)
	if len(parts) != 4 || parts[0] != sort {
		return listCursor{}, false
	}
	c := listCursor{sort: sort}
	if c.seg, err = strconv.Atoi(parts[1]); err != nil || c.seg < 0 || c.seg >= len(segs) {
		return listCursor{}, false
	}
	if c.id, err = strconv.ParseInt(parts[2], 10, 64); err != nil {
		return listCursor{}, false
	}
	if seg := segs[c.seg]; seg.parse != nil {
		if c.key, err = seg.parse(parts[3]); err != nil {
			return listCursor{}, false
		}
	}
	return c, true
}

// after narrows q to the coupons of seg that come after the cursor.
func (seg listSegment) after(q *gorm.DB, c listCursor, desc bool) *gorm.DB {
	op := ">"
	if desc {
		op = "<"
	}
	switch {
	case seg.key == "":
		return q.Where("id "+op+" ?", c.id)
	case seg.unique:
		return q.Where(seg.key+" "+op+" ?", c.key)
	}
	return q.Where("("+seg.key+", id) "+op+" (?, ?)", c.key, c.id)
}

func (seg listSegment) order(desc bool) string {
	dir := ""
	if desc {
		dir = " DESC"
	}
	switch {
	case seg.key == "":
		return "id" + dir
	case seg.unique:
		return seg.key + dir
	}
	return seg.key + dir + ", id" + dir
}

// ListCoupons returns a page of coupons by keyset pagination in f.Sort,
// so every page costs the same however deep it is. It fails with a
// *ValidationError for a bad limit, order or cursor.
func (s *Store) ListCoupons(ctx context.Context, f CouponFilter) (CouponPage, error) {
	var verr ValidationError
	limit := pageLimit(f.Limit, &verr)
	sort := cmp.Or(f.Sort, "code")
	if !slices.Contains(CouponSorts, sort) {
		verr.Add(FieldSort, "must be one of "+strings.Join(CouponSorts, ", "))
	}
	segs, desc := segmentsOf(sort)
	var cur listCursor
	var resume bool
	if f.After != "" {
		if cur, resume = decodeCursor(f.After, sort, segs); !resume {
			verr.Add(FieldCursor, "is not a cursor this server handed out for this order; start again without it")
		}
	}
	if f.State != "" && !ValidCouponState(f.State) {
		verr.Add(FieldState, "must be one of "+strings.Join(CouponStates, ", "))
	}
	if err := verr.Err(); err != nil {
		return CouponPage{}, fmt.Errorf("list coupons: %w", err)
	}
	search, found, err := s.searchWhere(ctx, f.Search)
	if err != nil {
		return CouponPage{}, fmt.Errorf("list coupons: %w", err)
	}
	if !found {
		return CouponPage{}, nil
	}
	filtered := func() *gorm.DB {
		q := s.db.WithContext(ctx).Model(&Coupon{})
		if f.Prefix != "" {
			// Codes are ASCII up to 'z' once folded, so every code with
			// the prefix sorts before prefix+"{"; a range uses the index
			// on every database, where LIKE would not.
			key := CodeKey(f.Prefix)
			q = q.Where("lower(code) >= ? AND lower(code) < ?", key, key+"{")
		}
		if search != nil {
			q = q.Where(search)
		}
		// The IS NOT NULL terms let the planners use the partial indexes
		// on tagged coupons.
		for _, t := range [...]struct{ col, tag string }{{"utm_source", f.UTMSource}, {"utm_campaign", f.UTMCampaign}} {
			switch col, tag := t.col, strings.ToLower(strings.TrimSpace(t.tag)); {
			case tag == "":
			case f.TagPrefix:
				q = q.Where(col+` IS NOT NULL AND lower(`+col+`) LIKE ? ESCAPE '\'`, likeEscaper.Replace(tag)+"%")
			default:
				q = q.Where(col+" IS NOT NULL AND lower("+col+") = ?", tag)
			}
		}
		if f.Archived != nil {
			q = q.Where(s.archivedIs(*f.Archived))
		}
		if f.State != "" {
			q = s.stateWhere(q, f.State, cmp.Or(f.At, s.now()))
		}
		return q
	}
	var cs []Coupon
	var from []int // the run each coupon of cs came from
	for i := cur.seg; i < len(segs) && len(cs) <= limit; i++ {
		seg := segs[i]
		q := filtered()
		if seg.where != "" {
			q = q.Where(seg.where)
		}
		if resume && i == cur.seg {
			q = seg.after(q, cur, desc)
		}
		var part []Coupon
		if err := q.Order(seg.order(desc)).Limit(limit + 1 - len(cs)).Find(&part).Error; err != nil {
			return CouponPage{}, fmt.Errorf("list coupons: %w", err)
		}
		cs = append(cs, part...)
		for range part {
			from = append(from, i)
		}
	}
	page := CouponPage{Coupons: cs}
	if len(cs) > limit {
		page.Coupons = cs[:limit]
		seg := from[limit-1]
		page.Next = listCursor{sort: sort, seg: seg}.encode(segs[seg], cs[limit-1])
	}
	return page, nil
}

// searchWhere is the condition that selects the codes containing term,
// ignoring case: nil for no term, and found false when no code can
// contain it (it has characters no code has, or the search index finds
// none).
//
// A term with three characters in a row that are not a LIKE wildcard
// ('_' is one, and may be in codes) asks the engine's trigram index for
// up to searchCandidates+1 codes. Up to searchCandidates, the page is
// those coupons by id, sorted; past it the term is common, and the page
// reads codes in order until it has enough. Shorter terms read in order
// too: no index can answer them.
func (s *Store) searchWhere(ctx context.Context, term string) (cond any, found bool, err error) {
	term = strings.ToLower(strings.TrimSpace(term))
	if term == "" {
		return nil, true, nil
	}
	if len(term) > MaxCodeLength || strings.IndexFunc(term, func(r rune) bool { return !isCodeRune(r) }) >= 0 {
		return nil, false, nil
	}
	// instr and strpos hide the term from the planners, which take the
	// condition for an ordinary one and read the codes in order.
	contains := gorm.Expr("instr(lower(code), ?) > 0", term)
	if s.dialect == DialectPostgres {
		contains = gorm.Expr("strpos(lower(code), ?) > 0", term)
	}
	if longestRun(term, '_') < 3 {
		return contains, true, nil
	}
	var ids []int64
	if s.dialect == DialectPostgres {
		// Backslash is PostgreSQL's LIKE escape already. The planner
		// cannot tell how many codes a fragment is in and may choose to
		// read the whole table; this one read goes through the index.
		err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("SET LOCAL enable_seqscan = off").Error; err != nil {
				return err
			}
			if err := tx.Exec("SET LOCAL enable_indexscan = off").Error; err != nil {
				return err
			}
			return tx.Raw("SELECT id FROM coupons WHERE lower(code) LIKE ? LIMIT ?", "%"+likeEscaper.Replace(term)+"%", searchCandidates+1).Scan(&ids).Error
		})
	} else {
		err = s.db.WithContext(ctx).Raw("SELECT rowid FROM coupon_search WHERE code LIKE ? LIMIT ?", "%"+term+"%", searchCandidates+1).Scan(&ids).Error
	}
	switch {
	case err != nil:
		return nil, false, fmt.Errorf("search codes: %w", err)
	case len(ids) == 0:
		return nil, false, nil
	case len(ids) > searchCandidates:
		return contains, true, nil
	}
	return gorm.Expr("id IN ? AND "+contains.SQL, append([]any{ids}, contains.Vars...)...), true, nil
}

// longestRun is the length of the longest stretch of s without sep.
func longestRun(s string, sep byte) int {
	best := 0
	for part := range strings.SplitSeq(s, string(sep)) {
		best = max(best, len(part))
	}
	return best
}
