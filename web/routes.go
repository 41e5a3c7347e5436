package web

import (
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coupond/coupond/handlers"
	"github.com/coupond/coupond/handlers/api"
	"github.com/coupond/coupond/handlers/bigcommerce"
	"github.com/coupond/coupond/handlers/capillary"
	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/handlers/vtex"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/static"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// addRoutes is coupond's whole URL surface. Console routes carry a
// session and a CSRF check and name the least role they need; API routes
// need a token, with the modify scope for writes.
func addRoutes(e *echo.Echo, spaces *errorSpaces, logger *slog.Logger, cfg Config, store *models.Store) {
	sessions := newSessions(logger, cfg, store.Sessions())
	health := &handlers.Health{DB: store, Logger: logger}
	// One throttle for sign-in and password change, so that a client
	// address's failures at either count against the same budget.
	throttle := newLoginThrottle(cfg.Now)
	auth := &handlers.Auth{Store: store, Sessions: sessions, Throttle: throttle, Now: cfg.Now}
	account := &handlers.Account{Store: store, Sessions: sessions, Throttle: throttle}
	users := &handlers.Users{Store: store, Sessions: sessions}
	tokens := &handlers.Tokens{Store: store}
	audit := &handlers.Audit{Store: store}
	coupons := &handlers.Coupons{Store: store, Now: cfg.Now}
	redemptions := &handlers.Redemptions{Store: store, Now: cfg.Now}
	singleUse := &handlers.SingleUse{Store: store, Now: cfg.Now}
	check := &handlers.Check{Store: store}
	batches := &handlers.Batches{Store: store, Now: cfg.Now}
	imports := &handlers.Imports{Store: store, Now: cfg.Now}
	promotions := &handlers.Promotions{Store: store, Now: cfg.Now}
	vtexAPI := vtex.New(store)
	promotionAPI := &api.Promotions{Store: store, Now: cfg.Now}
	couponAPI := &api.Coupons{Store: store, Now: cfg.Now}
	customerAPI := &api.Customers{Store: store, Now: cfg.Now}
	seriesAPI := &api.SeriesAPI{Store: store, Now: cfg.Now}
	importAPI := &api.Imports{Store: store, Now: cfg.Now}
	redemptionAPI := &api.Redemptions{Store: store}
	reservationAPI := &api.Reservations{Store: store, Now: cfg.Now}
	batchAPI := &api.Batches{Store: store, Now: cfg.Now}
	bigCommerce := bigcommerce.New(store)
	capillaryAPI := capillary.New(store, cfg.Terms.Zone())

	anyone := []echo.MiddlewareFunc{echo.WrapMiddleware(sessions.LoadAndSave), handlers.WithNotices(sessions), csrf(cfg), identify(sessions, store, sessionLimits{now: cfg.Now, idle: cfg.SessionIdle, lifetime: cfg.SessionLifetime})}
	as := func(role string) []echo.MiddlewareFunc { return append(slices.Clone(anyone), requireRole(role)) }
	viewer, editor, admin := as(models.RoleViewer), as(models.RoleEditor), as(models.RoleAdmin)
	tokenAuth := &apiAuth{tokens: store, inflight: newInflight(cfg.TokenConcurrency)}
	read, write := tokenAuth.require(false), tokenAuth.require(true)
	idem := idempotent(store, logger)

	// Error bodies: the console's pages everywhere but in the JSON spaces
	// below, each of which names fields its own way.
	spaces.add("/api/", api.Errors)
	spaces.add("/v2/", api.Errors)

	// Probes, open to all.
	spaces.add("/healthz", api.Errors)
	spaces.add("/readyz", api.Errors)
	e.GET("/healthz", health.Live)
	e.GET("/readyz", health.Ready)

	// Static assets, versioned by name and cached for a year; open to all.
	e.GET("/static/*", serveStatic)

	// Signing in and first-run setup with the one-time link, open to all;
	// signing out.
	e.GET("/login", auth.LoginForm, anyone...)
	e.POST("/login", auth.Login, anyone...)
	e.POST("/logout", auth.Logout, viewer...)
	e.GET("/setup", auth.SetupForm, anyone...)
	e.POST("/setup", auth.Setup, anyone...)

	// Console: the dashboard, for everyone signed in.
	dashboard := &handlers.Dashboard{Store: store, Now: cfg.Now}
	// Console: coupons. Viewers read; editors and admins change.
	e.GET("/", dashboard.Show, viewer...)
	e.GET("/coupons", coupons.List, viewer...)
	e.GET("/coupons/new", coupons.New, editor...)
	e.POST("/coupons", coupons.Create, editor...)
	e.GET("/coupons/:code", coupons.Show, viewer...)
	e.POST("/coupons/:code", coupons.Update, editor...)
	e.GET("/coupons/:code/edit", coupons.Edit, editor...)
	e.POST("/coupons/:code/archive", coupons.Archive, editor...)
	e.POST("/coupons/:code/unarchive", coupons.Unarchive, editor...)

	// Console: every redemption, filtered, and its CSV, for everyone
	// signed in; editors and admins cancel a redemption (on its coupon's
	// page).
	e.GET("/redemptions", redemptions.List, viewer...)
	e.GET("/redemptions.csv", redemptions.CSV, viewer...)
	e.GET("/redemptions/:id/cancel", redemptions.ConfirmCancel, editor...)
	e.POST("/redemptions/:id/cancel", redemptions.Cancel, editor...)

	// Console: single-use coupons, each with a promotion of its own, for
	// editors and admins.
	e.GET("/single-use", singleUse.Form, editor...)
	e.POST("/single-use", singleUse.Create, editor...)
	e.GET("/single-use/:code", singleUse.Show, editor...)

	// Console: checking whether a code could be redeemed, for everyone
	// signed in.
	e.GET("/check", check.Show, viewer...)

	// Console: promotions. Viewers read; editors and admins change. The
	// handlers read :id as a number, so any other id is a 404.
	e.GET("/promotions", promotions.List, viewer...)
	e.GET("/promotions/new", promotions.New, editor...)
	e.POST("/promotions", promotions.Create, editor...)
	e.POST(views.PromotionReachURL, promotions.ReachPreview, editor...)
	e.GET("/promotions/:id", promotions.Show, viewer...)
	e.POST("/promotions/:id", promotions.Update, editor...)
	e.GET("/promotions/:id/edit", promotions.Edit, editor...)
	e.GET("/promotions/:id/archive", promotions.ConfirmArchive, editor...)
	e.POST("/promotions/:id/archive", promotions.Archive, editor...)
	e.POST("/promotions/:id/unarchive", promotions.Unarchive, editor...)
	e.POST("/promotions/:id/utm", promotions.LinkTag, editor...)

	// Console: generation and its batches, which run in the background,
	// and the coupon list as CSV. Viewers follow batches and download;
	// editors and admins generate (with a live preview) and cancel.
	reach := &handlers.Reach{Store: store, Now: cfg.Now}
	e.POST(views.ReachURL, reach.Show, editor...)
	e.GET("/coupons/generate", batches.GenerateForm, editor...)
	e.POST("/coupons/generate", batches.Generate, editor...)
	e.POST("/coupons/generate/preview", batches.Preview, editor...)
	e.GET(views.ImportNewURL, imports.Form, editor...)
	// The file's bound goes first: the session and CSRF checks may read
	// a form's body.
	upload := append([]echo.MiddlewareFunc{api.LimitImportBody}, editor...)
	e.POST(views.ImportPreviewURL, imports.Preview, upload...)
	e.POST(views.ImportsURL, imports.Create, upload...)
	e.GET(views.ImportsURL, imports.List, viewer...)
	e.GET("/imports/:id", imports.Show, viewer...)
	e.GET("/imports/:id/progress", imports.Progress, viewer...)
	e.POST("/imports/:id/cancel", imports.Cancel, editor...)
	e.GET("/imports/:id/errors.csv", imports.Errors, viewer...)
	e.GET("/batches", batches.List, viewer...)
	e.GET("/batches/:id", batches.Show, viewer...)
	e.GET("/batches/:id/progress", batches.Progress, viewer...)
	e.GET("/batches/:id/cancel", batches.ConfirmCancel, editor...)
	e.POST("/batches/:id/cancel", batches.Cancel, editor...)
	e.GET("/batches/:id/codes.csv", batches.CSV, viewer...)
	e.GET("/coupons.csv", coupons.CSV, viewer...)

	// Console: coupon series and issuing their codes to customers.
	// Viewers read and download; editors and admins create, edit and
	// issue. The handlers read :id as a number, so any other id is a 404.
	series := &handlers.Series{Store: store, Now: cfg.Now}
	issue := &handlers.Issue{Store: store, Now: cfg.Now}
	e.GET("/series", series.List, viewer...)
	e.GET("/series/new", series.New, editor...)
	e.POST("/series", series.Create, editor...)
	e.GET("/series/:id", series.Show, viewer...)
	e.POST("/series/:id", series.Update, editor...)
	e.GET("/series/:id/edit", series.Edit, editor...)
	e.GET("/series/:id/codes.csv", series.CSV, viewer...)
	e.GET("/series/:id/archive", series.ConfirmArchive, editor...)
	e.POST("/series/:id/archive", series.Archive, editor...)
	e.POST("/series/:id/unarchive", series.Unarchive, editor...)
	e.GET("/issue", issue.Form, editor...)
	e.POST("/issue", issue.Create, editor...)

	// Console: customers, found by any identifier, with every code made
	// for them; for everyone signed in.
	customers := &handlers.Customers{Store: store, Now: cfg.Now}
	e.GET("/customers", customers.List, viewer...)
	e.GET("/customers/:id", customers.Show, viewer...)

	// Console: one's own account.
	e.GET("/account", account.Show, viewer...)
	e.POST("/account/password", account.ChangePassword, viewer...)

	// Console: the audit log, for editors and admins.
	e.GET("/audit", audit.List, editor...)

	// Console: users and API tokens, for admins.
	e.GET("/users", users.List, admin...)
	e.POST("/users", users.Create, admin...)
	e.POST("/users/:id/role", users.SetRole, admin...)
	e.GET("/users/:id/disable", users.ConfirmDisable, admin...)
	e.POST("/users/:id/disable", users.Disable, admin...)
	e.POST("/users/:id/enable", users.Enable, admin...)
	e.GET("/tokens", tokens.List, admin...)
	e.POST("/tokens", tokens.Create, admin...)
	e.GET("/tokens/:id/revoke", tokens.ConfirmRevoke, admin...)
	e.POST("/tokens/:id/revoke", tokens.Revoke, admin...)

	// Native API: promotions and single-use coupons.
	e.GET("/api/openapi.json", api.OpenAPI)
	e.GET("/api/docs", api.Docs)
	e.POST("/api/promotions", promotionAPI.Create, write)
	e.GET("/api/promotions", promotionAPI.List, read)
	e.GET("/api/promotions/:id", promotionAPI.Get, read)
	e.PUT("/api/promotions/:id", promotionAPI.Update, write)
	e.POST("/api/promotions/:id/archive", promotionAPI.Archive, write)
	e.POST("/api/single-use-coupons", promotionAPI.CreateSingleUse, write)

	// Native API: validation and redemption, for checkouts; the list of
	// redemptions and its CSV, for reports.
	e.GET("/api/coupons/:code/validation", redemptionAPI.Validate, read)
	e.POST("/api/coupons", couponAPI.Create, write)
	e.GET("/api/coupons", couponAPI.List, read)
	e.GET("/api/coupons/:code", couponAPI.Get, read)
	e.PATCH("/api/coupons/:code", couponAPI.Patch, write)
	e.POST("/api/coupons/:code/archive", couponAPI.Archive, write)
	e.POST("/api/coupons/:code/unarchive", couponAPI.Unarchive, write)
	e.POST("/api/series", seriesAPI.Create, write)
	e.GET("/api/series", seriesAPI.List, read)
	e.GET("/api/series/:id", seriesAPI.Get, read)
	e.PUT("/api/series/:id", seriesAPI.Update, write)
	e.POST("/api/series/:id/issues", seriesAPI.Issue, write, idem)
	e.GET("/api/series/:id/codes.csv", seriesAPI.Codes, read)
	e.POST("/api/imports", importAPI.Create, write, api.LimitImportBody, idem)
	e.POST("/api/imports/preview", importAPI.Preview, read, api.LimitImportBody)
	e.GET("/api/imports", importAPI.List, read)
	e.GET("/api/imports/:id", importAPI.Get, read)
	e.POST("/api/imports/:id/cancel", importAPI.Cancel, write)
	e.GET("/api/imports/:id/errors.csv", importAPI.Errors, read)
	e.GET("/api/customers/:ref", customerAPI.Get, read)
	e.GET("/api/customers/:ref/coupons", customerAPI.Coupons, read)
	e.GET("/api/customers/:ref/redemptions", customerAPI.Redemptions, read)
	e.POST("/api/redemptions", redemptionAPI.Redeem, write)
	e.GET("/api/redemptions", redemptionAPI.List, read)
	e.GET("/api/redemptions.csv", redemptionAPI.CSV, read)
	e.GET("/api/redemptions/:id", redemptionAPI.Get, read)
	e.POST("/api/redemptions/:id/cancel", redemptionAPI.Cancel, write)
	e.POST("/api/reservations", reservationAPI.Create, write)
	e.GET("/api/reservations/:id", reservationAPI.Get, read)
	e.DELETE("/api/reservations/:id", reservationAPI.Release, write)

	// Native API: generation batches, run in the background, and the
	// coupon exports. Creating a batch honours Idempotency-Key.
	e.POST("/api/batches", batchAPI.Create, write, idem)
	e.POST("/api/batches/preview", batchAPI.Preview, read)
	e.GET("/api/batches", batchAPI.List, read)
	e.GET("/api/batches/:id", batchAPI.Get, read)
	e.POST("/api/batches/:id/cancel", batchAPI.Cancel, write)
	e.GET("/api/batches/:id/codes.csv", batchAPI.Codes, read)
	e.GET("/api/coupons.csv", batchAPI.CouponsCSV, read)

	// VTEX-style coupon API, with VTEX's field names in errors.
	rnb := spaces.group(e, "/api/rnb/pvt", vtex.Errors)
	rnb.POST("/coupon", vtexAPI.Upsert, write)
	rnb.GET("/coupon", vtexAPI.List, read)
	rnb.GET("/coupon/:code", vtexAPI.Get, read)
	rnb.GET("/coupon/usage/:code", vtexAPI.Usage, read)
	rnb.POST("/multiple-coupons", vtexAPI.Multiple, write)
	rnb.POST("/coupons", vtexAPI.Generate, write)
	rnb.GET("/archive/coupon/:code", vtexAPI.GetArchived, read)
	rnb.POST("/archive/coupon/:code", vtexAPI.Archive, write)
	rnb.POST("/unarchive/coupon/:code", vtexAPI.Unarchive, write)

	// BigCommerce-style promotions and bulk codes under /api/v3, in
	// BigCommerce's error bodies. Generating codes honours
	// Idempotency-Key.
	v3 := spaces.group(e, "/api/v3", bigcommerce.Errors)
	v3.POST("/promotions", bigCommerce.CreatePromotion, write)
	v3.GET("/promotions/:id", bigCommerce.Promotion, read)
	v3.POST("/promotions/:id/codegen", bigCommerce.Codegen, write, idem)
	v3.GET("/promotions/:id/codes", bigCommerce.Codes, read)
	v3.DELETE("/promotions/:id/codes", bigCommerce.DeleteCodes, write)

	// Capillary-style coupon series, issuing personal codes, checking and
	// redeeming them, in Capillary's bodies and result codes. Issuing
	// honours Idempotency-Key; a redemption is idempotent on its
	// transaction number.
	v2 := spaces.group(e, "/v2/coupon", capillary.Errors)
	v2.POST("/series", capillaryAPI.CreateSeries, write)
	v2.PUT("/series/:id", capillaryAPI.UpdateSeries, write)
	v2.GET("/series", capillaryAPI.GetSeries, read)
	v2.POST("/bulk/issue", capillaryAPI.BulkIssue, write, idem)
	v2.POST("/issue", capillaryAPI.Issue, write, idem)
	v2.GET("/is_redeemable", capillaryAPI.IsRedeemable, read)
	v2.POST("/redeem", capillaryAPI.Redeem, write)
}

// errorSpaces records which error body each URL space answers in. The
// error handler picks by path, so a request that fails before it reaches
// a route (an unknown path, a body too large) is answered in the same
// shape as its neighbours.
type errorSpaces struct {
	spaces []errorSpace
}

type errorSpace struct {
	prefix string
	body   httpx.ErrorEncoder
}

// add declares that paths under prefix answer errors with body.
func (s *errorSpaces) add(prefix string, body httpx.ErrorEncoder) {
	s.spaces = append(s.spaces, errorSpace{prefix, body})
}

// group is a route group under prefix whose errors are answered with
// body. It takes no group middleware: Echo would turn that into
// catch-all routes that answer a wrong method with 404 instead of 405.
func (s *errorSpaces) group(e *echo.Echo, prefix string, body httpx.ErrorEncoder) *echo.Group {
	s.add(prefix+"/", body)
	return e.Group(prefix)
}

// encoderFor is the error encoder of the longest declared prefix of path; the
// console's elsewhere.
func (s *errorSpaces) encoderFor(path string) httpx.ErrorEncoder {
	best, body := -1, httpx.ErrorEncoder(handlers.Errors)
	for _, sp := range s.spaces {
		if strings.HasPrefix(path, sp.prefix) && len(sp.prefix) > best {
			best, body = len(sp.prefix), sp.body
		}
	}
	return body
}

// csrf protects console forms: a browser's same-origin Sec-Fetch-Site
// passes, anything else needs the token from the htmx header or the form
// body, never from the URL query, where it would be logged. Echo's form
// lookup reads the query too, so the body's token is handed to the header
// check instead.
func csrf(cfg Config) echo.MiddlewareFunc {
	check := middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "header:" + views.CSRFHeader,
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
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		checked := check(next)
		return func(c echo.Context) error {
			r := c.Request()
			switch r.Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
			default:
				// PostFormValue reads the body only (URL-encoded or
				// multipart), never the query; a request that sends the
				// token as a header (htmx) keeps its body unread, which
				// a file to import needs.
				if r.Header.Get(views.CSRFHeader) != "" {
					break
				}
				if token := r.PostFormValue(views.CSRFField); token != "" {
					r.Header.Add(views.CSRFHeader, token)
				}
			}
			return checked(c)
		}
	}
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
