// Package vtex speaks VTEX's coupon API under /api/rnb/pvt: creating and
// changing coupons by code, listing them, their usage, archiving, and
// generating several codes from a base code, in VTEX's field names
// (couponCode, utmSource, maxItemsPerClient, expirationIntervalPerUse …).
// Errors are written by Errors in coupond's JSON error body with VTEX's
// field names.
package vtex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

// Store is what the VTEX-style coupon API needs from the store.
type Store interface {
	Coupon(ctx context.Context, code string) (models.Coupon, error)
	ArchivedCoupon(ctx context.Context, code string) (models.Coupon, error)
	ListCoupons(ctx context.Context, f models.CouponFilter) (models.CouponPage, error)
	EachCoupon(ctx context.Context, f models.CouponFilter, fn func(models.Coupon) error) error
	UpsertCoupon(ctx context.Context, spec models.CouponSpec) (models.Coupon, bool, error)
	CreateCoupons(ctx context.Context, reqs []models.CouponRequest) ([]models.Coupon, error)
	GenerateCoupons(ctx context.Context, r models.CouponRequest) ([]models.Coupon, error)
	SetCouponArchived(ctx context.Context, code string, archived bool) (models.Coupon, error)
	EachLiveRedemption(ctx context.Context, couponID int64, fn func(models.Redemption) error) error
}

// API speaks the request and response shapes of VTEX's coupon API under
// /api/rnb/pvt.
type API struct {
	Store Store
}

// New is the VTEX-style API over store.
func New(store Store) *API { return &API{Store: store} }

// fieldNames are VTEX's names for the domain fields whose names
// differ.
var fieldNames = map[string]string{
	models.FieldCode:   "couponCode",
	models.FieldItems:  "body",
	models.FieldCursor: "after",
}

// configuration is the member of a multiple-coupons element that
// holds the coupon configuration.
const configuration = "couponConfiguration"

// fieldName names a field as a VTEX client sent it: "couponCode" for
// the code; "[2].quantity" and "[2].couponConfiguration.maxUsage" for an
// element of a multiple-coupons request. Names that are not domain field
// names (those found while reading the JSON) are kept as they are.
func fieldName(fe models.FieldError) string {
	name := fe.Field
	if n, ok := fieldNames[name]; ok {
		name = n
	}
	switch {
	case fe.Item == models.NoItem:
		return name
	case fe.Field == models.FieldQuantity, fe.Field == configuration:
		return fmt.Sprintf("[%d].%s", fe.Item, name)
	}
	return fmt.Sprintf("[%d].%s.%s", fe.Item, configuration, name)
}

// couponRequest follows VTEX's rule for multiple and massive creation:
// quantity 1 keeps the code literally, more generates codes.
func couponRequest(quantity int, spec models.CouponSpec) models.CouponRequest {
	return models.CouponRequest{Quantity: quantity, Spec: spec, Generate: quantity > 1}
}

// couponIn is a coupon configuration as VTEX clients send it. Absent
// numbers are 0 and an absent interval is "00:00:00"; an absent
// isArchived keeps the coupon's state.
type couponIn struct {
	UTMSource                *string `json:"utmSource"`
	UTMCampaign              *string `json:"utmCampaign"`
	CouponCode               string  `json:"couponCode"`
	IsArchived               *bool   `json:"isArchived"`
	MaxItemsPerClient        int     `json:"maxItemsPerClient"`
	ExpirationIntervalPerUse string  `json:"expirationIntervalPerUse"`
	MaxUsage                 int     `json:"maxUsage"`
}

func (in couponIn) spec() (models.CouponSpec, *models.ValidationError) {
	spec, err := models.CouponInput{
		Code:                     in.CouponCode,
		UTMSource:                in.UTMSource,
		UTMCampaign:              in.UTMCampaign,
		Archived:                 in.IsArchived,
		MaxItemsPerClient:        in.MaxItemsPerClient,
		ExpirationIntervalPerUse: in.ExpirationIntervalPerUse,
		MaxUsage:                 in.MaxUsage,
	}.Validate()
	var verr *models.ValidationError
	errors.As(err, &verr)
	return spec, verr
}

// couponOut is a coupon as VTEX returns it. The spec types the UTM
// fields and groupingKey as strings, so absent values are left out rather
// than sent as null.
type couponOut struct {
	UTMSource                string `json:"utmSource,omitempty"`
	UTMCampaign              string `json:"utmCampaign,omitempty"`
	CouponCode               string `json:"couponCode"`
	IsArchived               bool   `json:"isArchived"`
	MaxItemsPerClient        int    `json:"maxItemsPerClient"`
	ExpirationIntervalPerUse string `json:"expirationIntervalPerUse"`
	MaxUsage                 int    `json:"maxUsage"`
	GroupingKey              string `json:"groupingKey,omitempty"`
	LastModifiedUtc          string `json:"lastModifiedUtc"`
}

// timeLayout is VTEX's timestamp: UTC with seven fractional digits.
const timeLayout = "2006-01-02T15:04:05.0000000Z"

func couponOf(c models.Coupon) couponOut {
	return couponOut{
		UTMSource:                httpx.Deref(c.UTMSource),
		UTMCampaign:              httpx.Deref(c.UTMCampaign),
		CouponCode:               c.Code,
		IsArchived:               c.Archived,
		MaxItemsPerClient:        c.MaxItemsPerClient,
		ExpirationIntervalPerUse: models.FormatTimeSpan(c.ExpirationIntervalPerUse),
		MaxUsage:                 c.MaxUsage,
		GroupingKey:              httpx.Deref(c.GroupingKey),
		LastModifiedUtc:          c.UpdatedAt.UTC().Format(timeLayout),
	}
}

// Upsert creates a coupon (201) or updates the one with the same code
// (200); the code itself never changes.
func (h *API) Upsert(c echo.Context) error {
	var in couponIn
	if err := httpx.DecodeJSON(c, &in); err != nil {
		return err
	}
	spec, verr := in.spec()
	if verr != nil {
		return verr
	}
	cp, created, err := h.Store.UpsertCoupon(c.Request().Context(), spec)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, couponOf(cp))
}

// Get returns one coupon by code, ignoring case.
func (h *API) Get(c echo.Context) error {
	cp, err := h.Store.Coupon(c.Request().Context(), c.Param("code"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, couponOf(cp))
}

// GetArchived returns the archived coupon with the code; 404 when no
// coupon has it or the coupon is not archived.
func (h *API) GetArchived(c echo.Context) error {
	cp, err := h.Store.ArchivedCoupon(c.Request().Context(), c.Param("code"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, couponOf(cp))
}

// usageOut is VTEX's usage report: per customer, the orders that used
// the coupon and when.
type usageOut struct {
	HostName      string                  `json:"hostName"`
	CouponCode    string                  `json:"couponCode"`
	ProfileUsages map[string]profileUsage `json:"profileUsages"`
}

type profileUsage struct {
	OrderUsage []orderUsage `json:"orderUsage"`
}

type orderUsage struct {
	OrderID      string `json:"orderId"`
	UsageDateUtc string `json:"usageDateUtc"`
}

// Usage is VTEX's usage report of one coupon: its live redemptions by
// customer, oldest first; hostName is the host the request was sent to.
// 404 for an unknown code.
func (h *API) Usage(c echo.Context) error {
	ctx := c.Request().Context()
	cp, err := h.Store.Coupon(ctx, c.Param("code"))
	if err != nil {
		return err
	}
	out := usageOut{HostName: requestHost(c), CouponCode: cp.Code, ProfileUsages: map[string]profileUsage{}}
	err = h.Store.EachLiveRedemption(ctx, cp.ID, func(r models.Redemption) error {
		pu := out.ProfileUsages[r.CustomerID]
		pu.OrderUsage = append(pu.OrderUsage, orderUsage{OrderID: r.OrderID, UsageDateUtc: r.CreatedAt.UTC().Format(timeLayout)})
		out.ProfileUsages[r.CustomerID] = pu
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// requestHost is the host name the request was addressed to, without a
// port.
func requestHost(c echo.Context) string {
	host := c.Request().Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

// List returns coupons as VTEX's plain array. Without limit or after it
// is every coupon the filters select, streamed; with them, one page, the
// cursor of the next page in X-Next-Cursor and a Link header.
func (h *API) List(c echo.Context) error {
	var verr models.ValidationError
	q := c.QueryParams()
	f := models.CouponFilter{
		Prefix:      q.Get("q"),
		UTMSource:   q.Get("utmSource"),
		UTMCampaign: q.Get("utmCampaign"),
		After:       q.Get("after"),
		Limit:       httpx.QueryInt(c, &verr, "limit"),
	}
	if q.Get("limit") == "0" {
		verr.Add("limit", fmt.Sprintf("must be between 1 and %d", models.MaxListLimit))
	}
	switch a := q.Get("archived"); a {
	case "":
	case "true", "false":
		f.Archived = new(a == "true")
	default:
		verr.Add("archived", "must be true or false")
	}
	if err := verr.Err(); err != nil {
		return err
	}
	if !q.Has("limit") && !q.Has("after") {
		return h.streamAll(c, f)
	}
	page, err := h.Store.ListCoupons(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := make([]couponOut, len(page.Coupons))
	for i, cp := range page.Coupons {
		out[i] = couponOf(cp)
	}
	if page.Next != "" {
		q.Set("after", page.Next)
		next := (&url.URL{Path: c.Request().URL.Path, RawQuery: q.Encode()}).String()
		c.Response().Header().Set("X-Next-Cursor", page.Next)
		c.Response().Header().Set("Link", fmt.Sprintf(`<%s>; rel="next"`, next))
	}
	return c.JSON(http.StatusOK, out)
}

// streamAll writes every selected coupon as one JSON array, one coupon at
// a time, so memory does not grow with the table. A failure after the
// first byte can only cut the array short, which a client sees as
// malformed JSON.
func (h *API) streamAll(c echo.Context, f models.CouponFilter) error {
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	sep := []byte("[")
	n := 0
	err := h.Store.EachCoupon(c.Request().Context(), f, func(cp models.Coupon) error {
		if _, err := w.Write(sep); err != nil {
			return err
		}
		sep = []byte(",")
		if n++; n%500 == 0 {
			w.Flush()
		}
		return enc.Encode(couponOf(cp))
	})
	if err == nil {
		end := "]\n"
		if n == 0 {
			end = "[]\n"
		}
		_, err = w.Write([]byte(end))
	}
	if err != nil {
		// The answer has begun: the error handler only logs this, with the
		// request id.
		return fmt.Errorf("list coupons: stream cut short after %d coupons: %w", n, err)
	}
	return nil
}

// multipleItem is one entry of a multiple-coupons request.
type multipleItem struct {
	Quantity            int             `json:"quantity"`
	CouponConfiguration json.RawMessage `json:"couponConfiguration"`
}

// Multiple creates coupons from several configurations, all or nothing,
// and answers 200 with the codes. Errors name the element:
// "[2].couponConfiguration.maxUsage".
func (h *API) Multiple(c echo.Context) error {
	var items []json.RawMessage
	if err := httpx.DecodeJSON(c, &items); err != nil {
		return err
	}
	reqs := make([]models.CouponRequest, len(items))
	var verr models.ValidationError
	for i, raw := range items {
		prefix := fmt.Sprintf("[%d].", i)
		var item multipleItem
		if err := httpx.UnmarshalJSON(raw, &item, prefix); err != nil {
			return err
		}
		if len(item.CouponConfiguration) == 0 || string(item.CouponConfiguration) == "null" {
			verr.AddItem(i, configuration, "is required")
			continue
		}
		var in couponIn
		if err := httpx.UnmarshalJSON(item.CouponConfiguration, &in, prefix+configuration+"."); err != nil {
			return err
		}
		spec, ierr := in.spec()
		verr.Merge(i, ierr)
		reqs[i] = couponRequest(item.Quantity, spec)
	}
	if err := verr.Err(); err != nil {
		return err
	}
	cs, err := h.Store.CreateCoupons(c.Request().Context(), reqs)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, codesOf(cs))
}

// Generate is VTEX's massive generation: ?quantity=N coupons from one
// configuration; it answers 200 with the generated codes.
func (h *API) Generate(c echo.Context) error {
	var verr models.ValidationError
	quantity := httpx.QueryInt(c, &verr, "quantity")
	if c.QueryParam("quantity") == "" {
		verr.Add(models.FieldQuantity, fmt.Sprintf("is required: add ?quantity=N with N from 1 to %d", models.MaxGenerateQuantity))
	}
	var in couponIn
	if err := httpx.DecodeJSON(c, &in); err != nil {
		return err
	}
	spec, ierr := in.spec()
	verr.Merge(models.NoItem, ierr)
	if err := verr.Err(); err != nil {
		return err
	}
	cs, err := h.Store.GenerateCoupons(c.Request().Context(), couponRequest(quantity, spec))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, codesOf(cs))
}

func codesOf(cs []models.Coupon) []string {
	codes := make([]string, len(cs))
	for i, cp := range cs {
		codes[i] = cp.Code
	}
	return codes
}

// Archive archives one coupon and answers with its code as a JSON
// string; 404 for an unknown code.
func (h *API) Archive(c echo.Context) error { return h.setArchived(c, true) }

// Unarchive makes one coupon usable again and answers with its code as a
// JSON string; 404 for an unknown code, 409 past the active cap.
func (h *API) Unarchive(c echo.Context) error { return h.setArchived(c, false) }

func (h *API) setArchived(c echo.Context, archived bool) error {
	cp, err := h.Store.SetCouponArchived(c.Request().Context(), c.Param("code"), archived)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cp.Code)
}
