package web

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coupond/coupond/handlers/api"
	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

// errorJSON is the native JSON error body as a client reads it.
type errorJSON struct {
	Error struct {
		Code   string            `json:"code"`
		Fields map[string]string `json:"fields"`
	} `json:"error"`
}

func TestErrorBodiesFollowTheRouteGroup(t *testing.T) {
	t.Parallel()
	e := echo.New()
	spaces := &errorSpaces{}
	e.HTTPErrorHandler = errorHandler(slog.New(slog.NewTextHandler(io.Discard, nil)), spaces.encoderFor)
	upper := func(fe models.FieldError) string { return "X_" + fe.Field }
	busy := func(echo.Context) error {
		return &models.BusyError{Waited: 30 * time.Second, RetryAfter: 2 * time.Second}
	}
	invalid := func(echo.Context) error {
		v := &models.ValidationError{}
		v.AddItem(3, models.FieldMaxUsage, "must be 0 or more")
		return v
	}
	spaces.add("/api/", api.Errors)
	spaces.add("/other/", httpx.JSONErrors(upper))
	e.GET("/api/busy", busy)
	e.GET("/api/invalid", invalid)
	e.GET("/other/invalid", invalid)

	do := func(path string) (*httptest.ResponseRecorder, errorJSON) {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		var body errorJSON
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: %v in %q", path, err, rec.Body.String())
		}
		return rec, body
	}
	rec, body := do("/api/busy")
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "2" || body.Error.Code != "busy" {
		t.Errorf("a write that waited too long: %d, Retry-After %q, %+v; want 503 with Retry-After 2", rec.Code, rec.Header().Get("Retry-After"), body.Error)
	}
	_, body = do("/api/invalid")
	if body.Error.Fields["[3].maxUsage"] == "" {
		t.Errorf("native names: %v", body.Error.Fields)
	}
	_, body = do("/other/invalid")
	if body.Error.Fields["X_maxUsage"] == "" {
		t.Errorf("the group's own names: %v", body.Error.Fields)
	}
	// An unknown path in a JSON space is answered in that space's shape.
	rec, body = do("/other/nothing")
	if rec.Code != http.StatusNotFound || body.Error.Code != "not_found" {
		t.Errorf("unknown path: %d %+v", rec.Code, body.Error)
	}
}

// A body past its limit is a 413 wherever it was read, saying what to
// send instead: the import's own advice reaches the client, and a body
// cut by the limit deep inside a handler (an upload read by the store)
// is no 500.
func TestEveryBodyPastItsLimitIsA413WithItsAdvice(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"the import's advice", echo.NewHTTPError(http.StatusRequestEntityTooLarge, "the file is larger than 1024 MiB; split it into several imports"), "split it into several imports"},
		{"echo's own words", echo.ErrStatusRequestEntityTooLarge, tooLargeMessage},
		{"read inside the store", fmt.Errorf("import codes: read the file: %w", &http.MaxBytesError{Limit: 1 << 30}), tooLargeMessage},
	} {
		p, known := classify(tc.err)
		if !known || p.Status != http.StatusRequestEntityTooLarge || p.Code != "body_too_large" || !strings.Contains(p.Message, tc.want) {
			t.Errorf("%s: %+v (known %v), want 413 body_too_large saying %q", tc.name, p, known, tc.want)
		}
	}
}
