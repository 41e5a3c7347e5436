package capillary

import (
	"net/http"
	"strings"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/labstack/echo/v4"
)

// errorBody is the error body under /v2/coupon:
// {"status":false,"code":629,"message":"…","errors":[…]}, code being
// one of Capillary's result codes where one fits and the HTTP status
// otherwise; errors lists each invalid field.
type errorBody struct {
	Status    bool           `json:"status"`
	Code      int            `json:"code"`
	Message   string         `json:"message"`
	Errors    []fieldProblem `json:"errors,omitempty"`
	RequestID string         `json:"requestId,omitempty"`
}

type fieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// resultCodes are the result codes of coupond's problems that
// Capillary has a number for; the HTTP status is answered with.
var resultCodes = map[string]struct{ status, code int }{
	httpx.CodeInvalid:   {http.StatusBadRequest, codeInvalidInput},
	"bad_request":       {http.StatusBadRequest, codeInvalidInput},
	"customer_mismatch": {http.StatusBadRequest, codeInvalidCustomer},
}

// Errors answers errors under /v2/coupon in Capillary's shape:
// invalid input and malformed JSON are a 400 with code 629 and each
// field named as Capillary names it.
func Errors(c echo.Context, p httpx.Problem, requestID string) error {
	body := errorBody{Code: p.Status, Message: p.Message, RequestID: requestID}
	status := p.Status
	if m, ok := resultCodes[p.Code]; ok {
		status, body.Code = m.status, m.code
	}
	if p.Code == httpx.CodeInvalid {
		parts := make([]string, 0, len(p.Fields))
		seen := map[string]bool{}
		for _, fe := range p.Fields {
			name := fieldName(fe)
			if seen[name] {
				continue
			}
			seen[name] = true
			body.Errors = append(body.Errors, fieldProblem{Field: name, Message: fe.Message})
			parts = append(parts, name+": "+fe.Message)
		}
		body.Message = "Invalid input: " + strings.Join(parts, "; ")
	}
	return c.JSON(status, body)
}
