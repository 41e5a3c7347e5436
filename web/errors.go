package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/coupond/coupond/handlers"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// apiError is the JSON error body of every API route:
// {"error":{"code":"…","message":"…","fields":{"field":"why"}}}.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code      string            `json:"code"`
	Message   string            `json:"message"`
	Fields    map[string]string `json:"fields,omitempty"`
	RequestID string            `json:"requestId,omitempty"`
}

// problem is an error as a client sees it.
type problem struct {
	status  int
	code    string
	message string
	fields  map[string]string
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
	var capErr *models.ActiveCapError
	var nf *models.NotFoundError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &verr):
		return problem{http.StatusUnprocessableEntity, "invalid", "some fields are invalid: " + verr.Summary(), verr.Fields}, true
	case errors.As(err, &dup):
		p := problem{http.StatusConflict, "duplicate_code", dup.Error() + " (codes are compared ignoring case)", nil}
		if dup.Field != "" {
			p.fields = map[string]string{dup.Field: "already exists"}
		}
		return p, true
	case errors.Is(err, models.ErrDuplicateCode):
		return problem{http.StatusConflict, "duplicate_code", "the coupon code already exists", nil}, true
	case errors.As(err, &capErr):
		return problem{http.StatusConflict, "active_coupon_cap", capErr.Error(), nil}, true
	case errors.As(err, &nf):
		return problem{http.StatusNotFound, "not_found", nf.Error(), nil}, true
	case errors.As(err, &he) && he.Code < 500:
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && m != "" {
			msg = m
		}
		switch he.Code {
		case http.StatusNotFound:
			msg = "there is nothing at this address"
		case http.StatusRequestEntityTooLarge:
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

// isAPI reports whether a path belongs to a JSON API rather than the
// console.
func isAPI(path string) bool {
	return strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/v2/") || path == "/healthz" || path == "/readyz"
}

// errorHandler answers every error a handler returns: JSON on API routes,
// an error page or an htmx flash message on console routes. Internal
// errors are logged with the request id and shown only as that id.
func errorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
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
		if p.status == http.StatusMethodNotAllowed {
			p.message = fmt.Sprintf("%s is not allowed here", c.Request().Method)
		}
		var werr error
		switch {
		case c.Request().Method == http.MethodHead:
			werr = c.NoContent(p.status)
		case isAPI(c.Request().URL.Path):
			werr = c.JSON(p.status, apiError{Error: apiErrorBody{Code: p.code, Message: p.message, Fields: p.fields, RequestID: rid}})
		case c.Request().Header.Get("HX-Request") == "true":
			werr = handlers.Render(c, p.status, views.Flash(p.message))
		default:
			werr = handlers.Render(c, p.status, views.ErrorPage(views.Page{Title: http.StatusText(p.status)}, p.status, p.message))
		}
		if werr != nil {
			logger.Error("write error response", "id", rid, "err", werr)
		}
	}
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
