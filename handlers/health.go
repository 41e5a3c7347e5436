package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// Pinger is what readiness needs: a database that answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Health answers liveness and readiness probes.
type Health struct {
	DB     Pinger
	Logger *slog.Logger
}

// Live answers 200 while the process serves requests.
func (h *Health) Live(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// Ready answers 200 when the database answers within two seconds, 503
// otherwise.
func (h *Health) Ready(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := h.DB.Ping(ctx); err != nil {
		h.Logger.Warn("not ready", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "the database does not answer"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
