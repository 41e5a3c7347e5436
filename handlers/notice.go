package handlers

import (
	"github.com/labstack/echo/v4"
)

// NoticesContextKey is where the session middleware leaves the session
// manager (Sessions) for the console's one way of saying what was done:
// a short notice on the next page shown.
const NoticesContextKey = "notices"

// WithNotices makes sessions the store of the console's notices.
func WithNotices(sessions Sessions) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(NoticesContextKey, sessions)
			return next(c)
		}
	}
}

// notify keeps message for the next page this user is shown: the page a
// change redirects to, or the fragment an htmx request swaps in, whose
// answer carries it to the notice region out of band.
func notify(c echo.Context, message string) {
	if s, ok := c.Get(NoticesContextKey).(Sessions); ok {
		s.Put(c.Request().Context(), sessionFlash, message)
	}
}

// popNotice takes the notice waiting for this user, "" for none.
func popNotice(c echo.Context) string {
	s, ok := c.Get(NoticesContextKey).(Sessions)
	if !ok {
		return ""
	}
	return s.PopString(c.Request().Context(), sessionFlash)
}
