package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/coupond/coupond/handlers"
	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

// newSessions configures console sessions: stored in the database, cookie
// HttpOnly and SameSite=Lax (Secure behind TLS), with idle and absolute
// expiry.
func newSessions(logger *slog.Logger, cfg Config, store models.SessionStore) *scs.SessionManager {
	sm := scs.New()
	sm.Store = store
	// Idle expiry is identify's, by the server's clock: scs's own
	// IdleTimeout would save every session on every request to move its
	// deadline. Its Lifetime stays as a backstop for the absolute limit.
	sm.Lifetime = cfg.SessionLifetime
	sm.Cookie.Name = "coupond_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = cfg.SecureCookies
	sm.Cookie.Path = "/"
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		logger.Error("session store", "err", err, "uri", redactURI(r.RequestURI))
		http.Error(w, "the session store is not answering; try again shortly", http.StatusServiceUnavailable)
	}
	return sm
}

// userStore is what identifying a console user needs.
type userStore interface {
	User(ctx context.Context, id int64) (models.User, error)
}

// sessionLimits ends console sessions by the server's clock: after idle
// without a request, and lifetime after sign-in however busy.
type sessionLimits struct {
	now      func() time.Time
	idle     time.Duration
	lifetime time.Duration
}

// seenEvery is how old the last-seen time may grow before a request moves
// it: the session's data changes at most this often on its account, and
// an idle session may end up to this much early.
const seenEvery = time.Minute

// over reports whether the session in ctx has passed a limit at now. A
// session without its sign-in and last-seen times is over too.
func (l sessionLimits) over(ctx context.Context, sm *scs.SessionManager, now time.Time) bool {
	signedIn, seen := sm.GetInt64(ctx, handlers.SessionSignedIn), sm.GetInt64(ctx, handlers.SessionSeen)
	if signedIn == 0 || seen == 0 {
		return true
	}
	return !now.Before(time.Unix(signedIn, 0).Add(l.lifetime)) || !now.Before(time.Unix(seen, 0).Add(l.idle))
}

// touch records that the session in ctx is in use at now.
func (l sessionLimits) touch(ctx context.Context, sm *scs.SessionManager, now time.Time) {
	if now.Sub(time.Unix(sm.GetInt64(ctx, handlers.SessionSeen), 0)) >= seenEvery {
		sm.Put(ctx, handlers.SessionSeen, now.Unix())
	}
}

// identify loads the signed-in user of the session, if any. A session
// past its idle or absolute limit, whose user is gone or disabled, or
// whose sessions were ended (password change) is destroyed.
func identify(sm *scs.SessionManager, users userStore, limits sessionLimits) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx := c.Request().Context()
			id := sm.GetInt64(ctx, handlers.SessionUserID)
			if id == 0 {
				return next(c)
			}
			now := limits.now()
			if limits.over(ctx, sm, now) {
				if err := sm.Destroy(ctx); err != nil {
					return err
				}
				return next(c)
			}
			u, err := users.User(ctx, id)
			switch {
			case errors.Is(err, models.ErrNotFound), err == nil && (u.Disabled || u.SessionVersion != sm.GetInt64(ctx, handlers.SessionVersion)):
				if err := sm.Destroy(ctx); err != nil {
					return err
				}
				return next(c)
			case err != nil:
				return err
			}
			limits.touch(ctx, sm, now)
			c.Set(handlers.UserKey, &u)
			c.SetRequest(c.Request().WithContext(models.WithActor(ctx, models.Actor{Kind: models.ActorUser, Name: u.Email, UserID: u.ID})))
			return next(c)
		}
	}
}

// roleNames says in words what a role needs to be allowed.
var roleNames = map[string]string{
	models.RoleViewer: "signed in",
	models.RoleEditor: "an editor or admin",
	models.RoleAdmin:  "an admin",
}

// requireRole lets a request through when the signed-in user has at least
// the given role. Anonymous browsers are sent to the login page (htmx via
// HX-Redirect); a signed-in user without the role gets 403.
func requireRole(role string) echo.MiddlewareFunc {
	allowed := func(r string) bool {
		switch role {
		case models.RoleAdmin:
			return models.CanAdmin(r)
		case models.RoleEditor:
			return models.CanEdit(r)
		}
		return true
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u := handlers.CurrentUser(c)
			if u == nil {
				target := "/login"
				if c.Request().Method == http.MethodGet {
					target += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
				}
				if c.Request().Header.Get("HX-Request") == "true" {
					c.Response().Header().Set("HX-Redirect", target)
					return echo.NewHTTPError(http.StatusUnauthorized, "your session has ended; sign in again")
				}
				return c.Redirect(http.StatusSeeOther, target)
			}
			// Signed-in pages show codes, customers and orders: neither a
			// shared computer's cache nor its back button may keep them
			// for the next person.
			c.Response().Header().Set("Cache-Control", "no-store")
			if !allowed(u.Role) {
				return echo.NewHTTPError(http.StatusForbidden, fmt.Sprintf("this needs you to be %s; you are signed in as %s (%s)", roleNames[role], u.Email, u.Role))
			}
			return next(c)
		}
	}
}

// tokenStore is what API authentication needs.
type tokenStore interface {
	AuthenticateToken(ctx context.Context, plain string) (models.APIToken, error)
}

// apiAuth admits requests that carry a live API token in X-Auth-Token,
// Authorization: Bearer, HTTP Basic (the token's name as the user, the
// token as the password), or VTEX's pair X-VTEX-API-AppToken (the token)
// and X-VTEX-API-AppKey (its name); write routes need the modify scope. Each token
// may have limit requests in flight; past that the client gets 429.
type apiAuth struct {
	tokens   tokenStore
	inflight *inflight
}

func (a *apiAuth) require(write bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			hdr := c.Request().Header
			plain := hdr.Get("X-Auth-Token")
			if plain == "" {
				if v, ok := strings.CutPrefix(hdr.Get("Authorization"), "Bearer "); ok {
					plain = strings.TrimSpace(v)
				}
			}
			basicUser, basicToken, viaBasic := "", "", false
			if plain == "" {
				basicUser, basicToken, viaBasic = c.Request().BasicAuth()
				plain = basicToken
				if viaBasic && basicToken == "" {
					return echo.NewHTTPError(http.StatusUnauthorized, "HTTP Basic credentials need the token's name as the user and the token as the password")
				}
			}
			appKey, appToken := hdr.Get(vtexAppKey), hdr.Get(vtexAppToken)
			viaVTEX := plain == ""
			switch {
			case viaVTEX && appToken == "" && appKey == "":
				return echo.NewHTTPError(http.StatusUnauthorized, "send an API token in the X-Auth-Token header, as Authorization: Bearer <token>, as HTTP Basic with the token's name as the user and the token as the password, or as X-VTEX-API-AppToken with the token's name in X-VTEX-API-AppKey")
			case viaVTEX && (appToken == "" || appKey == ""):
				return echo.NewHTTPError(http.StatusUnauthorized, "send both X-VTEX-API-AppKey (the token's name) and X-VTEX-API-AppToken (the token)")
			case viaVTEX:
				plain = appToken
			}
			t, err := a.tokens.AuthenticateToken(c.Request().Context(), plain)
			if errors.Is(err, models.ErrUnauthenticated) {
				return echo.NewHTTPError(http.StatusUnauthorized, "this API token is unknown or revoked")
			}
			if err != nil {
				return err
			}
			if viaBasic && basicUser != t.Name {
				return echo.NewHTTPError(http.StatusUnauthorized, "the HTTP Basic user must be the name of the token sent as the password")
			}
			if viaVTEX && appKey != t.Name {
				return echo.NewHTTPError(http.StatusUnauthorized, "X-VTEX-API-AppKey does not name the token sent in X-VTEX-API-AppToken")
			}
			if write && !t.CanWrite() {
				return echo.NewHTTPError(http.StatusForbidden, fmt.Sprintf("the token %q has the read scope; this request needs a token with the modify scope", t.Name))
			}
			release, remaining, ok := a.inflight.acquire(t.ID)
			h := c.Response().Header()
			h.Set("X-RateLimit-Limit", strconv.Itoa(a.inflight.limit))
			h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
			if !ok {
				h.Set("Retry-After", "1")
				// Answer at once instead of first draining a body the
				// refused client may still be sending.
				h.Set("Connection", "close")
				return echo.NewHTTPError(http.StatusTooManyRequests, fmt.Sprintf("the token %q already has %d requests in flight; wait for one to finish", t.Name, a.inflight.limit))
			}
			defer release()
			c.Set(tokenIDKey, t.ID)
			ctx := models.WithActor(c.Request().Context(), models.Actor{Kind: models.ActorToken, Name: t.Name})
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

// VTEX's credential headers.
const (
	vtexAppKey   = "X-VTEX-API-AppKey"
	vtexAppToken = "X-VTEX-API-AppToken"
)

// inflight counts requests in flight per token and refuses past limit.
type inflight struct {
	limit int
	mu    sync.Mutex
	count map[int64]int
}

func newInflight(limit int) *inflight {
	return &inflight{limit: limit, count: map[int64]int{}}
}

// acquire takes a slot for the token without waiting. It returns the
// release function, how many slots remain, and whether a slot was free.
func (f *inflight) acquire(id int64) (func(), int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.count[id]
	if n >= f.limit {
		return nil, 0, false
	}
	f.count[id] = n + 1
	release := func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.count[id] <= 1 {
			delete(f.count, id)
		} else {
			f.count[id]--
		}
	}
	return release, f.limit - n - 1, true
}

// defaultSessionIdle and defaultSessionLifetime bound console sessions.
const (
	defaultSessionIdle     = 2 * time.Hour
	defaultSessionLifetime = 12 * time.Hour
)
