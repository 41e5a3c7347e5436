package models

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Reasons a code cannot be redeemed, stable for clients to match on.
const (
	ReasonNotFound               = "NOT_FOUND"
	ReasonArchived               = "ARCHIVED"
	ReasonNoActivePromotion      = "NO_ACTIVE_PROMOTION"
	ReasonNotStarted             = "NOT_STARTED"
	ReasonExpired                = "EXPIRED"
	ReasonUsageLimit             = "USAGE_LIMIT"
	ReasonCustomerLimit          = "CUSTOMER_LIMIT"
	ReasonItemsLimit             = "ITEMS_LIMIT"
	ReasonPromotionUsageLimit    = "PROMOTION_USAGE_LIMIT"
	ReasonPromotionCustomerLimit = "PROMOTION_CUSTOMER_LIMIT"
	ReasonNotForCustomer         = "NOT_FOR_CUSTOMER"
)

// Reasons lists every reason in the order a verdict reports them.
var Reasons = []string{
	ReasonNotFound, ReasonArchived, ReasonNoActivePromotion, ReasonNotStarted, ReasonExpired,
	ReasonUsageLimit, ReasonCustomerLimit, ReasonItemsLimit, ReasonPromotionUsageLimit,
	ReasonPromotionCustomerLimit, ReasonNotForCustomer,
}

// Limits on redemption fields.
const (
	MaxCustomerIDLength = 128
	MaxOrderIDLength    = 128
	MaxRedemptionItems  = 1_000_000
)

// Redemption is one use of a coupon by a customer for an order. It is
// never deleted; cancelling it stops it counting against any limit.
type Redemption struct {
	ID          int64  `gorm:"primaryKey"`
	CouponID    int64  `gorm:"not null"`
	Code        string `gorm:"not null"`
	CustomerID  string `gorm:"not null"`
	OrderID     string `gorm:"not null"`
	Items       int    `gorm:"not null"`
	OrderAmount *int64
	// Discount is the total taken off OrderAmount; nil without an amount.
	Discount    *int64
	CreatedAt   time.Time `gorm:"not null"`
	CancelledAt *time.Time
	// UTMSource and UTMCampaign are the tags the coupon carried when it
	// was redeemed, lower-cased; nil for none.
	UTMSource   *string
	UTMCampaign *string
	Promotions  []RedemptionPromotion `gorm:"-"`
}

// Live reports whether the redemption still counts.
func (r Redemption) Live() bool { return r.CancelledAt == nil }

// RedemptionPromotion is one promotion a redemption applied and what it
// took off. Name, DiscountType and DiscountValue are read from the
// promotion as it is now.
type RedemptionPromotion struct {
	RedemptionID  int64 `gorm:"primaryKey"`
	PromotionID   int64 `gorm:"primaryKey"`
	CustomerID    string
	Discount      *int64
	Cancelled     bool
	Name          string `gorm:"->"`
	DiscountType  string `gorm:"->"`
	DiscountValue int64  `gorm:"->"`
}

// RedemptionInput is a redemption as a client asked for it.
type RedemptionInput struct {
	Code        string
	CustomerID  string
	OrderID     string
	Items       int
	OrderAmount *int64
	// At is when the redemption happened, for one recorded after the fact
	// (a till that was offline); the zero time means now, by the store's
	// clock. The redemption is recorded at At, and the coupon's and its
	// promotions' dates are judged at At; under a per-use renewal
	// interval, the customer's uses less than an interval before or
	// after At count against it. The store takes times from
	// MaxRedemptionAge before its clock to MaxRedemptionLead after it,
	// and none before the code existed.
	At time.Time
}

// Bounds of a redemption's time (RedemptionInput.At) around the store's
// clock.
const (
	// MaxRedemptionAge is how long after the fact a redemption may be
	// recorded: 30 days.
	MaxRedemptionAge = 30 * 24 * time.Hour
	// MaxRedemptionLead is how far past the store's clock a redemption's
	// time may lie: a minute, for the client's clock running ahead.
	MaxRedemptionLead = time.Minute
)

// checkRedeemedAt is the message for a redemption time at that a store
// whose clock says now refuses: more than MaxRedemptionLead after now, or
// more than MaxRedemptionAge before it. It is "" for the zero time (now)
// and for every time inside the window, its ends included.
func checkRedeemedAt(at, now time.Time) string {
	switch {
	case at.IsZero():
		return ""
	case at.After(now.Add(MaxRedemptionLead)):
		return fmt.Sprintf("must not be in the future: %s is after the time now, %s", at.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	case at.Before(now.Add(-MaxRedemptionAge)):
		return fmt.Sprintf("must be within the last %d days: %s is before %s", int(MaxRedemptionAge/(24*time.Hour)),
			at.UTC().Format(time.RFC3339), now.Add(-MaxRedemptionAge).UTC().Format(time.RFC3339))
	}
	return ""
}

// Validate trims the input and checks each field, failing with a
// *ValidationError. The code is only required: a string that cannot be a
// code is simply not found. At is made UTC at the store's precision
// (microseconds); its window around the store's clock is checked by the
// store.
func (in RedemptionInput) Validate() (RedemptionInput, error) {
	var verr ValidationError
	in.Code = strings.TrimSpace(in.Code)
	in.CustomerID = strings.TrimSpace(in.CustomerID)
	in.OrderID = strings.TrimSpace(in.OrderID)
	if !in.At.IsZero() {
		in.At = in.At.UTC().Truncate(time.Microsecond)
	}
	if in.Code == "" {
		verr.Add(FieldCode, "is required")
	}
	if msg := checkID(in.CustomerID, MaxCustomerIDLength, true); msg != "" {
		verr.Add(FieldCustomerID, msg)
	}
	if msg := checkID(in.OrderID, MaxOrderIDLength, true); msg != "" {
		verr.Add(FieldOrderID, msg)
	}
	if in.Items < 1 || in.Items > MaxRedemptionItems {
		verr.Add(FieldItems, fmt.Sprintf("must be the number of items in the order, from 1 to %d", MaxRedemptionItems))
	}
	checkAmount(&verr, in.OrderAmount)
	return in, verr.Err()
}

// CheckInput asks whether a code could be redeemed now. CustomerID is
// optional: without it the customer's earlier uses are not counted and
// the customer a coupon is for is not checked. Items 0
// is read as 1.
type CheckInput struct {
	Code        string
	CustomerID  string
	Items       int
	OrderAmount *int64
}

// Validate trims the input and checks each field, failing with a
// *ValidationError.
func (in CheckInput) Validate() (CheckInput, error) {
	var verr ValidationError
	in.Code = strings.TrimSpace(in.Code)
	in.CustomerID = strings.TrimSpace(in.CustomerID)
	if in.Code == "" {
		verr.Add(FieldCode, "is required")
	}
	if msg := checkID(in.CustomerID, MaxCustomerIDLength, false); msg != "" {
		verr.Add(FieldCustomerID, msg)
	}
	if in.Items == 0 {
		in.Items = 1
	}
	if in.Items < 1 || in.Items > MaxRedemptionItems {
		verr.Add(FieldItems, fmt.Sprintf("must be the number of items in the order, from 1 to %d", MaxRedemptionItems))
	}
	checkAmount(&verr, in.OrderAmount)
	return in, verr.Err()
}

func checkAmount(verr *ValidationError, amount *int64) {
	if amount != nil && (*amount < 0 || *amount > MaxAmount) {
		verr.Add(FieldOrderAmount, fmt.Sprintf("must be the order's amount in minor units, from 0 to %d", int64(MaxAmount)))
	}
}

// checkID is the message for an identifier field that is empty (when
// required), too long, or holds spaces or control characters; "" when it
// is fine.
func checkID(s string, maxLen int, required bool) string {
	switch {
	case s == "" && required:
		return "is required"
	case len(s) > maxLen:
		return fmt.Sprintf("must be at most %d bytes", maxLen)
	}
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsSpace(r) || unicode.IsControl(r) {
			return "must be printable text without spaces"
		}
	}
	return ""
}

// CountingSince is the earliest time a customer's earlier use still
// counts against their per-customer limits of a coupon: interval before
// now, or the zero time (every use counts) for no interval.
func CountingSince(now time.Time, interval time.Duration) time.Time {
	if interval <= 0 {
		return time.Time{}
	}
	return now.Add(-interval)
}

// Usage is what counts against the limits of one attempt, read inside
// the transaction that redeems.
type Usage struct {
	// CustomerUses and CustomerItems are the customer's live redemptions
	// of the coupon since CountingSince, and their items.
	CustomerUses  int
	CustomerItems int
	// PromotionCustomerUses is the customer's live redemptions through
	// each promotion, by id.
	PromotionCustomerUses map[int64]int
	// CouponHeld and PromotionHeld are the uses other orders' live
	// reservations hold of the coupon and of each promotion, by id; the
	// customer's own holds count in CustomerUses, CustomerItems and
	// PromotionCustomerUses too.
	CouponHeld    int
	PromotionHeld map[int64]int
}

// Attempt is one use being asked for. CustomerID "" (a validation that
// names no customer) counts no earlier uses and checks no customer.
type Attempt struct {
	CustomerID string
	// OrderID is the order asking, whose own hold of the coupon does not
	// count against it; "" for a validation.
	OrderID     string
	Items       int
	OrderAmount *int64
	Now         time.Time
}

// AppliedPromotion is a promotion an attempt would apply and, when the
// order amount is known, what it would take off.
type AppliedPromotion struct {
	Promotion Promotion
	Discount  *int64
}

// Verdict says whether an attempt may redeem a coupon and why not.
type Verdict struct {
	Valid   bool
	Reasons []string
	// Promotions are those that would apply; empty when not valid.
	Promotions []AppliedPromotion
	// Discount is the sum of the promotions' discounts, never more than
	// the order amount; nil without an amount or when not valid.
	Discount *int64
	// Coupon is the coupon evaluated, nil when the code does not exist.
	Coupon *Coupon
	// CustomerUses is the customer's live uses of the coupon counted
	// against its per-customer limit.
	CustomerUses int
	// Held is how many of the coupon's uses other orders' live
	// reservations hold.
	Held int
}

// UsesLeft is how many more times the coupon may be used in all: -1 for
// no limit, 0 when it does not exist.
func (v Verdict) UsesLeft() int {
	switch {
	case v.Coupon == nil:
		return 0
	case v.Coupon.MaxUsage == 0:
		return -1
	}
	return max(v.Coupon.MaxUsage-v.Coupon.Uses-v.Held, 0)
}

// Evaluate applies every rule to an attempt on coupon c (nil when the
// code does not exist), given the active promotions its tags reach and
// the usage counted so far. The coupon's own rules all apply; of its
// promotions, those in date and under their limits apply. It is valid
// when no coupon rule fails and at least one promotion applies; the
// reasons are then empty. Otherwise the reasons are every failed rule,
// and, when no promotion applies, why each one did not.
func Evaluate(c *Coupon, promotions []Promotion, u Usage, a Attempt) Verdict {
	if c == nil {
		return Verdict{Reasons: []string{ReasonNotFound}}
	}
	reasons := map[string]bool{}
	if c.Archived {
		reasons[ReasonArchived] = true
	}
	if c.MaxUsage > 0 && c.Uses+u.CouponHeld >= c.MaxUsage {
		reasons[ReasonUsageLimit] = true
	}
	if c.ExpiresAt != nil && !a.Now.Before(*c.ExpiresAt) {
		reasons[ReasonExpired] = true
	}
	if a.CustomerID != "" {
		if c.CustomerID != nil && *c.CustomerID != a.CustomerID {
			reasons[ReasonNotForCustomer] = true
		}
		if c.MaxUsagePerClient > 0 && u.CustomerUses >= c.MaxUsagePerClient {
			reasons[ReasonCustomerLimit] = true
		}
	}
	// Without a customer nothing has been counted, but an order that alone
	// holds more items than a customer may use still cannot pass.
	if c.MaxItemsPerClient > 0 && u.CustomerItems+a.Items > c.MaxItemsPerClient {
		reasons[ReasonItemsLimit] = true
	}
	var applied []AppliedPromotion
	promoReasons := map[string]bool{}
	reached := 0
	for _, p := range promotions {
		if p.Status != PromotionActive || !p.Reaches(*c) {
			continue
		}
		reached++
		why := p.DateReason(a.Now)
		switch {
		case why != "":
		case p.MaxUsage > 0 && p.Uses+u.PromotionHeld[p.ID] >= p.MaxUsage:
			why = ReasonPromotionUsageLimit
		case a.CustomerID != "" && p.MaxUsagePerClient > 0 && u.PromotionCustomerUses[p.ID] >= p.MaxUsagePerClient:
			why = ReasonPromotionCustomerLimit
		}
		if why != "" {
			promoReasons[why] = true
			continue
		}
		ap := AppliedPromotion{Promotion: p}
		if a.OrderAmount != nil {
			d := p.Discount(*a.OrderAmount)
			ap.Discount = &d
		}
		applied = append(applied, ap)
	}
	switch {
	case reached == 0:
		reasons[ReasonNoActivePromotion] = true
	case len(applied) == 0:
		for r := range promoReasons {
			reasons[r] = true
		}
	}
	if len(reasons) > 0 {
		v := Verdict{Coupon: c, CustomerUses: u.CustomerUses, Held: u.CouponHeld}
		for _, r := range Reasons {
			if reasons[r] {
				v.Reasons = append(v.Reasons, r)
			}
		}
		return v
	}
	v := Verdict{Valid: true, Reasons: []string{}, Promotions: applied, Coupon: c, CustomerUses: u.CustomerUses, Held: u.CouponHeld}
	if a.OrderAmount != nil {
		// Held to the amount as it adds up: each discount is at most the
		// amount, so no partial sum can overflow however many apply.
		var total int64
		for _, ap := range applied {
			total = min(total+*ap.Discount, *a.OrderAmount)
		}
		v.Discount = &total
	}
	return v
}

// ErrNotRedeemable is matched by a *NotRedeemableError.
var ErrNotRedeemable = errors.New("coupon cannot be redeemed")

// NotRedeemableError says why a code cannot be redeemed, with reason
// codes from Reasons. It matches ErrNotRedeemable.
type NotRedeemableError struct {
	Code    string
	Reasons []string
}

// Error names the code and the reasons.
func (e *NotRedeemableError) Error() string {
	return fmt.Sprintf("coupon %q cannot be redeemed: %s", e.Code, strings.Join(e.Reasons, ", "))
}

// Is makes errors.Is(err, ErrNotRedeemable) true.
func (e *NotRedeemableError) Is(target error) bool { return target == ErrNotRedeemable }

// ErrTooManyGuesses is matched by a *TooManyGuessesError.
var ErrTooManyGuesses = errors.New("too many look-ups of unknown codes")

// TooManyGuessesError refuses a look-up from a client or for a customer
// that recently asked about too many unknown codes. It matches
// ErrTooManyGuesses.
type TooManyGuessesError struct {
	Limit      int
	Window     time.Duration
	RetryAfter time.Duration
}

// Error states the limit and when to try again.
func (e *TooManyGuessesError) Error() string {
	return fmt.Sprintf("%d unknown codes were tried within %s from this client or for this customer; try again in %s",
		e.Limit, e.Window, e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrTooManyGuesses) true.
func (e *TooManyGuessesError) Is(target error) bool { return target == ErrTooManyGuesses }
