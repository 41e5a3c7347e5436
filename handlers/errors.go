package handlers

import (
	"net/http"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// Errors writes a problem as the console answers it: a flash message for
// htmx, which swaps it into the page, and an error page otherwise.
func Errors(c echo.Context, p httpx.Problem, _ string) error {
	varyOnHTMX(c, "HX-Request")
	if c.Request().Header.Get("HX-Request") == "true" {
		return Render(c, p.Status, views.Flash(p.Message))
	}
	return Render(c, p.Status, views.ErrorPage(views.Page{Title: http.StatusText(p.Status)}, p.Status, p.Message))
}
