package web

import (
	"net/http"
	"strings"

	"github.com/coupond/coupond/handlers"
	"github.com/labstack/echo/v4"
)

// capillaryErrorBody is the error body under /v2/coupon:
// {"status":false,"code":629,"message":"…","errors":[…]}, code being
// one of Capillary's result codes where one fits and the HTTP status
// otherwise; errors lists each invalid field.
type capillaryErrorBody struct {
	Status    bool                    `json:"status"`
	Code      int                     `json:"code"`
	Message   string                  `json:"message"`
	Errors    []capillaryFieldProblem `json:"errors,omitempty"`
	RequestID string                  `json:"requestId,omitempty"`
}

type capillaryFieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// capillaryCodes are the result codes of coupond's problems that
// Capillary has a number for; the HTTP status is answered with.
var capillaryCodes = map[string]struct{ status, code int }{
	"invalid":           {http.StatusBadRequest, 629},
	"bad_request":       {http.StatusBadRequest, 629},
	"customer_mismatch": {http.StatusBadRequest, 721},
}

// capillaryErrors answers errors under /v2/coupon in Capillary's shape:
// invalid input and malformed JSON are a 400 with code 629 and each
// field named as Capillary names it.
func capillaryErrors(c echo.Context, p problem, requestID string) error {
	body := capillaryErrorBody{Code: p.status, Message: p.message, RequestID: requestID}
	status := p.status
	if m, ok := capillaryCodes[p.code]; ok {
		status, body.Code = m.status, m.code
	}
	if p.code == "invalid" {
		parts := make([]string, 0, len(p.fields))
		seen := map[string]bool{}
		for _, fe := range p.fields {
			name := handlers.CapillaryFieldName(fe)
			if seen[name] {
				continue
			}
			seen[name] = true
			body.Errors = append(body.Errors, capillaryFieldProblem{Field: name, Message: fe.Message})
			parts = append(parts, name+": "+fe.Message)
		}
		body.Message = "Invalid input: " + strings.Join(parts, "; ")
	}
	return c.JSON(status, body)
}
