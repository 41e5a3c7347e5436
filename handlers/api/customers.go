package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

// CustomerStore is what the native customer API needs from the store.
type CustomerStore interface {
	FindCustomer(ctx context.Context, ref models.CustomerRef) (models.Customer, error)
	CustomerCodes(ctx context.Context, customerID, after string, limit int) (models.CustomerCodePage, error)
	ListRedemptions(ctx context.Context, f models.RedemptionFilter) (models.RedemptionPage, error)
}

// Customers serves a customer, the codes made for them and their
// redemptions in the native JSON API.
type Customers struct {
	Store CustomerStore
	// Now is the clock a code's state is judged by.
	Now func() time.Time
}

// customerOut is a customer as the API answers it; savings are in minor
// units.
type customerOut struct {
	ID             string    `json:"id"`
	Mobile         *string   `json:"mobile"`
	Email          *string   `json:"email"`
	ExternalID     *string   `json:"externalId"`
	Redemptions    int64     `json:"redemptions"`
	Savings        int64     `json:"savings"`
	CreatedAt      time.Time `json:"createdAt"`
	LastActivityAt time.Time `json:"lastActivityAt"`
}

// customerCodeOut is a code made for a customer: issued from a series or
// made as their single-use coupon.
type customerCodeOut struct {
	Code          string     `json:"code"`
	State         string     `json:"state"`
	Source        string     `json:"source"`
	SeriesID      *int64     `json:"seriesId"`
	PromotionName string     `json:"promotionName"`
	Uses          int        `json:"uses"`
	MaxUsage      int        `json:"maxUsage"`
	IssuedAt      time.Time  `json:"issuedAt"`
	ValidTill     *time.Time `json:"validTill"`
}

type customerCodeList struct {
	Coupons []customerCodeOut `json:"coupons"`
	Next    string            `json:"next,omitempty"`
}

// customerRefPrefixes name the identifier a path segment gives, before
// a colon: "email:ann@example.com"; a segment without one is the id.
var customerRefPrefixes = map[string]func(*models.CustomerRef, string){
	"email":      func(r *models.CustomerRef, v string) { r.Email = v },
	"mobile":     func(r *models.CustomerRef, v string) { r.Mobile = v },
	"externalId": func(r *models.CustomerRef, v string) { r.ExternalID = v },
	"id":         func(r *models.CustomerRef, v string) { r.ID = v },
}

// customer finds the customer the path's {ref} names: their id, or
// email:…, mobile:… or externalId:….
func (h *Customers) customer(c echo.Context) (models.Customer, error) {
	raw := c.Param("ref")
	var ref models.CustomerRef
	if kind, value, ok := strings.Cut(raw, ":"); ok && customerRefPrefixes[kind] != nil {
		customerRefPrefixes[kind](&ref, value)
	} else {
		ref.ID = raw
	}
	return h.Store.FindCustomer(c.Request().Context(), ref)
}

// Get returns a customer named by any identifier; 404 when none has it.
func (h *Customers) Get(c echo.Context) error {
	cu, err := h.customer(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, customerJSON(cu))
}

func customerJSON(cu models.Customer) customerOut {
	return customerOut{ID: cu.ID, Mobile: cu.Mobile, Email: cu.Email, ExternalID: cu.ExternalID,
		Redemptions: cu.Redemptions, Savings: cu.Savings, CreatedAt: cu.CreatedAt.UTC(), LastActivityAt: cu.LastActivityAt.UTC()}
}

// Coupons returns a page of the codes made for a customer, newest first.
func (h *Customers) Coupons(c echo.Context) error {
	var verr models.ValidationError
	limit := httpx.QueryInt(c, &verr, models.FieldLimit)
	if err := verr.Err(); err != nil {
		return err
	}
	cu, err := h.customer(c)
	if err != nil {
		return err
	}
	page, err := h.Store.CustomerCodes(c.Request().Context(), cu.ID, c.QueryParam("after"), limit)
	if err != nil {
		return err
	}
	now := h.Now()
	out := customerCodeList{Coupons: make([]customerCodeOut, 0, len(page.Codes)), Next: page.Next}
	for _, ic := range page.Codes {
		out.Coupons = append(out.Coupons, customerCodeOut{Code: ic.Coupon.Code, State: strings.ReplaceAll(ic.State(now), " ", "_"),
			Source: ic.Source, SeriesID: ic.SeriesID, PromotionName: ic.PromotionName, Uses: ic.Coupon.Uses, MaxUsage: ic.Coupon.MaxUsage,
			IssuedAt: ic.IssuedAt.UTC(), ValidTill: utcPtr(ic.ValidTill)})
	}
	return c.JSON(http.StatusOK, out)
}

// Redemptions returns a page of a customer's redemptions, newest first.
func (h *Customers) Redemptions(c echo.Context) error {
	var verr models.ValidationError
	limit := httpx.QueryInt(c, &verr, models.FieldLimit)
	if err := verr.Err(); err != nil {
		return err
	}
	cu, err := h.customer(c)
	if err != nil {
		return err
	}
	page, err := h.Store.ListRedemptions(c.Request().Context(), models.RedemptionFilter{CustomerID: cu.ID, After: c.QueryParam("after"), Limit: limit})
	if err != nil {
		return err
	}
	out := redemptionList{Redemptions: make([]redemptionOut, 0, len(page.Redemptions)), Next: page.Next}
	for _, r := range page.Redemptions {
		out.Redemptions = append(out.Redemptions, redemptionJSON(r))
	}
	return c.JSON(http.StatusOK, out)
}
