package api

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

// CouponStore is what the native coupon API needs from the store.
type CouponStore interface {
	Coupon(ctx context.Context, code string) (models.Coupon, error)
	CreateCoupon(ctx context.Context, spec models.CouponSpec) (models.Coupon, error)
	PatchCoupon(ctx context.Context, code string, p models.CouponPatch) (models.Coupon, error)
	SetCouponArchived(ctx context.Context, code string, archived bool) (models.Coupon, error)
	ListCoupons(ctx context.Context, f models.CouponFilter) (models.CouponPage, error)
	PromotionsReaching(ctx context.Context, cs []models.Coupon) ([]models.Promotion, error)
}

// Coupons serves coupons with a code of their own in the native JSON
// API: create, read, list, change, archive and unarchive.
type Coupons struct {
	Store CouponStore
	// Now is the clock a coupon's state is judged by.
	Now func() time.Time
}

// couponIn is a coupon as a client creates it. The per-use interval is
// written [d.]hh:mm:ss.
type couponIn struct {
	Code                     string  `json:"code"`
	UTMSource                *string `json:"utmSource"`
	UTMCampaign              *string `json:"utmCampaign"`
	Archived                 *bool   `json:"archived"`
	MaxUsage                 int     `json:"maxUsage"`
	MaxUsagePerClient        *int    `json:"maxUsagePerClient"`
	MaxItemsPerClient        int     `json:"maxItemsPerClient"`
	ExpirationIntervalPerUse string  `json:"expirationIntervalPerUse"`
}

// couponPatchIn is a change to a coupon: an absent or null field is left
// as it is; a tag set to "" is removed.
type couponPatchIn struct {
	UTMSource                *string `json:"utmSource"`
	UTMCampaign              *string `json:"utmCampaign"`
	MaxUsage                 *int    `json:"maxUsage"`
	MaxUsagePerClient        *int    `json:"maxUsagePerClient"`
	MaxItemsPerClient        *int    `json:"maxItemsPerClient"`
	ExpirationIntervalPerUse *string `json:"expirationIntervalPerUse"`
}

// couponOut is a coupon as the API answers it, with its state now.
type couponOut struct {
	Code                     string     `json:"code"`
	State                    string     `json:"state"`
	UTMSource                *string    `json:"utmSource"`
	UTMCampaign              *string    `json:"utmCampaign"`
	Archived                 bool       `json:"archived"`
	MaxUsage                 int        `json:"maxUsage"`
	MaxUsagePerClient        int        `json:"maxUsagePerClient"`
	MaxItemsPerClient        int        `json:"maxItemsPerClient"`
	ExpirationIntervalPerUse string     `json:"expirationIntervalPerUse"`
	Uses                     int        `json:"uses"`
	CustomerID               *string    `json:"customerId"`
	BatchID                  *int64     `json:"batchId"`
	PromotionID              *int64     `json:"promotionId"`
	ExpiresAt                *time.Time `json:"expiresAt"`
	CreatedAt                time.Time  `json:"createdAt"`
	UpdatedAt                time.Time  `json:"updatedAt"`
}

// couponList is one page of coupons; next is the cursor of the following
// page, absent on the last.
type couponList struct {
	Coupons []couponOut `json:"coupons"`
	Next    string      `json:"next,omitempty"`
}

// couponsJSON renders cs with their states at now, read with the
// promotions that reach them.
func (h *Coupons) couponsJSON(ctx context.Context, cs []models.Coupon) ([]couponOut, error) {
	ps, err := h.Store.PromotionsReaching(ctx, cs)
	if err != nil {
		return nil, err
	}
	now := h.Now()
	out := make([]couponOut, 0, len(cs))
	for _, c := range cs {
		out = append(out, couponJSON(c, models.CouponState(c, ps, now)))
	}
	return out, nil
}

func couponJSON(c models.Coupon, state string) couponOut {
	return couponOut{
		Code: c.Code, State: state, UTMSource: c.UTMSource, UTMCampaign: c.UTMCampaign, Archived: c.Archived,
		MaxUsage: c.MaxUsage, MaxUsagePerClient: c.MaxUsagePerClient, MaxItemsPerClient: c.MaxItemsPerClient,
		ExpirationIntervalPerUse: models.FormatTimeSpan(c.ExpirationIntervalPerUse), Uses: c.Uses, CustomerID: c.CustomerID,
		BatchID: c.BatchID, PromotionID: c.PromotionID, ExpiresAt: utcPtr(c.ExpiresAt), CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(),
	}
}

func (h *Coupons) answer(c echo.Context, status int, cp models.Coupon) error {
	out, err := h.couponsJSON(c.Request().Context(), []models.Coupon{cp})
	if err != nil {
		return err
	}
	return c.JSON(status, out[0])
}

// strictJSON decodes the request body into v, refusing a field that is
// not among fields: a misspelt field would otherwise change nothing and
// still succeed.
func strictJSON(c echo.Context, v any, fields []string, noun string) error {
	body, err := httpx.ReadBody(c)
	if err != nil {
		return err
	}
	if err := httpx.UnmarshalJSON(body, v, ""); err != nil {
		return err
	}
	var keys map[string]json.RawMessage
	if json.Unmarshal(body, &keys) != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "the JSON body must be an object")
	}
	var verr models.ValidationError
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if !slices.Contains(fields, k) {
			verr.Add(k, "is not a field of "+noun+" here; the fields are "+strings.Join(fields, ", "))
		}
	}
	return verr.Err()
}

var (
	couponInFields    = []string{"code", "utmSource", "utmCampaign", "archived", "maxUsage", "maxUsagePerClient", "maxItemsPerClient", "expirationIntervalPerUse"}
	couponPatchFields = []string{"utmSource", "utmCampaign", "maxUsage", "maxUsagePerClient", "maxItemsPerClient", "expirationIntervalPerUse"}
)

// Create stores a coupon with the code given: 201 with it; 409 when the
// code exists in any case or the active-coupon cap is reached.
func (h *Coupons) Create(c echo.Context) error {
	var in couponIn
	if err := strictJSON(c, &in, couponInFields, "a coupon"); err != nil {
		return err
	}
	spec, err := models.CouponInput{Code: in.Code, UTMSource: in.UTMSource, UTMCampaign: in.UTMCampaign, Archived: in.Archived,
		MaxUsage: in.MaxUsage, MaxUsagePerClient: in.MaxUsagePerClient, MaxItemsPerClient: in.MaxItemsPerClient,
		ExpirationIntervalPerUse: in.ExpirationIntervalPerUse}.Validate()
	if err != nil {
		return err
	}
	cp, err := h.Store.CreateCoupon(c.Request().Context(), spec)
	if err != nil {
		return err
	}
	return h.answer(c, http.StatusCreated, cp)
}

// Get returns the coupon with the code (any case); 404 when none has it.
func (h *Coupons) Get(c echo.Context) error {
	cp, err := h.Store.Coupon(c.Request().Context(), c.Param("code"))
	if err != nil {
		return err
	}
	return h.answer(c, http.StatusOK, cp)
}

// Patch changes the fields given: 200 with the coupon.
func (h *Coupons) Patch(c echo.Context) error {
	var in couponPatchIn
	if err := strictJSON(c, &in, couponPatchFields, "a coupon"); err != nil {
		return err
	}
	cp, err := h.Store.PatchCoupon(c.Request().Context(), c.Param("code"), models.CouponPatch{
		UTMSource: in.UTMSource, UTMCampaign: in.UTMCampaign, MaxUsage: in.MaxUsage, MaxUsagePerClient: in.MaxUsagePerClient,
		MaxItemsPerClient: in.MaxItemsPerClient, ExpirationIntervalPerUse: in.ExpirationIntervalPerUse})
	if err != nil {
		return err
	}
	return h.answer(c, http.StatusOK, cp)
}

// Archive archives the coupon: 200 with it (archiving twice changes
// nothing).
func (h *Coupons) Archive(c echo.Context) error { return h.setArchived(c, true) }

// Unarchive makes an archived coupon usable again: 200 with it; 409 when
// the active-coupon cap is reached.
func (h *Coupons) Unarchive(c echo.Context) error { return h.setArchived(c, false) }

func (h *Coupons) setArchived(c echo.Context, archived bool) error {
	cp, err := h.Store.SetCouponArchived(c.Request().Context(), c.Param("code"), archived)
	if err != nil {
		return err
	}
	return h.answer(c, http.StatusOK, cp)
}

// List returns a page of coupons with the console's filters, read as
// GET /api/coupons.csv reads them (httpx.CouponFilterOf: q, utmSource,
// utmCampaign, state, status, sort); after and limit page.
func (h *Coupons) List(c echo.Context) error {
	var verr models.ValidationError
	f, err := httpx.CouponFilterOf(c.QueryParams())
	httpx.MergeInvalid(&verr, err)
	f.At, f.After, f.Limit = h.Now(), c.QueryParam("after"), httpx.QueryInt(c, &verr, models.FieldLimit)
	if err := verr.Err(); err != nil {
		return err
	}
	page, err := h.Store.ListCoupons(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out, err := h.couponsJSON(c.Request().Context(), page.Coupons)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, couponList{Coupons: out, Next: page.Next})
}
