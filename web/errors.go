package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/coupond/coupond/handlers"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// apiError is the native JSON error body:
// {"error":{"code":"…","message":"…","fields":{"field":"why"}}}.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
	// Reasons are the reason codes of a refused redemption.
	Reasons   []string `json:"reasons,omitempty"`
	RequestID string   `json:"requestId,omitempty"`
}

// problem is an error as a client sees it. Field names are the domain's;
// each error body names them its own way.
type problem struct {
	status     int
	code       string
	message    string
	fields     []models.FieldError
	reasons    []string
	retryAfter time.Duration
}

// httpCodes names the statuses Echo's own errors carry.
var httpCodes = map[int]string{
	http.StatusBadRequest:            "bad_request",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not_found",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusRequestEntityTooLarge: "body_too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusTooManyRequests:       "too_many_requests",
	http.StatusServiceUnavailable:    "unavailable",
}

// classify maps an error to what the client is told. This is the one
// table from domain errors to status codes. The boolean is false for
// internal errors, whose text is never shown.
func classify(err error) (problem, bool) {
	var verr *models.ValidationError
	var dup *models.DuplicateCodeError
	var conflict *models.ConflictError
	var capErr *models.ActiveCapError
	var busy *models.BusyError
	var refused *models.NotRedeemableError
	var guesses *models.TooManyGuessesError
	var nf *models.NotFoundError
	var finished *models.BatchFinishedError
	var idem *models.IdempotencyError
	var notBulk *models.NotBulkPromotionError
	var mismatch *models.CustomerMismatchError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &verr):
		return problem{status: http.StatusUnprocessableEntity, code: "invalid", message: "some fields are invalid", fields: verr.Errors}, true
	case errors.As(err, &dup):
		return problem{status: http.StatusConflict, code: "duplicate_code", message: dup.Error() + " (codes are compared ignoring case)",
			fields: []models.FieldError{{Item: dup.Item, Field: models.FieldCode, Message: "already exists"}}}, true
	case errors.Is(err, models.ErrDuplicateCode):
		return problem{status: http.StatusConflict, code: "duplicate_code", message: "the coupon code already exists"}, true
	case errors.As(err, &conflict):
		return problem{status: http.StatusConflict, code: "conflict", message: conflict.Error()}, true
	case errors.As(err, &capErr):
		return problem{status: http.StatusConflict, code: "active_coupon_cap", message: capErr.Error()}, true
	case errors.As(err, &refused):
		return problem{status: http.StatusConflict, code: "not_redeemable", message: refused.Error(), reasons: refused.Reasons}, true
	case errors.As(err, &guesses):
		return problem{status: http.StatusTooManyRequests, code: "too_many_guesses", message: guesses.Error(), retryAfter: guesses.RetryAfter}, true
	case errors.As(err, &busy):
		return problem{status: http.StatusServiceUnavailable, code: "busy", message: busy.Error(), retryAfter: busy.RetryAfter}, true
	case errors.As(err, &nf):
		return problem{status: http.StatusNotFound, code: "not_found", message: nf.Error()}, true
	case errors.As(err, &finished):
		return problem{status: http.StatusConflict, code: "batch_finished", message: finished.Error()}, true
	case errors.As(err, &idem) && errors.Is(idem, models.ErrIdempotencyMismatch):
		return problem{status: http.StatusUnprocessableEntity, code: "idempotency_key_reused", message: idem.Error()}, true
	case errors.As(err, &idem):
		return problem{status: http.StatusConflict, code: "idempotency_key_in_use", message: idem.Error()}, true
	case errors.As(err, &notBulk):
		// BigCommerce's status for generating codes of a promotion that
		// does not own them.
		return problem{status: http.StatusMethodNotAllowed, code: "not_bulk_promotion", message: notBulk.Error()}, true
	case errors.As(err, &mismatch):
		return problem{status: http.StatusConflict, code: "customer_mismatch", message: mismatch.Error()}, true
	case errors.As(err, &he) && (he.Code < 500 || he.Code == http.StatusNotImplemented):
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && m != "" {
			msg = m
		}
		switch {
		case he.Code == http.StatusNotFound && msg == "Not Found":
			msg = "there is nothing at this address"
		case he.Code == http.StatusRequestEntityTooLarge:
			msg = "the request is too large for this server; send a smaller body (fewer coupons or shorter fields per request)"
		}
		code := httpCodes[he.Code]
		if code == "" {
			code = strings.ToLower(strings.ReplaceAll(http.StatusText(he.Code), " ", "_"))
		}
		return problem{status: he.Code, code: code, message: msg}, true
	}
	return problem{status: http.StatusInternalServerError, code: "internal"}, false
}

// errorBody writes a problem in the shape of one URL space: the console's
// pages, or one API dialect's JSON. routes.go gives each route group its
// own.
type errorBody func(c echo.Context, p problem, requestID string) error

// jsonErrors is the native API's error body,
// {"error":{"code":"…","message":"…","fields":{"field":"why"}}}, with the
// fields named by name.
func jsonErrors(name func(models.FieldError) string) errorBody {
	return func(c echo.Context, p problem, requestID string) error {
		body := apiErrorBody{Code: p.code, Message: p.message, Reasons: p.reasons, RequestID: requestID}
		if len(p.fields) > 0 {
			body.Fields = make(map[string]string, len(p.fields))
			parts := make([]string, 0, len(p.fields))
			for _, fe := range p.fields {
				n := name(fe)
				if _, seen := body.Fields[n]; !seen {
					body.Fields[n] = fe.Message
					parts = append(parts, n+": "+fe.Message)
				}
			}
			if p.code == "invalid" {
				body.Message += ": " + strings.Join(parts, "; ")
			}
		}
		return c.JSON(p.status, apiError{Error: body})
	}
}

// nativeFieldName names a field as the native API does: the domain name,
// with "[i]." before the field of a list element.
func nativeFieldName(fe models.FieldError) string {
	if fe.Item == models.NoItem {
		return fe.Field
	}
	return fmt.Sprintf("[%d].%s", fe.Item, fe.Field)
}

// consoleErrors answers a console request: an htmx flash message, or an
// error page.
func consoleErrors(c echo.Context, p problem, _ string) error {
	if c.Request().Header.Get("HX-Request") == "true" {
		return handlers.Render(c, p.status, views.Flash(p.message))
	}
	return handlers.Render(c, p.status, views.ErrorPage(views.Page{Title: http.StatusText(p.status)}, p.status, p.message))
}

// errorHandler answers every error in the body of the URL space the
// request is in, as bodyFor says. Internal errors are logged with the
// request id and shown only as that id.
func errorHandler(logger *slog.Logger, bodyFor func(path string) errorBody) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			logger.Error("error after the response started", "id", requestID(c), "err", err)
			return
		}
		p, known := classify(err)
		rid := requestID(c)
		if !known {
			logger.Error("internal error", "id", rid, "method", c.Request().Method, "uri", redactURI(c.Request().RequestURI), "err", err)
			p.message = fmt.Sprintf("something went wrong on our side; quote request id %s when reporting it", rid)
		}
		if p.status == http.StatusMethodNotAllowed && p.code == httpCodes[http.StatusMethodNotAllowed] {
			p.message = fmt.Sprintf("%s is not allowed here", c.Request().Method)
		}
		if p.retryAfter > 0 {
			handlers.SetRetryAfter(c, p.retryAfter)
		}
		var werr error
		if c.Request().Method == http.MethodHead {
			werr = c.NoContent(p.status)
		} else {
			werr = bodyFor(c.Request().URL.Path)(c, p, rid)
		}
		if werr != nil {
			logger.Error("write error response", "id", rid, "err", werr)
		}
	}
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
