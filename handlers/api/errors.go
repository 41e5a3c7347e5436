package api

import (
	"fmt"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

// Errors writes a problem in the native error body,
// {"error":{"code":"…","message":"…","fields":{"field":"why"}}}, fields
// named as the native API names them: the domain's name, with "[i]."
// before the field of the i-th element of a list.
func Errors(c echo.Context, p httpx.Problem, requestID string) error {
	return errorJSON(c, p, requestID)
}

var errorJSON = httpx.JSONErrors(fieldName)

// fieldName names a field as the native API does.
func fieldName(fe models.FieldError) string {
	if fe.Item == models.NoItem {
		return fe.Field
	}
	return fmt.Sprintf("[%d].%s", fe.Item, fe.Field)
}
