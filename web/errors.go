package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

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
// tooLargeMessage answers a body past the server's limit when nothing
// more precise was said.
const tooLargeMessage = "the request is too large for this server; send a smaller body (fewer coupons or shorter fields per request)"

func classify(err error) (httpx.Problem, bool) {
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
	var notIssued *models.NotIssuedError
	var he *echo.HTTPError
	var big *http.MaxBytesError
	switch {
	case errors.As(err, &verr):
		return httpx.Problem{Status: http.StatusUnprocessableEntity, Code: httpx.CodeInvalid, Message: "some fields are invalid", Fields: verr.Errors}, true
	case errors.As(err, &dup):
		return httpx.Problem{Status: http.StatusConflict, Code: "duplicate_code", Message: dup.Error() + " (codes are compared ignoring case)",
			Fields: []models.FieldError{{Item: dup.Item, Field: models.FieldCode, Message: "already exists"}}}, true
	case errors.Is(err, models.ErrDuplicateCode):
		return httpx.Problem{Status: http.StatusConflict, Code: "duplicate_code", Message: "the coupon code already exists"}, true
	case errors.As(err, &conflict):
		return httpx.Problem{Status: http.StatusConflict, Code: "conflict", Message: conflict.Error()}, true
	case errors.As(err, &capErr):
		return httpx.Problem{Status: http.StatusConflict, Code: "active_coupon_cap", Message: capErr.Error()}, true
	case errors.As(err, &refused):
		return httpx.Problem{Status: http.StatusConflict, Code: "not_redeemable", Message: refused.Error(), Reasons: refused.Reasons}, true
	case errors.As(err, &guesses):
		return httpx.Problem{Status: http.StatusTooManyRequests, Code: "too_many_guesses", Message: guesses.Error(), RetryAfter: guesses.RetryAfter}, true
	case errors.As(err, &busy):
		return httpx.Problem{Status: http.StatusServiceUnavailable, Code: "busy", Message: busy.Error(), RetryAfter: busy.RetryAfter}, true
	case errors.As(err, &nf):
		return httpx.Problem{Status: http.StatusNotFound, Code: "not_found", Message: nf.Error()}, true
	case errors.As(err, &finished):
		return httpx.Problem{Status: http.StatusConflict, Code: "batch_finished", Message: finished.Error()}, true
	case errors.As(err, &idem) && errors.Is(idem, models.ErrIdempotencyMismatch):
		return httpx.Problem{Status: http.StatusUnprocessableEntity, Code: "idempotency_key_reused", Message: idem.Error()}, true
	case errors.As(err, &idem):
		return httpx.Problem{Status: http.StatusConflict, Code: "idempotency_key_in_use", Message: idem.Error()}, true
	case errors.As(err, &notBulk):
		// BigCommerce's status for generating codes of a promotion that
		// does not own them.
		return httpx.Problem{Status: http.StatusMethodNotAllowed, Code: "not_bulk_promotion", Message: notBulk.Error()}, true
	case errors.As(err, &notIssued):
		return httpx.Problem{Status: http.StatusConflict, Code: "not_issued", Message: notIssued.Error(), Reasons: notIssued.Reasons}, true
	case errors.As(err, &mismatch):
		return httpx.Problem{Status: http.StatusConflict, Code: "customer_mismatch", Message: mismatch.Error()}, true
	case errors.As(err, &big):
		// A body read past its limit, wherever it was read.
		return httpx.Problem{Status: http.StatusRequestEntityTooLarge, Code: httpCodes[http.StatusRequestEntityTooLarge], Message: tooLargeMessage}, true
	case errors.As(err, &he) && (he.Code < 500 || he.Code == http.StatusNotImplemented):
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && m != "" {
			msg = m
		}
		switch {
		case he.Code == http.StatusNotFound && msg == "Not Found":
			msg = "there is nothing at this address"
		case he.Code == http.StatusRequestEntityTooLarge && msg == http.StatusText(he.Code):
			// Echo's own words; coupond's 413s say what to send instead.
			msg = tooLargeMessage
		}
		code := httpCodes[he.Code]
		if code == "" {
			code = strings.ToLower(strings.ReplaceAll(http.StatusText(he.Code), " ", "_"))
		}
		return httpx.Problem{Status: he.Code, Code: code, Message: msg}, true
	}
	return httpx.Problem{Status: http.StatusInternalServerError, Code: "internal"}, false
}

// errorHandler answers every error in the body of the URL space the
// request is in, as encoderFor says. Internal errors are logged with the
// request id and shown only as that id.
func errorHandler(logger *slog.Logger, encoderFor func(path string) httpx.ErrorEncoder) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			logger.Error("error after the response started", "id", requestID(c), "err", err)
			return
		}
		rid := requestID(c)
		gone := errors.Is(err, context.Canceled) || errors.Is(err, io.ErrUnexpectedEOF)
		if gone && c.Request().Context().Err() != nil {
			// The client hung up before its answer: nothing failed on the
			// server's side, and no one is left to answer. The log line
			// and the metrics say 499, as proxies do.
			logger.Info("the client went away before its answer", "id", rid, "method", c.Request().Method, "uri", redactURI(c.Request().RequestURI))
			c.Response().WriteHeader(StatusClientClosedRequest)
			return
		}
		p, known := classify(err)
		if !known {
			logger.Error("internal error", "id", rid, "method", c.Request().Method, "uri", redactURI(c.Request().RequestURI), "err", err)
			p.Message = fmt.Sprintf("something went wrong on our side; quote request id %s when reporting it", rid)
		}
		if p.Status == http.StatusMethodNotAllowed && p.Code == httpCodes[http.StatusMethodNotAllowed] {
			p.Message = fmt.Sprintf("%s is not allowed here", c.Request().Method)
		}
		if p.RetryAfter > 0 {
			httpx.SetRetryAfter(c, p.RetryAfter)
		}
		var werr error
		if c.Request().Method == http.MethodHead {
			werr = c.NoContent(p.Status)
		} else {
			werr = encoderFor(c.Request().URL.Path)(c, p, rid)
		}
		if werr != nil {
			logger.Error("write error response", "id", rid, "err", werr)
		}
	}
}

// StatusClientClosedRequest is the status logged and counted for a
// request whose client hung up before its answer (nginx's 499).
const StatusClientClosedRequest = 499

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
