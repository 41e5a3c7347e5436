package handlers_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/web"
	"github.com/coupond/coupond/web/webtest"
	"github.com/google/go-cmp/cmp"
)

func TestLoginNeverRedirectsOffSite(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		for _, next := range []string{"//evil.example/", "/\t/evil.example", "/\n/evil.example", "/\\evil.example", "https://evil.example/", "javascript:alert(1)", "evil.example"} {
			form := url.Values{"email": {webtest.ViewerEmail}, "password": {webtest.Password}, "next": {next}}
			r := h.DoWith(webtest.NewClient(), "POST", "/login", strings.NewReader(form.Encode()), formHeaders)
			if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/coupons" {
				t.Errorf("next=%q: %d to %q, want /coupons", next, r.Status, r.Header.Get("Location"))
			}
		}
		// Signed in already, the login page forwards at once: same rule.
		if r := h.Do("GET", "/login?next=/%09/evil.example", nil, nil); r.Header.Get("Location") != "/coupons" {
			t.Errorf("signed-in GET /login with a tab trick went to %q", r.Header.Get("Location"))
		}
		form := url.Values{"email": {webtest.ViewerEmail}, "password": {webtest.Password}, "next": {"/coupons?q=a b&status=active"}}
		if r := h.DoWith(webtest.NewClient(), "POST", "/login", strings.NewReader(form.Encode()), formHeaders); r.Header.Get("Location") != "/coupons?q=a b&status=active" {
			t.Errorf("a same-site next is kept: %q", r.Header.Get("Location"))
		}
	})
}

func TestLoginThrottleHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		var wg sync.WaitGroup
		codes := make(chan int, 30)
		for i := range 30 {
			wg.Go(func() {
				codes <- h.DoWith(webtest.NewClient(), "POST", "/login", loginForm(webtest.EditorEmail, fmt.Sprintf("guess %d", i)), formHeaders).Status
			})
		}
		wg.Wait()
		close(codes)
		count := map[int]int{}
		for c := range codes {
			count[c]++
		}
		// The harness's clock stands still, so no failure budget refills
		// while the guesses run: exactly the five of the burst are checked.
		want := map[int]int{http.StatusUnauthorized: 5, http.StatusTooManyRequests: 25}
		if d := cmp.Diff(want, count); d != "" {
			t.Errorf("statuses of 30 concurrent guesses (-want +got): five are checked and refused, the rest throttled\n%s", d)
		}
	})
}

func TestLongAndStrangeTextIsRefusedOrStored(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		long := strings.Repeat("a", 126) + "é@example.com"
		if r := h.DoWith(webtest.NewClient(), "POST", "/login", loginForm(long, "whatever pw"), formHeaders); r.Status != http.StatusUnauthorized {
			t.Errorf("a long non-ASCII email: %d, want 401", r.Status)
		}
		emoji := "a" + strings.Repeat("😀", 254)
		r := h.API("POST", "/api/rnb/pvt/coupon", `{"couponCode":"WIDE","utmSource":"`+emoji+`","utmCampaign":"`+emoji+`"}`)
		if r.Status != http.StatusCreated {
			t.Fatalf("255-character UTM values: %d %s", r.Status, r.Body)
		}
		if got := webtest.Decode[struct {
			UTMSource *string `json:"utmSource"`
		}](t, h.API("GET", "/api/rnb/pvt/coupon/wide", "")); got.UTMSource == nil || *got.UTMSource != emoji {
			t.Error("the UTM source did not come back as sent")
		}

		for _, path := range []string{"/api/rnb/pvt/coupon?utmSource=%FF", "/api/rnb/pvt/coupon?q=a%00", "/api/rnb/pvt/coupon/a%00b", "/api/rnb/pvt/coupon/%FF"} {
			webtest.WantError(t, h.API("GET", path, ""), http.StatusBadRequest, "bad_request")
		}
		webtest.WantError(t, h.API("GET", "/api/rnb/pvt/coupon?after=_w", ""), http.StatusUnprocessableEntity, "invalid", "after")
		for _, path := range []string{"/coupons?q=%00", "/audit?actor=%FF"} {
			if r := h.Do("GET", path, nil, nil); r.Status != http.StatusBadRequest {
				t.Errorf("GET %s: %d, want 400", path, r.Status)
			}
		}
		if r := h.Post("/coupons", url.Values{"couponCode": {"OK1"}, "utmSource": {"\xff"}}, nil); r.Status != http.StatusBadRequest {
			t.Errorf("a form with invalid UTF-8: %d, want 400", r.Status)
		}
		if _, err := h.Store.Coupon(t.Context(), "OK1"); err == nil {
			t.Error("the refused form created the coupon")
		}
		if _, err := h.Store.Coupon(t.Context(), "a\x00b"); err == nil || !strings.Contains(err.Error(), "no coupon") {
			t.Errorf("looking up a NUL code: %v, want not found", err)
		}
	})
}

func TestConsoleGeneratesEvenOne(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		wait := h.RunBatches()
		r := h.Post("/coupons/generate", url.Values{"prefix": {"ONE"}, "delimiter": {"-"}, "length": {"12"}, "quantity": {"1"}, "maxUsage": {"1"}}, nil)
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/batches/") {
			t.Fatalf("generate one: %d %q %.200s", r.Status, r.Header.Get("Location"), r.Body)
		}
		id, err := strconv.ParseInt(strings.TrimPrefix(r.Header.Get("Location"), "/batches/"), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		if b := wait(id); b.Generated != 1 {
			t.Fatalf("a batch of one made %d codes", b.Generated)
		}
		if _, err := h.Store.Coupon(t.Context(), "ONE"); err == nil {
			t.Error("generating one coupon created the prefix itself")
		}
		if page := h.Do("GET", r.Header.Get("Location"), nil, nil); !strings.Contains(page.Body, "ONE-") {
			t.Error("the batch page does not list the generated code")
		}
		// VTEX's massive generation keeps its own rule: quantity 1 is the code itself.
		if codes := webtest.Decode[[]string](t, h.API("POST", "/api/rnb/pvt/coupons?quantity=1", `{"couponCode":"LITERAL"}`)); len(codes) != 1 || codes[0] != "LITERAL" {
			t.Errorf("VTEX quantity=1: %v", codes)
		}
	})
}

func TestConsoleWordsAreReservedCodes(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		for _, code := range []string{"new", "Generate"} {
			e := webtest.WantError(t, h.API("POST", "/api/rnb/pvt/coupon", `{"couponCode":"`+code+`"}`), http.StatusUnprocessableEntity, "invalid", "couponCode")
			if !strings.Contains(e.Error.Fields["couponCode"], "reserved") {
				t.Errorf("%s: %q", code, e.Error.Fields["couponCode"])
			}
		}
		for _, code := range []string{"new", "generate"} {
			if _, ok := h.Coupon(code); ok {
				t.Errorf("the reserved code %q was stored", code)
			}
		}
		if r := h.API("POST", "/api/rnb/pvt/coupon", `{"couponCode":"newer"}`); r.Status != http.StatusCreated {
			t.Errorf("a code that only starts with a reserved word: %d", r.Status)
		}
	})
}

func TestChunkedBodyOverLimitIs413(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		body := io.MultiReader(strings.NewReader(`{"couponCode":"x","utmSource":"`), strings.NewReader(strings.Repeat("a", 100_000)), strings.NewReader(`"}`))
		req, err := http.NewRequestWithContext(t.Context(), "POST", h.Srv.URL+"/api/rnb/pvt/coupon", body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Auth-Token", h.Token)
		if req.ContentLength != 0 {
			t.Fatal("the body must go without Content-Length")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		webtest.WantError(t, webtest.Response{Status: res.StatusCode, Header: res.Header, Body: string(b)}, http.StatusRequestEntityTooLarge, "body_too_large")
		if _, ok := h.Coupon("x"); ok {
			t.Error("the body over the limit created its coupon")
		}
	})
}

// TestOversizedFormIs413 sends a console form over the 2 MB body limit,
// with a Content-Length and chunked (no length, so the limit is only met
// while the form is read): both get 413 and create nothing.
func TestOversizedFormIs413(t *testing.T) {
	t.Parallel()
	webtest.ForEachDBWith(t, web.Config{}, func(t *testing.T, h *webtest.Harness) {
		csrf := h.CSRF()
		encoded := url.Values{"couponCode": {"BIG"}, "utmSource": {strings.Repeat("a", 3<<20)}, "_csrf": {csrf}}.Encode()
		var multi bytes.Buffer
		mw := multipart.NewWriter(&multi)
		for k, v := range map[string]string{"couponCode": "BIG", "utmSource": strings.Repeat("a", 3<<20), "_csrf": csrf} {
			if err := mw.WriteField(k, v); err != nil {
				t.Fatal(err)
			}
		}
		if err := mw.Close(); err != nil {
			t.Fatal(err)
		}
		for _, form := range []struct{ name, contentType, body string }{
			{"urlencoded", "application/x-www-form-urlencoded", encoded},
			{"multipart", mw.FormDataContentType(), multi.String()},
		} {
			for _, length := range []int64{int64(len(form.body)), -1} {
				req, err := http.NewRequestWithContext(t.Context(), "POST", h.Srv.URL+"/coupons", strings.NewReader(form.body))
				if err != nil {
					t.Fatal(err)
				}
				// -1 makes the client send the body chunked.
				req.ContentLength = length
				req.Header.Set("Content-Type", form.contentType)
				req.Header.Set("X-CSRF-Token", csrf)
				res, err := h.Client.Do(req)
				if err != nil {
					t.Fatalf("%s, length %d: %v", form.name, length, err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "too large") {
					t.Errorf("%s form of 3 MB, length %d: %d %.200s, want 413 saying it is too large", form.name, length, res.StatusCode, body)
				}
			}
		}
		if _, err := h.Store.Coupon(t.Context(), "BIG"); err == nil {
			t.Error("an oversized form created its coupon")
		}
	})
}
