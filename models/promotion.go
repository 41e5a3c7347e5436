package models

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Promotion statuses.
const (
	PromotionActive   = "active"
	PromotionInactive = "inactive"
	PromotionArchived = "archived"
)

// PromotionStatuses lists every status, in the order forms offer them.
var PromotionStatuses = []string{PromotionActive, PromotionInactive, PromotionArchived}

// Promotion kinds. A regular promotion is reached by coupons through its
// UTM tags; bulk and series promotions own their codes.
const (
	KindRegular = "regular"
	KindBulk    = "bulk"
	KindSeries  = "series"
)

// PromotionKinds lists every kind.
var PromotionKinds = []string{KindRegular, KindBulk, KindSeries}

// Discount types.
const (
	// DiscountPercent takes a percentage off, stored in basis points
	// (1250 = 12.5 %).
	DiscountPercent = "percent"
	// DiscountFixed takes an amount off, in the currency's minor units
	// (500 = 5.00).
	DiscountFixed = "fixed"
)

// DiscountTypes lists every discount type.
var DiscountTypes = []string{DiscountPercent, DiscountFixed}

// AppliesToBill is the one thing a discount applies to: the whole bill.
const AppliesToBill = "bill"

// Limits on promotion fields and on amounts.
const (
	MaxPromotionNameLength        = 200
	MaxPromotionDescriptionLength = 2000
	// MaxAmount bounds order amounts, fixed discounts and caps (minor
	// units), so that discount arithmetic never overflows.
	MaxAmount = 1_000_000_000_000_000
	// MaxBasisPoints is 100 %.
	MaxBasisPoints = 10_000
)

// Promotion is a discount rule. Limits of 0 are unlimited; nil dates are
// open. Uses counts the live (not cancelled) redemptions that applied it.
type Promotion struct {
	ID          int64  `gorm:"primaryKey"`
	Name        string `gorm:"not null"`
	Description string `gorm:"not null"`
	Status      string `gorm:"not null"`
	Kind        string `gorm:"not null"`
	// DiscountType is DiscountPercent or DiscountFixed; DiscountValue is
	// basis points for the first and minor units for the second.
	DiscountType      string `gorm:"not null"`
	DiscountValue     int64  `gorm:"not null"`
	DiscountCap       *int64
	AppliesTo         string `gorm:"not null"`
	BeginsAt          *time.Time
	EndsAt            *time.Time
	MaxUsage          int     `gorm:"not null"`
	MaxUsagePerClient int     `gorm:"not null"`
	UTMSource         *string `gorm:"column:utm_source"`
	UTMCampaign       *string `gorm:"column:utm_campaign"`
	Uses              int     `gorm:"not null"`
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Discount is what the promotion takes off an order of amount (minor
// units): a percentage rounded half up and held to the cap, or the fixed
// amount; never more than the amount.
func (p Promotion) Discount(amount int64) int64 {
	if amount <= 0 {
		return 0
	}
	var d int64
	switch p.DiscountType {
	case DiscountPercent:
		// amount·value passes int64 for amounts near MaxAmount (10^15 ·
		// 10^4), so the amount is split into whole ten-thousands and the
		// rest; the rounding only ever concerns the rest.
		q, r := amount/MaxBasisPoints, amount%MaxBasisPoints
		d = q*p.DiscountValue + (r*p.DiscountValue+MaxBasisPoints/2)/MaxBasisPoints
	case DiscountFixed:
		d = p.DiscountValue
	}
	if p.DiscountCap != nil && d > *p.DiscountCap {
		d = *p.DiscountCap
	}
	return min(d, amount)
}

// DateReason is ReasonNotStarted before the promotion begins,
// ReasonExpired from the moment it ends, and "" in between.
func (p Promotion) DateReason(now time.Time) string {
	switch {
	case p.BeginsAt != nil && now.Before(*p.BeginsAt):
		return ReasonNotStarted
	case p.EndsAt != nil && !now.Before(*p.EndsAt):
		return ReasonExpired
	}
	return ""
}

// Live reports whether the promotion is active and in date at now.
func (p Promotion) Live(now time.Time) bool {
	return p.Status == PromotionActive && p.DateReason(now) == ""
}

// Reaches reports whether coupon c activates p: p owns it, or p's UTM
// source or campaign equals the coupon's, ignoring case. It says nothing
// about status or dates.
func (p Promotion) Reaches(c Coupon) bool {
	return c.PromotionID != nil && *c.PromotionID == p.ID || tagsEqual(p.UTMSource, c.UTMSource) || tagsEqual(p.UTMCampaign, c.UTMCampaign)
}

func tagsEqual(a, b *string) bool {
	return a != nil && b != nil && strings.EqualFold(*a, *b)
}

// FormatDiscountValue writes a stored discount value the way clients send
// it: a percentage with up to two decimals ("12.5") or minor units
// ("500").
func FormatDiscountValue(discountType string, v int64) string {
	if discountType != DiscountPercent {
		return Money(v).Format(0)
	}
	// Basis points are hundredths of a percent: read as an amount with
	// two decimals, without the zeros a percentage need not show.
	s := strings.TrimRight(Money(v).Format(2), "0")
	return strings.TrimSuffix(s, ".")
}

// ParseDiscountValue reads a discount value for discountType: a
// percentage from 0.01 to 100 with at most two decimals, returned in basis
// points, or a whole amount of minor units from 1 up. The error is a
// message for the field.
func ParseDiscountValue(discountType, raw string) (int64, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return 0, fmt.Errorf("is required")
	}
	if discountType == DiscountFixed {
		v, err := ParseMoney(raw, 0)
		if err != nil || v < 1 {
			return 0, fmt.Errorf("must be a whole amount in minor units from 1 to %d (500 means 5.00), not %q", int64(MaxAmount), raw)
		}
		return int64(v), nil
	}
	bp, ok := parseHundredths(raw)
	if !ok || bp < 1 || bp > MaxBasisPoints {
		return 0, fmt.Errorf("must be a percentage from 0.01 to 100 with at most two decimals, not %q", raw)
	}
	return bp, nil
}

// parseHundredths reads a non-negative decimal with at most two decimals
// as hundredths ("12.5" is 1250), without floating point. It reads as
// ParseMoney does at two decimals, but keeps a percentage's stricter
// shape: at most six digits before the point, no zeros past the second
// decimal, no surrounding spaces.
func parseHundredths(s string) (int64, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	if len(whole) > 6 || len(frac) > 2 || strings.TrimSpace(s) != s {
		return 0, false
	}
	v, err := ParseMoney(s, 2)
	return int64(v), err == nil
}

// ParseTime reads an optional instant: RFC 3339 ("2026-12-24T18:00:00Z"),
// or a date and time without zone ("2026-12-24T18:00", as a browser's
// datetime field sends it) or a date alone, both read as UTC. Blank is
// nil. The error is a message for the field.
func ParseTime(raw string) (*time.Time, error) { return parseTimeIn(raw, time.UTC) }

// parseTimeIn is ParseTime reading a time without zone as one of zone.
func parseTimeIn(raw string, zone *time.Location) (*time.Time, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, raw, zone); err == nil {
			t = t.UTC()
			if t.Year() < 1970 || t.Year() > 9999 {
				break
			}
			return &t, nil
		}
	}
	return nil, fmt.Errorf(`must be a time like "2026-12-24T18:00:00Z" or a date like "2026-12-24" (%s), not %q`, zone, raw)
}

// ParseEnd reads an optional end as ParseTime does, except that a date
// alone ends with that day: "2026-12-31" is 2027-01-01T00:00:00Z, the
// first moment that is no longer in it.
func ParseEnd(raw string) (*time.Time, error) { return parseEndIn(raw, time.UTC) }

// parseEndIn is ParseEnd reading a time without zone, and a day, as one
// of zone.
func parseEndIn(raw string, zone *time.Location) (*time.Time, error) {
	t, err := parseTimeIn(raw, zone)
	if err == nil && t != nil && len(strings.TrimSpace(raw)) == len(time.DateOnly) {
		end := t.In(zone).AddDate(0, 0, 1).UTC()
		if end.Year() > 9999 {
			return nil, ErrEndTooLate
		}
		t = &end
	}
	return t, err
}

// ErrEndTooLate refuses a last day of 9999-12-31 (west of UTC), whose
// end is in the year 10000, past what times are written in (RFC 3339,
// the databases' date functions).
var ErrEndTooLate = errors.New("must end before the year 10000: give a day before 9999-12-31, or leave it empty for no end")

// PromotionInput is a promotion as a client sent it, before validation.
// Blank Status, Kind and AppliesTo take their defaults (active, regular,
// bill).
type PromotionInput struct {
	Name              string
	Description       string
	Status            string
	Kind              string
	DiscountType      string
	DiscountValue     string
	DiscountCap       *int64
	AppliesTo         string
	BeginsAt          string
	EndsAt            string
	MaxUsage          int
	MaxUsagePerClient int
	UTMSource         *string
	UTMCampaign       *string
}

// PromotionSpec is a validated promotion.
type PromotionSpec struct {
	Name              string
	Description       string
	Status            string
	Kind              string
	DiscountType      string
	DiscountValue     int64
	DiscountCap       *int64
	AppliesTo         string
	BeginsAt          *time.Time
	EndsAt            *time.Time
	MaxUsage          int
	MaxUsagePerClient int
	UTMSource         *string
	UTMCampaign       *string
}

// Validate checks every field and returns the spec, or a *ValidationError
// naming each bad field: dates out of order, a percentage over 100, a
// regular promotion that listens to no UTM tag, and so on.
func (in PromotionInput) Validate() (PromotionSpec, error) {
	var verr ValidationError
	spec := PromotionSpec{
		Name:              strings.TrimSpace(in.Name),
		Description:       strings.TrimSpace(in.Description),
		Status:            orDefault(in.Status, PromotionActive),
		Kind:              orDefault(in.Kind, KindRegular),
		DiscountType:      strings.TrimSpace(in.DiscountType),
		DiscountCap:       in.DiscountCap,
		AppliesTo:         orDefault(in.AppliesTo, AppliesToBill),
		MaxUsage:          in.MaxUsage,
		MaxUsagePerClient: in.MaxUsagePerClient,
	}
	if msg := checkText(spec.Name, MaxPromotionNameLength, true); msg != "" {
		verr.Add(FieldName, msg)
	}
	if msg := checkText(spec.Description, MaxPromotionDescriptionLength, false); msg != "" {
		verr.Add(FieldDescription, msg)
	}
	if !slices.Contains(PromotionStatuses, spec.Status) {
		verr.Add(FieldStatus, "must be one of "+strings.Join(PromotionStatuses, ", "))
	}
	if !slices.Contains(PromotionKinds, spec.Kind) {
		verr.Add(FieldKind, "must be one of "+strings.Join(PromotionKinds, ", "))
	}
	checkDiscount(&verr, spec.DiscountType, in.DiscountValue, in.DiscountCap, &spec.DiscountValue)
	if spec.AppliesTo != AppliesToBill {
		verr.Add(FieldAppliesTo, `must be "bill" (discounts apply to the whole bill)`)
	}
	var err error
	if spec.BeginsAt, err = ParseTime(in.BeginsAt); err != nil {
		verr.Add(FieldBeginsAt, err.Error())
	}
	if spec.EndsAt, err = ParseEnd(in.EndsAt); err != nil {
		verr.Add(FieldEndsAt, err.Error())
	}
	if spec.BeginsAt != nil && spec.EndsAt != nil && !spec.EndsAt.After(*spec.BeginsAt) {
		verr.Add(FieldEndsAt, "must be after the start")
	}
	if in.MaxUsage < 0 {
		verr.Add(FieldMaxUsage, "must be 0 (unlimited) or more")
	}
	if in.MaxUsagePerClient < 0 {
		verr.Add(FieldMaxUsagePerClient, "must be 0 (unlimited) or more")
	}
	if spec.UTMSource, err = normalizeUTM(in.UTMSource); err != nil {
		verr.Add(FieldUTMSource, err.Error())
	}
	if spec.UTMCampaign, err = normalizeUTM(in.UTMCampaign); err != nil {
		verr.Add(FieldUTMCampaign, err.Error())
	}
	if spec.Kind == KindRegular && spec.UTMSource == nil && spec.UTMCampaign == nil && verr.Message(FieldUTMSource) == "" && verr.Message(FieldUTMCampaign) == "" {
		verr.Add(FieldUTMSource, "a regular promotion is reached only through UTM tags: give a UTM source or a UTM campaign")
	}
	if err := verr.Err(); err != nil {
		return PromotionSpec{}, err
	}
	return spec, nil
}

// checkDiscount validates a discount type, value and cap into verr,
// storing the parsed value in *value.
func checkDiscount(verr *ValidationError, discountType, raw string, discountCap *int64, value *int64) {
	if !slices.Contains(DiscountTypes, discountType) {
		verr.Add(FieldDiscountType, `must be "percent" or "fixed"`)
	} else if v, err := ParseDiscountValue(discountType, raw); err != nil {
		verr.Add(FieldDiscountValue, err.Error())
	} else {
		*value = v
	}
	if discountCap != nil && (*discountCap < 1 || *discountCap > MaxAmount) {
		verr.Add(FieldDiscountCap, fmt.Sprintf("must be an amount in minor units from 1 to %d, or left out for no cap", int64(MaxAmount)))
	}
}

// apply copies s onto p.
func (s PromotionSpec) apply(p *Promotion) {
	p.Name, p.Description, p.Status, p.Kind = s.Name, s.Description, s.Status, s.Kind
	p.DiscountType, p.DiscountValue, p.DiscountCap, p.AppliesTo = s.DiscountType, s.DiscountValue, s.DiscountCap, s.AppliesTo
	p.BeginsAt, p.EndsAt = s.BeginsAt, s.EndsAt
	p.MaxUsage, p.MaxUsagePerClient = s.MaxUsage, s.MaxUsagePerClient
	p.UTMSource, p.UTMCampaign = s.UTMSource, s.UTMCampaign
}

func orDefault(s, def string) string {
	if s = strings.TrimSpace(s); s == "" {
		return def
	}
	return s
}

// checkText is the message for a text field that is too long, holds
// control characters (other than line breaks) or, when required, is
// empty; "" when it is fine.
func checkText(s string, maxRunes int, required bool) string {
	switch {
	case required && s == "":
		return "is required"
	case !utf8.ValidString(s):
		return "must be UTF-8 text"
	case utf8.RuneCountInString(s) > maxRunes:
		return fmt.Sprintf("must be at most %d characters", maxRunes)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return "must not contain control characters"
		}
	}
	return ""
}

// SingleUseInput asks for one code for one use, as for a birthday: the
// code, optionally the only customer who may use it, the discount, and
// optionally when it ends.
type SingleUseInput struct {
	Code string
	// Pattern, when Code is blank, is what the code is drawn from, a
	// FormatInput pattern such as BDAY-####.
	Pattern       string
	CustomerID    string
	DiscountType  string
	DiscountValue string
	DiscountCap   *int64
	EndsAt        string
}

// SingleUseSourcePrefix starts the UTM source that links a single-use
// coupon to its own promotion.
const SingleUseSourcePrefix = "single-use-"

// Plan validates the input and returns the coupon and the promotion it
// makes: a promotion limited to one use in total and one per customer,
// listening to a UTM source derived from the code, and the coupon
// carrying that source (and the customer, when named), limited the same
// way. It fails with a *ValidationError naming each bad field.
func (in SingleUseInput) Plan(now time.Time) (CouponSpec, PromotionSpec, error) {
	var verr ValidationError
	code, err := NormalizeCode(in.Code)
	if err != nil {
		verr.Add(FieldCode, err.Error())
	}
	customer := strings.TrimSpace(in.CustomerID)
	if msg := checkID(customer, MaxCustomerIDLength, false); msg != "" {
		verr.Add(FieldCustomerID, msg)
	}
	p := PromotionSpec{Status: PromotionActive, Kind: KindRegular, AppliesTo: AppliesToBill, MaxUsage: 1, MaxUsagePerClient: 1,
		DiscountType: strings.TrimSpace(in.DiscountType), DiscountCap: in.DiscountCap}
	checkDiscount(&verr, p.DiscountType, in.DiscountValue, in.DiscountCap, &p.DiscountValue)
	if p.EndsAt, err = ParseEnd(in.EndsAt); err != nil {
		verr.Add(FieldEndsAt, err.Error())
	} else if p.EndsAt != nil && !p.EndsAt.After(now) {
		verr.Add(FieldEndsAt, "must be in the future")
	}
	if err := verr.Err(); err != nil {
		return CouponSpec{}, PromotionSpec{}, err
	}
	source := SingleUseSourcePrefix + CodeKey(code)
	p.UTMSource = &source
	p.Name = "Single-use coupon " + code
	p.Description = "One use of " + code
	one := 1
	c := CouponSpec{Code: code, UTMSource: &source, MaxUsage: 1, MaxUsagePerClient: &one}
	if customer != "" {
		p.Description += " by customer " + customer
		c.CustomerID = &customer
	}
	return c, p, nil
}
