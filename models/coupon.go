package models

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on coupon fields and on one generation request.
const (
	// MaxCodeLength is the longest coupon code accepted.
	MaxCodeLength = 64
	// GeneratedSuffixLength is the number of random characters appended to
	// a base code when several coupons are generated from it.
	GeneratedSuffixLength = 15
	// MaxGeneratedBaseLength is the longest base code that still leaves
	// room for "-" and the random suffix.
	MaxGeneratedBaseLength = MaxCodeLength - 1 - GeneratedSuffixLength
	// MaxUTMLength bounds utmSource and utmCampaign.
	MaxUTMLength = 255
	// MaxGenerateQuantity is the most coupons one configuration may ask
	// for in a single synchronous request.
	MaxGenerateQuantity = 1000
	// MaxCouponsPerRequest bounds the sum of quantities in one
	// multiple-coupons request.
	MaxCouponsPerRequest = 10000
)

// Coupon is one code. Code keeps the case it was created with and never
// changes; uniqueness and look-ups ignore case.
type Coupon struct {
	ID                       int64         `gorm:"primaryKey"`
	Code                     string        `gorm:"size:64;not null"`
	UTMSource                *string       `gorm:"column:utm_source;size:255"`
	UTMCampaign              *string       `gorm:"column:utm_campaign;size:255"`
	Archived                 bool          `gorm:"not null;default:false"`
	MaxItemsPerClient        int           `gorm:"not null;default:0"`
	ExpirationIntervalPerUse time.Duration `gorm:"not null;default:0"`
	MaxUsage                 int           `gorm:"not null;default:0"`
	// MaxUsagePerClient limits one customer's uses (0 = unlimited),
	// counted within ExpirationIntervalPerUse when that is set.
	MaxUsagePerClient int `gorm:"not null;default:0"`
	// CustomerID, when set, is the only customer who may redeem the code.
	CustomerID *string
	// Uses counts the live (not cancelled) redemptions.
	Uses    int    `gorm:"not null;default:0"`
	BatchID *int64 `gorm:"index"`
	// PromotionID is the bulk promotion that owns a generated code; nil
	// for a coupon that reaches promotions through its UTM tags.
	PromotionID *int64 `gorm:"column:promotion_id"`
	// GroupingKey is the base code a generated coupon was made from; nil
	// for a coupon created with its own code.
	GroupingKey *string `gorm:"column:grouping_key;size:64"`
	// ExpiresAt, when set, is the moment the code itself stops being
	// redeemable, whatever its promotions say (a series' code that lasts
	// a number of days from its issue).
	ExpiresAt *time.Time
	CreatedAt time.Time `gorm:"not null"`
	UpdatedAt time.Time `gorm:"not null"`
}

// ValidTill is when the coupon stops being redeemable by p: the earlier
// of its own expiry and p's end; nil when neither is set.
func (c Coupon) ValidTill(p Promotion) *time.Time {
	if c.ExpiresAt != nil && (p.EndsAt == nil || c.ExpiresAt.Before(*p.EndsAt)) {
		return c.ExpiresAt
	}
	return p.EndsAt
}

// CodeKey is the case-folded form of a code under which it is unique.
func CodeKey(code string) string { return strings.ToLower(strings.TrimSpace(code)) }

// NormalizeCode trims a code and checks it: 1 to 64 characters, ASCII
// letters, digits, '-' and '_' only, starting with a letter or digit (so
// that no exported CSV cell reads as a spreadsheet formula). The error is
// a message for the field.
func NormalizeCode(raw string) (string, error) {
	code := strings.TrimSpace(raw)
	switch {
	case code == "":
		return "", fmt.Errorf("is required")
	case len(code) > MaxCodeLength:
		return "", fmt.Errorf("must be at most %d characters (got %d)", MaxCodeLength, len(code))
	}
	for _, r := range code {
		if !isCodeRune(r) {
			return "", fmt.Errorf("may contain only letters A–Z, digits, '-' and '_' (found %q)", r)
		}
	}
	if c := code[0]; c == '-' || c == '_' {
		return "", fmt.Errorf("must start with a letter or a digit")
	}
	if reservedCodes[CodeKey(code)] {
		return "", fmt.Errorf("%q is reserved: the console uses /coupons/%s for its own page; choose another code", code, CodeKey(code))
	}
	return code, nil
}

// reservedCodes are the words the console's own pages take under /coupons/.
var reservedCodes = map[string]bool{"new": true, "generate": true}

func isCodeRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}

// normalizeUTM trims an optional UTM value; nil and blank mean "none".
func normalizeUTM(raw *string) (*string, error) {
	if raw == nil {
		return nil, nil
	}
	v := strings.TrimSpace(*raw)
	if v == "" {
		return nil, nil
	}
	if !utf8.ValidString(v) {
		return nil, fmt.Errorf("must be UTF-8 text")
	}
	if utf8.RuneCountInString(v) > MaxUTMLength {
		return nil, fmt.Errorf("must be at most %d characters", MaxUTMLength)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return nil, fmt.Errorf("must not contain control characters")
		}
	}
	return &v, nil
}

// CouponInput is a coupon configuration as a client sent it, before
// validation. Archived nil means "leave as it is" on update and false on
// create.
type CouponInput struct {
	Code                     string
	UTMSource                *string
	UTMCampaign              *string
	Archived                 *bool
	MaxItemsPerClient        int
	ExpirationIntervalPerUse string
	MaxUsage                 int
	// MaxUsagePerClient nil means "leave as it is" on update and 0 on
	// create: a client may configure a coupon without it.
	MaxUsagePerClient *int
}

// CouponSpec is a validated coupon configuration.
type CouponSpec struct {
	Code                     string
	UTMSource                *string
	UTMCampaign              *string
	Archived                 *bool
	MaxItemsPerClient        int
	ExpirationIntervalPerUse time.Duration
	MaxUsage                 int
	MaxUsagePerClient        *int
	// CustomerID is set only for a single-use coupon meant for one
	// customer; it is never changed afterwards.
	CustomerID *string
}

// Validate checks every field and returns the spec, or a *ValidationError
// naming each bad field.
func (in CouponInput) Validate() (CouponSpec, error) {
	var verr ValidationError
	var spec CouponSpec
	var err error
	if spec.Code, err = NormalizeCode(in.Code); err != nil {
		verr.Add(FieldCode, err.Error())
	}
	if spec.UTMSource, err = normalizeUTM(in.UTMSource); err != nil {
		verr.Add(FieldUTMSource, err.Error())
	}
	if spec.UTMCampaign, err = normalizeUTM(in.UTMCampaign); err != nil {
		verr.Add(FieldUTMCampaign, err.Error())
	}
	if in.MaxItemsPerClient < 0 {
		verr.Add(FieldMaxItemsPerClient, "must be 0 (unlimited) or more")
	}
	if in.MaxUsage < 0 {
		verr.Add(FieldMaxUsage, "must be 0 (unlimited) or more")
	}
	if in.MaxUsagePerClient != nil && *in.MaxUsagePerClient < 0 {
		verr.Add(FieldMaxUsagePerClient, "must be 0 (unlimited) or more")
	}
	if spec.ExpirationIntervalPerUse, err = ParseTimeSpan(in.ExpirationIntervalPerUse); err != nil {
		verr.Add(FieldExpirationIntervalPerUse, err.Error())
	}
	spec.Archived = in.Archived
	spec.MaxItemsPerClient = in.MaxItemsPerClient
	spec.MaxUsage = in.MaxUsage
	spec.MaxUsagePerClient = in.MaxUsagePerClient
	if err := verr.Err(); err != nil {
		return CouponSpec{}, err
	}
	return spec, nil
}

// apply copies the configuration of s onto c; the code is set only on a
// new coupon, so it never changes after creation.
func (s CouponSpec) apply(c *Coupon) {
	if c.ID == 0 {
		c.Code = s.Code
		c.CustomerID = s.CustomerID
	}
	c.UTMSource = s.UTMSource
	c.UTMCampaign = s.UTMCampaign
	if s.Archived != nil {
		c.Archived = *s.Archived
	}
	c.MaxItemsPerClient = s.MaxItemsPerClient
	c.ExpirationIntervalPerUse = s.ExpirationIntervalPerUse
	c.MaxUsage = s.MaxUsage
	if s.MaxUsagePerClient != nil {
		c.MaxUsagePerClient = *s.MaxUsagePerClient
	}
}

// CouponRequest asks for Quantity coupons with one configuration. When
// Generate is set each coupon gets the code, "-" and GeneratedSuffixLength
// random characters, in a new Batch; otherwise the one coupon (Quantity 1)
// keeps the code literally.
type CouponRequest struct {
	Quantity int
	Spec     CouponSpec
	Generate bool
}

// CheckQuantity validates a request's quantity and, when it generates,
// the base code's length, recording problems for list element item
// (NoItem for a single request).
func CheckQuantity(r CouponRequest, verr *ValidationError, item int) {
	switch {
	case r.Quantity < 1 || r.Quantity > MaxGenerateQuantity:
		verr.AddItem(item, FieldQuantity, fmt.Sprintf("must be between 1 and %d", MaxGenerateQuantity))
		return
	case !r.Generate && r.Quantity != 1:
		verr.AddItem(item, FieldQuantity, "must be 1 for a literal code")
		return
	}
	if r.Generate && len(r.Spec.Code) > MaxGeneratedBaseLength {
		verr.AddItem(item, FieldCode, fmt.Sprintf("must be at most %d characters when generating codes, to leave room for \"-\" and %d random characters", MaxGeneratedBaseLength, GeneratedSuffixLength))
	}
}

// ValidateCouponRequests checks a list of coupon requests as a whole:
// quantities, base code lengths, the total, and the same literal code
// asked for twice. Problems name the element by its index.
func ValidateCouponRequests(reqs []CouponRequest) error {
	var verr ValidationError
	if len(reqs) == 0 {
		verr.Add(FieldItems, "must list at least one coupon configuration")
	}
	total := 0
	seen := map[string]int{}
	for i, r := range reqs {
		CheckQuantity(r, &verr, i)
		total += max(r.Quantity, 0)
		if !r.Generate {
			key := CodeKey(r.Spec.Code)
			if j, dup := seen[key]; dup {
				verr.AddItem(i, FieldCode, fmt.Sprintf("is the same code as item %d", j))
			}
			seen[key] = i
		}
	}
	if total > MaxCouponsPerRequest {
		verr.Add(FieldQuantity, fmt.Sprintf("the request asks for %d coupons; at most %d per request", total, MaxCouponsPerRequest))
	}
	return verr.Err()
}
