package vtex

import (
	"github.com/coupond/coupond/handlers/httpx"
	"github.com/labstack/echo/v4"
)

// Errors writes a problem under /api/rnb/pvt: coupond's JSON error body,
// {"error":{"code":"…","message":"…","fields":{"couponCode":"why"}}},
// with each field named as VTEX names it.
func Errors(c echo.Context, p httpx.Problem, requestID string) error {
	return errorJSON(c, p, requestID)
}

var errorJSON = httpx.JSONErrors(fieldName)
