package httpx

import (
	"strings"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

// Problem is an error as a client is told it: the server's error handler
// classifies every error into one, and the error encoder of the
// request's URL space writes it in that space's body. Field names are
// the domain's; each encoder names them its own way.
type Problem struct {
	Status  int
	Code    string
	Message string
	Fields  []models.FieldError
	// Reasons are the reason codes of a refused redemption.
	Reasons []string
	// RetryAfter, when set, has gone out as a Retry-After header.
	RetryAfter time.Duration
}

// CodeInvalid is the problem code of a request with invalid fields.
const CodeInvalid = "invalid"

// ErrorEncoder writes a problem as one URL space answers errors: the
// console's pages, or one API's JSON. requestID names the request in the
// server's log.
type ErrorEncoder func(c echo.Context, p Problem, requestID string) error

// errorJSON is the native JSON error body.
type errorJSON struct {
	Error errorJSONBody `json:"error"`
}

type errorJSONBody struct {
	Code      string            `json:"code"`
	Message   string            `json:"message"`
	Fields    map[string]string `json:"fields,omitempty"`
	Reasons   []string          `json:"reasons,omitempty"`
	RequestID string            `json:"requestId,omitempty"`
}

// JSONErrors is an encoder of the native error body,
// {"error":{"code":"…","message":"…","fields":{"field":"why"}}}, with
// each field named by name. An invalid request's message also lists
// every field and why, for a client that shows only the message.
func JSONErrors(name func(models.FieldError) string) ErrorEncoder {
	return func(c echo.Context, p Problem, requestID string) error {
		body := errorJSONBody{Code: p.Code, Message: p.Message, Reasons: p.Reasons, RequestID: requestID}
		if len(p.Fields) > 0 {
			body.Fields = make(map[string]string, len(p.Fields))
			parts := make([]string, 0, len(p.Fields))
			for _, fe := range p.Fields {
				n := name(fe)
				if _, seen := body.Fields[n]; !seen {
					body.Fields[n] = fe.Message
					parts = append(parts, n+": "+fe.Message)
				}
			}
			if p.Code == CodeInvalid {
				body.Message += ": " + strings.Join(parts, "; ")
			}
		}
		return c.JSON(p.Status, errorJSON{Error: body})
	}
}
