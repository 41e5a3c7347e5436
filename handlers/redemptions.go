package handlers

import (
	"context"
	"net/http"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// RedemptionStore is what cancelling a redemption from the console needs.
type RedemptionStore interface {
	CancelRedemption(ctx context.Context, id int64) (models.Redemption, error)
	Coupon(ctx context.Context, code string) (models.Coupon, error)
}

// Redemptions serves the console's changes to redemptions.
type Redemptions struct {
	Store RedemptionStore
}

// Cancel cancels a redemption so it stops counting against any limit;
// cancelling a cancelled one changes nothing. An htmx request aimed at
// the redemption's row gets the row, with the coupon's uses updated out
// of band; any other goes back to the coupon's page. It fails with
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
	if !wantsFragment(c, views.RedemptionRowID(r.ID)) {
		return seeOther(c, views.CouponURL(r.Code))
	}
	cp, err := h.Store.Coupon(c.Request().Context(), r.Code)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.CancelledRedemption(csrfToken(c), canEdit(c), couponRedemptionRow(r), couponRow(cp)))
}
