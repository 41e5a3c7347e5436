// Package bigcommerce speaks BigCommerce's promotions API (v3) under
// /api/v3: coupon promotions, generating their codes in bulk, paging
// through the codes and deleting them by id, in BigCommerce's snake_case
// shapes, its money as decimal strings, and its error bodies (errors.go).
package bigcommerce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

// Store is what the BigCommerce-style API needs from the
// store.
type Store interface {
	Promotion(ctx context.Context, id int64) (models.Promotion, error)
	CreatePromotion(ctx context.Context, spec models.PromotionSpec) (models.Promotion, error)
	GeneratePromotionCodes(ctx context.Context, spec models.BatchSpec) (models.Batch, []models.Coupon, error)
	PromotionCodes(ctx context.Context, f models.PromotionCodeFilter) (models.PromotionCodePage, error)
	DeletePromotionCodes(ctx context.Context, promotionID int64, ids []int64) (models.CodeDeletion, error)
	NewTag(prefix string) (string, error)
}

// API speaks the request and response shapes of BigCommerce's
// promotions API (v3) under /api/v3: coupon promotions, their generated
// codes, and deleting codes in bulk. Success bodies are {"data": …,
// "meta": …}; errors are written by Errors.
type API struct {
	Store Store
}

// New is the BigCommerce-style API over store.
func New(store Store) *API { return &API{Store: store} }

// decimals is how many decimals BigCommerce writes its amounts with.
const decimals = 2

// Limits BigCommerce sets on code generation, beyond the domain's own.
const (
	maxBatchSize     = 250
	maxUses          = 100_000
	maxAffixLength   = 20
	minCodeLength    = 6
	maxCodeLength    = 16
	defaultLength    = 16
	maxWholeCodeSize = 50
)

// singleSourcePrefix starts the UTM source of a SINGLE promotion: a
// regular promotion is reached through a tag, and this one is its own, so
// that it reaches no coupon until one is tagged with it.
const singleSourcePrefix = "bigcommerce-"

// timeLayout is RFC 3339 with the offset written out, as BigCommerce
// writes its times ("2019-01-20T22:00:00+00:00").
const timeLayout = "2006-01-02T15:04:05-07:00"

// JSON names of the discount and its cap inside a promotion's one rule.
const (
	discountField = "rules[0].action.cart_value.discount"
	capField      = "rules[0].action.cart_value.maximum_allowed_discount_amount"
)

// fieldNames are BigCommerce's names for the domain fields; a
// name mapped to "" is the request as a whole.
var fieldNames = map[string]string{
	models.FieldName:              "name",
	models.FieldDescription:       "display_name",
	models.FieldStatus:            "status",
	models.FieldKind:              "coupon_type",
	models.FieldDiscountType:      discountField,
	models.FieldDiscountValue:     discountField,
	models.FieldDiscountCap:       capField,
	models.FieldBeginsAt:          "start_date",
	models.FieldEndsAt:            "end_date",
	models.FieldMaxUsage:          "max_uses",
	models.FieldMaxUsagePerClient: "max_uses_per_customer",
	models.FieldQuantity:          "batch_size",
	models.FieldPromotionID:       "promotion_id",
	models.FieldFormat:            "",
	models.FieldFormatPrefix:      "prefix",
	models.FieldFormatSuffix:      "suffix",
	models.FieldFormatDelimiter:   "delimiter",
	models.FieldFormatLength:      "code_length",
	models.FieldFormatExclude:     "exclude_characters",
	models.FieldIDs:               "id:in",
	fieldIDList:                   "id:in",
	models.FieldCursor:            "after",
}

// fieldName names a field as a BigCommerce client knows it:
// "batch_size" for the quantity, "code_length" for the format's length;
// an element of a bulk request as "<index>.<field>" ("2.code"). "" is the
// request as a whole. Names that are not domain field names (those found
// while reading the JSON or the query) are kept as they are.
func fieldName(fe models.FieldError) string {
	name := fe.Field
	if n, ok := fieldNames[name]; ok {
		name = n
	}
	if fe.Item == models.NoItem {
		return name
	}
	return fmt.Sprintf("%d.%s", fe.Item, name)
}

// errorEntry is one element of the errors list of BigCommerce's
// error and bulk-action bodies. Status is the HTTP status as a number;
// Errors holds a bulk action's problems by "<index>.<field>".
type errorEntry struct {
	Status int               `json:"status"`
	Title  string            `json:"title"`
	Type   string            `json:"type,omitempty"`
	Detail string            `json:"detail,omitempty"`
	Errors map[string]string `json:"errors,omitempty"`
}

// errorList is BigCommerce's error list, {"errors": […]}, with
// the counts of a bulk action in meta when it answers one.
type errorList struct {
	Errors []errorEntry `json:"errors"`
	Meta   *bulkMeta    `json:"meta,omitempty"`
}

// bulkMeta counts the items of a bulk action: all of them, those
// that succeeded and those that failed.
type bulkMeta struct {
	Total   int `json:"total"`
	Success int `json:"success"`
	Failed  int `json:"failed"`
}

// errorType is the type of an error body under /api/v3: a URN
// that carries coupond's code for the problem, such as
// "urn:coupond:problem:invalid".
func errorType(code string) string { return "urn:coupond:problem:" + code }

// response is BigCommerce's success body.
type response[D, M any] struct {
	Data D `json:"data"`
	Meta M `json:"meta"`
}

// empty is the empty meta object of single-resource answers.
type empty struct{}

// promotionIn is a coupon promotion as BigCommerce clients create it.
// Numbers that must be whole are read raw, so that "5" and 5.5 are told
// apart from 5. Fields coupond cannot honour are read only to refuse
// anything but their defaults.
type promotionIn struct {
	Name           string          `json:"name"`
	DisplayName    string          `json:"display_name"`
	RedemptionType string          `json:"redemption_type"`
	CouponType     string          `json:"coupon_type"`
	Rules          []ruleIn        `json:"rules"`
	MaxUses        json.RawMessage `json:"max_uses"`
	StartDate      *string         `json:"start_date"`
	EndDate        *string         `json:"end_date"`
	Status         string          `json:"status"`

	Channels                       json.RawMessage `json:"channels"`
	Customer                       *customerIn     `json:"customer"`
	CurrencyCode                   string          `json:"currency_code"`
	Stop                           bool            `json:"stop"`
	CanBeUsedWithOtherPromotions   *bool           `json:"can_be_used_with_other_promotions"`
	CouponOverridesOtherPromotions bool            `json:"coupon_overrides_other_promotions"`
	ShippingAddress                json.RawMessage `json:"shipping_address"`
	Schedule                       json.RawMessage `json:"schedule"`
	Codes                          json.RawMessage `json:"codes"`
}

type ruleIn struct {
	Action struct {
		CartValue *struct {
			Discount struct {
				PercentageAmount json.RawMessage `json:"percentage_amount"`
				FixedAmount      json.RawMessage `json:"fixed_amount"`
			} `json:"discount"`
			MaximumAllowedDiscountAmount json.RawMessage `json:"maximum_allowed_discount_amount"`
		} `json:"cart_value"`
		CartItems     json.RawMessage `json:"cart_items"`
		GiftItem      json.RawMessage `json:"gift_item"`
		FixedPriceSet json.RawMessage `json:"fixed_price_set"`
		Shipping      json.RawMessage `json:"shipping"`
	} `json:"action"`
	Condition json.RawMessage `json:"condition"`
}

type customerIn struct {
	GroupIDs          []int           `json:"group_ids"`
	ExcludedGroupIDs  []int           `json:"excluded_group_ids"`
	MinimumOrderCount int             `json:"minimum_order_count"`
	Segments          json.RawMessage `json:"segments"`
}

// spec validates the promotion; source is the UTM source a SINGLE
// promotion listens to.
func (in promotionIn) spec(source string) (models.PromotionSpec, error) {
	var verr models.ValidationError
	switch in.RedemptionType {
	case "COUPON":
	case "AUTOMATIC":
		return models.PromotionSpec{}, models.Invalid("redemption_type", "AUTOMATIC promotions are not supported: coupond applies a promotion only to an order that names one of its codes; create a COUPON promotion")
	case "":
		verr.Add("redemption_type", `is required: send "COUPON"`)
	default:
		verr.Add("redemption_type", fmt.Sprintf(`must be "COUPON", not %q`, in.RedemptionType))
	}
	pi := models.PromotionInput{Name: in.Name, Description: in.DisplayName, Kind: models.KindRegular,
		BeginsAt: httpx.Deref(in.StartDate), EndsAt: httpx.Deref(in.EndDate)}
	switch in.CouponType {
	case "", "SINGLE":
		pi.UTMSource = &source
	case "BULK":
		pi.Kind = models.KindBulk
	default:
		verr.Add(models.FieldKind, fmt.Sprintf(`must be "SINGLE" or "BULK", not %q`, in.CouponType))
	}
	switch in.Status {
	case "", "ENABLED":
		pi.Status = models.PromotionActive
	case "DISABLED":
		pi.Status = models.PromotionInactive
	default:
		verr.Add(models.FieldStatus, fmt.Sprintf(`must be "ENABLED" or "DISABLED", not %q`, in.Status))
	}
	pi.MaxUsage, _ = readInt(&verr, models.FieldMaxUsage, in.MaxUses, 0)
	in.discount(&verr, &pi)
	in.refuseUnsupported(&verr)
	spec, err := pi.Validate()
	httpx.MergeInvalid(&verr, err)
	if err := verr.Err(); err != nil {
		return models.PromotionSpec{}, err
	}
	return spec, nil
}

// discount reads the one rule's cart_value discount and cap into pi.
func (in promotionIn) discount(verr *models.ValidationError, pi *models.PromotionInput) {
	switch {
	case len(in.Rules) == 0:
		verr.Add("rules", `is required: one rule whose action is a cart_value discount, such as {"action":{"cart_value":{"discount":{"percentage_amount":"10"}}}}`)
		return
	case len(in.Rules) > 1:
		verr.Add("rules", fmt.Sprintf("must hold exactly one rule (%d given): coupond applies one discount to the whole cart", len(in.Rules)))
		return
	}
	r := in.Rules[0]
	a := r.Action
	if !emptyJSON(r.Condition) {
		verr.Add("rules[0].condition", "is not supported: a coupond discount applies to every cart an order brings; leave the condition out")
	}
	if !emptyJSON(a.CartItems) || !emptyJSON(a.GiftItem) || !emptyJSON(a.FixedPriceSet) || !emptyJSON(a.Shipping) {
		verr.Add("rules[0].action", "only a cart_value action is supported: coupond discounts the whole cart")
		return
	}
	if a.CartValue == nil {
		verr.Add("rules[0].action.cart_value", `is required: {"discount":{"percentage_amount":"10"}} or {"discount":{"fixed_amount":"12.95"}}`)
		return
	}
	pct, fixed := a.CartValue.Discount.PercentageAmount, a.CartValue.Discount.FixedAmount
	switch {
	case !emptyJSON(pct) && !emptyJSON(fixed):
		verr.Add(models.FieldDiscountValue, "must hold either percentage_amount or fixed_amount, not both")
	case !emptyJSON(pct):
		pi.DiscountType = models.DiscountPercent
		pi.DiscountValue = httpx.RawNumber(verr, models.FieldDiscountValue, pct)
	case !emptyJSON(fixed):
		pi.DiscountType = models.DiscountFixed
		if v, ok := readMoney(verr, models.FieldDiscountValue, fixed); ok {
			pi.DiscountValue = strconv.FormatInt(v, 10)
		}
	default:
		verr.Add(models.FieldDiscountValue, `is required: percentage_amount (such as "12.5") or fixed_amount (such as "12.95")`)
	}
	if ceiling := a.CartValue.MaximumAllowedDiscountAmount; !emptyJSON(ceiling) {
		if v, ok := readMoney(verr, models.FieldDiscountCap, ceiling); ok {
			pi.DiscountCap = &v
		}
	}
}

// refuseUnsupported records every field whose value would narrow or
// reorder who gets the discount in ways coupond cannot honour; silently
// dropping one would give the discount to orders it was not meant for.
func (in promotionIn) refuseUnsupported(verr *models.ValidationError) {
	if !emptyJSON(in.Channels) {
		verr.Add("channels", "must be empty: a coupond promotion applies on every channel")
	}
	if c := in.Customer; c != nil && (len(c.GroupIDs) > 0 || len(c.ExcludedGroupIDs) > 0 || c.MinimumOrderCount > 0 || !emptyJSON(c.Segments)) {
		verr.Add("customer", "customer groups, segments and order counts are not supported: coupond limits uses per code and per customer id; leave customer empty")
	}
	if in.CurrencyCode != "" && in.CurrencyCode != "*" {
		verr.Add("currency_code", `must be "*": a coupond promotion applies in every currency`)
	}
	if !emptyJSON(in.ShippingAddress) {
		verr.Add("shipping_address", "is not supported: a coupond promotion applies wherever an order ships; leave it out")
	}
	if !emptyJSON(in.Schedule) {
		verr.Add("schedule", "is not supported: a coupond promotion runs from start_date to end_date; leave it out")
	}
	if in.Stop {
		verr.Add("stop", "must be false: coupond applies every promotion a code reaches")
	}
	if in.CanBeUsedWithOtherPromotions != nil && !*in.CanBeUsedWithOtherPromotions {
		verr.Add("can_be_used_with_other_promotions", "must be true: coupond applies every promotion a code reaches")
	}
	if in.CouponOverridesOtherPromotions {
		verr.Add("coupon_overrides_other_promotions", "must be false: coupond applies every promotion a code reaches")
	}
	if !emptyJSON(in.Codes) {
		verr.Add("codes", "cannot be created with the promotion: create it with coupon_type BULK and generate its codes with POST /api/v3/promotions/{id}/codegen")
	}
}

// emptyJSON reports whether a raw value is absent, null, [] or {}.
func emptyJSON(raw json.RawMessage) bool {
	switch strings.Join(strings.Fields(string(raw)), "") {
	case "", "null", "[]", "{}":
		return true
	}
	return false
}

// readInt reads an optional whole number. Absent or null is def, with
// present false; anything but a JSON integer (the string "5", the
// fraction 5.5) is recorded in verr.
func readInt(verr *models.ValidationError, field string, raw json.RawMessage, def int) (n int, present bool) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return def, false
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		verr.Add(field, fmt.Sprintf("must be a whole number written as a JSON integer, such as 5, not %s", s))
		return def, true
	}
	return n, true
}

// readMoney reads an amount of money, "12.95" (a JSON number is taken as
// well), as minor units: more than 0, at most two decimals that are not
// zeros, since BigCommerce clients often write four ("10.0000").
func readMoney(verr *models.ValidationError, field string, raw json.RawMessage) (int64, bool) {
	var probe models.ValidationError
	text := httpx.RawNumber(&probe, field, raw)
	if whole, frac, dotted := strings.Cut(text, "."); dotted && len(frac) > decimals {
		// Only zeros may go past the decimals: "12.950" is 12.95.
		text = whole + "." + frac[:decimals] + strings.TrimRight(frac[decimals:], "0")
	}
	v, err := models.ParseMoney(text, decimals)
	if probe.Err() != nil || err != nil || v < 1 {
		verr.Add(field, fmt.Sprintf(`must be an amount of money above 0 with at most two decimals, such as "12.95", not %s`, strings.TrimSpace(string(raw))))
		return 0, false
	}
	return int64(v), true
}

// moneyText writes minor units as BigCommerce writes money: "12.95".
func moneyText(v int64) string { return models.Money(v).Format(decimals) }

// promotionOut is a saved coupon promotion in BigCommerce's shape.
// coupond has no channels, customer groups, notifications or stacking
// rules, so those are always their open defaults.
type promotionOut struct {
	ID                             int64         `json:"id"`
	RedemptionType                 string        `json:"redemption_type"`
	Name                           string        `json:"name"`
	DisplayName                    string        `json:"display_name,omitempty"`
	CreatedFrom                    string        `json:"created_from"`
	Channels                       []empty       `json:"channels"`
	Customer                       empty         `json:"customer"`
	Rules                          []ruleOut     `json:"rules"`
	CurrentUses                    int           `json:"current_uses"`
	MaxUses                        int           `json:"max_uses,omitempty"`
	Status                         string        `json:"status"`
	StartDate                      string        `json:"start_date"`
	EndDate                        *string       `json:"end_date"`
	Stop                           bool          `json:"stop"`
	CanBeUsedWithOtherPromotions   bool          `json:"can_be_used_with_other_promotions"`
	CouponOverridesOtherPromotions bool          `json:"coupon_overrides_other_promotions"`
	CurrencyCode                   string        `json:"currency_code"`
	Notifications                  []empty       `json:"notifications"`
	CouponType                     string        `json:"coupon_type"`
	MultipleCodes                  multipleCodes `json:"multiple_codes"`
}

type multipleCodes struct {
	HasMultipleCodes bool `json:"has_multiple_codes"`
}

type ruleOut struct {
	Action    actionOut `json:"action"`
	ApplyOnce bool      `json:"apply_once"`
	Stop      bool      `json:"stop"`
}

type actionOut struct {
	CartValue cartValueOut `json:"cart_value"`
}

type cartValueOut struct {
	Discount                     discountOut `json:"discount"`
	MaximumAllowedDiscountAmount *string     `json:"maximum_allowed_discount_amount"`
}

type discountOut struct {
	PercentageAmount string `json:"percentage_amount,omitempty"`
	FixedAmount      string `json:"fixed_amount,omitempty"`
}

// promotionOf is p in BigCommerce's shape. Bulk and series promotions
// own many codes (BULK); regular ones are reached by codes through
// their tags (SINGLE). An archived promotion is DISABLED; an open start
// is the moment the promotion was made.
func promotionOf(p models.Promotion) promotionOut {
	out := promotionOut{
		ID: p.ID, RedemptionType: "COUPON", Name: p.Name, DisplayName: p.Description, CreatedFrom: "api",
		Channels: []empty{}, CurrentUses: p.Uses, MaxUses: p.MaxUsage, Status: "DISABLED",
		StartDate: p.CreatedAt.UTC().Format(timeLayout), CanBeUsedWithOtherPromotions: true, CurrencyCode: "*",
		Notifications: []empty{}, CouponType: "SINGLE",
	}
	if p.Status == models.PromotionActive {
		out.Status = "ENABLED"
	}
	if p.Kind != models.KindRegular {
		out.CouponType, out.MultipleCodes.HasMultipleCodes = "BULK", true
	}
	if p.BeginsAt != nil {
		out.StartDate = p.BeginsAt.UTC().Format(timeLayout)
	}
	if p.EndsAt != nil {
		out.EndDate = new(p.EndsAt.UTC().Format(timeLayout))
	}
	cv := cartValueOut{}
	if p.DiscountType == models.DiscountPercent {
		cv.Discount.PercentageAmount = models.FormatDiscountValue(p.DiscountType, p.DiscountValue)
	} else {
		cv.Discount.FixedAmount = moneyText(p.DiscountValue)
	}
	if p.DiscountCap != nil {
		cv.MaximumAllowedDiscountAmount = new(moneyText(*p.DiscountCap))
	}
	out.Rules = []ruleOut{{Action: actionOut{CartValue: cv}, ApplyOnce: true}}
	return out
}

// CreatePromotion creates a coupon promotion from BigCommerce's draft: a
// BULK one owns the codes /codegen makes, a SINGLE one is a regular
// promotion that listens to a UTM source of its own. 201 with it;
// AUTOMATIC promotions, conditions and the targeting coupond cannot
// honour are a 422 that says so.
func (h *API) CreatePromotion(c echo.Context) error {
	var in promotionIn
	if err := httpx.DecodeJSON(c, &in); err != nil {
		return err
	}
	source, err := h.Store.NewTag(singleSourcePrefix)
	if err != nil {
		return err
	}
	spec, err := in.spec(source)
	if err != nil {
		return err
	}
	p, err := h.Store.CreatePromotion(c.Request().Context(), spec)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, response[promotionOut, empty]{Data: promotionOf(p)})
}

// Promotion returns one promotion in BigCommerce's shape; 404 for an
// unknown id.
func (h *API) Promotion(c echo.Context) error {
	id, err := httpx.PathID(c, "promotion")
	if err != nil {
		return err
	}
	p, err := h.Store.Promotion(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, response[promotionOut, empty]{Data: promotionOf(p)})
}

// codegenIn asks for a batch of codes. Numbers are read raw so that
// "5" and 5.5 are refused rather than taken for 5.
type codegenIn struct {
	BatchSize          json.RawMessage `json:"batch_size"`
	MaxUses            json.RawMessage `json:"max_uses"`
	MaxUsesPerCustomer json.RawMessage `json:"max_uses_per_customer"`
	Prefix             string          `json:"prefix"`
	Suffix             string          `json:"suffix"`
	Delimiter          string          `json:"delimiter"`
	ExcludeCharacters  []string        `json:"exclude_characters"`
	CodeLength         json.RawMessage `json:"code_length"`
}

// spec checks BigCommerce's limits (batch_size 1–250 and required, uses
// 0–100000 defaulting to 1, at most 20 capital letters, digits, '_' and
// '-' in the prefix and suffix, single capital letters and digits to
// exclude, a random part of 6–16 upper-case letters and digits, codes of
// at most 50 characters) and then the domain's (the delimiter among
// them), for promotion id.
func (in codegenIn) spec(id int64) (models.BatchSpec, error) {
	var verr models.ValidationError
	size, ok := readInt(&verr, models.FieldQuantity, in.BatchSize, 0)
	if !ok {
		verr.Add(models.FieldQuantity, fmt.Sprintf("is required: how many codes to generate, from 1 to %d", maxBatchSize))
	}
	uses, _ := readInt(&verr, models.FieldMaxUsage, in.MaxUses, 1)
	perCustomer, _ := readInt(&verr, models.FieldMaxUsagePerClient, in.MaxUsesPerCustomer, 1)
	length, _ := readInt(&verr, models.FieldFormatLength, in.CodeLength, defaultLength)
	if uses < 0 || uses > maxUses {
		verr.Add(models.FieldMaxUsage, fmt.Sprintf("must be between 0 (unlimited) and %d, not %d", maxUses, uses))
	}
	if perCustomer < 0 || perCustomer > maxUses {
		verr.Add(models.FieldMaxUsagePerClient, fmt.Sprintf("must be between 0 (unlimited) and %d, not %d", maxUses, perCustomer))
	}
	if length < minCodeLength || length > maxCodeLength {
		verr.Add(models.FieldFormatLength, fmt.Sprintf("must be between %d and %d, not %d", minCodeLength, maxCodeLength, length))
	}
	checkAffix(&verr, models.FieldFormatPrefix, in.Prefix)
	checkAffix(&verr, models.FieldFormatSuffix, in.Suffix)
	var exclude strings.Builder
	for _, ch := range in.ExcludeCharacters {
		if len(ch) != 1 || !(ch[0] >= 'A' && ch[0] <= 'Z' || ch[0] >= '0' && ch[0] <= '9') {
			verr.Add(models.FieldFormatExclude, fmt.Sprintf(`must list single capital letters A–Z and digits, such as ["O","0"], not %q`, ch))
			break
		}
		exclude.WriteString(ch)
	}
	pid := id
	spec, err := models.BatchInput{
		PromotionID: &pid, Quantity: size, MaxUsage: uses, MaxUsagePerClient: perCustomer,
		Format: models.FormatInput{Prefix: in.Prefix, Suffix: in.Suffix, Delimiter: in.Delimiter, Length: length,
			Charset: models.CharsetUpperAlnum, Exclude: exclude.String()},
	}.Validate(maxBatchSize)
	httpx.MergeInvalid(&verr, err)
	if err := verr.Err(); err != nil {
		return models.BatchSpec{}, err
	}
	if n := spec.Format.CodeLength(); n > maxWholeCodeSize {
		return models.BatchSpec{}, models.Invalid(models.FieldFormatLength,
			fmt.Sprintf("makes codes of %d characters with the prefix, the suffix and their delimiters; codes are at most %d: shorten one of them", n, maxWholeCodeSize))
	}
	return spec, nil
}

// checkAffix records in verr a prefix or suffix that is too long or holds
// anything but capital letters, digits, '_' and '-'.
func checkAffix(verr *models.ValidationError, field, s string) {
	if len(s) > maxAffixLength {
		verr.Add(field, fmt.Sprintf("must be at most %d characters (%d given)", maxAffixLength, len(s)))
		return
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			verr.Add(field, fmt.Sprintf("may contain only capital letters A–Z, digits, '_' and '-' (found %q)", r))
			return
		}
	}
}

// codegenOut is a generated batch in BigCommerce's shape.
type codegenOut struct {
	Created            string     `json:"created"`
	MaxUses            int        `json:"max_uses"`
	MaxUsesPerCustomer int        `json:"max_uses_per_customer"`
	BatchSize          int        `json:"batch_size"`
	Codes              []bulkCode `json:"codes"`
}

type bulkCode struct {
	Code string `json:"code"`
}

// Codegen generates a batch of codes for a bulk promotion at once,
// through the batch engine: 201 with the codes. 405 for a promotion that
// is not BULK, 404 for an unknown one, 422 for a field out of
// BigCommerce's or coupond's limits.
func (h *API) Codegen(c echo.Context) error {
	id, err := httpx.PathID(c, "promotion")
	if err != nil {
		return err
	}
	var in codegenIn
	if err := httpx.DecodeJSON(c, &in); err != nil {
		return err
	}
	spec, err := in.spec(id)
	if err != nil {
		return err
	}
	b, cs, err := h.Store.GeneratePromotionCodes(c.Request().Context(), spec)
	if err != nil {
		return err
	}
	out := codegenOut{Created: b.CreatedAt.UTC().Format(timeLayout), MaxUses: b.MaxUsage, MaxUsesPerCustomer: b.MaxUsagePerClient,
		BatchSize: len(cs), Codes: make([]bulkCode, len(cs))}
	for i, cp := range cs {
		out.Codes[i] = bulkCode{Code: cp.Code}
	}
	return c.JSON(http.StatusCreated, response[codegenOut, empty]{Data: out})
}

// codeOut is one code of a promotion in BigCommerce's shape.
type codeOut struct {
	ID                 int64  `json:"id"`
	Code               string `json:"code"`
	CurrentUses        int    `json:"current_uses"`
	MaxUses            int    `json:"max_uses"`
	MaxUsesPerCustomer int    `json:"max_uses_per_customer"`
	Created            string `json:"created"`
}

type codesMeta struct {
	CursorPagination cursorPagination `json:"cursor_pagination"`
	Pagination       *pagination      `json:"pagination,omitempty"`
}

type cursorPagination struct {
	Count       int       `json:"count"`
	PerPage     int       `json:"per_page"`
	StartCursor string    `json:"start_cursor,omitempty"`
	EndCursor   string    `json:"end_cursor,omitempty"`
	Links       pageLinks `json:"links"`
}

// pagination is BigCommerce's deprecated offset block; coupond fills
// it on the first page, with links that page by cursor.
type pagination struct {
	Total       int64     `json:"total"`
	Count       int       `json:"count"`
	PerPage     int       `json:"per_page"`
	CurrentPage int       `json:"current_page"`
	TotalPages  int64     `json:"total_pages"`
	Links       pageLinks `json:"links"`
}

type pageLinks struct {
	Previous string `json:"previous,omitempty"`
	Current  string `json:"current,omitempty"`
	Next     string `json:"next,omitempty"`
}

// Codes lists a promotion's codes in id order, a page at a time: limit
// (1–250, default 50), after or before a cursor, code to find one code
// ignoring case. As BigCommerce documents it, a non-empty page links to
// the next one, and to the previous one unless it is the first; a page
// asked for without a cursor also carries the deprecated pagination
// block. page is refused: coupond pages by cursor only.
func (h *API) Codes(c echo.Context) error {
	id, err := httpx.PathID(c, "promotion")
	if err != nil {
		return err
	}
	var verr models.ValidationError
	q := c.QueryParams()
	f := models.PromotionCodeFilter{PromotionID: id, Code: q.Get("code"), After: q.Get("after"), Before: q.Get("before"),
		Limit: httpx.QueryInt(c, &verr, models.FieldLimit)}
	if q.Has("limit") && f.Limit == 0 {
		f.Limit = -1
	}
	if q.Has("page") {
		verr.Add("page", "is not supported: page with the after and before cursors that meta.cursor_pagination.links carry")
	}
	if err := verr.Err(); err != nil {
		return err
	}
	page, err := h.Store.PromotionCodes(c.Request().Context(), f)
	if err != nil {
		return err
	}
	link := func(cursor, value string) string {
		v := url.Values{"limit": {strconv.Itoa(page.Limit)}}
		if f.Code != "" {
			v.Set("code", f.Code)
		}
		if cursor != "" {
			v.Set(cursor, value)
		}
		return "?" + v.Encode()
	}
	out := response[[]codeOut, codesMeta]{Data: make([]codeOut, len(page.Coupons))}
	for i, cp := range page.Coupons {
		out.Data[i] = codeOut{ID: cp.ID, Code: cp.Code, CurrentUses: cp.Uses, MaxUses: cp.MaxUsage, MaxUsesPerCustomer: cp.MaxUsagePerClient,
			Created: cp.CreatedAt.UTC().Format(timeLayout)}
	}
	cp := cursorPagination{Count: len(out.Data), PerPage: page.Limit, StartCursor: page.Start, EndCursor: page.End}
	if len(out.Data) > 0 {
		cp.Links.Next = link("after", page.End)
		if page.HasBefore {
			cp.Links.Previous = link("before", page.Start)
		}
	}
	out.Meta.CursorPagination = cp
	if page.Total >= 0 {
		p := &pagination{Total: page.Total, Count: len(out.Data), PerPage: page.Limit, CurrentPage: 1,
			TotalPages: (page.Total + int64(page.Limit) - 1) / int64(page.Limit), Links: pageLinks{Current: link("", "")}}
		if page.Total > int64(len(out.Data)) {
			p.Links.Next = link("after", page.End)
		}
		out.Meta.Pagination = p
	}
	return c.JSON(http.StatusOK, out)
}

// DeleteCodes deletes the codes of a promotion named by ?id:in=1,2,3 (1
// to 250 ids): 204 when every one was deleted. Redeemed codes are kept
// with their history and ids that are no code of the promotion are
// reported: then 422 with a message for each by its index
// ("0.id", "2.code") and the counts in meta; the others are deleted all
// the same.
func (h *API) DeleteCodes(c echo.Context) error {
	id, err := httpx.PathID(c, "promotion")
	if err != nil {
		return err
	}
	ids, err := idList(c.QueryParams())
	if err != nil {
		return err
	}
	d, err := h.Store.DeletePromotionCodes(c.Request().Context(), id, ids)
	if err != nil {
		return err
	}
	if len(d.Kept) == 0 {
		return c.NoContent(http.StatusNoContent)
	}
	e := errorEntry{Status: http.StatusUnprocessableEntity, Type: errorType("codes_kept"), Errors: make(map[string]string, len(d.Kept)),
		Title: fmt.Sprintf("%d of %d codes were not deleted (see errors); %d were deleted", len(d.Kept), d.Requested, d.Deleted())}
	for _, fe := range d.Kept {
		e.Errors[fieldName(fe)] = fe.Message
	}
	return c.JSON(http.StatusUnprocessableEntity, errorList{Errors: []errorEntry{e},
		Meta: &bulkMeta{Total: d.Requested, Success: d.Deleted(), Failed: len(d.Kept)}})
}

// fieldIDList is id:in as a whole, missing or unreadable: BigCommerce
// titles that problem its own way (see Errors); a list too long is the
// domain's FieldIDs.
const fieldIDList = "idList"

// idList reads id:in, a comma-separated list of code ids. Deleting by
// code is not offered: a code query parameter is refused rather than
// ignored.
func idList(q url.Values) ([]int64, error) {
	var verr models.ValidationError
	if q.Has("code") {
		verr.Add("code", "is not supported when deleting: name the codes by their ids in id:in")
	}
	raw := strings.TrimSpace(q.Get("id:in"))
	if raw == "" {
		verr.Add(fieldIDList, fmt.Sprintf("is required: name the codes to delete by their ids, such as ?id:in=11,12,13 (at most %d)", models.MaxCodesPerDelete))
		return nil, verr.Err()
	}
	var ids []int64
	for part := range strings.SplitSeq(raw, ",") {
		id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
		if err != nil || id < 1 {
			verr.Add(fieldIDList, fmt.Sprintf("must be code ids separated by commas, such as 11,12,13; %q is not an id", part))
			break
		}
		ids = append(ids, id)
	}
	return ids, verr.Err()
}
