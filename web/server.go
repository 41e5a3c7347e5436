// Package web builds coupond's HTTP server: middleware, the URL surface
// (routes.go) and the central error handler.
package web

import (
	"log/slog"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// Config holds the server's settings.
type Config struct {
	// BodyLimit caps request bodies, e.g. "2M".
	BodyLimit string
	// SecureCookies marks cookies Secure; set it when served over TLS.
	SecureCookies bool
}

// NewServer returns the HTTP handler of coupond, wired to store. It logs
// one line per request and every internal error to logger.
func NewServer(logger *slog.Logger, cfg Config, store *models.Store) *echo.Echo {
	if cfg.BodyLimit == "" {
		cfg.BodyLimit = "2M"
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = errorHandler(logger)
	e.Pre(middleware.RemoveTrailingSlash())
	e.Use(middleware.RequestID())
	e.Use(requestLogger(logger))
	e.Use(answerErrors)
	e.Use(middleware.Recover())
	e.Use(middleware.BodyLimit(cfg.BodyLimit))
	addRoutes(e, logger, cfg, store)
	return e
}

// answerErrors turns a handler's error into its response here, inside the
// request logger, so the logged status is the one the client got.
func answerErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := next(c); err != nil {
			c.Error(err)
		}
		return nil
	}
}

// requestLogger logs one structured line per request with its request id.
func requestLogger(logger *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus:    true,
		LogURI:       true,
		LogMethod:    true,
		LogLatency:   true,
		LogRequestID: true,
		LogRemoteIP:  true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			logger.LogAttrs(c.Request().Context(), level, "request",
				slog.String("id", v.RequestID),
				slog.String("method", v.Method),
				slog.String("uri", v.URI),
				slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency.Round(time.Microsecond)),
				slog.String("remote", v.RemoteIP),
			)
			return nil
		},
	})
}
