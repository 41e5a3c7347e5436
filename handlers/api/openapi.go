package api

import (
	"bytes"
	_ "embed"
	"fmt"
	"net/http"

	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// OpenAPIDocument is the OpenAPI 3.1 document of the native API: every
// route under /api that is not a dialect's, with its bodies, errors and
// token scope. The handler tests check every native request and answer
// against it, and that it lists every route (web/openapi_test.go).
//
//go:embed openapi.json
var OpenAPIDocument []byte

// OpenAPI serves the document.
func OpenAPI(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, "application/json", OpenAPIDocument)
}

// Docs serves the page that renders the document for people.
func Docs(c echo.Context) error {
	var buf bytes.Buffer
	if err := views.APIDocs().Render(c.Request().Context(), &buf); err != nil {
		return fmt.Errorf("render the API documentation page: %w", err)
	}
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}
