package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/coupond/coupond/handlers/httpx"
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
	// Throttle slows guessing of the current password, per client address
	// and user, as sign-in does for passwords.
	Throttle LoginThrottle
}

// Show is the account page.
func (h *Account) Show(c echo.Context) error {
	f := views.PasswordForm{}
	return Render(c, http.StatusOK, views.AccountPage(page(c, "Your account", views.SectionAccount), f))
}

// ChangePassword replaces the password; the store ends every session of
// the user, and this one continues with a fresh token. Wrong current
// passwords are throttled like failed sign-ins: past the limit the form
// comes back with 429 and Retry-After, and the password is not checked.
func (h *Account) ChangePassword(c echo.Context) error {
	u := CurrentUser(c)
	var f views.PasswordForm
	next := c.FormValue("newPassword")
	if next != c.FormValue("newPasswordConfirm") {
		f.Errors = map[string]string{"newPasswordConfirm": "does not match the new password"}
		return h.form(c, http.StatusUnprocessableEntity, f)
	}
	wait, settle := h.Throttle.Attempt(c.RealIP(), "password:"+strconv.FormatInt(u.ID, 10))
	if wait > 0 {
		secs := httpx.SetRetryAfter(c, wait)
		f.Errors = map[string]string{"currentPassword": "was wrong too many times. Wait " + views.Counted(int64(secs), "second", "seconds") + " and try again."}
		return h.form(c, http.StatusTooManyRequests, f)
	}
	ctx := c.Request().Context()
	changed, err := h.Store.ChangePassword(ctx, u.ID, c.FormValue("currentPassword"), next)
	// Only a wrong current password spends a try: the store names it
	// whenever it is wrong.
	var verr *models.ValidationError
	settle(!errors.As(err, &verr) || verr.Message(models.FieldCurrentPassword) == "")
	if err == nil {
		if err := h.Sessions.RenewToken(ctx); err != nil {
			return err
		}
		h.Sessions.Put(ctx, SessionVersion, changed.SessionVersion)
		notify(c, "Your password is changed. Every other session of yours has ended.")
		return c.Redirect(http.StatusSeeOther, "/account")
	}
	var formErr string
	if !formProblem(err, &f.Errors, &formErr) {
		return err
	}
	return h.form(c, http.StatusUnprocessableEntity, f)
}

func (h *Account) form(c echo.Context, status int, f views.PasswordForm) error {
	return Render(c, status, views.AccountPage(page(c, "Your account", views.SectionAccount), f))
}
