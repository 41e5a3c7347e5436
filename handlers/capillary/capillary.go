// Package capillary speaks Capillary's v2 coupon API under /v2/coupon:
// coupon series, issuing codes of several series to one customer,
// checking and redeeming codes, in Capillary's shapes, field names and
// result codes (7xx), with its error body (errors.go).
package capillary

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

// Store is what the Capillary-style API needs from the store.
type Store interface {
	CreateSeries(ctx context.Context, spec models.SeriesSpec) (models.Series, error)
	UpdateSeries(ctx context.Context, id int64, spec models.SeriesSpec) (models.Series, error)
	Series(ctx context.Context, id int64) (models.Series, error)
	SeriesByIDs(ctx context.Context, ids []int64) ([]models.Series, error)
	Issue(ctx context.Context, req models.IssueRequest) (models.Customer, []models.IssueResult, error)
	FindCustomer(ctx context.Context, ref models.CustomerRef) (models.Customer, error)
	Check(ctx context.Context, in models.CheckInput, client string) (models.Verdict, error)
	RedeemAll(ctx context.Context, ins []models.RedemptionInput, client string) ([]models.RedeemResult, bool, error)
	CouponPromotions(ctx context.Context, c models.Coupon) ([]models.Promotion, error)
}

// API speaks the request and response shapes of Capillary's v2
// coupon API under /v2/coupon: coupon series, issuing codes of several
// series to one customer, checking and redeeming codes. Amounts are in
// the currency's units with up to two decimals (coupond keeps minor
// units); percentages are plain ("12.5"). Errors of a whole request are
// written by Errors as {"status":false,"code":629,…}.
type API struct {
	Store Store
	// Zone is the store's time zone, in which a till's redemptionTime
	// without an offset is read; nil is UTC.
	Zone *time.Location
}

// New is the Capillary-style API over store.
func New(store Store, zone *time.Location) *API { return &API{Store: store, Zone: zone} }

// decimals is how many decimals Capillary's amounts may have.
const decimals = 2

// Capillary's result codes that coupond answers with.
const (
	codeOK               = 700
	codeInvalidInput     = 629
	codeRevoked          = 660
	codeNoCustomer       = 701
	codeNotIssuedToUser  = 703
	codeBadSeries        = 707
	codeAlreadyUsed      = 711
	codeSeriesExpired    = 712
	codeCouponExpired    = 713
	codeMaxCreate        = 714
	codeNeedTransaction  = 718
	codeNoSuchCode       = 719
	codeInvalidCustomer  = 721
	codeCannotCreate     = 722
	codeMaxRedemptions   = 728
	codeBadAmount        = 733
	codeRedemptionsUsed  = 736
	codeBadRedeemDate    = 739
	codeOtherCodesFailed = 749
)

// Messages of the success codes.
const (
	msgIssued     = "Coupon processing successful"
	msgRedeemable = "Coupon isRedeem successful"
)

// sources are the channels Capillary accepts as ?source=.
var sources = []string{"ALL", "ECOMMERCE", "FACEBOOK", "INSTORE", "JD", "LINE", "MARTJACK", "MOBILE_APP", "TAOBAO", "TMALL", "WEBSITE", "WEB_ENGAGE", "WECHAT"}

// fieldNames are Capillary's names for the domain fields.
var fieldNames = map[string]string{
	models.FieldName:              "description",
	models.FieldDescription:       "detailedInfo",
	models.FieldEndsAt:            "validTillDate",
	models.FieldBeginsAt:          "validFrom",
	models.FieldDiscountType:      "discountType",
	models.FieldDiscountValue:     "discountValue",
	models.FieldDiscountCap:       "discountUpto",
	models.FieldMaxUsage:          "maxRedeem",
	models.FieldMaxUsagePerClient: "maxRedemptionsInSeriesPerUser",
	models.FieldDiscountCode:      "discountCode",
	models.FieldExpiry:            "expiryStrategyType",
	models.FieldExpiryDays:        "expiryStrategyValue",
	models.FieldMaxCreate:         "maxCreate",
	models.FieldMaxPerCustomer:    "maxVouchersPerUser",
	models.FieldUsesPerCode:       "redemptionPerCouponMaxLimit",
	models.FieldFormat:            "randomCodeLength",
	models.FieldFormatLength:      "randomCodeLength",
	models.FieldFormatPrefix:      "couponPrefix",
	models.FieldFormatSuffix:      "couponSuffix",
	models.FieldFormatCharset:     "alphaNumeric",
	models.FieldOrderID:           "transactionNumber",
	models.FieldOrderAmount:       "billAmount",
	models.FieldItems:             "redemptionRequestList",
	models.FieldCustomerID:        "user",
	models.FieldSeries:            "seriesIds",
	models.FieldRedeemedAt:        "redemptionTime",
}

// fieldName names a field as a Capillary client knows it:
// "validTillDate" for the promotion's end, "maxVouchersPerUser" for the
// codes one customer may hold; an element of the codes to redeem as
// "redemptionRequestList[2].code".
func fieldName(fe models.FieldError) string {
	name := fe.Field
	if n, ok := fieldNames[name]; ok {
		name = n
	}
	// One redemptionTime serves every code of a request, so a code's
	// problem with it is the request's.
	if fe.Item == models.NoItem || fe.Field == models.FieldRedeemedAt {
		return name
	}
	return fmt.Sprintf("redemptionRequestList[%d].%s", fe.Item, name)
}

// result is one result code with its message, as Capillary
// writes errors and statuses: {"status":false,"code":707,"message":"…"}.
type result struct {
	Status  bool   `json:"status"`
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// fail answers a whole request's failure with a result code.
func fail(c echo.Context, status, code int, msg string) error {
	return c.JSON(status, result{Code: code, Message: msg})
}

// seriesBody is the body of creating or changing a series.
type seriesBody struct {
	Series map[string]json.RawMessage `json:"CouponSeriesV2"`
}

// Fields of a series that coupond sets itself: sent ones are ignored,
// with a warning.
var outputFields = []string{"id", "orgId", "numIssued", "numRedeemed", "createdOn", "lastUsed", "warnings", "seriesCode", "numTotal", "latestIssualTime", "latestRedemptionTime", "createdBy"}

// seriesInput reads Capillary's series fields onto in: a new
// series' defaults, or the series being changed. Fields coupond does not
// act on are kept in in.Extra and named in the warnings.
func seriesInput(fields map[string]json.RawMessage, in *models.SeriesInput, creating bool) ([]string, error) {
	var verr models.ValidationError
	var warnings []string
	if in.Extra == nil {
		in.Extra = map[string]json.RawMessage{}
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	has := func(name string) bool { _, ok := fields[name]; return ok }
	for _, name := range names {
		raw := fields[name]
		switch name {
		case "description":
			readString(raw, name, &in.Promotion.Name, &verr)
		case "detailedInfo", "info":
			if name == "info" && has("detailedInfo") {
				continue
			}
			readString(raw, name, &in.Promotion.Description, &verr)
		case "discountCode":
			readString(raw, name, &in.DiscountCode, &verr)
		case "validTillDate":
			var s string
			if readString(raw, name, &s, &verr) {
				if _, err := time.Parse(time.RFC3339, strings.TrimSpace(s)); err != nil && strings.TrimSpace(s) != "" {
					verr.Add(name, fmt.Sprintf(`must be a date and time with its offset, like "2026-12-31T23:59:59+05:30", not %q`, s))
				}
				in.Promotion.EndsAt = s
			}
		case "expiryStrategyType":
			var s string
			if readString(raw, name, &s, &verr) {
				switch strings.ToUpper(strings.TrimSpace(s)) {
				case "SERIES_EXPIRY":
					in.Expiry = models.ExpiryWithSeries
				case "DAYS":
					in.Expiry = models.ExpiryDays
				default:
					verr.Add(name, fmt.Sprintf("must be SERIES_EXPIRY (codes expire with the series) or DAYS (codes expire expiryStrategyValue days after they are issued), not %q", s))
				}
			}
		case "expiryStrategyValue":
			readInt(raw, name, &in.ExpiryDays, &verr)
		case "discountType":
			var s string
			if readString(raw, name, &s, &verr) {
				switch strings.ToUpper(strings.TrimSpace(s)) {
				case "ABS":
					in.Promotion.DiscountType = models.DiscountFixed
				case "PERC":
					in.Promotion.DiscountType = models.DiscountPercent
				default:
					verr.Add(name, fmt.Sprintf("must be ABS (a fixed amount) or PERC (a percentage), not %q", s))
				}
			}
		case "discountValue":
			// Read after the type, below.
		case "discountUpto":
			v, ok, err := readAmount(raw)
			switch {
			case err != nil:
				verr.Add(name, err.Error())
			case !ok || v == 0:
				in.Promotion.DiscountCap = nil
			default:
				in.Promotion.DiscountCap = &v
			}
		case "discountOn":
			var s string
			if readString(raw, name, &s, &verr) && !strings.EqualFold(strings.TrimSpace(s), "BILL") && strings.TrimSpace(s) != "" {
				verr.Add(name, fmt.Sprintf("must be BILL: coupond's discounts apply to the whole bill, not %q", s))
			}
		case "randomCodeLength":
			readInt(raw, name, &in.Format.Length, &verr)
		case "couponPrefix":
			readString(raw, name, &in.Format.Prefix, &verr)
		case "couponSuffix":
			readString(raw, name, &in.Format.Suffix, &verr)
		case "alphaNumeric":
			var b *bool
			if err := json.Unmarshal(raw, &b); err != nil {
				verr.Add(name, "must be true (letters and digits) or false (digits only)")
			} else if b == nil || *b {
				in.Format.Charset = models.CharsetUpperAlnum
			} else {
				in.Format.Charset = models.CharsetDigits
			}
		case "maxCreate":
			readLimit(raw, name, &in.MaxCreate, false, &verr)
		case "maxRedeem":
			readLimit(raw, name, &in.Promotion.MaxUsage, false, &verr)
		case "redemptionPerCouponMaxLimit":
			readLimit(raw, name, &in.UsesPerCode, true, &verr)
		case "maxVouchersPerUser":
			readLimit(raw, name, &in.MaxPerCustomer, false, &verr)
		case "maxRedemptionsInSeriesPerUser":
			readLimit(raw, name, &in.Promotion.MaxUsagePerClient, false, &verr)
		case "clientHandlingType":
			var s string
			if readString(raw, name, &s, &verr) && !strings.EqualFold(strings.TrimSpace(s), "DISC_CODE") {
				warnings = append(warnings, fmt.Sprintf("clientHandlingType %q is not used: coupond generates each series' codes itself (DISC_CODE)", s))
			}
		default:
			if slices.Contains(outputFields, name) {
				warnings = append(warnings, fmt.Sprintf("%s is set by coupond; the value sent is ignored", name))
				continue
			}
			in.Extra[name] = raw
			warnings = append(warnings, fmt.Sprintf("%s is kept and returned as sent, but coupond does not act on it", name))
		}
	}
	if raw, ok := fields["discountValue"]; ok {
		readDiscountValue(raw, in.Promotion.DiscountType, &in.Promotion.DiscountValue, &verr)
	}
	if creating {
		for _, name := range []string{"description", "validTillDate", "discountType", "discountValue"} {
			if !has(name) {
				verr.Add(name, "is required")
			}
		}
	}
	return warnings, verr.Err()
}

// readString reads a JSON string (null is "") into *dst, recording a
// type error under name; it reports whether it read one.
func readString(raw json.RawMessage, name string, dst *string, verr *models.ValidationError) bool {
	var s *string
	if err := json.Unmarshal(raw, &s); err != nil {
		verr.Add(name, "must be a string")
		return false
	}
	*dst = ""
	if s != nil {
		*dst = *s
	}
	return true
}

// readInt reads a JSON whole number into *dst.
func readInt(raw json.RawMessage, name string, dst *int, verr *models.ValidationError) {
	var n *json.Number
	if err := json.Unmarshal(raw, &n); err != nil || n == nil {
		verr.Add(name, "must be a whole number")
		return
	}
	v, err := strconv.ParseInt(n.String(), 10, 32)
	if err != nil {
		verr.Add(name, fmt.Sprintf("must be a whole number, not %s", n))
		return
	}
	*dst = int(v)
}

// readLimit reads one of Capillary's limits into the domain's: -1 or
// null is unlimited (0), as is 0 unless positive is set (then 0 is
// refused); anything below -1 is refused.
func readLimit(raw json.RawMessage, name string, dst *int, positive bool, verr *models.ValidationError) {
	if string(bytes.TrimSpace(raw)) == "null" {
		*dst = 0
		return
	}
	var v int
	var one models.ValidationError
	readInt(raw, name, &v, &one)
	switch {
	case one.Err() != nil:
		verr.Add(name, "must be -1 (unlimited) or a whole number from 1 up")
	case v == -1 || v == 0 && !positive:
		*dst = 0
	case v < 1:
		verr.Add(name, fmt.Sprintf("must be -1 (unlimited) or a whole number from 1 up, not %d", v))
	default:
		*dst = v
	}
}

// readAmount reads an amount in the currency's units, a JSON number or a
// numeric string with at most two decimals, as minor units; false when
// it is null or absent.
func readAmount(raw json.RawMessage) (int64, bool, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false, nil
	}
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, false, errors.New("must be an amount such as 2000 or 99.50")
		}
	} else {
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return 0, false, errors.New("must be an amount such as 2000 or 99.50")
		}
		s = n.String()
	}
	v, err := models.ParseMoney(s, decimals)
	if err != nil {
		return 0, false, fmt.Errorf("must be an amount from 0 to %s with at most two decimals, such as 2000 or 99.50, not %q", moneyJSON(models.MaxAmount), s)
	}
	return int64(v), true, nil
}

// readDiscountValue reads discountValue for the discount type: a
// percentage as it is, an amount in units as minor units.
func readDiscountValue(raw json.RawMessage, discountType string, dst *string, verr *models.ValidationError) {
	if discountType == models.DiscountFixed {
		v, ok, err := readAmount(raw)
		switch {
		case err != nil:
			verr.Add("discountValue", err.Error())
		case !ok:
			verr.Add("discountValue", "is required")
		default:
			*dst = strconv.FormatInt(v, 10)
		}
		return
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			verr.Add("discountValue", "must be a percentage such as 10 or 12.5")
			return
		}
		n = json.Number(s)
	}
	*dst = n.String()
}

// moneyJSON writes minor units as an amount in units: 9950 is
// 99.5, 50000 is 500.
func moneyJSON(minor int64) json.Number {
	return json.Number(strings.TrimSuffix(strings.TrimRight(models.Money(minor).Format(decimals), "0"), "."))
}

// discountValueOf writes a promotion's discount value: the
// percentage, or the amount in units.
func discountValueOf(p models.Promotion) json.Number {
	if p.DiscountType == models.DiscountPercent {
		return json.Number(models.FormatDiscountValue(p.DiscountType, p.DiscountValue))
	}
	return moneyJSON(p.DiscountValue)
}

func discountTypeOf(p models.Promotion) string {
	if p.DiscountType == models.DiscountPercent {
		return "PERC"
	}
	return "ABS"
}

func capOf(p models.Promotion) json.Number {
	if p.DiscountCap == nil {
		return "0"
	}
	return moneyJSON(*p.DiscountCap)
}

// limitOut writes a domain limit as Capillary does: -1 for none.
func limitOut(v int) int {
	if v == 0 {
		return -1
	}
	return v
}

// timeText writes an instant as Capillary does, in UTC; "" for
// none.
func timeText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// seriesJSON is a series as Capillary answers it: a flat object
// with the fields coupond keeps without acting on them beside its own.
func seriesJSON(ser models.Series, warnings []string) map[string]any {
	p := ser.Promotion
	out := map[string]any{}
	for k, v := range ser.ExtraFields() {
		out[k] = v
	}
	f := ser.FormatInput()
	expiryType, expiryValue := "SERIES_EXPIRY", 1
	if ser.Expiry == models.ExpiryDays {
		expiryType, expiryValue = "DAYS", ser.ExpiryDays
	}
	if warnings == nil {
		warnings = []string{}
	}
	for k, v := range map[string]any{
		"id":                            ser.PromotionID,
		"description":                   p.Name,
		"discountCode":                  ser.DiscountCode,
		"validTillDate":                 timeText(p.EndsAt),
		"expiryStrategyType":            expiryType,
		"expiryStrategyValue":           expiryValue,
		"discountType":                  discountTypeOf(p),
		"discountValue":                 discountValueOf(p),
		"discountUpto":                  capOf(p),
		"discountOn":                    "BILL",
		"detailedInfo":                  p.Description,
		"info":                          p.Description,
		"randomCodeLength":              f.Length,
		"couponPrefix":                  f.Prefix,
		"couponSuffix":                  f.Suffix,
		"alphaNumeric":                  f.Charset != models.CharsetDigits,
		"maxCreate":                     limitOut(ser.MaxCreate),
		"maxRedeem":                     limitOut(p.MaxUsage),
		"redemptionPerCouponMaxLimit":   limitOut(ser.UsesPerCode),
		"maxVouchersPerUser":            limitOut(ser.MaxPerCustomer),
		"maxRedemptionsInSeriesPerUser": limitOut(p.MaxUsagePerClient),
		"clientHandlingType":            "DISC_CODE",
		"numIssued":                     ser.Issued,
		"numRedeemed":                   p.Uses,
		"createdOn":                     p.CreatedAt.UTC().Format(time.RFC3339),
		"warnings":                      warnings,
	} {
		out[k] = v
	}
	return out
}

// CreateSeries answers POST /v2/coupon/series with
// {"CouponSeriesV2": {…}}: 200 with the series.
func (h *API) CreateSeries(c echo.Context) error {
	fields, err := readSeries(c)
	if err != nil {
		return err
	}
	in := models.SeriesInput{UsesPerCode: 1}
	warnings, err := seriesInput(fields, &in, true)
	if err != nil {
		return err
	}
	spec, err := in.Validate()
	if err != nil {
		return err
	}
	ser, err := h.Store.CreateSeries(c.Request().Context(), spec)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, seriesJSON(ser, warnings))
}

// UpdateSeries answers PUT /v2/coupon/series/{id}: the fields sent
// change, the others stay.
func (h *API) UpdateSeries(c echo.Context) error {
	id, ok := parseID(c.Param("id"))
	if !ok {
		return fail(c, http.StatusNotFound, codeBadSeries, fmt.Sprintf("Coupon Series ID = %s is invalid", c.Param("id")))
	}
	fields, err := readSeries(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	ser, err := h.Store.Series(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return fail(c, http.StatusNotFound, codeBadSeries, fmt.Sprintf("Coupon Series ID = %d is invalid: no coupon series has this id", id))
	}
	if err != nil {
		return err
	}
	in := ser.Input()
	warnings, err := seriesInput(fields, &in, false)
	if err != nil {
		return err
	}
	spec, err := in.Validate()
	if err != nil {
		return err
	}
	if ser, err = h.Store.UpdateSeries(ctx, id, spec); err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return fail(c, http.StatusNotFound, codeBadSeries, fmt.Sprintf("Coupon Series ID = %d is invalid: no coupon series has this id", id))
		}
		return err
	}
	return c.JSON(http.StatusOK, seriesJSON(ser, warnings))
}

func readSeries(c echo.Context) (map[string]json.RawMessage, error) {
	var body seriesBody
	if err := httpx.DecodeJSON(c, &body); err != nil {
		return nil, err
	}
	if body.Series == nil {
		return nil, echo.NewHTTPError(http.StatusBadRequest, `send the series as {"CouponSeriesV2": {…}}`)
	}
	return body.Series, nil
}

// parseID reads a series id from a path or a list.
func parseID(s string) (int64, bool) {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return id, err == nil && id > 0
}

// GetSeries answers GET /v2/coupon/series?ids=1,2 with {"entity": […],
// "warnings": […]}; an id that names no series is a warning.
func (h *API) GetSeries(c echo.Context) error {
	raw := strings.TrimSpace(c.QueryParam("ids"))
	if raw == "" {
		return models.Invalid("ids", "list the series to read, such as ?ids=544770,553379")
	}
	var ids []int64
	for _, part := range strings.Split(raw, ",") {
		id, ok := parseID(part)
		if !ok {
			return models.Invalid("ids", fmt.Sprintf("must be series ids separated by commas; %q is not one", part))
		}
		ids = append(ids, id)
	}
	if len(ids) > models.MaxIssueSeries {
		return models.Invalid("ids", fmt.Sprintf("lists %d series; at most %d are read at once", len(ids), models.MaxIssueSeries))
	}
	ss, err := h.Store.SeriesByIDs(c.Request().Context(), ids)
	if err != nil {
		return err
	}
	entity := make([]map[string]any, 0, len(ss))
	found := map[int64]bool{}
	for _, ser := range ss {
		entity = append(entity, seriesJSON(ser, nil))
		found[ser.PromotionID] = true
	}
	warnings := []result{}
	for _, id := range ids {
		if !found[id] {
			warnings = append(warnings, result{Code: codeBadSeries, Message: fmt.Sprintf("Coupon Series ID = %d is invalid", id)})
			found[id] = true
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"entity": entity, "warnings": warnings})
}

// customer is a customer as a request names it; id may be a
// string or a number.
type customer struct {
	ID         json.RawMessage `json:"id"`
	Mobile     *string         `json:"mobile"`
	Email      *string         `json:"email"`
	ExternalID *string         `json:"externalId"`
}

// ref reads the identifiers, recording problems under prefix ("customer").
func (cc *customer) ref(prefix string) (models.CustomerRef, error) {
	if cc == nil {
		return models.CustomerRef{}, models.Invalid(prefix, "name the customer by one of id, mobile, email or externalId")
	}
	var ref models.CustomerRef
	if id := bytes.TrimSpace(cc.ID); len(id) > 0 && string(id) != "null" {
		if id[0] == '"' {
			if err := json.Unmarshal(id, &ref.ID); err != nil {
				return ref, models.Invalid(prefix+".id", "must be a string or a whole number")
			}
		} else {
			var n json.Number
			if err := json.Unmarshal(id, &n); err != nil {
				return ref, models.Invalid(prefix+".id", "must be a string or a whole number")
			}
			if _, err := strconv.ParseInt(n.String(), 10, 64); err != nil {
				return ref, models.Invalid(prefix+".id", fmt.Sprintf("must be a string or a whole number, not %s", n))
			}
			ref.ID = n.String()
		}
	}
	for _, p := range []struct {
		src *string
		dst *string
	}{{cc.Mobile, &ref.Mobile}, {cc.Email, &ref.Email}, {cc.ExternalID, &ref.ExternalID}} {
		if p.src != nil {
			*p.dst = *p.src
		}
	}
	return ref.Normalize(prefix + ".")
}

// issueBody is POST /v2/coupon/bulk/issue's body; seriesId is
// /v2/coupon/issue's.
type issueBody struct {
	SeriesIDs []json.Number `json:"seriesIds"`
	SeriesID  *json.Number  `json:"seriesId"`
	Customer  *customer     `json:"customer"`
}

// issued is one issued code, or what is known of the series when
// none was issued.
type issued struct {
	Code            string      `json:"code"`
	SeriesID        int64       `json:"seriesId"`
	Description     string      `json:"description"`
	DiscountCode    string      `json:"discountCode"`
	ValidTill       string      `json:"validTill"`
	DiscountType    string      `json:"discountType"`
	DiscountValue   json.Number `json:"discountValue"`
	DiscountUpto    json.Number `json:"discountUpto"`
	DiscountOn      string      `json:"discountOn"`
	DetailedInfo    string      `json:"detailedInfo"`
	RedemptionCount int         `json:"redemptionCount"`
	ID              int64       `json:"id"`
}

// entity is one series' part of a bulk answer.
type entity struct {
	EntityID int64    `json:"entityId"`
	Result   issued   `json:"result"`
	Errors   []result `json:"errors"`
	Warnings []string `json:"warnings"`
}

// issueErrors maps why a series issued nothing to Capillary's codes.
var issueErrors = map[string]int{
	models.IssueSeriesNotFound: codeBadSeries,
	models.IssueSeriesExpired:  codeSeriesExpired,
	models.IssueSeriesInactive: codeSeriesExpired,
	models.IssueMaxCreate:      codeMaxCreate,
	models.IssueCustomerLimit:  codeCannotCreate,
	models.IssueActiveCap:      codeCannotCreate,
	models.IssueCodesExhausted: codeCannotCreate,
}

// issueEntity writes one series' result.
func issueEntity(r models.IssueResult) entity {
	e := entity{EntityID: r.SeriesID, Result: issued{SeriesID: r.SeriesID, DiscountValue: "0", DiscountUpto: "0"},
		Errors: []result{}, Warnings: []string{}}
	if r.Listed > 1 {
		e.Warnings = append(e.Warnings, fmt.Sprintf("series %d is listed %d times; one code is issued", r.SeriesID, r.Listed))
	}
	if ser := r.Series; ser != nil {
		p := ser.Promotion
		e.Result.Description, e.Result.DiscountCode, e.Result.DetailedInfo = p.Name, ser.DiscountCode, p.Description
		e.Result.DiscountType, e.Result.DiscountValue, e.Result.DiscountUpto, e.Result.DiscountOn = discountTypeOf(p), discountValueOf(p), capOf(p), "BILL"
		e.Result.ValidTill = timeText(p.EndsAt)
		if r.Coupon != nil {
			e.Result.ValidTill = timeText(r.Coupon.ValidTill(p))
		}
	}
	if r.Coupon != nil {
		e.Result.Code, e.Result.ID, e.Result.RedemptionCount = r.Coupon.Code, r.Coupon.ID, r.Coupon.Uses
		return e
	}
	code, ok := issueErrors[r.Reason]
	if !ok {
		code = codeCannotCreate
	}
	e.Errors = append(e.Errors, result{Code: code, Message: issueMessage(r)})
	return e
}

// issueMessage is why a series issued nothing, naming the Capillary
// field of the limit it reached.
func issueMessage(r models.IssueResult) string {
	switch r.Reason {
	case models.IssueCustomerLimit:
		return fmt.Sprintf("Unable to create coupon: %s (%s %d)", r.Message, fieldNames[models.FieldMaxPerCustomer], r.Limit)
	case models.IssueMaxCreate:
		return fmt.Sprintf("%s (%s %d)", r.Message, fieldNames[models.FieldMaxCreate], r.Limit)
	}
	return r.Message
}

// readIssue reads an issue body and ?source=.
func (h *API) readIssue(c echo.Context, single bool) (models.IssueRequest, error) {
	var body issueBody
	if err := httpx.DecodeJSON(c, &body); err != nil {
		return models.IssueRequest{}, err
	}
	var verr models.ValidationError
	var req models.IssueRequest
	ids := body.SeriesIDs
	name := models.FieldSeries
	if single {
		name = "seriesId"
		ids = nil
		if body.SeriesID != nil {
			ids = []json.Number{*body.SeriesID}
		}
		if len(ids) == 0 {
			verr.Add(name, "is required: the series to issue a code from")
		}
	} else if len(ids) == 0 {
		verr.Add(name, "list at least one series id, such as [544770, 553379]")
	}
	for _, n := range ids {
		id, ok := parseID(n.String())
		if !ok {
			verr.Add(name, fmt.Sprintf("must hold series ids (whole numbers from 1 up), not %s", n))
			break
		}
		req.SeriesIDs = append(req.SeriesIDs, id)
	}
	if source := strings.TrimSpace(c.QueryParam("source")); source != "" {
		req.Source = strings.ToUpper(source)
		if !slices.Contains(sources, req.Source) {
			verr.Add(models.FieldSource, fmt.Sprintf("must be one of %s, not %q", strings.Join(sources, ", "), source))
		}
	}
	ref, err := body.Customer.ref(models.FieldCustomer)
	if err != nil {
		var v *models.ValidationError
		if !errors.As(err, &v) {
			return models.IssueRequest{}, err
		}
		verr.Merge(models.NoItem, v)
	}
	req.Customer = ref
	return req, verr.Err()
}

// BulkIssue answers POST /v2/coupon/bulk/issue: one code of each listed
// series to one customer, each series on its own, with HTTP 200 however
// many fail.
func (h *API) BulkIssue(c echo.Context) error {
	req, err := h.readIssue(c, false)
	if err != nil {
		return err
	}
	_, results, err := h.Store.Issue(c.Request().Context(), req)
	if err != nil {
		return err
	}
	body := struct {
		Response     []entity `json:"response"`
		TotalCount   int      `json:"totalCount"`
		FailureCount int      `json:"failureCount"`
	}{Response: make([]entity, 0, len(results)), TotalCount: len(results)}
	for _, r := range results {
		e := issueEntity(r)
		if len(e.Errors) > 0 {
			body.FailureCount++
		}
		body.Response = append(body.Response, e)
	}
	return c.JSON(http.StatusOK, body)
}

// Issue answers POST /v2/coupon/issue: one code of one series, the
// result object alone; a refusal is a 400 with its result code.
func (h *API) Issue(c echo.Context) error {
	req, err := h.readIssue(c, true)
	if err != nil {
		return err
	}
	_, results, err := h.Store.Issue(c.Request().Context(), req)
	if err != nil {
		return err
	}
	e := issueEntity(results[0])
	if len(e.Errors) > 0 {
		return c.JSON(http.StatusBadRequest, e.Errors[0])
	}
	return c.JSON(http.StatusOK, struct {
		issued
		Warnings []string `json:"warnings"`
	}{e.Result, e.Warnings})
}

// nestedStatus is a redemption's status as Capillary nests it.
type nestedStatus struct {
	StatusCode           result   `json:"statusCode"`
	Warnings             []string `json:"warnings"`
	WarningsAsStatusCode []string `json:"warningsAsStatusCode"`
	Code                 int      `json:"code"`
	Success              bool     `json:"success"`
	Message              string   `json:"message"`
}

func newNestedStatus(e result) nestedStatus {
	return nestedStatus{StatusCode: e, Warnings: []string{}, WarningsAsStatusCode: []string{}, Code: e.Code, Success: e.Status, Message: e.Message}
}

// reasonOrder is the order in which a refused code's reasons pick its
// one result code: the first that applies.
var reasonOrder = []string{
	models.ReasonNotFound, models.ReasonNotForCustomer, models.ReasonArchived, models.ReasonExpired, models.ReasonNotStarted,
	models.ReasonNoActivePromotion, models.ReasonUsageLimit, models.ReasonCustomerLimit, models.ReasonItemsLimit,
	models.ReasonPromotionUsageLimit, models.ReasonPromotionCustomerLimit, models.ReasonOtherCode,
}

// reasonText says each reason for people.
var reasonText = map[string]string{
	models.ReasonNotFound:               "Coupon code does not exist",
	models.ReasonNotForCustomer:         "Coupon not issued to this customer",
	models.ReasonArchived:               "Coupon code has been revoked (archived)",
	models.ReasonExpired:                "Coupon has expired",
	models.ReasonNotStarted:             "Coupon cannot be redeemed yet: its promotion has not started",
	models.ReasonNoActivePromotion:      "Coupon Series / Campaign has expired: no active series or promotion gives this code a discount",
	models.ReasonUsageLimit:             "Coupon is already used",
	models.ReasonCustomerLimit:          "Maximum number of redemptions reached for this customer",
	models.ReasonItemsLimit:             "Maximum number of redemptions reached: the customer's items limit",
	models.ReasonPromotionUsageLimit:    "Allowed redemption consumed: the series has reached its total redemptions (maxRedeem)",
	models.ReasonPromotionCustomerLimit: "Allowed redemption consumed: the customer has reached the series' redemptions per customer (maxRedemptionsInSeriesPerUser)",
	models.ReasonOtherCode:              "Coupon Redeem/isRedeem failed because of failure on other coupons in the batch",
}

// refusal is the result code and message of a refused code: the first
// reason's code, with every reason in the message.
func refusal(reasons []string, c *models.Coupon) result {
	var first string
	for _, r := range reasonOrder {
		if slices.Contains(reasons, r) {
			first = r
			break
		}
	}
	code := map[string]int{
		models.ReasonNotFound: codeNoSuchCode, models.ReasonNotForCustomer: codeNotIssuedToUser, models.ReasonArchived: codeRevoked,
		models.ReasonExpired: codeCouponExpired, models.ReasonNotStarted: codeBadRedeemDate, models.ReasonNoActivePromotion: codeSeriesExpired,
		models.ReasonUsageLimit: codeMaxRedemptions, models.ReasonCustomerLimit: codeMaxRedemptions, models.ReasonItemsLimit: codeMaxRedemptions,
		models.ReasonPromotionUsageLimit: codeRedemptionsUsed, models.ReasonPromotionCustomerLimit: codeRedemptionsUsed, models.ReasonOtherCode: codeOtherCodesFailed,
	}[first]
	if first == models.ReasonUsageLimit && c != nil && c.MaxUsage == 1 {
		code = codeAlreadyUsed
	}
	if code == 0 {
		code = codeOtherCodesFailed
	}
	var parts []string
	for _, r := range reasonOrder {
		if slices.Contains(reasons, r) {
			parts = append(parts, reasonText[r])
		}
	}
	return result{Code: code, Message: strings.Join(parts, "; ")}
}

// userQuery reads the customer of a query: one of id, mobile,
// email, externalId.
func userQuery(c echo.Context) (models.CustomerRef, error) {
	ref := models.CustomerRef{ID: c.QueryParam("id"), Mobile: c.QueryParam("mobile"), Email: c.QueryParam("email"), ExternalID: c.QueryParam("externalId")}
	return ref.Normalize("")
}

// check is one code of an is_redeemable answer.
type check struct {
	Code                      string       `json:"code"`
	IsRedeemable              bool         `json:"isRedeemable"`
	IsAbsolute                bool         `json:"isAbsolute"`
	NumberOfRedemptionsByUser int          `json:"numberOfRedemptionsByUser"`
	RedemptionsLeft           int          `json:"redemptionsLeft"`
	AppendedErrorMessage      string       `json:"appendedErrorMessage"`
	Warnings                  []string     `json:"warnings"`
	RedemptionStatus          *result      `json:"redemptionStatus,omitempty"`
	Description               *string      `json:"description,omitempty"`
	DiscountCode              *string      `json:"discountCode,omitempty"`
	DiscountType              *string      `json:"discountType,omitempty"`
	DiscountValue             *json.Number `json:"discountValue,omitempty"`
	DiscountUpto              *json.Number `json:"discountUpto,omitempty"`
	ValidTillDate             *string      `json:"validTillDate,omitempty"`
}

// answer is the body of is_redeemable and redeem.
type answer[T any] struct {
	Redemption       []T      `json:"redemption"`
	RedemptionStatus result   `json:"redemptionStatus"`
	Warnings         []string `json:"warnings"`
}

// codesParam splits ?code=A,B, refusing none and more than the most one
// request redeems.
func codesParam(raw string) ([]string, error) {
	var codes []string
	for _, part := range strings.Split(raw, ",") {
		if part = strings.TrimSpace(part); part != "" {
			codes = append(codes, part)
		}
	}
	switch {
	case len(codes) == 0:
		return nil, models.Invalid(models.FieldCode, "list the codes to check, separated by commas: ?code=A1B2C3,D4E5F6")
	case len(codes) > models.MaxRedeemCodes:
		return nil, models.Invalid(models.FieldCode, fmt.Sprintf("lists %d codes; at most %d are checked at once", len(codes), models.MaxRedeemCodes))
	}
	return codes, nil
}

// IsRedeemable answers GET /v2/coupon/is_redeemable?code=A,B&mobile=…:
// 200 with one entry per code; details=true adds each code's discount.
func (h *API) IsRedeemable(c echo.Context) error {
	codes, err := codesParam(c.QueryParam("code"))
	if err != nil {
		return err
	}
	ref, err := userQuery(c)
	if err != nil {
		return err
	}
	details := strings.EqualFold(c.QueryParam("details"), "true") || strings.EqualFold(c.QueryParam("details"), "extended")
	ctx := c.Request().Context()
	answer := answer[check]{Redemption: make([]check, 0, len(codes)), Warnings: []string{}}
	if v := c.QueryParam("details"); v != "" && !details && !strings.EqualFold(v, "false") {
		answer.Warnings = append(answer.Warnings, fmt.Sprintf("details=%s is not understood; use true or false", v))
	}
	cust, err := h.Store.FindCustomer(ctx, ref)
	if errors.Is(err, models.ErrNotFound) {
		st := result{Code: codeNoCustomer, Message: fmt.Sprintf("The customer could not be found: no customer has %s", ref)}
		for _, code := range codes {
			answer.Redemption = append(answer.Redemption, check{Code: code, AppendedErrorMessage: st.Message, Warnings: []string{}, RedemptionStatus: &st})
		}
		answer.RedemptionStatus = st
		return c.JSON(http.StatusOK, answer)
	}
	if err != nil {
		return err
	}
	answer.RedemptionStatus = result{Status: true, Code: codeOK, Message: msgRedeemable}
	found := newDiscounts(h.Store)
	for _, code := range codes {
		v, err := h.Store.Check(ctx, models.CheckInput{Code: code, CustomerID: cust.ID, Items: 1}, c.RealIP())
		if err != nil {
			return err
		}
		e := check{Code: code, IsRedeemable: v.Valid, NumberOfRedemptionsByUser: v.CustomerUses, RedemptionsLeft: v.UsesLeft(), Warnings: []string{}}
		st := result{Status: true, Code: codeOK, Message: msgRedeemable}
		if v.Coupon != nil {
			e.Code = v.Coupon.Code
		}
		if !v.Valid {
			st = refusal(v.Reasons, v.Coupon)
			e.AppendedErrorMessage = st.Message
			if answer.RedemptionStatus.Status {
				answer.RedemptionStatus = st
			}
		}
		e.RedemptionStatus = &st
		p, ser, ok, err := found.of(ctx, v.Coupon, v.Promotions)
		if err != nil {
			return err
		}
		if ok {
			e.IsAbsolute = p.DiscountType == models.DiscountFixed
			if details {
				t, dv, up := discountTypeOf(p), discountValueOf(p), capOf(p)
				vt := timeText(v.Coupon.ValidTill(p))
				e.Description, e.DiscountType, e.DiscountValue, e.DiscountUpto, e.ValidTillDate = &p.Name, &t, &dv, &up, &vt
				dc := ""
				if ser != nil {
					dc = ser.DiscountCode
				}
				e.DiscountCode = &dc
			}
		}
		answer.Redemption = append(answer.Redemption, e)
	}
	return c.JSON(http.StatusOK, answer)
}

// discounts finds the promotion that gives each code of one request its
// discount, reading each series once.
type discounts struct {
	store  Store
	series map[int64]*models.Series
}

func newDiscounts(store Store) *discounts {
	return &discounts{store: store, series: map[int64]*models.Series{}}
}

// of is the promotion that gives coupon c (nil when the code does not
// exist) its discount: the first of applied, those that would apply,
// else its series or the first promotion it reaches; with its series
// when it is one. false when there is none.
func (d *discounts) of(ctx context.Context, c *models.Coupon, applied []models.AppliedPromotion) (models.Promotion, *models.Series, bool, error) {
	if c == nil {
		return models.Promotion{}, nil, false, nil
	}
	var p models.Promotion
	switch {
	case len(applied) > 0:
		p = applied[0].Promotion
	case c.PromotionID != nil:
		ser, err := d.seriesOf(ctx, *c.PromotionID)
		switch {
		case err != nil:
			return models.Promotion{}, nil, false, err
		case ser != nil:
			return ser.Promotion, ser, true, nil
		}
		fallthrough
	default:
		ps, err := d.store.CouponPromotions(ctx, *c)
		if err != nil || len(ps) == 0 {
			return models.Promotion{}, nil, false, err
		}
		p = ps[0]
	}
	if p.Kind != models.KindSeries {
		return p, nil, true, nil
	}
	ser, err := d.seriesOf(ctx, p.ID)
	return p, ser, true, err
}

// seriesOf is the series with id, nil when the promotion is not one.
func (d *discounts) seriesOf(ctx context.Context, id int64) (*models.Series, error) {
	if ser, ok := d.series[id]; ok {
		return ser, nil
	}
	ser, err := d.store.Series(ctx, id)
	switch {
	case errors.Is(err, models.ErrNotFound):
		d.series[id] = nil
		return nil, nil
	case err != nil:
		return nil, err
	}
	d.series[id] = &ser
	return &ser, nil
}

// redeemBody is POST /v2/coupon/redeem's body.
type redeemBody struct {
	RedemptionRequestList []struct {
		Code string `json:"code"`
	} `json:"redemptionRequestList"`
	User              *customer       `json:"user"`
	TransactionNumber *string         `json:"transactionNumber"`
	BillAmount        json.RawMessage `json:"billAmount"`
	RedemptionTime    *string         `json:"redemptionTime"`
}

// redeemedOut is one code of a redeem answer.
type redeemedOut struct {
	Code                 string       `json:"code"`
	ID                   int64        `json:"id"`
	SeriesCode           int64        `json:"seriesCode"`
	DiscountCode         string       `json:"discountCode"`
	IsAbsolute           bool         `json:"isAbsolute"`
	CouponValue          json.Number  `json:"couponValue"`
	DiscountType         string       `json:"discountType"`
	DiscountValue        json.Number  `json:"discountValue"`
	DiscountUpto         json.Number  `json:"discountUpto"`
	AppendedErrorMessage string       `json:"appendedErrorMessage"`
	RedemptionStatus     nestedStatus `json:"redemptionStatus"`
	Warnings             []string     `json:"warnings"`
}

// redemptionTimeLayouts are the forms of redemptionTime Capillary's
// examples send; a time without an offset is the store's wall clock.
var redemptionTimeLayouts = []string{"2006-01-02 15:04:05", time.RFC3339}

// redemptionTime reads redemptionTime, a time without an offset as the
// wall clock of zone; the zero time (the store's clock decides) when it
// is absent or blank. The redemption is recorded at the time read, and
// its dates and limits are judged at it; the store refuses one in the
// future or too long ago.
func redemptionTime(raw *string, zone *time.Location) (time.Time, error) {
	if raw == nil || strings.TrimSpace(*raw) == "" {
		return time.Time{}, nil
	}
	if zone == nil {
		zone = time.UTC
	}
	for _, layout := range redemptionTimeLayouts {
		if t, err := time.ParseInLocation(layout, strings.TrimSpace(*raw), zone); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf(`must be "YYYY-MM-DD HH:MM:SS" (the store's time, %s) or a date and time with its offset, not %q`, zone, *raw)
}

// Redeem answers POST /v2/coupon/redeem: every listed code redeemed for
// the customer and the transaction, at redemptionTime when one is sent,
// or none (HTTP 400, each code with
// its result code and 749 on those that could have been redeemed). A
// transaction number redeems each code once: sending it again answers
// the same redemptions.
func (h *API) Redeem(c echo.Context) error {
	var body redeemBody
	if err := httpx.DecodeJSON(c, &body); err != nil {
		return err
	}
	var verr models.ValidationError
	if len(body.RedemptionRequestList) == 0 {
		verr.Add(models.FieldItems, `list the codes to redeem: [{"code": "A1B2C3"}]`)
	}
	for i, r := range body.RedemptionRequestList {
		if strings.TrimSpace(r.Code) == "" {
			verr.AddItem(i, models.FieldCode, "is required")
		}
	}
	ref, err := body.User.ref("user")
	if err != nil {
		var v *models.ValidationError
		if !errors.As(err, &v) {
			return err
		}
		verr.Merge(models.NoItem, v)
	}
	at, err := redemptionTime(body.RedemptionTime, h.Zone)
	if err != nil {
		verr.Add(models.FieldRedeemedAt, err.Error())
	}
	if err := verr.Err(); err != nil {
		return err
	}
	bill, ok, err := readAmount(body.BillAmount)
	if err != nil || !ok {
		msg := "Invalid transaction amount: billAmount is required, such as 2000 or 99.50"
		if err != nil {
			msg = "Invalid transaction amount: billAmount " + err.Error()
		}
		return fail(c, http.StatusBadRequest, codeBadAmount, msg)
	}
	if body.TransactionNumber == nil || strings.TrimSpace(*body.TransactionNumber) == "" {
		return fail(c, http.StatusBadRequest, codeNeedTransaction, "Transaction number needed for redemption: send transactionNumber, which makes the redemption safe to retry")
	}
	ctx := c.Request().Context()
	answer := answer[redeemedOut]{Redemption: make([]redeemedOut, 0, len(body.RedemptionRequestList)), Warnings: []string{}}
	cust, err := h.Store.FindCustomer(ctx, ref)
	if errors.Is(err, models.ErrNotFound) {
		st := result{Code: codeNoCustomer, Message: fmt.Sprintf("The customer could not be found: no customer has %s", ref)}
		for _, r := range body.RedemptionRequestList {
			answer.Redemption = append(answer.Redemption, redeemedOut{Code: r.Code, CouponValue: "0", DiscountValue: "0", DiscountUpto: "0",
				AppendedErrorMessage: st.Message, RedemptionStatus: newNestedStatus(st), Warnings: []string{}})
		}
		answer.RedemptionStatus = st
		return c.JSON(http.StatusBadRequest, answer)
	}
	if err != nil {
		return err
	}
	ins := make([]models.RedemptionInput, 0, len(body.RedemptionRequestList))
	for _, r := range body.RedemptionRequestList {
		ins = append(ins, models.RedemptionInput{Code: r.Code, CustomerID: cust.ID, OrderID: *body.TransactionNumber, Items: 1, OrderAmount: &bill, At: at})
	}
	results, all, err := h.Store.RedeemAll(ctx, ins, c.RealIP())
	if err != nil {
		return err
	}
	answer.RedemptionStatus = result{Status: true, Code: codeOK, Message: msgIssued}
	found := newDiscounts(h.Store)
	for _, r := range results {
		e := redeemedOut{Code: r.Code, ID: r.Redemption.ID, CouponValue: "0", DiscountValue: "0", DiscountUpto: "0", Warnings: []string{}}
		p, ser, ok, err := found.of(ctx, r.Coupon, nil)
		if err != nil {
			return err
		}
		if ok {
			e.DiscountType, e.DiscountValue, e.DiscountUpto, e.IsAbsolute = discountTypeOf(p), discountValueOf(p), capOf(p), p.DiscountType == models.DiscountFixed
			if ser != nil {
				e.SeriesCode, e.DiscountCode = ser.PromotionID, ser.DiscountCode
			}
		}
		st := result{Status: true, Code: codeOK, Message: msgIssued}
		if all {
			if d := r.Redemption.Discount; d != nil {
				e.CouponValue = moneyJSON(*d)
			}
		} else {
			st = refusal(r.Reasons, r.Coupon)
			e.AppendedErrorMessage = st.Message
			if answer.RedemptionStatus.Status || answer.RedemptionStatus.Code == codeOtherCodesFailed && st.Code != codeOtherCodesFailed {
				answer.RedemptionStatus = st
			}
		}
		e.RedemptionStatus = newNestedStatus(st)
		answer.Redemption = append(answer.Redemption, e)
	}
	if !all {
		return c.JSON(http.StatusBadRequest, answer)
	}
	return c.JSON(http.StatusOK, answer)
}
