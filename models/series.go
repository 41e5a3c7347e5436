package models

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// How a series' codes expire.
const (
	// ExpiryWithSeries: a code lasts as long as its series.
	ExpiryWithSeries = "series"
	// ExpiryDays: a code expires a number of days after it is issued, or
	// with its series if that comes first.
	ExpiryDays = "days"
)

// ExpiryStrategies lists every expiry strategy.
var ExpiryStrategies = []string{ExpiryWithSeries, ExpiryDays}

// Series fields, beside the promotion's.
const (
	FieldDiscountCode   = "discountCode"
	FieldExpiry         = "expiry"
	FieldExpiryDays     = "expiryDays"
	FieldMaxCreate      = "maxCreate"
	FieldMaxPerCustomer = "maxPerCustomer"
	FieldUsesPerCode    = "usesPerCode"
	// FieldSeries is the list of series an issue names.
	FieldSeries = "series"
	FieldSource = "source"
)

// Limits on series fields.
const (
	MaxDiscountCodeLength = 100
	MaxExpiryDays         = 3650
	// DefaultSeriesCodeLength is a series' random part when its format
	// names no length: ten upper-case letters and digits.
	DefaultSeriesCodeLength = 10
	// MaxIssueSeries bounds the series of one issue request.
	MaxIssueSeries = 100
	// MaxExtraFieldsSize bounds the stored fields coupond does not act
	// on, as JSON.
	MaxExtraFieldsSize = 64 << 10
)

// Series is a promotion of kind series: a pool of personal codes, each
// issued to one customer, in a format of its own. Limits of 0 are
// unlimited. Issued counts the codes issued so far.
type Series struct {
	PromotionID  int64  `gorm:"primaryKey"`
	DiscountCode string `gorm:"not null"`
	Expiry       string `gorm:"not null"`
	ExpiryDays   int    `gorm:"not null"`
	// Format is the codes' FormatInput as JSON.
	Format         string `gorm:"not null"`
	MaxCreate      int    `gorm:"not null"`
	MaxPerCustomer int    `gorm:"not null"`
	// UsesPerCode is each code's own usage limit.
	UsesPerCode int `gorm:"not null"`
	Issued      int `gorm:"not null"`
	// Extra holds, as a JSON object, the fields a client sent that
	// coupond keeps but does not act on.
	Extra     string    `gorm:"not null"`
	Promotion Promotion `gorm:"-"`
}

// TableName is "series", singular and plural alike.
func (Series) TableName() string { return "series" }

// ID is the series' id: its promotion's.
func (s Series) ID() int64 { return s.PromotionID }

// CodeFormat is the series' compiled code format.
func (s Series) CodeFormat() (Format, error) {
	var in FormatInput
	if err := json.Unmarshal([]byte(s.Format), &in); err != nil {
		return Format{}, fmt.Errorf("read the format of series %d: %w", s.PromotionID, err)
	}
	return in.Compile()
}

// FormatInput is the series' code format as stored; the zero input when
// it cannot be read.
func (s Series) FormatInput() FormatInput {
	var in FormatInput
	_ = json.Unmarshal([]byte(s.Format), &in)
	return in
}

// ExtraFields is Extra decoded; empty when there is none.
func (s Series) ExtraFields() map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	_ = json.Unmarshal([]byte(s.Extra), &m)
	return m
}

// CodeExpiry is when a code issued at issued expires by itself: nil when
// it lasts as long as the series.
func (s Series) CodeExpiry(issued time.Time) *time.Time {
	if s.Expiry != ExpiryDays {
		return nil
	}
	t := issued.AddDate(0, 0, s.ExpiryDays)
	return &t
}

// SeriesInput is a series as a client sent it, before validation. The
// promotion's Kind is always series; blank Expiry is ExpiryWithSeries; a
// format without a length or pattern gets DefaultSeriesCodeLength
// characters of CharsetUpperAlnum.
type SeriesInput struct {
	Promotion      PromotionInput
	DiscountCode   string
	Expiry         string
	ExpiryDays     int
	Format         FormatInput
	MaxCreate      int
	MaxPerCustomer int
	UsesPerCode    int
	Extra          map[string]json.RawMessage
}

// SeriesSpec is a validated series.
type SeriesSpec struct {
	Promotion      PromotionSpec
	DiscountCode   string
	Expiry         string
	ExpiryDays     int
	Format         Format
	MaxCreate      int
	MaxPerCustomer int
	UsesPerCode    int
	Extra          string
}

// Validate checks every field and returns the spec, or a
// *ValidationError naming each bad field.
func (in SeriesInput) Validate() (SeriesSpec, error) {
	var verr ValidationError
	in.Promotion.Kind = KindSeries
	p, err := in.Promotion.Validate()
	if err != nil {
		verr.Merge(NoItem, asValidation(err))
	}
	spec := SeriesSpec{Promotion: p, DiscountCode: strings.TrimSpace(in.DiscountCode), Expiry: orDefault(in.Expiry, ExpiryWithSeries),
		MaxCreate: in.MaxCreate, MaxPerCustomer: in.MaxPerCustomer, UsesPerCode: in.UsesPerCode}
	if msg := checkText(spec.DiscountCode, MaxDiscountCodeLength, false); msg != "" {
		verr.Add(FieldDiscountCode, msg)
	}
	switch spec.Expiry {
	case ExpiryWithSeries:
	case ExpiryDays:
		spec.ExpiryDays = in.ExpiryDays
		if in.ExpiryDays < 1 || in.ExpiryDays > MaxExpiryDays {
			verr.Add(FieldExpiryDays, fmt.Sprintf("must be the days a code lasts after it is issued, from 1 to %d", MaxExpiryDays))
		}
	default:
		verr.Add(FieldExpiry, fmt.Sprintf("must be one of %s", strings.Join(ExpiryStrategies, ", ")))
	}
	for _, l := range []struct {
		field string
		v     int
	}{{FieldMaxCreate, in.MaxCreate}, {FieldMaxPerCustomer, in.MaxPerCustomer}, {FieldUsesPerCode, in.UsesPerCode}} {
		if l.v < 0 {
			verr.Add(l.field, "must be 0 (unlimited) or more")
		}
	}
	f := in.Format
	if f.Length == 0 && f.Pattern == "" {
		f.Length = DefaultSeriesCodeLength
	}
	if f.Charset == "" && f.Pattern == "" {
		f.Charset = CharsetUpperAlnum
	}
	if spec.Format, err = f.Compile(); err != nil {
		verr.Merge(NoItem, asValidation(err))
	} else if in.MaxCreate > 0 {
		if err := spec.Format.CheckCapacity(int64(in.MaxCreate), 0); err != nil {
			for _, fe := range asValidation(err).Errors {
				verr.Add(FieldMaxCreate, fe.Message)
			}
		}
	}
	if len(in.Extra) > 0 {
		raw, err := json.Marshal(in.Extra)
		switch {
		case err != nil:
			verr.Add(FieldItems, "the other fields could not be kept: "+err.Error())
		case len(raw) > MaxExtraFieldsSize:
			verr.Add(FieldItems, fmt.Sprintf("the fields coupond keeps without acting on them take %d bytes; at most %d are kept", len(raw), MaxExtraFieldsSize))
		default:
			spec.Extra = string(raw)
		}
	}
	if spec.Extra == "" {
		spec.Extra = "{}"
	}
	if err := verr.Err(); err != nil {
		return SeriesSpec{}, err
	}
	return spec, nil
}

// asValidation is err's *ValidationError; a plain one naming the request
// when err is another kind.
func asValidation(err error) *ValidationError {
	if v, ok := err.(*ValidationError); ok {
		return v
	}
	return Invalid(FieldItems, err.Error())
}

// apply copies s onto ser, except what is counted (Issued).
func (s SeriesSpec) apply(ser *Series) error {
	format, err := json.Marshal(s.Format.Input())
	if err != nil {
		return fmt.Errorf("encode format: %w", err)
	}
	ser.DiscountCode, ser.Expiry, ser.ExpiryDays, ser.Format = s.DiscountCode, s.Expiry, s.ExpiryDays, string(format)
	ser.MaxCreate, ser.MaxPerCustomer, ser.UsesPerCode, ser.Extra = s.MaxCreate, s.MaxPerCustomer, s.UsesPerCode, s.Extra
	return nil
}

// Issuance is one code handed to one customer: from a series, or a
// single-use coupon made for them (SeriesID nil).
type Issuance struct {
	ID         int64 `gorm:"primaryKey"`
	SeriesID   *int64
	CouponID   int64  `gorm:"not null"`
	CustomerID string `gorm:"not null"`
	Source     string `gorm:"not null"`
	IssuedAt   time.Time
}

// Reasons a series cannot issue a code to a customer.
const (
	IssueSeriesNotFound = "SERIES_NOT_FOUND"
	IssueSeriesExpired  = "SERIES_EXPIRED"
	IssueSeriesInactive = "SERIES_INACTIVE"
	IssueMaxCreate      = "MAX_CREATE"
	IssueCustomerLimit  = "CUSTOMER_LIMIT"
	IssueActiveCap      = "ACTIVE_CAP"
	IssueCodesExhausted = "CODES_EXHAUSTED"
)

// IssueRequest asks for one fresh code from each series to one
// customer. Source is the channel the client names ("INSTORE"), kept on
// each issuance.
type IssueRequest struct {
	SeriesIDs []int64
	Customer  CustomerRef
	Source    string
}

// IssueResult is what one series of an issue request gave: the code, or
// why not (Reason, one of the Issue constants, and a message for
// people). Listed counts how often the request named the series.
type IssueResult struct {
	SeriesID int64
	Listed   int
	Series   *Series
	Coupon   *Coupon
	Issuance *Issuance
	Reason   string
	Message  string
	// Limit is the limit a refusal reached and Held what counts against
	// it, so that a client can word its own message: the series' most
	// codes and the codes it has issued for IssueMaxCreate, the most
	// codes one customer may hold and the customer's codes of the series
	// for IssueCustomerLimit. Both are 0 for every other result.
	Limit int
	Held  int
}

// NotIssuedError is an issue request that gave the customer no code:
// each listed series refused, for Reasons (one of the Issue constants
// each) told in Messages.
type NotIssuedError struct {
	Reasons  []string
	Messages []string
}

func (e *NotIssuedError) Error() string {
	return "no code was issued: " + strings.Join(e.Messages, "; ")
}

// IssuedCode is a personal code and what it was issued from: a series
// (SeriesID) or a single-use coupon's own promotion.
type IssuedCode struct {
	Coupon     Coupon
	CustomerID string
	IssuedAt   time.Time
	Source     string
	SeriesID   *int64
	// PromotionName names the series or the single-use promotion.
	PromotionName string
	// ValidTill is when the code stops being redeemable, the earlier of
	// its own expiry and its promotion's end; nil when neither is set.
	ValidTill *time.Time
}

// State is how the code stands at now, for people: "archived",
// "expired", "used up" (every use taken), "used" (some), or
// "available".
func (ic IssuedCode) State(now time.Time) string {
	c := ic.Coupon
	switch {
	case c.Archived:
		return "archived"
	case ic.ValidTill != nil && !now.Before(*ic.ValidTill):
		return "expired"
	case c.MaxUsage > 0 && c.Uses >= c.MaxUsage:
		return "used up"
	case c.Uses > 0:
		return "used"
	}
	return "available"
}

// dedupeIDs lists ids once each, in their first order, with how often
// each was listed.
func dedupeIDs(ids []int64) ([]int64, map[int64]int) {
	seen := make(map[int64]int, len(ids))
	var out []int64
	for _, id := range ids {
		if seen[id] == 0 {
			out = append(out, id)
		}
		seen[id]++
	}
	return out, seen
}

// Input is the series as an input that validates to the same series,
// for an update that changes some fields and keeps the rest.
func (s Series) Input() SeriesInput {
	p := s.Promotion
	in := PromotionInput{Name: p.Name, Description: p.Description, Status: p.Status, Kind: KindSeries,
		DiscountType: p.DiscountType, DiscountValue: FormatDiscountValue(p.DiscountType, p.DiscountValue), DiscountCap: p.DiscountCap,
		AppliesTo: p.AppliesTo, MaxUsage: p.MaxUsage, MaxUsagePerClient: p.MaxUsagePerClient}
	if p.BeginsAt != nil {
		in.BeginsAt = p.BeginsAt.UTC().Format(time.RFC3339Nano)
	}
	if p.EndsAt != nil {
		in.EndsAt = p.EndsAt.UTC().Format(time.RFC3339Nano)
	}
	return SeriesInput{Promotion: in, DiscountCode: s.DiscountCode, Expiry: s.Expiry, ExpiryDays: s.ExpiryDays, Format: s.FormatInput(),
		MaxCreate: s.MaxCreate, MaxPerCustomer: s.MaxPerCustomer, UsesPerCode: s.UsesPerCode, Extra: s.ExtraFields()}
}
