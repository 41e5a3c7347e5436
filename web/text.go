package web

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// rejectBadText answers 400 to a request whose path, query or form values
// are not UTF-8 text or hold a NUL byte, or whose form cannot be read, and
// 413 to a form over the body limit. Nothing coupond stores may hold
// them, and PostgreSQL refuses them outright.
func rejectBadText(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		bad := func(s string) bool { return !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 }
		fail := echo.NewHTTPError(http.StatusBadRequest, "the request holds bytes that are not UTF-8 text (or a NUL byte); send UTF-8 text")
		if bad(c.Request().URL.Path) {
			return fail
		}
		for _, vs := range c.QueryParams() {
			for _, v := range vs {
				if bad(v) {
					return fail
				}
			}
		}
		ct := c.Request().Header.Get(echo.HeaderContentType)
		// A file of codes to import is read as it streams in, and each
		// of its rows judged on its own; parsing it here as a form would
		// keep all of it.
		if !isImportUpload(c) && (strings.HasPrefix(ct, echo.MIMEApplicationForm) || strings.HasPrefix(ct, echo.MIMEMultipartForm)) {
			form, err := c.FormParams()
			var he *echo.HTTPError
			if errors.As(err, &he) {
				// The body limit, met while reading a body sent without a
				// Content-Length: 413, as with one.
				return err
			}
			if err != nil {
				return echo.NewHTTPError(http.StatusBadRequest, "the form could not be read: send well-formed application/x-www-form-urlencoded or multipart/form-data")
			}
			for _, vs := range form {
				for _, v := range vs {
					if bad(v) {
						return fail
					}
				}
			}
		}
		return next(c)
	}
}
