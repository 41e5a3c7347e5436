package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

// The request log costs each request its line and no more: at most two
// allocations beside the line's own buffer (Echo's logger middleware
// keeps one per request, and slog one for a sixth field), also for a
// request with a query, which is searched for secrets without copying.
func TestRequestLoggingAllocatesOnlyItsLine(t *testing.T) {
	if raceDetector {
		t.Skip("the race detector changes allocation counts; make test runs this test again without it")
	}
	allocs := func(logged bool) float64 {
		e := echo.New()
		if logged {
			e.Use(requestLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
		}
		e.GET("/api/coupons/:code/validation", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
		req := httptest.NewRequest(http.MethodGet, "/api/coupons/SPRING/validation?customerId=c1&items=2&orderAmount=5000", nil)
		w := httptest.NewRecorder()
		return testing.AllocsPerRun(500, func() { e.ServeHTTP(w, req) })
	}
	bare, logged := allocs(false), allocs(true)
	if logged-bare > 2 {
		t.Errorf("logging a request takes %.0f allocations more than not logging it (%.0f against %.0f); want at most 2", logged-bare, logged, bare)
	}
}
