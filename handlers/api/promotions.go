// Package api is coupond's native JSON API under /api: promotions and
// single-use coupons (promotions.go), coupons (coupons.go), validation
// and redemption for checkouts (redemptions.go), reservations
// (reservations.go), generation batches and the coupon exports
// (batches.go). Names are camelCase, amounts are whole minor units, times
// are RFC 3339, and errors are written by Errors as
// {"error":{"code":"…","message":"…","fields":{"field":"why"}}}.
package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

// PromotionStore is what the native promotion API needs from the
// store.
type PromotionStore interface {
	Promotion(ctx context.Context, id int64) (models.Promotion, error)
	ListPromotions(ctx context.Context, f models.PromotionFilter) (models.PromotionPage, error)
	CreatePromotion(ctx context.Context, spec models.PromotionSpec) (models.Promotion, error)
	UpdatePromotion(ctx context.Context, id int64, spec models.PromotionSpec) (models.Promotion, error)
	ArchivePromotion(ctx context.Context, id int64) (models.Promotion, error)
	CreateSingleUse(ctx context.Context, in models.SingleUseInput) (models.Coupon, models.Promotion, error)
}

// Promotions serves promotions and single-use coupons in the native
// JSON API under /api.
type Promotions struct {
	Store PromotionStore
	// Now is the clock a new single-use coupon's state is judged by.
	Now func() time.Time
}

// promotionIn is a promotion as a client sends it. The discount value is
// read raw so that a percentage keeps its decimals exactly.
type promotionIn struct {
	Name              string          `json:"name"`
	Description       string          `json:"description"`
	Status            string          `json:"status"`
	Kind              string          `json:"kind"`
	DiscountType      string          `json:"discountType"`
	DiscountValue     json.RawMessage `json:"discountValue"`
	DiscountCap       *int64          `json:"discountCap"`
	AppliesTo         string          `json:"appliesTo"`
	BeginsAt          *string         `json:"beginsAt"`
	EndsAt            *string         `json:"endsAt"`
	MaxUsage          int             `json:"maxUsage"`
	MaxUsagePerClient int             `json:"maxUsagePerClient"`
	UTMSource         *string         `json:"utmSource"`
	UTMCampaign       *string         `json:"utmCampaign"`
}

func (in promotionIn) spec() (models.PromotionSpec, error) {
	var verr models.ValidationError
	value := httpx.RawNumber(&verr, models.FieldDiscountValue, in.DiscountValue)
	spec, err := models.PromotionInput{
		Name: in.Name, Description: in.Description, Status: in.Status, Kind: in.Kind,
		DiscountType: in.DiscountType, DiscountValue: value, DiscountCap: in.DiscountCap, AppliesTo: in.AppliesTo,
		BeginsAt: httpx.Deref(in.BeginsAt), EndsAt: httpx.Deref(in.EndsAt), MaxUsage: in.MaxUsage, MaxUsagePerClient: in.MaxUsagePerClient,
		UTMSource: in.UTMSource, UTMCampaign: in.UTMCampaign,
	}.Validate()
	httpx.MergeInvalid(&verr, err)
	if err := verr.Err(); err != nil {
		return models.PromotionSpec{}, err
	}
	return spec, nil
}

// promotionOut is a promotion as the API answers it: open dates and an
// absent cap are null; discountValue is a percentage or minor units.
type promotionOut struct {
	ID                int64       `json:"id"`
	Name              string      `json:"name"`
	Description       string      `json:"description"`
	Status            string      `json:"status"`
	Kind              string      `json:"kind"`
	DiscountType      string      `json:"discountType"`
	DiscountValue     json.Number `json:"discountValue"`
	DiscountCap       *int64      `json:"discountCap"`
	AppliesTo         string      `json:"appliesTo"`
	BeginsAt          *time.Time  `json:"beginsAt"`
	EndsAt            *time.Time  `json:"endsAt"`
	MaxUsage          int         `json:"maxUsage"`
	MaxUsagePerClient int         `json:"maxUsagePerClient"`
	UTMSource         *string     `json:"utmSource"`
	UTMCampaign       *string     `json:"utmCampaign"`
	Uses              int         `json:"uses"`
	CreatedAt         time.Time   `json:"createdAt"`
	UpdatedAt         time.Time   `json:"updatedAt"`
}

func promotionJSON(p models.Promotion) promotionOut {
	return promotionOut{
		ID: p.ID, Name: p.Name, Description: p.Description, Status: p.Status, Kind: p.Kind,
		DiscountType: p.DiscountType, DiscountValue: json.Number(models.FormatDiscountValue(p.DiscountType, p.DiscountValue)),
		DiscountCap: p.DiscountCap, AppliesTo: p.AppliesTo, BeginsAt: utcPtr(p.BeginsAt), EndsAt: utcPtr(p.EndsAt),
		MaxUsage: p.MaxUsage, MaxUsagePerClient: p.MaxUsagePerClient, UTMSource: p.UTMSource, UTMCampaign: p.UTMCampaign,
		Uses: p.Uses, CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC(),
	}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Create stores a new promotion: 201 with it.
func (h *Promotions) Create(c echo.Context) error {
	var in promotionIn
	if err := httpx.DecodeJSON(c, &in); err != nil {
		return err
	}
	spec, err := in.spec()
	if err != nil {
		return err
	}
	p, err := h.Store.CreatePromotion(c.Request().Context(), spec)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, promotionJSON(p))
}

// Get returns one promotion; 404 for an unknown id.
func (h *Promotions) Get(c echo.Context) error {
	id, err := httpx.PathID(c, "promotion")
	if err != nil {
		return err
	}
	p, err := h.Store.Promotion(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, promotionJSON(p))
}

// Update replaces every field of a promotion: 200 with it.
func (h *Promotions) Update(c echo.Context) error {
	id, err := httpx.PathID(c, "promotion")
	if err != nil {
		return err
	}
	var in promotionIn
	if err := httpx.DecodeJSON(c, &in); err != nil {
		return err
	}
	spec, err := in.spec()
	if err != nil {
		return err
	}
	p, err := h.Store.UpdatePromotion(c.Request().Context(), id, spec)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, promotionJSON(p))
}

// Archive archives a promotion: 200 with it.
func (h *Promotions) Archive(c echo.Context) error {
	id, err := httpx.PathID(c, "promotion")
	if err != nil {
		return err
	}
	p, err := h.Store.ArchivePromotion(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, promotionJSON(p))
}

// promotionList is one page of promotions; next is the cursor of the
// following page, absent on the last.
type promotionList struct {
	Promotions []promotionOut `json:"promotions"`
	Next       string         `json:"next,omitempty"`
}

// List returns a page of promotions, newest first, filtered by status,
// kind and utm (source or campaign, ignoring case); limit and after page.
func (h *Promotions) List(c echo.Context) error {
	var verr models.ValidationError
	f := models.PromotionFilter{Status: c.QueryParam("status"), Kind: c.QueryParam("kind"), UTM: c.QueryParam("utm"),
		After: c.QueryParam("after"), Limit: httpx.QueryInt(c, &verr, models.FieldLimit)}
	if err := verr.Err(); err != nil {
		return err
	}
	page, err := h.Store.ListPromotions(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := promotionList{Promotions: make([]promotionOut, 0, len(page.Promotions)), Next: page.Next}
	for _, p := range page.Promotions {
		out.Promotions = append(out.Promotions, promotionJSON(p))
	}
	return c.JSON(http.StatusOK, out)
}

// singleUseIn asks for a single-use coupon.
type singleUseIn struct {
	Code          string          `json:"code"`
	CustomerID    string          `json:"customerId"`
	DiscountType  string          `json:"discountType"`
	DiscountValue json.RawMessage `json:"discountValue"`
	DiscountCap   *int64          `json:"discountCap"`
	EndsAt        *string         `json:"endsAt"`
}

// singleUseOut is a single-use coupon and the promotion it reaches.
type singleUseOut struct {
	Coupon    couponOut    `json:"coupon"`
	Promotion promotionOut `json:"promotion"`
}

// CreateSingleUse creates a coupon for one use and its own promotion in
// one step: 201 with both; 409 when the code exists.
func (h *Promotions) CreateSingleUse(c echo.Context) error {
	var in singleUseIn
	if err := httpx.DecodeJSON(c, &in); err != nil {
		return err
	}
	var verr models.ValidationError
	value := httpx.RawNumber(&verr, models.FieldDiscountValue, in.DiscountValue)
	if err := verr.Err(); err != nil {
		return err
	}
	cp, p, err := h.Store.CreateSingleUse(c.Request().Context(), models.SingleUseInput{
		Code: in.Code, CustomerID: in.CustomerID, DiscountType: in.DiscountType, DiscountValue: value,
		DiscountCap: in.DiscountCap, EndsAt: httpx.Deref(in.EndsAt),
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, singleUseOut{Coupon: couponJSON(cp, models.CouponState(cp, []models.Promotion{p}, h.Now())), Promotion: promotionJSON(p)})
}
