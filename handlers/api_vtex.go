package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

// VTEXStore is what the VTEX-style coupon API needs from the store.
type VTEXStore interface {
	Coupon(ctx context.Context, code string) (models.Coupon, error)
	ListCoupons(ctx context.Context, f models.CouponFilter) (models.CouponPage, error)
	UpsertCoupon(ctx context.Context, spec models.CouponSpec) (models.Coupon, bool, error)
	CreateCoupons(ctx context.Context, reqs []models.CouponRequest) ([]models.Coupon, error)
	GenerateCoupons(ctx context.Context, r models.CouponRequest) ([]models.Coupon, error)
	SetCouponArchived(ctx context.Context, code string, archived bool) (models.Coupon, error)
}

// VTEX speaks the request and response shapes of VTEX's coupon API under
// /api/rnb/pvt.
type VTEX struct {
	Store VTEXStore
}

// vtexCouponIn is a coupon configuration as VTEX clients send it. Absent
// numbers are 0 and an absent interval is "00:00:00"; an absent
// isArchived keeps the coupon's state.
type vtexCouponIn struct {
	UTMSource                *string `json:"utmSource"`
	UTMCampaign              *string `json:"utmCampaign"`
	CouponCode               string  `json:"couponCode"`
	IsArchived               *bool   `json:"isArchived"`
	MaxItemsPerClient        int     `json:"maxItemsPerClient"`
	ExpirationIntervalPerUse string  `json:"expirationIntervalPerUse"`
	MaxUsage                 int     `json:"maxUsage"`
}

func (in vtexCouponIn) spec(prefix string) (models.CouponSpec, error) {
	spec, err := models.CouponInput{
		Code:                     in.CouponCode,
		UTMSource:                in.UTMSource,
		UTMCampaign:              in.UTMCampaign,
		Archived:                 in.IsArchived,
		MaxItemsPerClient:        in.MaxItemsPerClient,
		ExpirationIntervalPerUse: in.ExpirationIntervalPerUse,
		MaxUsage:                 in.MaxUsage,
	}.Validate()
	if ve, ok := err.(*models.ValidationError); ok && prefix != "" {
		prefixed := &models.ValidationError{}
		prefixed.Merge(prefix, ve)
		return spec, prefixed
	}
	return spec, err
}

// vtexCouponOut is a coupon as VTEX returns it.
type vtexCouponOut struct {
	UTMSource                *string `json:"utmSource"`
	UTMCampaign              *string `json:"utmCampaign"`
	CouponCode               string  `json:"couponCode"`
	IsArchived               bool    `json:"isArchived"`
	MaxItemsPerClient        int     `json:"maxItemsPerClient"`
	ExpirationIntervalPerUse string  `json:"expirationIntervalPerUse"`
	MaxUsage                 int     `json:"maxUsage"`
	LastModifiedUtc          string  `json:"lastModifiedUtc"`
}

func vtexCoupon(c models.Coupon) vtexCouponOut {
	return vtexCouponOut{
		UTMSource:                c.UTMSource,
		UTMCampaign:              c.UTMCampaign,
		CouponCode:               c.Code,
		IsArchived:               c.Archived,
		MaxItemsPerClient:        c.MaxItemsPerClient,
		ExpirationIntervalPerUse: models.FormatTimeSpan(c.ExpirationIntervalPerUse),
		MaxUsage:                 c.MaxUsage,
		LastModifiedUtc:          c.UpdatedAt.UTC().Format(time.RFC3339Nano),
	}
}

// Upsert creates a coupon (201) or updates the one with the same code
// (200); the code itself never changes.
func (h *VTEX) Upsert(c echo.Context) error {
	var in vtexCouponIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	spec, err := in.spec("")
	if err != nil {
		return err
	}
	cp, created, err := h.Store.UpsertCoupon(c.Request().Context(), spec)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, vtexCoupon(cp))
}

// Get returns one coupon by code, ignoring case.
func (h *VTEX) Get(c echo.Context) error {
	cp, err := h.Store.Coupon(c.Request().Context(), c.Param("code"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, vtexCoupon(cp))
}

// List returns a page of coupons as VTEX's plain array; the cursor of the
// next page travels in X-Next-Cursor and a Link header.
func (h *VTEX) List(c echo.Context) error {
	var verr models.ValidationError
	f := models.CouponFilter{
		Prefix:      c.QueryParam("q"),
		UTMSource:   c.QueryParam("utmSource"),
		UTMCampaign: c.QueryParam("utmCampaign"),
		After:       c.QueryParam("after"),
		Limit:       queryInt(c, &verr, "limit"),
	}
	if c.QueryParam("limit") == "0" {
		verr.Add("limit", fmt.Sprintf("must be between 1 and %d", models.MaxListLimit))
	}
	switch a := c.QueryParam("archived"); a {
	case "":
	case "true", "false":
		f.Archived = new(a == "true")
	default:
		verr.Add("archived", "must be true or false")
	}
	if err := verr.Err(); err != nil {
		return err
	}
	page, err := h.Store.ListCoupons(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := make([]vtexCouponOut, len(page.Coupons))
	for i, cp := range page.Coupons {
		out[i] = vtexCoupon(cp)
	}
	if page.Next != "" {
		q := c.QueryParams()
		q.Set("after", page.Next)
		next := (&url.URL{Path: c.Request().URL.Path, RawQuery: q.Encode()}).String()
		c.Response().Header().Set("X-Next-Cursor", page.Next)
		c.Response().Header().Set("Link", fmt.Sprintf(`<%s>; rel="next"`, next))
	}
	return c.JSON(http.StatusOK, out)
}

// vtexMultipleItem is one entry of a multiple-coupons request.
type vtexMultipleItem struct {
	Quantity            int             `json:"quantity"`
	CouponConfiguration json.RawMessage `json:"couponConfiguration"`
}

// Multiple creates coupons from several configurations, all or nothing,
// and returns the codes. Errors name the item: "[2].couponConfiguration.maxUsage".
func (h *VTEX) Multiple(c echo.Context) error {
	var items []json.RawMessage
	if err := decodeJSON(c, &items); err != nil {
		return err
	}
	reqs := make([]models.CouponRequest, len(items))
	var verr models.ValidationError
	for i, raw := range items {
		prefix := fmt.Sprintf("[%d].", i)
		var item vtexMultipleItem
		if err := unmarshalJSON(raw, &item, prefix); err != nil {
			return err
		}
		if len(item.CouponConfiguration) == 0 || string(item.CouponConfiguration) == "null" {
			verr.Add(prefix+"couponConfiguration", "is required")
			continue
		}
		var in vtexCouponIn
		if err := unmarshalJSON(item.CouponConfiguration, &in, prefix+"couponConfiguration."); err != nil {
			return err
		}
		spec, err := in.spec(prefix + "couponConfiguration.")
		if ve, ok := err.(*models.ValidationError); ok {
			verr.Merge("", ve)
		}
		reqs[i] = models.VTEXRequest(item.Quantity, spec)
	}
	if err := verr.Err(); err != nil {
		return err
	}
	cs, err := h.Store.CreateCoupons(c.Request().Context(), reqs)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, codesOf(cs))
}

// Generate is VTEX's massive generation: ?quantity=N coupons from one
// configuration; it returns the generated codes.
func (h *VTEX) Generate(c echo.Context) error {
	var verr models.ValidationError
	quantity := queryInt(c, &verr, "quantity")
	if c.QueryParam("quantity") == "" {
		verr.Add("quantity", fmt.Sprintf("is required: add ?quantity=N with N from 1 to %d", models.MaxGenerateQuantity))
	}
	var in vtexCouponIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	spec, err := in.spec("")
	if ve, ok := err.(*models.ValidationError); ok {
		verr.Merge("", ve)
	}
	if err := verr.Err(); err != nil {
		return err
	}
	cs, err := h.Store.GenerateCoupons(c.Request().Context(), models.VTEXRequest(quantity, spec))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, codesOf(cs))
}

func codesOf(cs []models.Coupon) []string {
	codes := make([]string, len(cs))
	for i, cp := range cs {
		codes[i] = cp.Code
	}
	return codes
}

// Archive archives one coupon and returns it; 404 for an unknown code.
func (h *VTEX) Archive(c echo.Context) error { return h.setArchived(c, true) }

// Unarchive makes one coupon usable again and returns it; 404 for an
// unknown code, 409 past the active cap.
func (h *VTEX) Unarchive(c echo.Context) error { return h.setArchived(c, false) }

func (h *VTEX) setArchived(c echo.Context, archived bool) error {
	cp, err := h.Store.SetCouponArchived(c.Request().Context(), c.Param("code"), archived)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, vtexCoupon(cp))
}
