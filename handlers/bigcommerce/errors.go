package bigcommerce

import (
	"net/http"
	"strconv"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

// badRequest is BigCommerce's 400 body. Its published schema
// types status as a string.
type badRequest struct {
	Status string `json:"status"`
	Title  string `json:"title"`
	Type   string `json:"type"`
	Detail string `json:"detail"`
}

// refusal is BigCommerce's 403 and 405 body, used for 401 as
// well; its published schema types status as a string.
type refusal struct {
	Status string `json:"status"`
	Title  string `json:"title"`
	Error  string `json:"error"`
}

// Errors answers errors under /api/v3 in BigCommerce's shapes:
//
//   - 400: {"status":"400","title":"Bad Request","type":…,"detail":"what is
//     wrong with the body"};
//   - 401, 403, 405: {"status":"403","title":"what to do","error":"forbidden"},
//     error being coupond's code for the problem;
//   - any other status, 404 and 422 among them: {"errors":[{"status":422,
//     "title":"batch_size: must be between 1 and 250"}]}, one element per
//     invalid field, named as BigCommerce names it. A DELETE is a bulk
//     action, so its 422 also carries each element's type and meta with
//     the counts, all 0: nothing was deleted.
func Errors(c echo.Context, p httpx.Problem, _ string) error {
	status := strconv.Itoa(p.Status)
	switch p.Status {
	case http.StatusBadRequest:
		return c.JSON(p.Status, badRequest{Status: status, Title: http.StatusText(p.Status), Type: errorType(p.Code), Detail: p.Message})
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusMethodNotAllowed:
		return c.JSON(p.Status, refusal{Status: status, Title: p.Message, Error: p.Code})
	}
	var body errorList
	if p.Code == httpx.CodeInvalid {
		seen := make(map[string]bool, len(p.Fields))
		for _, fe := range p.Fields {
			name := fieldName(fe)
			if seen[name] {
				continue
			}
			seen[name] = true
			body.Errors = append(body.Errors, fieldEntry(p.Status, fe))
		}
	}
	if len(body.Errors) == 0 {
		body.Errors = []errorEntry{{Status: p.Status, Title: p.Message}}
	}
	if c.Request().Method == http.MethodDelete && p.Status == http.StatusUnprocessableEntity {
		for i := range body.Errors {
			body.Errors[i].Type = errorType(p.Code)
		}
		body.Meta = &bulkMeta{}
	}
	return c.JSON(p.Status, body)
}

// missingIDs is BigCommerce's title for a bulk delete without a usable
// id:in, as its published document words it.
const missingIDs = "Parameter id:in is required"

// fieldEntry is the error element of one invalid field: titled
// "name: why", or, for an id:in that is missing or unreadable, with
// BigCommerce's own title and the why in detail.
func fieldEntry(status int, fe models.FieldError) errorEntry {
	name := fieldName(fe)
	switch {
	case fe.Field == fieldIDList:
		return errorEntry{Status: status, Title: missingIDs, Detail: name + " " + fe.Message}
	case name == "":
		return errorEntry{Status: status, Title: fe.Message}
	}
	return errorEntry{Status: status, Title: name + ": " + fe.Message}
}
