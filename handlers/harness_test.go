package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
	"github.com/coupond/coupond/web"
	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"
)

// harness is a real coupond server on a loopback port. It has an admin,
// an editor and a viewer account and a modify and a read token; client is
// signed in as the admin, keeps cookies and does not follow redirects.
// The server reads time from clock, which moves only when the test says.
type harness struct {
	t         *testing.T
	e         *echo.Echo
	srv       *httptest.Server
	client    *http.Client
	store     *models.Store
	clock     *fakeClock
	token     string
	readToken string
}

// testEpoch is where every harness's clock starts.
var testEpoch = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// fakeClock is a clock that stands still until Advance moves it. It is
// safe for the server's and the test's goroutines.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Accounts every harness has; they share testPassword.
const (
	adminEmail   = "admin@example.com"
	editorEmail  = "editor@example.com"
	viewerEmail  = "viewer@example.com"
	testPassword = "a long test password"
)

// forEachDB runs fn against a fresh server on SQLite and on PostgreSQL.
func forEachDB(t *testing.T, cfg models.Config, fn func(t *testing.T, h *harness)) {
	t.Helper()
	cfg.PasswordCost = bcrypt.MinCost
	storetest.Each(t, cfg, func(t *testing.T, s *models.Store) {
		fn(t, newHarness(t, s, web.Config{BodyLimit: "64K"}))
	})
}

// newHarness starts a server on s with cfg; cfg.Now is replaced by the
// harness's own clock.
func newHarness(t *testing.T, s *models.Store, cfg web.Config) *harness {
	t.Helper()
	clock := &fakeClock{now: testEpoch}
	cfg.Now = clock.Now
	e := web.NewServer(discardLogger(), cfg, s)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	h := &harness{t: t, e: e, srv: srv, store: s, clock: clock}
	for email, role := range map[string]string{adminEmail: models.RoleAdmin, editorEmail: models.RoleEditor, viewerEmail: models.RoleViewer} {
		if _, err := s.CreateUser(t.Context(), models.UserInput{Email: email, Password: testPassword, Role: role}); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if _, h.token, err = s.CreateToken(t.Context(), "test-modify", models.ScopeModify); err != nil {
		t.Fatal(err)
	}
	if _, h.readToken, err = s.CreateToken(t.Context(), "test-read", models.ScopeRead); err != nil {
		t.Fatal(err)
	}
	h.client = h.login(adminEmail)
	return h
}

// newClient is a browser-like client with its own cookies that does not
// follow redirects.
func newClient() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		// New documents no failure without options.
		panic(err)
	}
	return &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// login signs a new client in through the login form.
func (h *harness) login(email string) *http.Client {
	h.t.Helper()
	c := newClient()
	r := h.doWith(c, "POST", "/login", strings.NewReader(url.Values{"email": {email}, "password": {testPassword}}.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"})
	if r.status != http.StatusSeeOther {
		h.t.Fatalf("login %s: %d %s", email, r.status, r.body)
	}
	return c
}

type response struct {
	status int
	header http.Header
	body   string
}

func (h *harness) do(method, path string, body io.Reader, header map[string]string) response {
	h.t.Helper()
	return h.doWith(h.client, method, path, body, header)
}

func (h *harness) doWith(client *http.Client, method, path string, body io.Reader, header map[string]string) response {
	h.t.Helper()
	req, err := http.NewRequestWithContext(h.t.Context(), method, h.srv.URL+path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

// api sends a JSON request with the modify token.
func (h *harness) api(method, path, body string) response {
	h.t.Helper()
	return h.apiWith(map[string]string{"X-Auth-Token": h.token}, method, path, body)
}

// mustAPI is api that fails the test unless the server answers want.
func (h *harness) mustAPI(want int, method, path, body string) response {
	h.t.Helper()
	r := h.api(method, path, body)
	if r.status != want {
		h.t.Fatalf("%s %s: %d, want %d; body %.300s", method, path, r.status, want, r.body)
	}
	return r
}

// coupon returns the stored coupon with code and whether there is one.
func (h *harness) coupon(code string) (models.Coupon, bool) {
	h.t.Helper()
	c, err := h.store.Coupon(h.t.Context(), code)
	if errors.Is(err, models.ErrNotFound) {
		return models.Coupon{}, false
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return c, true
}

// mustCoupon is coupon that fails the test when there is none.
func (h *harness) mustCoupon(code string) models.Coupon {
	h.t.Helper()
	c, ok := h.coupon(code)
	if !ok {
		h.t.Fatalf("no coupon %q is stored", code)
	}
	return c
}

// userIDs returns the id of every account by email.
func (h *harness) userIDs() map[string]int64 {
	h.t.Helper()
	users, err := h.store.ListUsers(h.t.Context())
	if err != nil {
		h.t.Fatal(err)
	}
	ids := make(map[string]int64, len(users))
	for _, u := range users {
		ids[u.Email] = u.ID
	}
	return ids
}

// user returns the stored account with id.
func (h *harness) user(id int64) models.User {
	h.t.Helper()
	u, err := h.store.User(h.t.Context(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return u
}

// apiWith sends a JSON request with the given auth headers and no cookies.
func (h *harness) apiWith(auth map[string]string, method, path, body string) response {
	h.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	hdr := map[string]string{"Content-Type": "application/json"}
	for k, v := range auth {
		hdr[k] = v
	}
	return h.doWith(newClient(), method, path, r, hdr)
}

// csrf returns the token the console hands out in its cookie, fetching a
// page first when the jar has none.
func (h *harness) csrf() string {
	h.t.Helper()
	u, err := url.Parse(h.srv.URL)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, c := range h.client.Jar.Cookies(u) {
		if c.Name == "_csrf" {
			return c.Value
		}
	}
	if r := h.do("GET", "/coupons/new", nil, nil); r.status != http.StatusOK {
		h.t.Fatalf("GET /coupons/new = %d", r.status)
	}
	for _, c := range h.client.Jar.Cookies(u) {
		if c.Name == "_csrf" {
			return c.Value
		}
	}
	h.t.Fatal("the console set no _csrf cookie")
	return ""
}

// post submits a console form with a valid CSRF token; extra headers (for
// htmx) are optional.
func (h *harness) post(path string, form url.Values, header map[string]string) response {
	h.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", h.csrf())
	hdr := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range header {
		hdr[k] = v
	}
	return h.do("POST", path, strings.NewReader(form.Encode()), hdr)
}

func htmx(target string) map[string]string {
	return map[string]string{"HX-Request": "true", "HX-Target": target}
}

// apiError is the JSON error body.
type apiError struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
		Reasons []string          `json:"reasons"`
	} `json:"error"`
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
	return v
}

// wantError checks the status and the JSON error, and that each listed
// field has a message.
func wantError(t *testing.T, r response, status int, code string, fields ...string) apiError {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want JSON", ct)
	}
	e := decode[apiError](t, r)
	if e.Error.Code != code || e.Error.Message == "" {
		t.Fatalf("error = %+v, want code %q with a message", e.Error, code)
	}
	for _, f := range fields {
		if e.Error.Fields[f] == "" {
			t.Errorf("no message for field %q in %v", f, e.Error.Fields)
		}
	}
	return e
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// mustRedeem redeems code once for customer and order through the store.
func (h *harness) mustRedeem(code, customer, order string, items int, amount *int64) models.Redemption {
	h.t.Helper()
	r, created, err := h.store.Redeem(h.t.Context(), models.RedemptionInput{Code: code, CustomerID: customer, OrderID: order, Items: items, OrderAmount: amount}, "test")
	if err != nil || !created {
		h.t.Fatalf("redeem %s for %s/%s: created %v, %v", code, customer, order, created, err)
	}
	return r
}

// verdict checks code through the store as the console would.
func (h *harness) verdict(code, customer string) models.Verdict {
	h.t.Helper()
	v, err := h.store.Check(h.t.Context(), models.CheckInput{Code: code, CustomerID: customer}, "test")
	if err != nil {
		h.t.Fatal(err)
	}
	return v
}

// runBatches runs the store's batch runner until the test ends, as serve
// does, and returns a function that waits until batch id has stopped
// (done, failed or cancelled).
func (h *harness) runBatches() (waitFinished func(id int64) models.Batch) {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.store.RunBatches(ctx, models.RunnerConfig{Poll: 20 * time.Millisecond}) }()
	h.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			h.t.Errorf("batch runner: %v", err)
		}
	})
	return func(id int64) models.Batch {
		h.t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			b, err := h.store.Batch(h.t.Context(), id)
			if err != nil {
				h.t.Fatal(err)
			}
			if b.Finished() {
				return b
			}
			if time.Now().After(deadline) {
				h.t.Fatalf("batch %d has not finished: %+v", id, b)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
