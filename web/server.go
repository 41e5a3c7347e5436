// Package web builds coupond's HTTP server: middleware, the URL surface
// (routes.go) and the central error handler.
package web

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coupond/coupond/handlers"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
)

// Config holds the server's settings. Zero values take the defaults.
type Config struct {
	// BodyLimit caps request bodies, e.g. "2M".
	BodyLimit string
	// SecureCookies marks cookies Secure and sends HSTS; set it when
	// served over TLS.
	SecureCookies bool
	// SessionIdle ends a console session unused this long (default 2 h);
	// SessionLifetime ends any session this long after sign-in (12 h).
	// Both are measured by Now.
	SessionIdle     time.Duration
	SessionLifetime time.Duration
	// TokenConcurrency is how many API requests one token may have in
	// flight (default 10).
	TokenConcurrency int
	// TrustProxy takes the client address from X-Forwarded-For, for
	// running behind a reverse proxy; otherwise it is the peer address.
	TrustProxy bool
	// Now is the clock of the login throttle and of session expiry; nil
	// means time.Now.
	Now func() time.Time
	// Terms are the store's currency and time zone, in which the console
	// shows and reads amounts and times (handlers.NewTerms makes them);
	// the zero value is USD and UTC. The APIs keep their wire formats.
	Terms handlers.Terms
	// Metrics, when set, receives the HTTP metrics: requests by route
	// pattern, method and status, and their latency.
	Metrics prometheus.Registerer
}

// contentSecurityPolicy allows only coupond's own scripts and styles.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// NewServer returns the HTTP handler of coupond, wired to store. It logs
// one line per request and every internal error to logger.
func NewServer(logger *slog.Logger, cfg Config, store *models.Store) *echo.Echo {
	if cfg.BodyLimit == "" {
		cfg.BodyLimit = "2M"
	}
	if cfg.SessionIdle == 0 {
		cfg.SessionIdle = defaultSessionIdle
	}
	if cfg.SessionLifetime == 0 {
		cfg.SessionLifetime = defaultSessionLifetime
	}
	if cfg.TokenConcurrency == 0 {
		cfg.TokenConcurrency = 10
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	spaces := &errorSpaces{}
	e.HTTPErrorHandler = errorHandler(logger, spaces.encoderFor)
	e.IPExtractor = echo.ExtractIPDirect()
	if cfg.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	hsts := 0
	if cfg.SecureCookies {
		hsts = 31536000
	}
	e.Pre(middleware.RemoveTrailingSlash())
	e.Use(middleware.RequestID())
	e.Use(requestLogger(logger))
	routes := map[string]bool{}
	if cfg.Metrics != nil {
		e.Use(httpMetrics(cfg.Metrics, func(p string) bool { return routes[p] }))
	}
	e.Use(answerErrors)
	e.Use(middleware.Recover())
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection:         "0",
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		HSTSMaxAge:            hsts,
		ContentSecurityPolicy: contentSecurityPolicy,
		ReferrerPolicy:        "same-origin",
	}))
	// A file of codes to import may be far larger; its routes set their
	// own bound (api.LimitImportBody).
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: cfg.BodyLimit, Skipper: isImportUpload}))
	e.Use(rejectBadText)
	e.Use(storeTerms(cfg.Terms))
	addRoutes(e, spaces, logger, cfg, store)
	for _, r := range e.Routes() {
		routes[r.Path] = true
	}
	return e
}

// importUploads are the paths a file of codes to import is sent to (the
// routes that api.LimitImportBody bounds).
var importUploads = map[string]bool{"/api/imports": true, "/api/imports/preview": true, views.ImportsURL: true, views.ImportPreviewURL: true}

// isImportUpload reports whether c sends a file of codes to import: it
// passes the body limit and the form parsing of every other request.
func isImportUpload(c echo.Context) bool {
	return c.Request().Method == http.MethodPost && importUploads[c.Request().URL.Path]
}

// storeTerms leaves the store's terms in every request's context, where
// the console's handlers and its error pages read them with
// handlers.TermsOf.
func storeTerms(t handlers.Terms) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(handlers.TermsKey, t)
			return next(c)
		}
	}
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

// requestLogger logs one structured line per request with its request id;
// secrets in the URI are redacted.
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
				slog.String("uri", redactURI(v.URI)),
				slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency.Round(time.Microsecond)),
				slog.String("remote", v.RemoteIP),
			)
			return nil
		},
	})
}

// secretParams are the query parameters whose values are secrets: the
// one-time setup link's token.
var secretParams = map[string]bool{"token": true}

// redactURI is a request URI fit for a log: the value of each secret query
// parameter becomes REDACTED, and the rest is kept as sent. A key is
// unescaped before it is compared, as the server does when it reads the
// query, so "tok%65n=…" is redacted too.
func redactURI(uri string) string {
	path, query, ok := strings.Cut(uri, "?")
	if !ok || !hasSecret(query) {
		return uri
	}
	params := strings.Split(query, "&")
	for i, p := range params {
		key, _, _ := strings.Cut(p, "=")
		name, err := url.QueryUnescape(key)
		if err != nil {
			name = key
		}
		if secretParams[name] {
			params[i] = key + "=REDACTED"
		}
	}
	return path + "?" + strings.Join(params, "&")
}

// hasSecret reports whether query names a secret parameter, without
// allocating for a query that does not: every request's log line passes
// here.
func hasSecret(query string) bool {
	for query != "" {
		var param string
		param, query, _ = strings.Cut(query, "&")
		key, _, _ := strings.Cut(param, "=")
		name, err := url.QueryUnescape(key)
		if err != nil {
			name = key
		}
		if secretParams[name] {
			return true
		}
	}
	return false
}
