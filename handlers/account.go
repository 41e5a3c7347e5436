package handlers

import (
	"context"
	"net/http"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// AccountStore is what the account page needs.
type AccountStore interface {
	ChangePassword(ctx context.Context, id int64, current, next string) (models.User, error)
}

// Account serves the signed-in user's own account page.
type Account struct {
	Store    AccountStore
	Sessions Sessions
}

// Show is the account page.
func (h *Account) Show(c echo.Context) error {
	f := views.PasswordForm{Notice: h.Sessions.PopString(c.Request().Context(), sessionFlash)}
	return Render(c, http.StatusOK, views.AccountPage(page(c, "Your account", views.SectionAccount), f))
}

// ChangePassword replaces the password; the store ends every session of
// the user, and this one continues with a fresh token.
func (h *Account) ChangePassword(c echo.Context) error {
	u := CurrentUser(c)
	var f views.PasswordForm
	next := c.FormValue("newPassword")
	var err error
	if next != c.FormValue("newPasswordConfirm") {
		err = models.Invalid("newPasswordConfirm", "does not match the new password")
	} else {
		var changed models.User
		if changed, err = h.Store.ChangePassword(c.Request().Context(), u.ID, c.FormValue("currentPassword"), next); err == nil {
			ctx := c.Request().Context()
			if err := h.Sessions.RenewToken(ctx); err != nil {
				return err
			}
			h.Sessions.Put(ctx, SessionVersion, changed.SessionVersion)
			h.Sessions.Put(ctx, sessionFlash, "Your password is changed. Every other session of yours has ended.")
			return c.Redirect(http.StatusSeeOther, "/account")
		}
	}
	var formErr string
	if !formProblem(err, &f.Errors, &formErr) {
		return err
	}
	return Render(c, http.StatusUnprocessableEntity, views.AccountPage(page(c, "Your account", views.SectionAccount), f))
}
