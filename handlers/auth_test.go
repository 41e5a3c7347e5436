package handlers_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
	"github.com/coupond/coupond/web"
	"github.com/coupond/coupond/web/webtest"
	"golang.org/x/crypto/bcrypt"
)

func loginForm(email, password string) io.Reader {
	return strings.NewReader(url.Values{"email": {email}, "password": {password}}.Encode())
}

var formHeaders = map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"}

func TestLoginAndLogout(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		c := webtest.NewClient()
		r := h.DoWith(c, "GET", "/coupons?q=x", nil, nil)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login?next="+url.QueryEscape("/coupons?q=x") {
			t.Fatalf("anonymous console: %d to %q", r.Status, r.Header.Get("Location"))
		}
		r = h.DoWith(c, "POST", "/login", loginForm(webtest.EditorEmail, "wrong password!"), formHeaders)
		if r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, "do not match") {
			t.Fatalf("wrong password: %d", r.Status)
		}
		if r := h.DoWith(c, "GET", "/account", nil, nil); r.Status != http.StatusSeeOther {
			t.Fatalf("a wrong password signed the client in: %d", r.Status)
		}
		form := url.Values{"email": {"EDITOR@example.com"}, "password": {webtest.Password}, "next": {"/coupons?q=x"}}
		r = h.DoWith(c, "POST", "/login", strings.NewReader(form.Encode()), formHeaders)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/coupons?q=x" {
			t.Fatalf("login: %d to %q", r.Status, r.Header.Get("Location"))
		}
		cookie := r.Header.Get("Set-Cookie")
		for _, want := range []string{"coupond_session=", "HttpOnly", "SameSite=Lax"} {
			if !strings.Contains(cookie, want) {
				t.Errorf("session cookie %q lacks %s", cookie, want)
			}
		}
		// An off-site "next" is not followed.
		form.Set("next", "//evil.example/")
		if r := h.DoWith(webtest.NewClient(), "POST", "/login", strings.NewReader(form.Encode()), formHeaders); r.Header.Get("Location") != "/coupons" {
			t.Errorf("next=//evil.example/ redirected to %q", r.Header.Get("Location"))
		}

		// Logout revokes the session server-side: replaying the old cookie fails.
		stolen := regexp.MustCompile(`coupond_session=([^;]+)`).FindStringSubmatch(cookie)[1]
		if r := h.DoWith(c, "POST", "/logout", nil, formHeaders); r.Status != http.StatusSeeOther {
			t.Fatalf("logout: %d", r.Status)
		}
		replay := h.DoWith(webtest.NewClient(), "GET", "/coupons", nil, map[string]string{"Cookie": "coupond_session=" + stolen})
		if replay.Status != http.StatusSeeOther {
			t.Errorf("the session cookie still works after logout: %d", replay.Status)
		}
		page, err := h.Store.ListAudit(t.Context(), models.AuditFilter{Actor: webtest.EditorEmail})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range page.Events {
			actions = append(actions, e.Action)
		}
		if strings.Join(actions, ",") != "user.logout,user.login,user.login,user.login_failed" {
			t.Errorf("audit of the editor's sign-ins = %v", actions)
		}
	})
}

func TestPasswordChangeAndDisableEndSessions(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		here, there := h.Login(webtest.EditorEmail), h.Login(webtest.EditorEmail)
		form := url.Values{"currentPassword": {webtest.Password}, "newPassword": {"another long password"}, "newPasswordConfirm": {"another long password"}}
		r := h.DoWith(here, "POST", "/account/password", strings.NewReader(form.Encode()), formHeaders)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("change password: %d %s", r.Status, r.Body)
		}
		if r := h.DoWith(here, "GET", "/account", nil, nil); r.Status != http.StatusOK || !strings.Contains(r.Body, "Every other session") {
			t.Errorf("the session that changed the password must go on: %d", r.Status)
		}
		if r := h.DoWith(there, "GET", "/coupons", nil, nil); r.Status != http.StatusSeeOther {
			t.Errorf("another session survived the password change: %d", r.Status)
		}
		viewer := h.Login(webtest.ViewerEmail)
		id := h.UserIDs()[webtest.ViewerEmail]
		if r := h.Post(fmt.Sprintf("/users/%d/disable", id), nil, nil); r.Status != http.StatusSeeOther {
			t.Fatalf("disable: %d", r.Status)
		}
		if r := h.DoWith(viewer, "GET", "/coupons", nil, nil); r.Status != http.StatusSeeOther {
			t.Errorf("a disabled user's session still works: %d", r.Status)
		}
	})
}

// TestSessionExpiry moves the server's clock: a session in use lives on
// while each request comes within the idle limit of the one before, until
// it is idle too long or reaches its lifetime; then its cookie leads to
// the login page and the session is gone from the store.
func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  web.Config
		// inUse are the pauses before each request that must still be
		// signed in; then the pause after which the session is over.
		inUse []time.Duration
		over  time.Duration
	}{
		{
			name:  "idle",
			cfg:   web.Config{SessionIdle: 30 * time.Minute, SessionLifetime: 12 * time.Hour},
			inUse: []time.Duration{20 * time.Minute, 20 * time.Minute, 29 * time.Minute},
			over:  31 * time.Minute,
		},
		{
			name:  "absolute",
			cfg:   web.Config{SessionIdle: 30 * time.Minute, SessionLifetime: time.Hour},
			inUse: []time.Duration{20 * time.Minute, 20 * time.Minute, 19 * time.Minute},
			over:  2 * time.Minute,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			webtest.ForEachDBWith(t, tt.cfg, func(t *testing.T, h *webtest.Harness) {
				c := h.Login(webtest.ViewerEmail)
				u, err := url.Parse(h.Srv.URL)
				if err != nil {
					t.Fatal(err)
				}
				var token string
				for _, ck := range c.Jar.Cookies(u) {
					if ck.Name == "coupond_session" {
						token = ck.Value
					}
				}
				if token == "" {
					t.Fatal("signing in set no session cookie")
				}
				withCookie := map[string]string{"Cookie": "coupond_session=" + token}
				for i, pause := range tt.inUse {
					h.Clock.Advance(pause)
					if r := h.DoWith(webtest.NewClient(), "GET", "/account", nil, withCookie); r.Status != http.StatusOK {
						t.Fatalf("request %d, %v after the one before: %d, want the session still open", i+1, pause, r.Status)
					}
				}
				if _, found, err := h.Store.Sessions().Find(token); err != nil || !found {
					t.Fatalf("the session in use is not stored: found %v, %v", found, err)
				}
				h.Clock.Advance(tt.over)
				r := h.DoWith(webtest.NewClient(), "GET", "/account", nil, withCookie)
				if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
					t.Fatalf("%v later: %d to %q, want the login page", tt.over, r.Status, r.Header.Get("Location"))
				}
				if _, found, err := h.Store.Sessions().Find(token); err != nil || found {
					t.Errorf("the expired session is still stored: found %v, %v", found, err)
				}
			})
		})
	}
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	webtest.ForEachDBWith(t, web.Config{TrustProxy: true}, func(t *testing.T, h *webtest.Harness) {
		from := func(ip string) map[string]string {
			return map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin", "X-Forwarded-For": ip}
		}
		attacker := from("203.0.113.7")
		for i := range 5 {
			if r := h.DoWith(webtest.NewClient(), "POST", "/login", loginForm(webtest.EditorEmail, "guess"+strconv.Itoa(i)), attacker); r.Status != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d", i, r.Status)
			}
		}
		c := webtest.NewClient()
		r := h.DoWith(c, "POST", "/login", loginForm(webtest.EditorEmail, webtest.Password), attacker)
		if r.Status != http.StatusTooManyRequests {
			t.Fatalf("sixth attempt, right password, same address: %d, want 429", r.Status)
		}
		if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
			t.Errorf("Retry-After = %q", r.Header.Get("Retry-After"))
		}
		if r := h.DoWith(c, "GET", "/account", nil, nil); r.Status != http.StatusSeeOther {
			t.Errorf("the throttled sign-in signed the client in: %d", r.Status)
		}
		// The real editor elsewhere is not locked out by the attacker.
		if r := h.DoWith(webtest.NewClient(), "POST", "/login", loginForm(webtest.EditorEmail, webtest.Password), from("198.51.100.2")); r.Status != http.StatusSeeOther {
			t.Errorf("the owner from another address: %d, want 303", r.Status)
		}
		// Nor is another account from the attacker's address, until the
		// address itself has failed too often.
		if r := h.DoWith(webtest.NewClient(), "POST", "/login", loginForm(webtest.ViewerEmail, webtest.Password), attacker); r.Status != http.StatusSeeOther {
			t.Errorf("another account from the same address: %d", r.Status)
		}
		for i := range 15 {
			if r := h.DoWith(webtest.NewClient(), "POST", "/login", loginForm(fmt.Sprintf("u%d@example.com", i), "nope"), attacker); r.Status != http.StatusUnauthorized {
				t.Fatalf("failure %d of another account: %d, want 401", i, r.Status)
			}
		}
		if r := h.DoWith(webtest.NewClient(), "POST", "/login", loginForm(webtest.AdminEmail, webtest.Password), attacker); r.Status != http.StatusTooManyRequests {
			t.Errorf("an address with 20 failures: %d, want 429", r.Status)
		}
		h.Clock.Advance(2 * time.Minute)
		if r := h.DoWith(webtest.NewClient(), "POST", "/login", loginForm(webtest.EditorEmail, webtest.Password), attacker); r.Status != http.StatusSeeOther {
			t.Errorf("after the wait: %d, want 303", r.Status)
		}
	})
}

func TestSetupLinkIsSingleUse(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{PasswordCost: bcrypt.MinCost}, func(t *testing.T, s *models.Store) {
		e := web.NewServer(webtest.DiscardLogger(), web.Config{}, s)
		h := &webtest.Harness{T: t, E: e, Store: s}
		h.Srv = webtest.NewTestServer(t, e)
		token, err := s.NewSetupToken(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		c := webtest.NewClient()
		if r := h.DoWith(c, "GET", "/setup?token=wrong", nil, nil); r.Status != http.StatusNotFound {
			t.Errorf("wrong token: %d", r.Status)
		}
		if r := h.DoWith(c, "GET", "/setup?token="+token, nil, nil); r.Status != http.StatusOK || !strings.Contains(r.Body, "Create admin account") {
			t.Fatalf("setup page: %d", r.Status)
		}
		bad := url.Values{"token": {token}, "email": {"boss@example.com"}, "password": {"a good long password"}, "passwordConfirm": {"different"}}
		if r := h.DoWith(c, "POST", "/setup", strings.NewReader(bad.Encode()), formHeaders); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "does not match") {
			t.Errorf("mismatched confirmation: %d", r.Status)
		}
		if n, err := s.CountUsers(t.Context()); err != nil || n != 0 {
			t.Fatalf("%d accounts after a refused setup, want 0 (%v)", n, err)
		}
		good := url.Values{"token": {token}, "email": {"boss@example.com"}, "password": {"a good long password"}, "passwordConfirm": {"a good long password"}}
		r := h.DoWith(c, "POST", "/setup", strings.NewReader(good.Encode()), formHeaders)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/coupons" {
			t.Fatalf("setup: %d %q", r.Status, r.Header.Get("Location"))
		}
		if r := h.DoWith(c, "GET", "/users", nil, nil); r.Status != http.StatusOK {
			t.Errorf("the new admin is signed in and may manage users: %d", r.Status)
		}
		good.Set("email", "intruder@example.com")
		if r := h.DoWith(webtest.NewClient(), "POST", "/setup", strings.NewReader(good.Encode()), formHeaders); r.Status != http.StatusGone {
			t.Errorf("second use of the link: %d, want 410", r.Status)
		}
		if n, err := s.CountUsers(t.Context()); err != nil || n != 1 {
			t.Errorf("%d accounts after setup, want 1 (%v)", n, err)
		}
	})
}

func TestAPITokens(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		webtest.WantError(t, h.APIWith(nil, "GET", "/api/rnb/pvt/coupon", ""), http.StatusUnauthorized, "unauthorized")
		webtest.WantError(t, h.APIWith(map[string]string{"X-Auth-Token": "cpd_nonsense"}, "GET", "/api/rnb/pvt/coupon", ""), http.StatusUnauthorized, "unauthorized")
		e := webtest.WantError(t, h.APIWith(map[string]string{"X-Auth-Token": h.ReadToken}, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"x"}`), http.StatusForbidden, "forbidden")
		if !strings.Contains(e.Error.Message, "modify") {
			t.Errorf("403 message %q should say which scope is needed", e.Error.Message)
		}
		if r := h.APIWith(map[string]string{"Authorization": "Bearer " + h.ReadToken}, "GET", "/api/rnb/pvt/coupon", ""); r.Status != http.StatusOK || r.Header.Get("X-RateLimit-Limit") != "10" || r.Header.Get("X-RateLimit-Remaining") != "9" {
			t.Errorf("read token on a read: %d, limit %q remaining %q", r.Status, r.Header.Get("X-RateLimit-Limit"), r.Header.Get("X-RateLimit-Remaining"))
		}

		// An admin creates a token in the console; it is shown once.
		r := h.Post("/tokens", url.Values{"name": {"checkout"}, "scope": {"modify"}}, nil)
		if r.Status != http.StatusCreated {
			t.Fatalf("create token: %d %s", r.Status, r.Body)
		}
		m := tokenSecret.FindStringSubmatch(r.Body)
		if m == nil {
			t.Fatalf("the new token's secret is not shown: %.300s", r.Body)
		}
		if again := h.Do("GET", "/tokens", nil, nil); strings.Contains(again.Body, m[1]) {
			t.Error("the secret is shown a second time")
		}
		if r := h.APIWith(map[string]string{"X-Auth-Token": m[1]}, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"BYTOKEN"}`); r.Status != http.StatusCreated {
			t.Fatalf("the new token: %d %s", r.Status, r.Body)
		}
		ev, err := h.Store.ListAudit(t.Context(), models.AuditFilter{Action: models.ActionCouponCreate})
		if err != nil {
			t.Fatal(err)
		}
		if len(ev.Events) == 0 || ev.Events[0].Actor != "token:checkout" {
			t.Errorf("the coupon creation is not attributed to the token: %+v", ev.Events)
		}
		ts, err := h.Store.ListTokens(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var checkout int64
		for _, tok := range ts {
			if tok.Name == "checkout" {
				checkout = tok.ID
			}
		}
		if r := h.Post(fmt.Sprintf("/tokens/%d/revoke", checkout), nil, nil); r.Status != http.StatusSeeOther {
			t.Fatalf("revoke: %d", r.Status)
		}
		webtest.WantError(t, h.APIWith(map[string]string{"X-Auth-Token": m[1]}, "GET", "/api/rnb/pvt/coupon", ""), http.StatusUnauthorized, "unauthorized")
		if r := h.Post("/tokens", url.Values{"name": {""}, "scope": {"root"}}, nil); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `data-testid="error-name"`) {
			t.Errorf("bad token form: %d", r.Status)
		}
		if after, err := h.Store.ListTokens(t.Context()); err != nil || len(after) != len(ts) {
			t.Errorf("%d tokens after the refused form, want %d (%v)", len(after), len(ts), err)
		}
	})
}

// TestTokenConcurrencyLimit holds eleven requests of one token open at
// once by sending their bodies slowly: exactly one is refused with 429, at
// once, and the other ten go through when their bodies end.
func TestTokenConcurrencyLimit(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		type result struct {
			i      int
			status int
			header http.Header
			body   string
		}
		writers := make([]*io.PipeWriter, 11)
		results := make(chan result, len(writers))
		for i := range writers {
			pr, pw := io.Pipe()
			writers[i] = pw
			req, err := http.NewRequestWithContext(t.Context(), "POST", h.Srv.URL+"/api/rnb/pvt/coupon", pr)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Auth-Token", h.Token)
			go func() {
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					results <- result{i: i, body: err.Error()}
					return
				}
				defer res.Body.Close()
				b, err := io.ReadAll(res.Body)
				if err != nil {
					results <- result{i: i, body: "read the response: " + err.Error()}
					return
				}
				results <- result{i, res.StatusCode, res.Header, string(b)}
			}()
			if _, err := fmt.Fprintf(pw, `{"couponCode":"HELD%d"`, i); err != nil {
				t.Fatal(err)
			}
		}
		var refused result
		select {
		case refused = <-results:
		case <-time.After(10 * time.Second):
			t.Fatal("none of eleven concurrent requests was refused")
		}
		e := webtest.WantError(t, webtest.Response{Status: refused.status, Header: refused.header, Body: refused.body}, http.StatusTooManyRequests, "too_many_requests")
		if refused.header.Get("Retry-After") == "" || refused.header.Get("X-RateLimit-Remaining") != "0" || !strings.Contains(e.Error.Message, "10 requests in flight") {
			t.Errorf("429 without Retry-After, remaining 0 or a clear message: %v %q", refused.header, e.Error.Message)
		}
		// Another token is not affected.
		if r := h.APIWith(map[string]string{"X-Auth-Token": h.ReadToken}, "GET", "/api/rnb/pvt/coupon", ""); r.Status != http.StatusOK {
			t.Errorf("another token: %d", r.Status)
		}
		for i, pw := range writers {
			_, werr := io.WriteString(pw, "}")
			cerr := pw.Close()
			// The refused request's connection is closed, and with it
			// maybe its body: only the held ones must take the rest.
			if i != refused.i && (werr != nil || cerr != nil) {
				t.Fatalf("end the body of request %d: %v %v", i, werr, cerr)
			}
		}
		for range 10 {
			select {
			case r := <-results:
				if r.status != http.StatusCreated {
					t.Errorf("held request %d ended with %d %s", r.i, r.status, r.body)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("held requests were not released in time")
			}
		}
		page, err := h.Store.ListCoupons(t.Context(), models.CouponFilter{Prefix: "HELD"})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Coupons) != 10 {
			t.Errorf("%d HELD coupons stored, want the 10 held requests'", len(page.Coupons))
		}
		if _, ok := h.Coupon(fmt.Sprintf("HELD%d", refused.i)); ok {
			t.Errorf("the refused request %d created its coupon", refused.i)
		}
		if r := h.API("GET", "/api/rnb/pvt/coupon", ""); r.Status != http.StatusOK {
			t.Errorf("after the held requests finished: %d", r.Status)
		}
	})
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		r := h.DoWith(webtest.NewClient(), "GET", "/login", nil, nil)
		want := map[string]string{
			"Content-Security-Policy": "script-src 'self'",
			"X-Frame-Options":         "DENY",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "same-origin",
		}
		for k, v := range want {
			if !strings.Contains(r.Header.Get(k), v) {
				t.Errorf("%s = %q, want it to contain %q", k, r.Header.Get(k), v)
			}
		}
	})
}

func TestViewerSeesNoWriteControls(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		h.MustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"LOOK"}`)
		viewer := h.Login(webtest.ViewerEmail)
		for _, path := range []string{"/coupons", "/coupons/LOOK"} {
			r := h.DoWith(viewer, "GET", path, nil, nil)
			if r.Status != http.StatusOK || !strings.Contains(r.Body, "LOOK") {
				t.Fatalf("%s: %d", path, r.Status)
			}
			for _, control := range []string{`data-testid="archive"`, `data-testid="edit"`, `href="/coupons/new"`, `href="/coupons/generate"`, `/edit"`, `href="/users"`, `href="/audit"`} {
				if strings.Contains(r.Body, control) {
					t.Errorf("%s shows the viewer %s", path, control)
				}
			}
		}
		editor := h.DoWith(h.Login(webtest.EditorEmail), "GET", "/coupons", nil, nil)
		if !strings.Contains(editor.Body, `data-testid="archive"`) || strings.Contains(editor.Body, `href="/users"`) {
			t.Error("an editor sees archive buttons and no user management")
		}
	})
}

func TestUsersPage(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		r := h.Post("/users", url.Values{"email": {"new@example.com"}, "password": {"short"}, "role": {"editor"}}, nil)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `data-testid="error-password"`) || !strings.Contains(r.Body, `value="new@example.com"`) {
			t.Fatalf("bad new user: %d", r.Status)
		}
		if _, ok := h.UserIDs()["new@example.com"]; ok {
			t.Fatal("the refused form added the user")
		}
		if r := h.Post("/users", url.Values{"email": {"new@example.com"}, "password": {"long enough password"}, "role": {"editor"}}, nil); r.Status != http.StatusSeeOther {
			t.Fatalf("add user: %d %s", r.Status, r.Body)
		}
		if r := h.Do("GET", "/users", nil, nil); !strings.Contains(r.Body, "Added new@example.com as editor.") {
			t.Error("no notice after adding a user")
		}
		ids := h.UserIDs()
		if r := h.Post(fmt.Sprintf("/users/%d/role", ids["new@example.com"]), url.Values{"role": {"viewer"}}, nil); r.Status != http.StatusSeeOther {
			t.Errorf("set role: %d", r.Status)
		}
		if u := h.User(ids["new@example.com"]); u.Role != models.RoleViewer {
			t.Errorf("role = %s", u.Role)
		}
		r = h.Post(fmt.Sprintf("/users/%d/role", ids[webtest.AdminEmail]), url.Values{"role": {"editor"}}, nil)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "last enabled admin") {
			t.Errorf("demoting the last admin: %d", r.Status)
		}
		if u := h.User(ids[webtest.AdminEmail]); u.Role != models.RoleAdmin {
			t.Errorf("the refused demotion made the last admin %s", u.Role)
		}
		r = h.Post(fmt.Sprintf("/users/%d/disable", ids[webtest.AdminEmail]), nil, nil)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "your own account") {
			t.Errorf("disabling oneself: %d", r.Status)
		}
		if h.User(ids[webtest.AdminEmail]).Disabled {
			t.Error("the refused self-disable disabled the admin")
		}
	})
}

func TestAuditPage(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		h.MustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"AUDITED","maxUsage":1}`)
		h.MustAPI(http.StatusOK, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"AUDITED","maxUsage":2}`)
		r := h.Do("GET", "/audit?action=coupon.update", nil, nil)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "max uses 1 → 2") || !strings.Contains(r.Body, "token:test-modify") || strings.Contains(r.Body, `data-action="coupon.create"`) {
			t.Errorf("filtered audit page: %d", r.Status)
		}
		// In words, leading to the coupon; the filter offers every action.
		if !strings.Contains(r.Body, `>coupon edited</td>`) || !strings.Contains(r.Body, `<a href="/coupons/AUDITED" data-testid="audit-link">`) ||
			!strings.Contains(r.Body, `<option value="coupon.issue">code issued</option>`) {
			t.Error("the audit page does not say what happened in words, link the coupon, or offer every action")
		}
		if r := h.Do("GET", "/audit?from=yesterday", nil, nil); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "must be a date") {
			t.Errorf("bad date: %d", r.Status)
		}
		frag := h.Do("GET", "/audit?entity=coupon", nil, webtest.HTMX("audit-table"))
		if strings.Contains(frag.Body, "<html") || !strings.Contains(frag.Body, `id="audit-table"`) {
			t.Error("htmx filter must get only the table")
		}
	})
}
