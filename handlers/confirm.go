package handlers

import (
	"net/http"
	"strconv"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// confirmPage asks v's question on a page of its own: what a browser
// without JavaScript is shown before an action that cannot be undone.
func confirmPage(c echo.Context, section string, v views.Confirm) error {
	return Render(c, http.StatusOK, views.ConfirmPage(page(c, v.Question, section), v))
}

// ConfirmCancel asks before a redemption is cancelled. It fails with
// ErrNotFound.
func (h *Redemptions) ConfirmCancel(c echo.Context) error {
	id, err := httpx.PathID(c, "redemption")
	if err != nil {
		return err
	}
	r, err := h.Store.Redemption(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return confirmPage(c, views.SectionRedemptions, views.CancelRedemptionConfirm(r.ID, r.Code, r.OrderID))
}

// ConfirmArchive asks before a promotion is archived. It fails with
// ErrNotFound.
func (h *Promotions) ConfirmArchive(c echo.Context) error {
	p, err := h.promotion(c)
	if err != nil {
		return err
	}
	return confirmPage(c, views.SectionPromotions, views.ArchivePromotionConfirm(p.ID, p.Name))
}

// ConfirmCancel asks before a batch is cancelled. It fails with
// ErrNotFound.
func (h *Batches) ConfirmCancel(c echo.Context) error {
	b, err := h.batch(c)
	if err != nil {
		return err
	}
	return confirmPage(c, views.SectionBatches, views.CancelBatchConfirm(b.ID))
}

// ConfirmRevoke asks before a token is revoked. It fails with
// ErrNotFound.
func (h *Tokens) ConfirmRevoke(c echo.Context) error {
	id, err := httpx.PathID(c, "token")
	if err != nil {
		return err
	}
	tokens, err := h.Store.ListTokens(c.Request().Context())
	if err != nil {
		return err
	}
	for _, t := range tokens {
		if t.ID == id {
			return confirmPage(c, views.SectionTokens, views.RevokeTokenConfirm(t.ID, t.Name))
		}
	}
	return &models.NotFoundError{Entity: "token", Key: strconv.FormatInt(id, 10)}
}

// ConfirmDisable asks before a user is disabled. It fails with
// ErrNotFound.
func (h *Users) ConfirmDisable(c echo.Context) error {
	id, err := httpx.PathID(c, "user")
	if err != nil {
		return err
	}
	u, err := h.Store.User(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return confirmPage(c, views.SectionUsers, views.DisableUserConfirm(u.ID, u.Email))
}
