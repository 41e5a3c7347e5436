package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// RedemptionStore is what the console's redemption pages need.
type RedemptionStore interface {
	CancelRedemption(ctx context.Context, id int64) (models.Redemption, error)
	Coupon(ctx context.Context, code string) (models.Coupon, error)
	CouponPromotions(ctx context.Context, c models.Coupon) ([]models.Promotion, error)
	Redemption(ctx context.Context, id int64) (models.Redemption, error)
	ListRedemptions(ctx context.Context, f models.RedemptionFilter) (models.RedemptionPage, error)
	EachRedemption(ctx context.Context, f models.RedemptionFilter, fn func(models.Redemption) error) error
	ListPromotions(ctx context.Context, f models.PromotionFilter) (models.PromotionPage, error)
}

// Redemptions serves the list of every redemption, its CSV, and
// cancelling a redemption.
type Redemptions struct {
	Store RedemptionStore
	// Now is the clock that judges the coupon's state after a
	// cancellation.
	Now func() time.Time
}

// Cancel cancels a redemption so it stops counting against any limit;
// cancelling a cancelled one changes nothing. An htmx request aimed at
// the redemption's row gets the row, with the coupon's uses and state
// updated out of band; any other goes back to the coupon's page. It fails with
// ErrNotFound.
func (h *Redemptions) Cancel(c echo.Context) error {
	id, err := httpx.PathID(c, "redemption")
	if err != nil {
		return err
	}
	r, err := h.Store.CancelRedemption(c.Request().Context(), id)
	if err != nil {
		return err
	}
	notify(c, "The redemption of "+r.Code+" for order "+r.OrderID+" is cancelled: its use is free again.")
	if !wantsFragment(c, views.RedemptionRowID(r.ID)) {
		return seeOther(c, views.CouponURL(r.Code))
	}
	cp, err := h.Store.Coupon(c.Request().Context(), r.Code)
	if err != nil {
		return err
	}
	ps, err := h.Store.CouponPromotions(c.Request().Context(), cp)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.CancelledRedemption(csrfToken(c), canEdit(c), couponRedemptionRow(TermsOf(c), r), stateRow(TermsOf(c), cp, ps, h.Now())))
}

// redemptionFilters are the list's filters as the query holds them.
func redemptionFilters(q url.Values) views.RedemptionFilters {
	return views.RedemptionFilters{Code: q.Get("code"), CustomerID: q.Get("customerId"), PromotionID: q.Get("promotionId"),
		UTMSource: q.Get("utmSource"), UTMCampaign: q.Get("utmCampaign"), From: q.Get("from"), To: q.Get("to"), Status: q.Get("status")}
}

// query is the list's address for filters v, at the page after names.
func redemptionsQuery(path string, v views.RedemptionFilters, after string) string {
	return queryURL(path, map[string]string{"code": v.Code, "customerId": v.CustomerID, "promotionId": v.PromotionID, "utmSource": v.UTMSource,
		"utmCampaign": v.UTMCampaign, "from": v.From, "to": v.To, "status": v.Status, "after": after})
}

// List shows one page of every redemption, newest first, filtered; an
// htmx request aimed at the table gets only the table. Filters that
// cannot be read answer 422 with each message beside its filter.
func (h *Redemptions) List(c echo.Context) error {
	ctx := c.Request().Context()
	v := views.RedemptionsView{Filters: redemptionFilters(c.QueryParams())}
	status := http.StatusOK
	f, err := httpx.RedemptionFilterOf(c.QueryParams(), TermsOf(c).Zone())
	if verr := (*models.ValidationError)(nil); errors.As(err, &verr) {
		status, v.Errors = http.StatusUnprocessableEntity, fieldMessages(verr, nil)
	} else if err != nil {
		return err
	}
	if status == http.StatusOK {
		f.Limit = redemptionPageSize
		if v.List, err = redemptionList(c, h.Store, f, redemptionsQuery(views.RedemptionsURL, v.Filters, ""), listedRedemptionRow(TermsOf(c))); err != nil {
			return err
		}
	}
	v.CSVURL = redemptionsQuery(views.RedemptionsCSVURL, v.Filters, "")
	if wantsFragment(c, views.RedemptionsTableID) {
		return Render(c, status, views.RedemptionsTable(v))
	}
	promos, err := h.Store.ListPromotions(ctx, models.PromotionFilter{Limit: models.MaxListLimit})
	if err != nil {
		return err
	}
	for _, p := range promos.Promotions {
		v.Promotions = append(v.Promotions, views.Choice{Value: strconv.FormatInt(p.ID, 10), Label: p.Name})
	}
	return Render(c, status, views.RedemptionsPage(page(c, "Redemptions", views.SectionRedemptions), v))
}

// CSV streams every redemption the list's filters select, newest first;
// filters that cannot be read are a 422 before the file starts.
func (h *Redemptions) CSV(c echo.Context) error {
	f, err := httpx.RedemptionFilterOf(c.QueryParams(), TermsOf(c).Zone())
	if err != nil {
		return err
	}
	return httpx.RedemptionsCSV(c, h.Store, f)
}

// listedRedemptionRow is a redemption on the list of every redemption:
// its row with the promotions it reached.
func listedRedemptionRow(t Terms) func(models.Redemption) views.RedemptionRow {
	return func(r models.Redemption) views.RedemptionRow {
		row := couponRedemptionRow(t, r)
		for _, p := range r.Promotions {
			row.Promotions = append(row.Promotions, views.Choice{Value: views.PromotionURL(p.PromotionID), Label: p.Name})
		}
		return row
	}
}
