package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// AuthStore is what signing in, out and first-run setup need.
type AuthStore interface {
	Authenticate(ctx context.Context, email, password string) (models.User, error)
	RecordLogout(ctx context.Context) error
	CheckSetupToken(ctx context.Context, token string) error
	SetupAdmin(ctx context.Context, token string, in models.UserInput) (models.User, error)
}

// Sessions is the part of the session manager the handlers use.
type Sessions interface {
	RenewToken(ctx context.Context) error
	Put(ctx context.Context, key string, val any)
	Destroy(ctx context.Context) error
	PopString(ctx context.Context, key string) string
}

// LoginThrottle slows password guessing by client address and account:
// the email at sign-in, "password:<user id>" when changing a password.
// Attempt books one try before the password is checked, so concurrent
// guesses cannot all slip past the limit; it returns how long to wait when
// the client must not try now, or the function that settles the try.
type LoginThrottle interface {
	Attempt(ip, email string) (wait time.Duration, settle func(succeeded bool))
}

// Session keys the handlers write. SessionSignedIn and SessionSeen hold
// Unix seconds by the server's clock: when the user signed in and when the
// session was last seen in use.
const (
	SessionUserID   = "userID"
	SessionVersion  = "sessionVersion"
	SessionSignedIn = "signedIn"
	SessionSeen     = "lastSeen"
	sessionFlash    = "flash"
)

// Auth serves sign-in, sign-out and the first-run setup page. Now is the
// clock that stamps a new session; it must be set.
type Auth struct {
	Store    AuthStore
	Sessions Sessions
	Throttle LoginThrottle
	Now      func() time.Time
}

// LoginForm shows the sign-in page; signed-in users go on to the console.
func (h *Auth) LoginForm(c echo.Context) error {
	if CurrentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	return Render(c, http.StatusOK, views.LoginPage(page(c, "Sign in", ""), views.LoginForm{Next: c.QueryParam("next")}))
}

// Login checks the credentials, throttling repeated failures, and starts a
// session with a fresh token.
func (h *Auth) Login(c echo.Context) error {
	f := views.LoginForm{Email: strings.TrimSpace(c.FormValue("email")), Next: c.FormValue("next")}
	email, _ := models.NormalizeEmail(f.Email)
	wait, settle := h.Throttle.Attempt(c.RealIP(), email)
	if wait > 0 {
		secs := httpx.SetRetryAfter(c, wait)
		f.Error = "Too many failed sign-ins. Wait " + views.Counted(int64(secs), "second", "seconds") + " and try again."
		return Render(c, http.StatusTooManyRequests, views.LoginPage(page(c, "Sign in", ""), f))
	}
	u, err := h.Store.Authenticate(c.Request().Context(), f.Email, c.FormValue("password"))
	// Only a wrong password spends the try; a database fault is not the
	// client's.
	settle(!errors.Is(err, models.ErrBadCredentials))
	if errors.Is(err, models.ErrBadCredentials) {
		f.Error = "That email and password do not match an active account."
		return Render(c, http.StatusUnauthorized, views.LoginPage(page(c, "Sign in", ""), f))
	}
	if err != nil {
		return err
	}
	if err := h.startSession(c.Request().Context(), u); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, safeNext(f.Next))
}

func (h *Auth) startSession(ctx context.Context, u models.User) error {
	// A new token on every sign-in defeats session fixation.
	if err := h.Sessions.RenewToken(ctx); err != nil {
		return fmt.Errorf("start session: %w", err)
	}
	now := h.Now().Unix()
	h.Sessions.Put(ctx, SessionUserID, u.ID)
	h.Sessions.Put(ctx, SessionVersion, u.SessionVersion)
	h.Sessions.Put(ctx, SessionSignedIn, now)
	h.Sessions.Put(ctx, SessionSeen, now)
	return nil
}

// safeNext keeps a post-login redirect on this site: a path with no
// scheme, host, backslash or control character (browsers drop tabs and
// newlines, so "/\t/evil" would become "//evil"), re-serialised.
func safeNext(next string) string {
	const home = "/coupons"
	if strings.ContainsAny(next, "\\") || strings.ContainsFunc(next, unicode.IsControl) {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return home
	}
	return u.RequestURI()
}

// Logout ends the session and records it.
func (h *Auth) Logout(c echo.Context) error {
	if err := h.Store.RecordLogout(c.Request().Context()); err != nil {
		return err
	}
	if err := h.Sessions.Destroy(c.Request().Context()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/login")
}

// SetupForm is the first-admin page reached through the one-time link.
func (h *Auth) SetupForm(c echo.Context) error {
	token := c.QueryParam("token")
	if err := h.Store.CheckSetupToken(c.Request().Context(), token); err != nil {
		return setupProblem(err)
	}
	return Render(c, http.StatusOK, views.SetupPage(page(c, "Set up coupond", ""), views.SetupForm{Token: token}))
}

// Setup creates the first admin, signs them in and kills the link.
func (h *Auth) Setup(c echo.Context) error {
	f := views.SetupForm{Token: c.FormValue("token"), Email: c.FormValue("email")}
	password := c.FormValue("password")
	var err error
	if password != c.FormValue("passwordConfirm") {
		err = models.Invalid("passwordConfirm", "does not match the password")
	} else {
		var u models.User
		if u, err = h.Store.SetupAdmin(c.Request().Context(), f.Token, models.UserInput{Email: f.Email, Password: password}); err == nil {
			if err := h.startSession(c.Request().Context(), u); err != nil {
				return err
			}
			return c.Redirect(http.StatusSeeOther, "/coupons")
		}
	}
	if !formProblem(err, &f.Errors, &f.FormError) {
		return setupProblem(err)
	}
	return Render(c, http.StatusUnprocessableEntity, views.SetupPage(page(c, "Set up coupond", ""), f))
}

// setupProblem turns setup's refusals into a page that says what to do.
func setupProblem(err error) error {
	switch {
	case errors.Is(err, models.ErrSetupDone):
		return echo.NewHTTPError(http.StatusGone, "coupond is already set up; sign in at /login")
	case errors.Is(err, models.ErrSetupToken):
		return echo.NewHTTPError(http.StatusNotFound, models.ErrSetupToken.Error())
	}
	return err
}
