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
	"golang.org/x/crypto/bcrypt"
)

// forEachDBWith is forEachDB with a server configuration.
func forEachDBWith(t *testing.T, cfg web.Config, fn func(t *testing.T, h *harness)) {
	t.Helper()
	storetest.Each(t, models.Config{PasswordCost: bcrypt.MinCost}, func(t *testing.T, s *models.Store) {
		fn(t, newHarness(t, s, cfg))
	})
}

func loginForm(email, password string) io.Reader {
	return strings.NewReader(url.Values{"email": {email}, "password": {password}}.Encode())
}

var formHeaders = map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"}

func TestLoginAndLogout(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		c := newClient()
		r := h.doWith(c, "GET", "/coupons?q=x", nil, nil)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login?next="+url.QueryEscape("/coupons?q=x") {
			t.Fatalf("anonymous console: %d to %q", r.status, r.header.Get("Location"))
		}
		r = h.doWith(c, "POST", "/login", loginForm(editorEmail, "wrong password!"), formHeaders)
		if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "do not match") {
			t.Fatalf("wrong password: %d", r.status)
		}
		if r := h.doWith(c, "GET", "/account", nil, nil); r.status != http.StatusSeeOther {
			t.Fatalf("a wrong password signed the client in: %d", r.status)
		}
		form := url.Values{"email": {"EDITOR@example.com"}, "password": {testPassword}, "next": {"/coupons?q=x"}}
		r = h.doWith(c, "POST", "/login", strings.NewReader(form.Encode()), formHeaders)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/coupons?q=x" {
			t.Fatalf("login: %d to %q", r.status, r.header.Get("Location"))
		}
		cookie := r.header.Get("Set-Cookie")
		for _, want := range []string{"coupond_session=", "HttpOnly", "SameSite=Lax"} {
			if !strings.Contains(cookie, want) {
				t.Errorf("session cookie %q lacks %s", cookie, want)
			}
		}
		// An off-site "next" is not followed.
		form.Set("next", "//evil.example/")
		if r := h.doWith(newClient(), "POST", "/login", strings.NewReader(form.Encode()), formHeaders); r.header.Get("Location") != "/coupons" {
			t.Errorf("next=//evil.example/ redirected to %q", r.header.Get("Location"))
		}

		// Logout revokes the session server-side: replaying the old cookie fails.
		stolen := regexp.MustCompile(`coupond_session=([^;]+)`).FindStringSubmatch(cookie)[1]
		if r := h.doWith(c, "POST", "/logout", nil, formHeaders); r.status != http.StatusSeeOther {
			t.Fatalf("logout: %d", r.status)
		}
		replay := h.doWith(newClient(), "GET", "/coupons", nil, map[string]string{"Cookie": "coupond_session=" + stolen})
		if replay.status != http.StatusSeeOther {
			t.Errorf("the session cookie still works after logout: %d", replay.status)
		}
		page, err := h.store.ListAudit(t.Context(), models.AuditFilter{Actor: editorEmail})
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
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		here, there := h.login(editorEmail), h.login(editorEmail)
		form := url.Values{"currentPassword": {testPassword}, "newPassword": {"another long password"}, "newPasswordConfirm": {"another long password"}}
		r := h.doWith(here, "POST", "/account/password", strings.NewReader(form.Encode()), formHeaders)
		if r.status != http.StatusSeeOther {
			t.Fatalf("change password: %d %s", r.status, r.body)
		}
		if r := h.doWith(here, "GET", "/account", nil, nil); r.status != http.StatusOK || !strings.Contains(r.body, "Every other session") {
			t.Errorf("the session that changed the password must go on: %d", r.status)
		}
		if r := h.doWith(there, "GET", "/coupons", nil, nil); r.status != http.StatusSeeOther {
			t.Errorf("another session survived the password change: %d", r.status)
		}
		viewer := h.login(viewerEmail)
		id := h.userIDs()[viewerEmail]
		if r := h.post(fmt.Sprintf("/users/%d/disable", id), nil, nil); r.status != http.StatusSeeOther {
			t.Fatalf("disable: %d", r.status)
		}
		if r := h.doWith(viewer, "GET", "/coupons", nil, nil); r.status != http.StatusSeeOther {
			t.Errorf("a disabled user's session still works: %d", r.status)
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
			forEachDBWith(t, tt.cfg, func(t *testing.T, h *harness) {
				c := h.login(viewerEmail)
				u, err := url.Parse(h.srv.URL)
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
					h.clock.Advance(pause)
					if r := h.doWith(newClient(), "GET", "/account", nil, withCookie); r.status != http.StatusOK {
						t.Fatalf("request %d, %v after the one before: %d, want the session still open", i+1, pause, r.status)
					}
				}
				if _, found, err := h.store.Sessions().Find(token); err != nil || !found {
					t.Fatalf("the session in use is not stored: found %v, %v", found, err)
				}
				h.clock.Advance(tt.over)
				r := h.doWith(newClient(), "GET", "/account", nil, withCookie)
				if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
					t.Fatalf("%v later: %d to %q, want the login page", tt.over, r.status, r.header.Get("Location"))
				}
				if _, found, err := h.store.Sessions().Find(token); err != nil || found {
					t.Errorf("the expired session is still stored: found %v, %v", found, err)
				}
			})
		})
	}
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	forEachDBWith(t, web.Config{TrustProxy: true}, func(t *testing.T, h *harness) {
		from := func(ip string) map[string]string {
			return map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin", "X-Forwarded-For": ip}
		}
		attacker := from("203.0.113.7")
		for i := range 5 {
			if r := h.doWith(newClient(), "POST", "/login", loginForm(editorEmail, "guess"+strconv.Itoa(i)), attacker); r.status != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d", i, r.status)
			}
		}
		c := newClient()
		r := h.doWith(c, "POST", "/login", loginForm(editorEmail, testPassword), attacker)
		if r.status != http.StatusTooManyRequests {
			t.Fatalf("sixth attempt, right password, same address: %d, want 429", r.status)
		}
		if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
			t.Errorf("Retry-After = %q", r.header.Get("Retry-After"))
		}
		if r := h.doWith(c, "GET", "/account", nil, nil); r.status != http.StatusSeeOther {
			t.Errorf("the throttled sign-in signed the client in: %d", r.status)
		}
		// The real editor elsewhere is not locked out by the attacker.
		if r := h.doWith(newClient(), "POST", "/login", loginForm(editorEmail, testPassword), from("198.51.100.2")); r.status != http.StatusSeeOther {
			t.Errorf("the owner from another address: %d, want 303", r.status)
		}
		// Nor is another account from the attacker's address, until the
		// address itself has failed too often.
		if r := h.doWith(newClient(), "POST", "/login", loginForm(viewerEmail, testPassword), attacker); r.status != http.StatusSeeOther {
			t.Errorf("another account from the same address: %d", r.status)
		}
		for i := range 15 {
			if r := h.doWith(newClient(), "POST", "/login", loginForm(fmt.Sprintf("u%d@example.com", i), "nope"), attacker); r.status != http.StatusUnauthorized {
				t.Fatalf("failure %d of another account: %d, want 401", i, r.status)
			}
		}
		if r := h.doWith(newClient(), "POST", "/login", loginForm(adminEmail, testPassword), attacker); r.status != http.StatusTooManyRequests {
			t.Errorf("an address with 20 failures: %d, want 429", r.status)
		}
		h.clock.Advance(2 * time.Minute)
		if r := h.doWith(newClient(), "POST", "/login", loginForm(editorEmail, testPassword), attacker); r.status != http.StatusSeeOther {
			t.Errorf("after the wait: %d, want 303", r.status)
		}
	})
}

func TestSetupLinkIsSingleUse(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{PasswordCost: bcrypt.MinCost}, func(t *testing.T, s *models.Store) {
		e := web.NewServer(discardLogger(), web.Config{}, s)
		h := &harness{t: t, e: e, store: s}
		h.srv = newTestServer(t, e)
		token, err := s.NewSetupToken(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		c := newClient()
		if r := h.doWith(c, "GET", "/setup?token=wrong", nil, nil); r.status != http.StatusNotFound {
			t.Errorf("wrong token: %d", r.status)
		}
		if r := h.doWith(c, "GET", "/setup?token="+token, nil, nil); r.status != http.StatusOK || !strings.Contains(r.body, "Create admin account") {
			t.Fatalf("setup page: %d", r.status)
		}
		bad := url.Values{"token": {token}, "email": {"boss@example.com"}, "password": {"a good long password"}, "passwordConfirm": {"different"}}
		if r := h.doWith(c, "POST", "/setup", strings.NewReader(bad.Encode()), formHeaders); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "does not match") {
			t.Errorf("mismatched confirmation: %d", r.status)
		}
		if n, err := s.CountUsers(t.Context()); err != nil || n != 0 {
			t.Fatalf("%d accounts after a refused setup, want 0 (%v)", n, err)
		}
		good := url.Values{"token": {token}, "email": {"boss@example.com"}, "password": {"a good long password"}, "passwordConfirm": {"a good long password"}}
		r := h.doWith(c, "POST", "/setup", strings.NewReader(good.Encode()), formHeaders)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/coupons" {
			t.Fatalf("setup: %d %q", r.status, r.header.Get("Location"))
		}
		if r := h.doWith(c, "GET", "/users", nil, nil); r.status != http.StatusOK {
			t.Errorf("the new admin is signed in and may manage users: %d", r.status)
		}
		good.Set("email", "intruder@example.com")
		if r := h.doWith(newClient(), "POST", "/setup", strings.NewReader(good.Encode()), formHeaders); r.status != http.StatusGone {
			t.Errorf("second use of the link: %d, want 410", r.status)
		}
		if n, err := s.CountUsers(t.Context()); err != nil || n != 1 {
			t.Errorf("%d accounts after setup, want 1 (%v)", n, err)
		}
	})
}

func TestAPITokens(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		wantError(t, h.apiWith(nil, "GET", "/api/rnb/pvt/coupon", ""), http.StatusUnauthorized, "unauthorized")
		wantError(t, h.apiWith(map[string]string{"X-Auth-Token": "cpd_nonsense"}, "GET", "/api/rnb/pvt/coupon", ""), http.StatusUnauthorized, "unauthorized")
		e := wantError(t, h.apiWith(map[string]string{"X-Auth-Token": h.readToken}, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"x"}`), http.StatusForbidden, "forbidden")
		if !strings.Contains(e.Error.Message, "modify") {
			t.Errorf("403 message %q should say which scope is needed", e.Error.Message)
		}
		if r := h.apiWith(map[string]string{"Authorization": "Bearer " + h.readToken}, "GET", "/api/rnb/pvt/coupon", ""); r.status != http.StatusOK || r.header.Get("X-RateLimit-Limit") != "10" || r.header.Get("X-RateLimit-Remaining") != "9" {
			t.Errorf("read token on a read: %d, limit %q remaining %q", r.status, r.header.Get("X-RateLimit-Limit"), r.header.Get("X-RateLimit-Remaining"))
		}

		// An admin creates a token in the console; it is shown once.
		r := h.post("/tokens", url.Values{"name": {"checkout"}, "scope": {"modify"}}, nil)
		if r.status != http.StatusCreated {
			t.Fatalf("create token: %d %s", r.status, r.body)
		}
		m := tokenSecret.FindStringSubmatch(r.body)
		if m == nil {
			t.Fatalf("the new token's secret is not shown: %.300s", r.body)
		}
		if again := h.do("GET", "/tokens", nil, nil); strings.Contains(again.body, m[1]) {
			t.Error("the secret is shown a second time")
		}
		if r := h.apiWith(map[string]string{"X-Auth-Token": m[1]}, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"BYTOKEN"}`); r.status != http.StatusCreated {
			t.Fatalf("the new token: %d %s", r.status, r.body)
		}
		ev, err := h.store.ListAudit(t.Context(), models.AuditFilter{Action: models.ActionCouponCreate})
		if err != nil {
			t.Fatal(err)
		}
		if len(ev.Events) == 0 || ev.Events[0].Actor != "token:checkout" {
			t.Errorf("the coupon creation is not attributed to the token: %+v", ev.Events)
		}
		ts, err := h.store.ListTokens(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var checkout int64
		for _, tok := range ts {
			if tok.Name == "checkout" {
				checkout = tok.ID
			}
		}
		if r := h.post(fmt.Sprintf("/tokens/%d/revoke", checkout), nil, nil); r.status != http.StatusSeeOther {
			t.Fatalf("revoke: %d", r.status)
		}
		wantError(t, h.apiWith(map[string]string{"X-Auth-Token": m[1]}, "GET", "/api/rnb/pvt/coupon", ""), http.StatusUnauthorized, "unauthorized")
		if r := h.post("/tokens", url.Values{"name": {""}, "scope": {"root"}}, nil); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `data-testid="error-name"`) {
			t.Errorf("bad token form: %d", r.status)
		}
		if after, err := h.store.ListTokens(t.Context()); err != nil || len(after) != len(ts) {
			t.Errorf("%d tokens after the refused form, want %d (%v)", len(after), len(ts), err)
		}
	})
}

// TestTokenConcurrencyLimit holds eleven requests of one token open at
// once by sending their bodies slowly: exactly one is refused with 429, at
// once, and the other ten go through when their bodies end.
func TestTokenConcurrencyLimit(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
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
			req, err := http.NewRequestWithContext(t.Context(), "POST", h.srv.URL+"/api/rnb/pvt/coupon", pr)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Auth-Token", h.token)
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
		e := wantError(t, response{refused.status, refused.header, refused.body}, http.StatusTooManyRequests, "too_many_requests")
		if refused.header.Get("Retry-After") == "" || refused.header.Get("X-RateLimit-Remaining") != "0" || !strings.Contains(e.Error.Message, "10 requests in flight") {
			t.Errorf("429 without Retry-After, remaining 0 or a clear message: %v %q", refused.header, e.Error.Message)
		}
		// Another token is not affected.
		if r := h.apiWith(map[string]string{"X-Auth-Token": h.readToken}, "GET", "/api/rnb/pvt/coupon", ""); r.status != http.StatusOK {
			t.Errorf("another token: %d", r.status)
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
		page, err := h.store.ListCoupons(t.Context(), models.CouponFilter{Prefix: "HELD"})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Coupons) != 10 {
			t.Errorf("%d HELD coupons stored, want the 10 held requests'", len(page.Coupons))
		}
		if _, ok := h.coupon(fmt.Sprintf("HELD%d", refused.i)); ok {
			t.Errorf("the refused request %d created its coupon", refused.i)
		}
		if r := h.api("GET", "/api/rnb/pvt/coupon", ""); r.status != http.StatusOK {
			t.Errorf("after the held requests finished: %d", r.status)
		}
	})
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		r := h.doWith(newClient(), "GET", "/login", nil, nil)
		want := map[string]string{
			"Content-Security-Policy": "script-src 'self'",
			"X-Frame-Options":         "DENY",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "same-origin",
		}
		for k, v := range want {
			if !strings.Contains(r.header.Get(k), v) {
				t.Errorf("%s = %q, want it to contain %q", k, r.header.Get(k), v)
			}
		}
	})
}

func TestViewerSeesNoWriteControls(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		h.mustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"LOOK"}`)
		viewer := h.login(viewerEmail)
		for _, path := range []string{"/coupons", "/coupons/LOOK"} {
			r := h.doWith(viewer, "GET", path, nil, nil)
			if r.status != http.StatusOK || !strings.Contains(r.body, "LOOK") {
				t.Fatalf("%s: %d", path, r.status)
			}
			for _, control := range []string{`data-testid="archive"`, `data-testid="edit"`, `href="/coupons/new"`, `href="/coupons/generate"`, `/edit"`, `href="/users"`, `href="/audit"`} {
				if strings.Contains(r.body, control) {
					t.Errorf("%s shows the viewer %s", path, control)
				}
			}
		}
		editor := h.doWith(h.login(editorEmail), "GET", "/coupons", nil, nil)
		if !strings.Contains(editor.body, `data-testid="archive"`) || strings.Contains(editor.body, `href="/users"`) {
			t.Error("an editor sees archive buttons and no user management")
		}
	})
}

func TestUsersPage(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		r := h.post("/users", url.Values{"email": {"new@example.com"}, "password": {"short"}, "role": {"editor"}}, nil)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `data-testid="error-password"`) || !strings.Contains(r.body, `value="new@example.com"`) {
			t.Fatalf("bad new user: %d", r.status)
		}
		if _, ok := h.userIDs()["new@example.com"]; ok {
			t.Fatal("the refused form added the user")
		}
		if r := h.post("/users", url.Values{"email": {"new@example.com"}, "password": {"long enough password"}, "role": {"editor"}}, nil); r.status != http.StatusSeeOther {
			t.Fatalf("add user: %d %s", r.status, r.body)
		}
		if r := h.do("GET", "/users", nil, nil); !strings.Contains(r.body, "Added new@example.com as editor.") {
			t.Error("no notice after adding a user")
		}
		ids := h.userIDs()
		if r := h.post(fmt.Sprintf("/users/%d/role", ids["new@example.com"]), url.Values{"role": {"viewer"}}, nil); r.status != http.StatusSeeOther {
			t.Errorf("set role: %d", r.status)
		}
		if u := h.user(ids["new@example.com"]); u.Role != models.RoleViewer {
			t.Errorf("role = %s", u.Role)
		}
		r = h.post(fmt.Sprintf("/users/%d/role", ids[adminEmail]), url.Values{"role": {"editor"}}, nil)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "last enabled admin") {
			t.Errorf("demoting the last admin: %d", r.status)
		}
		if u := h.user(ids[adminEmail]); u.Role != models.RoleAdmin {
			t.Errorf("the refused demotion made the last admin %s", u.Role)
		}
		r = h.post(fmt.Sprintf("/users/%d/disable", ids[adminEmail]), nil, nil)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "your own account") {
			t.Errorf("disabling oneself: %d", r.status)
		}
		if h.user(ids[adminEmail]).Disabled {
			t.Error("the refused self-disable disabled the admin")
		}
	})
}

func TestAuditPage(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		h.mustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"AUDITED","maxUsage":1}`)
		h.mustAPI(http.StatusOK, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"AUDITED","maxUsage":2}`)
		r := h.do("GET", "/audit?action=coupon.update", nil, nil)
		if r.status != http.StatusOK || !strings.Contains(r.body, "maxUsage 1 → 2") || !strings.Contains(r.body, "token:test-modify") || strings.Contains(r.body, `data-action="coupon.create"`) {
			t.Errorf("filtered audit page: %d", r.status)
		}
		if r := h.do("GET", "/audit?from=yesterday", nil, nil); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "must be a date") {
			t.Errorf("bad date: %d", r.status)
		}
		frag := h.do("GET", "/audit?entity=coupon", nil, htmx("audit-table"))
		if strings.Contains(frag.body, "<html") || !strings.Contains(frag.body, `id="audit-table"`) {
			t.Error("htmx filter must get only the table")
		}
	})
}
