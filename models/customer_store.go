package models

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// FindCustomer returns the customer ref names, without creating one. It
// fails with a *ValidationError for a bad reference, ErrNotFound when no
// customer has any of its identifiers, and *CustomerMismatchError when
// they name different customers or one the customer does not have.
func (s *Store) FindCustomer(ctx context.Context, ref CustomerRef) (Customer, error) {
	ref, err := ref.Normalize("")
	if err != nil {
		return Customer{}, fmt.Errorf("find customer: %w", err)
	}
	c, found, err := s.matchCustomer(s.db.WithContext(ctx), ref)
	switch {
	case err != nil:
		return Customer{}, fmt.Errorf("find customer %s: %w", ref, err)
	case !found:
		return Customer{}, fmt.Errorf("find customer: %w", &NotFoundError{Entity: "customer", Key: ref.String()})
	}
	return c, nil
}

// Customer returns the customer with id. It fails with ErrNotFound.
func (s *Store) Customer(ctx context.Context, id string) (Customer, error) {
	var c Customer
	if err := s.db.WithContext(ctx).Take(&c, "id = ?", id).Error; err != nil {
		return Customer{}, fmt.Errorf("get customer %q: %w", id, notFound(err, "customer", id))
	}
	return c, nil
}

// matchCustomer finds the one customer every identifier of ref (already
// normalised) names. A customer that lacks an identifier ref gives still
// matches; one with another value for it does not.
func (s *Store) matchCustomer(q *gorm.DB, ref CustomerRef) (Customer, bool, error) {
	var found *Customer
	var foundBy refPart
	for _, p := range ref.parts() {
		var cs []Customer
		if err := q.Where(p.column+" = ?", p.value).Limit(1).Find(&cs).Error; err != nil {
			return Customer{}, false, err
		}
		if len(cs) == 0 {
			continue
		}
		if found != nil && found.ID != cs[0].ID {
			return Customer{}, false, &CustomerMismatchError{Message: fmt.Sprintf("%s %s is customer %q, but %s %s is customer %q", foundBy.name, foundBy.value, found.ID, p.name, p.value, cs[0].ID)}
		}
		found, foundBy = &cs[0], p
	}
	if found == nil {
		return Customer{}, false, nil
	}
	for _, p := range ref.parts() {
		if have := found.identifier(p.name); have != "" && have != p.value {
			return Customer{}, false, &CustomerMismatchError{Message: fmt.Sprintf("%s %s is customer %q, whose %s is %s, not %s", foundBy.name, foundBy.value, found.ID, p.name, have, p.value)}
		}
	}
	return *found, true, nil
}

// identifier is the customer's value of the named identifier, "" when
// it has none.
func (c Customer) identifier(name string) string {
	var v *string
	switch name {
	case "id":
		return c.ID
	case "mobile":
		v = c.Mobile
	case "email":
		v = c.Email
	case "externalId":
		v = c.ExternalID
	}
	if v == nil {
		return ""
	}
	return *v
}

// ensureCustomer returns the customer ref (normalised) names inside tx,
// giving it the identifiers it lacks, or creates it: with ref's id, or a
// new one of twelve digits. Two transactions creating the same customer
// at once end with one record (the second waits for the first's unique
// index entry, then finds it).
func (s *Store) ensureCustomer(tx *gorm.DB, ref CustomerRef) (Customer, error) {
	for attempt := 0; ; attempt++ {
		c, found, err := s.matchCustomer(tx, ref)
		if err != nil {
			return Customer{}, err
		}
		if found {
			return c, s.completeCustomer(tx, &c, ref)
		}
		if attempt == writeAttempts {
			return Customer{}, fmt.Errorf("create customer %s: lost the race %d times", ref, attempt)
		}
		c = Customer{ID: ref.ID, Mobile: optional(ref.Mobile), Email: optional(ref.Email), ExternalID: optional(ref.ExternalID), CreatedAt: s.now()}
		c.LastActivityAt = c.CreatedAt
		if c.ID == "" {
			if c.ID, err = s.newCustomerID(); err != nil {
				return Customer{}, err
			}
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&c)
		if res.Error != nil {
			return Customer{}, res.Error
		}
		if res.RowsAffected == 1 {
			return c, nil
		}
		// Another transaction took one of the identifiers (or the new
		// id) first: read again.
	}
}

// completeCustomer gives c the identifiers of ref it lacks.
func (s *Store) completeCustomer(tx *gorm.DB, c *Customer, ref CustomerRef) error {
	set := map[string]any{}
	if c.Mobile == nil && ref.Mobile != "" {
		c.Mobile, set["mobile"] = &ref.Mobile, ref.Mobile
	}
	if c.Email == nil && ref.Email != "" {
		c.Email, set["email"] = &ref.Email, ref.Email
	}
	if c.ExternalID == nil && ref.ExternalID != "" {
		c.ExternalID, set["external_id"] = &ref.ExternalID, ref.ExternalID
	}
	if len(set) == 0 {
		return nil
	}
	err := tx.Model(&Customer{}).Where("id = ?", c.ID).Updates(set).Error
	if name, ok := uniqueViolation(err); ok {
		return &CustomerMismatchError{Message: fmt.Sprintf("another customer took one of %s while customer %q was being given it (%s); try again", ref, c.ID, name)}
	}
	return err
}

// countRedemption keeps the figures of r's customer in step with r,
// inside the transaction that has just written r. A live r (just made)
// is one more live redemption, adds its discount to the savings and
// makes its time the customer's latest activity when later, creating
// the customer (with r's customer id) when no customer has that id; a
// cancelled r (just cancelled) takes its use and its discount back.
func (s *Store) countRedemption(tx *gorm.DB, r Redemption) error {
	var saved int64
	if r.Discount != nil {
		saved = *r.Discount
	}
	if r.Live() {
		return s.customerActive(tx, r.CustomerID, r.CreatedAt, 1, saved)
	}
	res := tx.Model(&Customer{}).Where("id = ?", r.CustomerID).
		UpdateColumns(map[string]any{"redemptions": gorm.Expr("redemptions - 1"), "savings": gorm.Expr("savings - ?", saved)})
	switch {
	case res.Error != nil:
		return fmt.Errorf("count the cancellation for customer %q: %w", r.CustomerID, res.Error)
	case res.RowsAffected != 1:
		return fmt.Errorf("count the cancellation for customer %q: no such customer", r.CustomerID)
	}
	return nil
}

// customerActive records, inside tx, activity of customer id at at (an
// issue, or a redemption that adds uses live redemptions and saved to
// the savings): at becomes its latest activity when later. A customer
// no customer row has yet is created with that id, first seen at at;
// two transactions creating it at once end with one row that counts
// both.
func (s *Store) customerActive(tx *gorm.DB, id string, at time.Time, uses, saved int64) error {
	at = at.UTC()
	_, err := s.conn(tx).exec(`INSERT INTO customers (id, created_at, last_activity_at, redemptions, savings) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
			redemptions = customers.redemptions + excluded.redemptions,
			savings = customers.savings + excluded.savings,
			last_activity_at = CASE WHEN excluded.last_activity_at > customers.last_activity_at
				THEN excluded.last_activity_at ELSE customers.last_activity_at END`,
		id, at, at, uses, saved)
	if err != nil {
		return fmt.Errorf("record the activity of customer %q: %w", id, err)
	}
	return nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// newCustomerID is twelve random digits, not starting with 0, drawn from
// the store's random source: numeric, as the ids of the platforms
// clients migrate from are.
func (s *Store) newCustomerID() (string, error) {
	n, err := rand.Int(s.rand, big.NewInt(9e11))
	if err != nil {
		return "", fmt.Errorf("make a customer id: %w", err)
	}
	return strconv.FormatInt(n.Int64()+1e11, 10), nil
}

// CustomerFilter selects and pages customers, most recent activity
// first.
type CustomerFilter struct {
	// Query, when set, selects the customers one of whose identifiers
	// is the query (a mobile by its digits, an email ignoring case) or
	// whose email starts with it, ignoring case.
	Query string
	// After is the cursor of the previous page's Next.
	After string
	// Limit is the page size: 0 means DefaultListLimit.
	Limit int
}

// ListedCustomer is a customer on the customer list, with how many codes
// were made for it.
type ListedCustomer struct {
	Customer
	Codes int64
}

// CustomerPage is one page of customers and the cursor of the next page,
// empty on the last page.
type CustomerPage struct {
	Customers []ListedCustomer
	Next      string
}

// ListCustomers returns a page of the customers f selects, most recent
// activity first (ties by id), by keyset pagination on (latest
// activity, id), so every page costs the same however deep it is. It
// fails with a *ValidationError for a bad limit or cursor.
func (s *Store) ListCustomers(ctx context.Context, f CustomerFilter) (CustomerPage, error) {
	var verr ValidationError
	limit := pageLimit(f.Limit, &verr)
	afterAt, afterID := activityCursor(f.After, &verr)
	if err := verr.Err(); err != nil {
		return CustomerPage{}, fmt.Errorf("list customers: %w", err)
	}
	q := s.db.WithContext(ctx).Model(&Customer{})
	if query := strings.TrimSpace(f.Query); query != "" {
		conds, args := s.customerSearch(query)
		q = q.Where("("+strings.Join(conds, " OR ")+")", args...)
	}
	if f.After != "" {
		q = q.Where("(last_activity_at < ? OR (last_activity_at = ? AND id > ?))", afterAt, afterAt, afterID)
	}
	var cs []Customer
	if err := q.Order("last_activity_at DESC, id").Limit(limit + 1).Find(&cs).Error; err != nil {
		return CustomerPage{}, fmt.Errorf("list customers: %w", err)
	}
	var page CustomerPage
	if len(cs) > limit {
		cs = cs[:limit]
		last := cs[limit-1]
		page.Next = nextActivityCursor(last.LastActivityAt, last.ID)
	}
	if len(cs) == 0 {
		return page, nil
	}
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	var counts []struct {
		CustomerID string
		Codes      int64
	}
	err := s.db.WithContext(ctx).Model(&Coupon{}).Select("customer_id, count(*) AS codes").
		Where("customer_id IN ?", ids).Group("customer_id").Scan(&counts).Error
	if err != nil {
		return CustomerPage{}, fmt.Errorf("list customers: count their codes: %w", err)
	}
	held := make(map[string]int64, len(counts))
	for _, c := range counts {
		held[c.CustomerID] = c.Codes
	}
	page.Customers = make([]ListedCustomer, len(cs))
	for i, c := range cs {
		page.Customers[i] = ListedCustomer{Customer: c, Codes: held[c.ID]}
	}
	return page, nil
}

// customerSearch is the condition (its terms to be joined with OR) that
// selects the customers a search for query finds: any identifier equal
// to it, read as each kind of identifier in turn, or an email starting
// with it.
func (s *Store) customerSearch(query string) ([]string, []any) {
	email := strings.ToLower(query)
	conds := []string{"id = ?", "external_id = ?", "email = ?"}
	args := []any{query, query, email}
	if ref, err := (CustomerRef{Mobile: query}).Normalize(""); err == nil {
		conds, args = append(conds, "mobile = ?"), append(args, ref.Mobile)
	}
	if s.dialect == DialectPostgres {
		// Served by the text_pattern_ops index, whatever the collation.
		escaped := likeEscaper.Replace(email)
		conds, args = append(conds, `email LIKE ? ESCAPE '\'`), append(args, escaped+"%")
	} else {
		// SQLite compares text bytewise, and no UTF-8 text holds the byte
		// 0xff: every email with the prefix sorts in this range, which
		// the index on emails serves.
		conds, args = append(conds, "(email >= ? AND email < ?)"), append(args, email, email+"\xff")
	}
	return conds, args
}

// activityCursor reads a cursor of the customer list: the latest
// activity and the id of the last customer of the previous page.
func activityCursor(after string, verr *ValidationError) (time.Time, string) {
	if after == "" {
		return time.Time{}, ""
	}
	b, err := base64.RawURLEncoding.DecodeString(after)
	var at time.Time
	at0, id, ok := strings.Cut(string(b), "|")
	if err == nil && ok {
		at, err = time.Parse(time.RFC3339Nano, at0)
	}
	if err != nil || !ok || id == "" {
		verr.Add(FieldCursor, "is not a cursor this server handed out; start again without it")
	}
	return at.UTC(), id
}

// nextActivityCursor is the cursor of the customer list's page after the
// one ending with the customer id, last active at at.
func nextActivityCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + id))
}

// CustomerCodePage is one page of a customer's codes, newest first, and
// the cursor of the next page ("" on the last).
type CustomerCodePage struct {
	Codes []IssuedCode
	Next  string
}

// CustomerCodes pages through every code made for a customer: issued
// from a series or made as a single-use coupon for them, newest first.
// It fails with a *ValidationError for a bad cursor or limit.
func (s *Store) CustomerCodes(ctx context.Context, customerID, after string, limit int) (CustomerCodePage, error) {
	var verr ValidationError
	limit = pageLimit(limit, &verr)
	cursor := idCursor(after, &verr)
	if err := verr.Err(); err != nil {
		return CustomerCodePage{}, fmt.Errorf("list the customer's codes: %w", err)
	}
	q := s.db.WithContext(ctx).Where("customer_id = ?", customerID)
	if cursor > 0 {
		q = q.Where("id < ?", cursor)
	}
	var cs []Coupon
	if err := q.Order("id DESC").Limit(limit + 1).Find(&cs).Error; err != nil {
		return CustomerCodePage{}, fmt.Errorf("list the customer's codes: %w", err)
	}
	var page CustomerCodePage
	if len(cs) > limit {
		cs = cs[:limit]
		page.Next = nextIDCursor(cs[len(cs)-1].ID)
	}
	codes, err := s.issuedCodes(s.db.WithContext(ctx), cs)
	if err != nil {
		return CustomerCodePage{}, fmt.Errorf("list the customer's codes: %w", err)
	}
	page.Codes = codes
	return page, nil
}

// issuedCodes joins coupons to their issuance and promotion.
func (s *Store) issuedCodes(q *gorm.DB, cs []Coupon) ([]IssuedCode, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	ids := make([]int64, 0, len(cs))
	promoIDs := map[int64]bool{}
	for _, c := range cs {
		ids = append(ids, c.ID)
		if c.PromotionID != nil {
			promoIDs[*c.PromotionID] = true
		}
	}
	var iss []Issuance
	if err := q.Where("coupon_id IN ?", ids).Find(&iss).Error; err != nil {
		return nil, err
	}
	byCoupon := make(map[int64]Issuance, len(iss))
	for _, is := range iss {
		byCoupon[is.CouponID] = is
	}
	// Single-use coupons reach their promotion through their own source.
	var sources []string
	for _, c := range cs {
		if c.PromotionID == nil && c.UTMSource != nil && strings.HasPrefix(*c.UTMSource, SingleUseSourcePrefix) {
			sources = append(sources, strings.ToLower(*c.UTMSource))
		}
	}
	var conds []string
	var args []any
	if len(promoIDs) > 0 {
		conds, args = append(conds, "id IN ?"), append(args, slices.Collect(maps.Keys(promoIDs)))
	}
	if len(sources) > 0 {
		conds, args = append(conds, "lower(utm_source) IN ?"), append(args, sources)
	}
	var ps []Promotion
	if len(conds) > 0 {
		if err := q.Where(strings.Join(conds, " OR "), args...).Find(&ps).Error; err != nil {
			return nil, err
		}
	}
	out := make([]IssuedCode, 0, len(cs))
	for _, c := range cs {
		ic := IssuedCode{Coupon: c, IssuedAt: c.CreatedAt, ValidTill: c.ExpiresAt}
		if c.CustomerID != nil {
			ic.CustomerID = *c.CustomerID
		}
		if is, ok := byCoupon[c.ID]; ok {
			ic.IssuedAt, ic.Source, ic.SeriesID = is.IssuedAt, is.Source, is.SeriesID
		}
		for _, p := range ps {
			if p.Reaches(c) {
				ic.PromotionName, ic.ValidTill = p.Name, c.ValidTill(p)
				if p.Kind == KindSeries && ic.SeriesID == nil {
					ic.SeriesID = &p.ID
				}
				break
			}
		}
		out = append(out, ic)
	}
	return out, nil
}
