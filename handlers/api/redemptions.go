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

// RedemptionStore is what validation and redemption need from the
// store.
type RedemptionStore interface {
	Check(ctx context.Context, in models.CheckInput, client string) (models.Verdict, error)
	Redeem(ctx context.Context, in models.RedemptionInput, client string) (models.Redemption, bool, error)
	Redemption(ctx context.Context, id int64) (models.Redemption, error)
	CancelRedemption(ctx context.Context, id int64) (models.Redemption, error)
	ListRedemptions(ctx context.Context, f models.RedemptionFilter) (models.RedemptionPage, error)
	EachRedemption(ctx context.Context, f models.RedemptionFilter, fn func(models.Redemption) error) error
}

// Redemptions serves code validation and redemptions in the native
// JSON API under /api. The client address (c.RealIP, which honours
// --trust-proxy) is what the guessing protection counts.
type Redemptions struct {
	Store RedemptionStore
}

// appliedOut is a promotion a validation or redemption applies; discount
// is absent when no order amount was given.
type appliedOut struct {
	ID            int64       `json:"id"`
	Name          string      `json:"name"`
	DiscountType  string      `json:"discountType"`
	DiscountValue json.Number `json:"discountValue"`
	DiscountCap   *int64      `json:"discountCap,omitempty"`
	Discount      *int64      `json:"discount,omitempty"`
}

// validationOut is the answer to "could this code be redeemed now".
type validationOut struct {
	Valid      bool         `json:"valid"`
	Reasons    []string     `json:"reasons"`
	Promotions []appliedOut `json:"promotions"`
	Discount   *int64       `json:"discount,omitempty"`
	// Reserved is how many of the coupon's uses live reservations hold.
	Reserved int `json:"reserved"`
}

// Validate answers whether a code could be redeemed now, by whom
// (customerId), for how many items and, with orderAmount, for what
// discount. It always answers 200 with the verdict; 422 for bad
// parameters, 429 for a client that guessed too much.
func (h *Redemptions) Validate(c echo.Context) error {
	var verr models.ValidationError
	in := models.CheckInput{Code: c.Param("code"), CustomerID: c.QueryParam("customerId"), Items: httpx.QueryInt(c, &verr, models.FieldItems)}
	in.OrderAmount = httpx.FormAmount(&verr, models.FieldOrderAmount, c.QueryParam(models.FieldOrderAmount))
	if err := verr.Err(); err != nil {
		return err
	}
	v, err := h.Store.Check(c.Request().Context(), in, c.RealIP())
	if err != nil {
		return err
	}
	out := validationOut{Valid: v.Valid, Reasons: v.Reasons, Promotions: []appliedOut{}, Discount: v.Discount, Reserved: v.Held}
	if out.Reasons == nil {
		out.Reasons = []string{}
	}
	for _, ap := range v.Promotions {
		p := ap.Promotion
		out.Promotions = append(out.Promotions, appliedOut{ID: p.ID, Name: p.Name, DiscountType: p.DiscountType,
			DiscountValue: json.Number(models.FormatDiscountValue(p.DiscountType, p.DiscountValue)), DiscountCap: p.DiscountCap, Discount: ap.Discount})
	}
	return c.JSON(http.StatusOK, out)
}

// redemptionIn is a redemption as a client asks for it.
type redemptionIn struct {
	Code        string `json:"code"`
	CustomerID  string `json:"customerId"`
	OrderID     string `json:"orderId"`
	Items       int    `json:"items"`
	OrderAmount *int64 `json:"orderAmount"`
}

// redemptionOut is a redemption as the API answers it.
type redemptionOut struct {
	ID          int64        `json:"id"`
	Code        string       `json:"code"`
	CustomerID  string       `json:"customerId"`
	OrderID     string       `json:"orderId"`
	Items       int          `json:"items"`
	OrderAmount *int64       `json:"orderAmount,omitempty"`
	Discount    *int64       `json:"discount,omitempty"`
	Promotions  []appliedOut `json:"promotions"`
	CreatedAt   time.Time    `json:"createdAt"`
	Cancelled   bool         `json:"cancelled"`
	CancelledAt *time.Time   `json:"cancelledAt,omitempty"`
}

func redemptionJSON(r models.Redemption) redemptionOut {
	out := redemptionOut{ID: r.ID, Code: r.Code, CustomerID: r.CustomerID, OrderID: r.OrderID, Items: r.Items,
		OrderAmount: r.OrderAmount, Discount: r.Discount, Promotions: []appliedOut{}, CreatedAt: r.CreatedAt.UTC(),
		Cancelled: !r.Live(), CancelledAt: utcPtr(r.CancelledAt)}
	for _, rp := range r.Promotions {
		out.Promotions = append(out.Promotions, appliedOf(rp.PromotionID, rp.Name, rp.DiscountType, rp.DiscountValue, rp.Discount))
	}
	return out
}

// appliedOf is a promotion a redemption or a reservation applied, with
// what it took off.
func appliedOf(id int64, name, discountType string, discountValue int64, discount *int64) appliedOut {
	return appliedOut{ID: id, Name: name, DiscountType: discountType,
		DiscountValue: json.Number(models.FormatDiscountValue(discountType, discountValue)), Discount: discount}
}

// Redeem records one use of a code for an order: 201 with the
// redemption; 200 with the first one when the same code and order come
// again; 409 with the reasons when the code cannot be redeemed.
func (h *Redemptions) Redeem(c echo.Context) error {
	var in redemptionIn
	if err := httpx.DecodeJSON(c, &in); err != nil {
		return err
	}
	r, created, err := h.Store.Redeem(c.Request().Context(), models.RedemptionInput{
		Code: in.Code, CustomerID: in.CustomerID, OrderID: in.OrderID, Items: in.Items, OrderAmount: in.OrderAmount,
	}, c.RealIP())
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, redemptionJSON(r))
}

// Get returns one redemption; 404 for an unknown id.
func (h *Redemptions) Get(c echo.Context) error {
	id, err := httpx.PathID(c, "redemption")
	if err != nil {
		return err
	}
	r, err := h.Store.Redemption(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, redemptionJSON(r))
}

// Cancel stops a redemption counting against any limit; the record stays,
// marked cancelled. Cancelling again answers the same. 404 for an
// unknown id.
func (h *Redemptions) Cancel(c echo.Context) error {
	id, err := httpx.PathID(c, "redemption")
	if err != nil {
		return err
	}
	r, err := h.Store.CancelRedemption(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, redemptionJSON(r))
}

// redemptionList is a page of redemptions and the cursor of the next.
type redemptionList struct {
	Redemptions []redemptionOut `json:"redemptions"`
	Next        string          `json:"next,omitempty"`
}

// List returns a page of redemptions, newest first, filtered by code,
// customerId, promotionId, utmSource, utmCampaign, status (all, live,
// cancelled) and the period from–to; limit and after page. A bad filter
// is a 422 naming it.
func (h *Redemptions) List(c echo.Context) error {
	f, err := httpx.RedemptionFilterOf(c.QueryParams(), time.UTC)
	var verr models.ValidationError
	httpx.MergeInvalid(&verr, err)
	f.After, f.Limit = c.QueryParam("after"), httpx.QueryInt(c, &verr, models.FieldLimit)
	if err := verr.Err(); err != nil {
		return err
	}
	page, err := h.Store.ListRedemptions(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := redemptionList{Redemptions: make([]redemptionOut, 0, len(page.Redemptions)), Next: page.Next}
	for _, r := range page.Redemptions {
		out.Redemptions = append(out.Redemptions, redemptionJSON(r))
	}
	return c.JSON(http.StatusOK, out)
}

// CSV streams every redemption the list's filters select as CSV, newest
// first: a 422 naming a bad filter before the file starts.
func (h *Redemptions) CSV(c echo.Context) error {
	f, err := httpx.RedemptionFilterOf(c.QueryParams(), time.UTC)
	if err != nil {
		return err
	}
	return httpx.RedemptionsCSV(c, h.Store, f)
}
