package web

import (
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/coupond/coupond/handlers"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/static"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// addRoutes is coupond's whole URL surface.
func addRoutes(e *echo.Echo, logger *slog.Logger, cfg Config, store *models.Store) {
	health := &handlers.Health{DB: store, Logger: logger}
	coupons := &handlers.Coupons{Store: store}
	batches := &handlers.Batches{Store: store}
	vtex := &handlers.VTEX{Store: store}
	form := csrf(cfg)

	// Probes.
	e.GET("/healthz", health.Live)
	e.GET("/readyz", health.Ready)

	// Static assets, versioned by name and cached for a year.
	e.GET("/static/*", serveStatic)

	// Console: coupons.
	e.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/coupons") }, form)
	e.GET("/coupons", coupons.List, form)
	e.GET("/coupons/new", coupons.New, form)
	e.POST("/coupons", coupons.Create, form)
	e.GET("/coupons/:code", coupons.Show, form)
	e.POST("/coupons/:code", coupons.Update, form)
	e.GET("/coupons/:code/edit", coupons.Edit, form)
	e.POST("/coupons/:code/archive", coupons.Archive, form)
	e.POST("/coupons/:code/unarchive", coupons.Unarchive, form)

	// Console: generation and its batches.
	e.GET("/coupons/generate", batches.GenerateForm, form)
	e.POST("/coupons/generate", batches.Generate, form)
	e.GET("/batches/:id", batches.Show, form)
	e.GET("/batches/:id/codes.csv", batches.CSV, form)

	// VTEX-style coupon API.
	e.POST("/api/rnb/pvt/coupon", vtex.Upsert)
	e.GET("/api/rnb/pvt/coupon", vtex.List)
	e.GET("/api/rnb/pvt/coupon/:code", vtex.Get)
	e.POST("/api/rnb/pvt/multiple-coupons", vtex.Multiple)
	e.POST("/api/rnb/pvt/coupons", vtex.Generate)
	e.POST("/api/rnb/pvt/archive/coupon/:code", vtex.Archive)
	e.POST("/api/rnb/pvt/unarchive/coupon/:code", vtex.Unarchive)
}

// csrf protects console forms: a browser's same-origin Sec-Fetch-Site
// passes, anything else needs the token from the form or the htmx header.
func csrf(cfg Config) echo.MiddlewareFunc {
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "header:" + views.CSRFHeader + ",form:" + views.CSRFField,
		ContextKey:     handlers.CSRFContextKey,
		CookieName:     "_csrf",
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   cfg.SecureCookies,
		CookieSameSite: http.SameSiteLaxMode,
		ErrorHandler: func(error, echo.Context) error {
			return echo.NewHTTPError(http.StatusForbidden, "this form has expired or did not come from this site; reload the page and try again")
		},
	})
}

// serveStatic serves an embedded asset; directories are not listed.
func serveStatic(c echo.Context) error {
	name := strings.TrimPrefix(c.Param("*"), "/")
	f, err := static.FS.Open(name)
	if err != nil {
		return echo.ErrNotFound
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		return echo.ErrNotFound
	}
	rs, ok := f.(interface {
		fs.File
		Read([]byte) (int, error)
		Seek(int64, int) (int64, error)
	})
	if !ok {
		return errors.New("embedded file is not seekable")
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(c.Response(), c.Request(), name, time.Time{}, rs)
	return nil
}
