package handlers_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
	"github.com/coupond/coupond/web"
)

// harness is a real coupond server on a loopback port with a client that
// keeps cookies and does not follow redirects.
type harness struct {
	t      *testing.T
	srv    *httptest.Server
	client *http.Client
	store  *models.Store
}

// forEachDB runs fn against a fresh server on SQLite and on PostgreSQL.
func forEachDB(t *testing.T, cfg models.Config, fn func(t *testing.T, h *harness)) {
	t.Helper()
	storetest.Each(t, cfg, func(t *testing.T, s *models.Store) {
		fn(t, newHarness(t, s))
	})
}

func newHarness(t *testing.T, s *models.Store) *harness {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(web.NewServer(logger, web.Config{BodyLimit: "64K"}, s))
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &harness{t: t, srv: srv, client: client, store: s}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (h *harness) do(method, path string, body io.Reader, header map[string]string) response {
	h.t.Helper()
	req, err := http.NewRequestWithContext(h.t.Context(), method, h.srv.URL+path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := h.client.Do(req)
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

// api sends a JSON request.
func (h *harness) api(method, path, body string) response {
	h.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	return h.do(method, path, r, map[string]string{"Content-Type": "application/json"})
}

// csrf returns the token the console hands out in its cookie, fetching a
// page first when the jar has none.
func (h *harness) csrf() string {
	h.t.Helper()
	u, _ := url.Parse(h.srv.URL)
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
