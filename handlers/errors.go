package handlers

import (
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// Errors writes a problem as the console answers it: a flash message for
// htmx, which swaps it into the page, and an error page otherwise.
func Errors(c echo.Context, p httpx.Problem, _ string) error {
	varyOnHTMX(c, "HX-Request")
	msg := sentence(p.Message)
	if c.Request().Header.Get("HX-Request") == "true" {
		return Render(c, p.Status, views.Flash(msg))
	}
	return Render(c, p.Status, views.ErrorPage(views.Page{Title: http.StatusText(p.Status)}, p.Status, msg))
}

// sentence writes a problem's message, which the APIs share in lower
// case, as the console shows text: a capital first and a full stop last.
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	r, size := utf8.DecodeRuneInString(msg)
	msg = string(unicode.ToUpper(r)) + msg[size:]
	if !strings.ContainsAny(msg[len(msg)-1:], ".!?") {
		msg += "."
	}
	return msg
}
