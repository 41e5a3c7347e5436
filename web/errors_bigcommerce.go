package web

import (
	"net/http"
	"strconv"

	"github.com/coupond/coupond/handlers"
	"github.com/labstack/echo/v4"
)

// bigCommerceBadRequest is BigCommerce's 400 body. Its published schema
// types status as a string.
type bigCommerceBadRequest struct {
	Status string `json:"status"`
	Title  string `json:"title"`
	Type   string `json:"type"`
	Detail string `json:"detail"`
}

// bigCommerceRefusal is BigCommerce's 403 and 405 body, used for 401 as
// well; its published schema types status as a string.
type bigCommerceRefusal struct {
	Status string `json:"status"`
	Title  string `json:"title"`
	Error  string `json:"error"`
}

// bigCommerceErrors answers errors under /api/v3 in BigCommerce's shapes:
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
func bigCommerceErrors(c echo.Context, p problem, _ string) error {
	status := strconv.Itoa(p.status)
	switch p.status {
	case http.StatusBadRequest:
		return c.JSON(p.status, bigCommerceBadRequest{Status: status, Title: http.StatusText(p.status), Type: handlers.BigCommerceErrorType(p.code), Detail: p.message})
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusMethodNotAllowed:
		return c.JSON(p.status, bigCommerceRefusal{Status: status, Title: p.message, Error: p.code})
	}
	var body handlers.BigCommerceErrors
	if p.code == "invalid" {
		seen := make(map[string]bool, len(p.fields))
		for _, fe := range p.fields {
			name := handlers.BigCommerceFieldName(fe)
			if seen[name] {
				continue
			}
			seen[name] = true
			title := fe.Message
			if name != "" {
				title = name + ": " + fe.Message
			}
			body.Errors = append(body.Errors, handlers.BigCommerceError{Status: p.status, Title: title})
		}
	}
	if len(body.Errors) == 0 {
		body.Errors = []handlers.BigCommerceError{{Status: p.status, Title: p.message}}
	}
	if c.Request().Method == http.MethodDelete && p.status == http.StatusUnprocessableEntity {
		for i := range body.Errors {
			body.Errors[i].Type = handlers.BigCommerceErrorType(p.code)
		}
		body.Meta = &handlers.BigCommerceMeta{}
	}
	return c.JSON(p.status, body)
}
