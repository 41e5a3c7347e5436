// Package webtest runs a real coupond server for handler tests: a
// Harness on a loopback port over a real store (SQLite and PostgreSQL
// through storetest), with signed-in clients, API tokens, a clock that
// moves only when the test says, and helpers that seed and read the
// store.
package webtest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
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
	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"
)

// Harness is a real coupond server on a loopback port. It has an admin,
// an editor and a viewer account and a modify and a read token; client is
// signed in as the admin, keeps cookies and does not follow redirects.
// The server reads time from clock, which moves only when the test says.
type Harness struct {
	T      *testing.T
	E      *echo.Echo
	Srv    *httptest.Server
	Client *http.Client
	Store  *models.Store
	Clock  *Clock
	// Token has the modify scope, ReadToken the read scope.
	Token     string
	ReadToken string
}

// Epoch is where every Harness's clock starts.
var Epoch = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// Clock is a clock that stands still until Advance moves it. It is
// safe for the server's and the test's goroutines.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock is a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Accounts every Harness has; they share testPassword.
const (
	AdminEmail  = "admin@example.com"
	EditorEmail = "editor@example.com"
	ViewerEmail = "viewer@example.com"
	Password    = "a long test password"
)

// ForEachDB runs fn against a fresh server on SQLite and on PostgreSQL.
func ForEachDB(t *testing.T, cfg models.Config, fn func(t *testing.T, h *Harness)) {
	t.Helper()
	cfg.PasswordCost = bcrypt.MinCost
	storetest.Each(t, cfg, func(t *testing.T, s *models.Store) {
		fn(t, New(t, s, web.Config{BodyLimit: "64K"}))
	})
}

// New starts a server on s with cfg; cfg.Now is replaced by the
// Harness's own clock.
func New(t *testing.T, s *models.Store, cfg web.Config) *Harness {
	t.Helper()
	clock := NewClock(Epoch)
	cfg.Now = clock.Now
	e := web.NewServer(DiscardLogger(), cfg, s)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	h := &Harness{T: t, E: e, Srv: srv, Store: s, Clock: clock}
	for email, role := range map[string]string{AdminEmail: models.RoleAdmin, EditorEmail: models.RoleEditor, ViewerEmail: models.RoleViewer} {
		if _, err := s.CreateUser(t.Context(), models.UserInput{Email: email, Password: Password, Role: role}); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if _, h.Token, err = s.CreateToken(t.Context(), "test-modify", models.ScopeModify); err != nil {
		t.Fatal(err)
	}
	if _, h.ReadToken, err = s.CreateToken(t.Context(), "test-read", models.ScopeRead); err != nil {
		t.Fatal(err)
	}
	h.Client = h.Login(AdminEmail)
	return h
}

// NewClient is a browser-like client with its own cookies that does not
// follow redirects.
func NewClient() *http.Client {
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

// Login signs a new client in through the Login form.
func (h *Harness) Login(email string) *http.Client {
	h.T.Helper()
	c := NewClient()
	r := h.DoWith(c, "POST", "/login", strings.NewReader(url.Values{"email": {email}, "password": {Password}}.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"})
	if r.Status != http.StatusSeeOther {
		h.T.Fatalf("login %s: %d %s", email, r.Status, r.Body)
	}
	return c
}

// Response is a server's answer, its body read whole.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Do sends a request with the admin's signed-in client.
func (h *Harness) Do(method, path string, body io.Reader, header map[string]string) Response {
	h.T.Helper()
	return h.DoWith(h.Client, method, path, body, header)
}

// DoWith sends a request with client; a failure to send fails the test.
// A request to the native API and its answer are checked against its
// OpenAPI document (CheckOpenAPI), and a mismatch fails the test.
func (h *Harness) DoWith(client *http.Client, method, path string, body io.Reader, header map[string]string) Response {
	h.T.Helper()
	var sent []byte
	if body != nil {
		var err error
		if sent, err = io.ReadAll(body); err != nil {
			h.T.Fatal(err)
		}
		body = bytes.NewReader(sent)
	}
	req, err := http.NewRequestWithContext(h.T.Context(), method, h.Srv.URL+path, body)
	if err != nil {
		h.T.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	if err != nil {
		h.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		h.T.Fatal(err)
	}
	if IsNative(path) {
		if err := CheckOpenAPI(req, sent, res.StatusCode, res.Header, b); err != nil {
			h.T.Error(err)
		}
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

// API sends a JSON request with the modify token.
func (h *Harness) API(method, path, body string) Response {
	h.T.Helper()
	return h.APIWith(map[string]string{"X-Auth-Token": h.Token}, method, path, body)
}

// MustAPI is API that fails the test unless the server answers want.
func (h *Harness) MustAPI(want int, method, path, body string) Response {
	h.T.Helper()
	r := h.API(method, path, body)
	if r.Status != want {
		h.T.Fatalf("%s %s: %d, want %d; body %.300s", method, path, r.Status, want, r.Body)
	}
	return r
}

// Coupon returns the stored Coupon with code and whether there is one.
func (h *Harness) Coupon(code string) (models.Coupon, bool) {
	h.T.Helper()
	c, err := h.Store.Coupon(h.T.Context(), code)
	if errors.Is(err, models.ErrNotFound) {
		return models.Coupon{}, false
	}
	if err != nil {
		h.T.Fatal(err)
	}
	return c, true
}

// MustCoupon is Coupon that fails the test when there is none.
func (h *Harness) MustCoupon(code string) models.Coupon {
	h.T.Helper()
	c, ok := h.Coupon(code)
	if !ok {
		h.T.Fatalf("no coupon %q is stored", code)
	}
	return c
}

// UserIDs returns the id of every account by email.
func (h *Harness) UserIDs() map[string]int64 {
	h.T.Helper()
	users, err := h.Store.ListUsers(h.T.Context())
	if err != nil {
		h.T.Fatal(err)
	}
	ids := make(map[string]int64, len(users))
	for _, u := range users {
		ids[u.Email] = u.ID
	}
	return ids
}

// User returns the stored account with id.
func (h *Harness) User(id int64) models.User {
	h.T.Helper()
	u, err := h.Store.User(h.T.Context(), id)
	if err != nil {
		h.T.Fatal(err)
	}
	return u
}

// APIWith sends a JSON request with the given auth headers and no cookies.
func (h *Harness) APIWith(auth map[string]string, method, path, body string) Response {
	h.T.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	hdr := map[string]string{"Content-Type": "application/json"}
	for k, v := range auth {
		hdr[k] = v
	}
	return h.DoWith(NewClient(), method, path, r, hdr)
}

// CSRF returns the token the console hands out in its cookie, fetching a
// page first when the jar has none.
func (h *Harness) CSRF() string {
	h.T.Helper()
	u, err := url.Parse(h.Srv.URL)
	if err != nil {
		h.T.Fatal(err)
	}
	for _, c := range h.Client.Jar.Cookies(u) {
		if c.Name == "_csrf" {
			return c.Value
		}
	}
	if r := h.Do("GET", "/coupons/new", nil, nil); r.Status != http.StatusOK {
		h.T.Fatalf("GET /coupons/new = %d", r.Status)
	}
	for _, c := range h.Client.Jar.Cookies(u) {
		if c.Name == "_csrf" {
			return c.Value
		}
	}
	h.T.Fatal("the console set no _csrf cookie")
	return ""
}

// Post submits a console form with a valid CSRF token; extra headers (for
// htmx) are optional.
func (h *Harness) Post(path string, form url.Values, header map[string]string) Response {
	h.T.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", h.CSRF())
	hdr := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range header {
		hdr[k] = v
	}
	return h.Do("POST", path, strings.NewReader(form.Encode()), hdr)
}

// HTMX is the headers of an htmx request aimed at the element target.
func HTMX(target string) map[string]string {
	return map[string]string{"HX-Request": "true", "HX-Target": target}
}

// APIError is the JSON error body.
type APIError struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
		Reasons []string          `json:"reasons"`
	} `json:"error"`
}

// Decode reads r's body as JSON into a T, failing the test otherwise.
func Decode[T any](t *testing.T, r Response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
	return v
}

// WantError checks the status and the JSON error, and that each listed
// field has a message.
func WantError(t *testing.T, r Response, status int, code string, fields ...string) APIError {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want JSON", ct)
	}
	e := Decode[APIError](t, r)
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

// DiscardLogger is a logger that writes nowhere.
func DiscardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// NewTestServer serves h on a loopback port until the test ends.
func NewTestServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// MustRedeem redeems code once for customer and order through the store.
func (h *Harness) MustRedeem(code, customer, order string, items int, amount *int64) models.Redemption {
	h.T.Helper()
	r, created, err := h.Store.Redeem(h.T.Context(), models.RedemptionInput{Code: code, CustomerID: customer, OrderID: order, Items: items, OrderAmount: amount}, "test")
	if err != nil || !created {
		h.T.Fatalf("redeem %s for %s/%s: created %v, %v", code, customer, order, created, err)
	}
	return r
}

// Verdict checks code through the store as the console would.
func (h *Harness) Verdict(code, customer string) models.Verdict {
	h.T.Helper()
	v, err := h.Store.Check(h.T.Context(), models.CheckInput{Code: code, CustomerID: customer}, "test")
	if err != nil {
		h.T.Fatal(err)
	}
	return v
}

// RunBatches runs the store's batch runner until the test ends, as serve
// does, and returns a function that waits until batch id has stopped
// (done, failed or cancelled).
func (h *Harness) RunBatches() (waitFinished func(id int64) models.Batch) {
	h.T.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Store.RunBatches(ctx, models.RunnerConfig{Poll: 20 * time.Millisecond}) }()
	h.T.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			h.T.Errorf("batch runner: %v", err)
		}
	})
	return func(id int64) models.Batch {
		h.T.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			b, err := h.Store.Batch(h.T.Context(), id)
			if err != nil {
				h.T.Fatal(err)
			}
			if b.Finished() {
				return b
			}
			if time.Now().After(deadline) {
				h.T.Fatalf("batch %d has not finished: %+v", id, b)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// PendingBatch records a batch through the store; with no runner started
// it stays pending.
func (h *Harness) PendingBatch(in models.BatchInput) models.Batch {
	h.T.Helper()
	spec, err := in.Validate(models.MaxBatchQuantity)
	if err != nil {
		h.T.Fatalf("batch input: %v", err)
	}
	b, err := h.Store.CreateBatch(h.T.Context(), spec)
	if err != nil {
		h.T.Fatalf("create batch: %v", err)
	}
	return b
}

// StoredBatches is every batch in the store, newest first.
func (h *Harness) StoredBatches() []models.Batch {
	h.T.Helper()
	page, err := h.Store.ListBatches(h.T.Context(), models.BatchFilter{Limit: models.MaxListLimit})
	if err != nil {
		h.T.Fatal(err)
	}
	return page.Batches
}

// WroteNothing fails the test when the store holds a batch or a Coupon.
func (h *Harness) WroteNothing() {
	h.T.Helper()
	coupons, err := h.Store.ListCoupons(h.T.Context(), models.CouponFilter{})
	if err != nil {
		h.T.Fatal(err)
	}
	if bs := h.StoredBatches(); len(bs) != 0 || len(coupons.Coupons) != 0 {
		h.T.Errorf("a refused form left %d batches and %d coupons", len(bs), len(coupons.Coupons))
	}
}

// ForEachDBWithSQL is ForEachDB with the test database open beside the
// server, for putting a batch where only a runner could.
func ForEachDBWithSQL(t *testing.T, fn func(t *testing.T, h *Harness, db *sql.DB)) {
	t.Helper()
	storetest.EachWithDB(t, models.Config{PasswordCost: bcrypt.MinCost}, func(t *testing.T, s *models.Store, db *sql.DB) {
		fn(t, New(t, s, web.Config{BodyLimit: "64K"}), db)
	})
}

// MustPromotion stores a Promotion from in: a 10 % regular Promotion
// named "Promo" unless in says otherwise.
func (h *Harness) MustPromotion(in models.PromotionInput) models.Promotion {
	h.T.Helper()
	if in.Name == "" {
		in.Name = "Promo"
	}
	if in.DiscountType == "" {
		in.DiscountType, in.DiscountValue = models.DiscountPercent, "10"
	}
	spec, err := in.Validate()
	if err != nil {
		h.T.Fatalf("promotion input: %v", err)
	}
	p, err := h.Store.CreatePromotion(h.T.Context(), spec)
	if err != nil {
		h.T.Fatal(err)
	}
	return p
}

// Promotion is the stored Promotion with id.
func (h *Harness) Promotion(id int64) models.Promotion {
	h.T.Helper()
	p, err := h.Store.Promotion(h.T.Context(), id)
	if err != nil {
		h.T.Fatal(err)
	}
	return p
}

// MustTaggedCoupon stores a Coupon carrying the given UTM tags ("" for
// none).
func (h *Harness) MustTaggedCoupon(code, source, campaign string) models.Coupon {
	h.T.Helper()
	in := models.CouponInput{Code: code}
	if source != "" {
		in.UTMSource = &source
	}
	if campaign != "" {
		in.UTMCampaign = &campaign
	}
	spec, err := in.Validate()
	if err != nil {
		h.T.Fatal(err)
	}
	c, err := h.Store.CreateCoupon(h.T.Context(), spec)
	if err != nil {
		h.T.Fatal(err)
	}
	return c
}

// PromotionCount is how many promotions are stored.
func (h *Harness) PromotionCount() int {
	h.T.Helper()
	page, err := h.Store.ListPromotions(h.T.Context(), models.PromotionFilter{Limit: models.MaxListLimit})
	if err != nil {
		h.T.Fatal(err)
	}
	return len(page.Promotions)
}

// ForEachDBAtEpoch is ForEachDB with a store whose clock stands at
// Epoch, where the server's starts: codes are issued at Epoch,
// and moving h.clock ages them as the console sees them.
func ForEachDBAtEpoch(t *testing.T, fn func(t *testing.T, h *Harness)) {
	t.Helper()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		clock := NewClock(Epoch)
		s := storetest.Open(t, dialect, models.Config{Now: clock.Now, PasswordCost: bcrypt.MinCost})
		fn(t, New(t, s, web.Config{BodyLimit: "64K"}))
	})
}

// MustSeries stores a Series from in: an active 10 % Series named
// "Series" of ten upper-case letters and digits, one use per code,
// unless in says otherwise.
func (h *Harness) MustSeries(in models.SeriesInput) models.Series {
	h.T.Helper()
	if in.Promotion.Name == "" {
		in.Promotion.Name = "Series"
	}
	if in.Promotion.DiscountType == "" {
		in.Promotion.DiscountType, in.Promotion.DiscountValue = models.DiscountPercent, "10"
	}
	if in.UsesPerCode == 0 {
		in.UsesPerCode = 1
	}
	spec, err := in.Validate()
	if err != nil {
		h.T.Fatalf("series input: %v", err)
	}
	s, err := h.Store.CreateSeries(h.T.Context(), spec)
	if err != nil {
		h.T.Fatal(err)
	}
	return s
}

// Series is the stored Series with id.
func (h *Harness) Series(id int64) models.Series {
	h.T.Helper()
	s, err := h.Store.Series(h.T.Context(), id)
	if err != nil {
		h.T.Fatal(err)
	}
	return s
}

// MustIssue issues one code of each Series to the customer ref names and
// fails the test unless every Series gave one; it returns the codes in
// the order of ids.
func (h *Harness) MustIssue(ref models.CustomerRef, ids ...int64) (models.Customer, []string) {
	h.T.Helper()
	cust, results, err := h.Store.Issue(h.T.Context(), models.IssueRequest{SeriesIDs: ids, Customer: ref})
	if err != nil {
		h.T.Fatal(err)
	}
	var codes []string
	for _, r := range results {
		if r.Coupon == nil {
			h.T.Fatalf("series %d issued no code to %+v: %s %s", r.SeriesID, ref, r.Reason, r.Message)
		}
		codes = append(codes, r.Coupon.Code)
	}
	return cust, codes
}

// ForEachDBWith is ForEachDB with a server configuration.
func ForEachDBWith(t *testing.T, cfg web.Config, fn func(t *testing.T, h *Harness)) {
	t.Helper()
	storetest.Each(t, models.Config{PasswordCost: bcrypt.MinCost}, func(t *testing.T, s *models.Store) {
		fn(t, New(t, s, cfg))
	})
}

// ReadCSV parses an export, from the API or the console, checks that it
// is a CSV attachment with the export's header and returns its rows.
func ReadCSV(t *testing.T, r Response) [][]string {
	t.Helper()
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") || !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("CSV answer %d %q %q: %.300s", r.Status, r.Header.Get("Content-Type"), r.Header.Get("Content-Disposition"), r.Body)
	}
	rows, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
	if err != nil {
		t.Fatalf("parse CSV: %v", err)
	}
	if d := cmp.Diff([]string{"code", "status", "uses", "max_uses", "max_uses_per_customer", "utm_source", "utm_campaign",
		"promotions", "discount", "valid_from", "valid_until", "customer", "created_at"}, rows[0]); d != "" {
		t.Fatalf("CSV header (-want +got):\n%s", d)
	}
	return rows[1:]
}
