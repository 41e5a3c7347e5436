package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
)

func TestConsolePagesRender(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		if r := h.api("POST", "/api/rnb/pvt/coupon", `{"couponCode":"Visible","utmSource":"<b>src</b>","utmCampaign":"<script>alert(1)</script>"}`); r.status != http.StatusCreated {
			t.Fatalf("seed: %d %s", r.status, r.body)
		}
		for _, tc := range []struct{ path, want string }{
			{"/coupons", `id="coupon-table"`},
			{"/coupons/new", `id="coupon-form"`},
			{"/coupons/generate", `id="generate-form"`},
			{"/coupons/visible", `data-testid="coupon-code">Visible<`},
			{"/coupons/Visible/edit", `value="Visible" readonly`},
		} {
			r := h.do("GET", tc.path, nil, nil)
			if r.status != http.StatusOK || !strings.Contains(r.body, tc.want) {
				t.Errorf("GET %s = %d, want 200 containing %q", tc.path, r.status, tc.want)
			}
			if strings.Contains(r.body, "<b>src</b>") || strings.Contains(r.body, "<script>alert") {
				t.Errorf("GET %s shows user data unescaped", tc.path)
			}
		}
		if r := h.do("GET", "/", nil, nil); r.status != http.StatusSeeOther || r.header.Get("Location") != "/coupons" {
			t.Errorf("GET / = %d to %q", r.status, r.header.Get("Location"))
		}
		r := h.do("GET", "/coupons/missing", nil, nil)
		if r.status != http.StatusNotFound || !strings.Contains(r.body, `data-testid="error-page"`) || !strings.Contains(r.body, `no coupon &#34;missing&#34; exists`) {
			t.Errorf("unknown coupon page = %d %s", r.status, r.body)
		}
		if r := h.do("GET", "/static/vendor/htmx-2.0.11.min.js", nil, nil); r.status != http.StatusOK || !strings.Contains(r.header.Get("Cache-Control"), "immutable") {
			t.Errorf("htmx asset = %d, Cache-Control %q", r.status, r.header.Get("Cache-Control"))
		}
		if r := h.do("GET", "/static/vendor", nil, nil); r.status != http.StatusNotFound {
			t.Errorf("a static directory must not be listed: %d", r.status)
		}
	})
}

func TestConsoleListSearchAndFragment(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		for _, code := range []string{"SPRING-1", "SPRING-2", "SUMMER-1"} {
			h.mustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"`+code+`"}`)
		}
		r := h.do("GET", "/coupons?q=spring", nil, htmx(views.CouponTableID))
		if r.status != http.StatusOK {
			t.Fatalf("status %d", r.status)
		}
		if strings.Contains(r.body, "<html") || !strings.HasPrefix(strings.TrimSpace(r.body), `<section id="coupon-table"`) {
			t.Errorf("an htmx request for the table must get only the table: %.200s", r.body)
		}
		if !strings.Contains(r.body, "SPRING-1") || !strings.Contains(r.body, "SPRING-2") || strings.Contains(r.body, "SUMMER-1") {
			t.Errorf("search by prefix shows the wrong rows")
		}
		full := h.do("GET", "/coupons?q=spring", nil, nil)
		if !strings.Contains(full.body, "<html") || !strings.Contains(full.body, `value="spring"`) {
			t.Errorf("a plain request gets the whole page with the query kept")
		}
		// Paging: 3 coupons, 50 a page: no next link; the status filter works.
		if strings.Contains(full.body, `data-testid="next-page"`) {
			t.Error("next-page link on the only page")
		}
		h.mustAPI(http.StatusOK, "POST", "/api/rnb/pvt/archive/coupon/SUMMER-1", "")
		arch := h.do("GET", "/coupons?status=archived", nil, nil)
		if !strings.Contains(arch.body, "SUMMER-1") || strings.Contains(arch.body, "SPRING-1") {
			t.Error("status=archived shows the wrong rows")
		}
		if bad := h.do("GET", "/coupons?after=***", nil, nil); bad.status != http.StatusOK || !strings.Contains(bad.body, "not valid any more") {
			t.Errorf("a stale cursor must fall back to the first page with a note: %d", bad.status)
		}
	})
}

func TestConsoleCreateValidationAndSuccess(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		bad := url.Values{"couponCode": {"bad code"}, "maxUsage": {"lots"}, "maxItemsPerClient": {"-1"}, "expirationIntervalPerUse": {"25:00:00"}, "utmSource": {"kept-value"}}
		r := h.post("/coupons", bad, nil)
		if r.status != http.StatusUnprocessableEntity {
			t.Fatalf("invalid form: %d", r.status)
		}
		for _, f := range []string{"couponCode", "maxUsage", "maxItemsPerClient", "expirationIntervalPerUse"} {
			if !strings.Contains(r.body, `data-testid="error-`+f+`"`) {
				t.Errorf("no message next to %s", f)
			}
			if !regexp.MustCompile(`id="` + f + `"[^>]*aria-invalid="true"[^>]*aria-describedby="` + f + `-error"`).MatchString(r.body) {
				t.Errorf("%s is not marked aria-invalid and described by its error", f)
			}
		}
		if !strings.Contains(r.body, `value="kept-value"`) || !strings.Contains(r.body, `value="lots"`) {
			t.Error("the form must show back what the user typed")
		}

		// htmx gets only the form fragment with 422.
		r = h.post("/coupons", bad, htmx(views.CouponFormID))
		if r.status != http.StatusUnprocessableEntity || !strings.HasPrefix(strings.TrimSpace(r.body), `<form id="coupon-form"`) {
			t.Errorf("htmx invalid form: %d %.100s", r.status, r.body)
		}

		good := url.Values{"couponCode": {"Welcome"}, "maxUsage": {"10"}, "expirationIntervalPerUse": {"1.00:00:00"}}
		r = h.post("/coupons", good, nil)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/coupons/Welcome" {
			t.Fatalf("create: %d %q", r.status, r.header.Get("Location"))
		}
		c, err := h.store.Coupon(t.Context(), "welcome")
		if err != nil || c.MaxUsage != 10 {
			t.Fatalf("stored: %+v %v", c, err)
		}

		// The same code in another case is refused next to the field.
		r = h.post("/coupons", url.Values{"couponCode": {"WELCOME"}}, nil)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "already exists") {
			t.Errorf("duplicate: %d", r.status)
		}
		if c := h.mustCoupon("welcome"); c.Code != "Welcome" || c.MaxUsage != 10 {
			t.Errorf("the refused duplicate changed the coupon: %+v", c)
		}

		r = h.post("/coupons", url.Values{"couponCode": {"Second"}}, htmx(views.CouponFormID))
		if r.status != http.StatusNoContent || r.header.Get("HX-Location") != "/coupons/Second" {
			t.Errorf("htmx create: %d HX-Location %q", r.status, r.header.Get("HX-Location"))
		}
		if _, ok := h.coupon("Second"); !ok {
			t.Error("the htmx create stored no coupon")
		}
	})
}

func TestConsoleEditKeepsCode(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		h.mustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"Keep","maxUsage":1}`)
		r := h.post("/coupons/keep", url.Values{"couponCode": {"CHANGED"}, "maxUsage": {"7"}, "utmCampaign": {"fall"}}, nil)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/coupons/Keep" {
			t.Fatalf("update: %d %q", r.status, r.header.Get("Location"))
		}
		c, err := h.store.Coupon(t.Context(), "keep")
		if err != nil || c.Code != "Keep" || c.MaxUsage != 7 || c.UTMCampaign == nil || *c.UTMCampaign != "fall" {
			t.Fatalf("after edit: %+v %v", c, err)
		}
		if _, err := h.store.Coupon(t.Context(), "CHANGED"); err == nil {
			t.Error("editing must never change the code")
		}
		r = h.post("/coupons/keep", url.Values{"maxUsage": {"-5"}}, nil)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `data-testid="error-maxUsage"`) {
			t.Errorf("invalid edit: %d", r.status)
		}
		if c := h.mustCoupon("keep"); c.MaxUsage != 7 {
			t.Errorf("the refused edit changed max usage to %d", c.MaxUsage)
		}
		if r := h.post("/coupons/nope", url.Values{"maxUsage": {"1"}}, nil); r.status != http.StatusNotFound {
			t.Errorf("edit unknown: %d", r.status)
		}
		if _, ok := h.coupon("nope"); ok {
			t.Error("editing an unknown coupon created it")
		}
	})
}

func TestConsoleArchiveSwapsRow(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		h.mustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"Row"}`)
		rowID := views.CouponRowID(h.mustCoupon("row").ID)
		r := h.post("/coupons/Row/archive", nil, htmx(rowID))
		if r.status != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(r.body), `<tr id="`+rowID+`"`) || !strings.Contains(r.body, `data-testid="unarchive"`) {
			t.Fatalf("archive row swap: %d %.200s", r.status, r.body)
		}
		if !h.mustCoupon("row").Archived {
			t.Error("the row shows the coupon archived, but it is not")
		}
		r = h.post("/coupons/Row/unarchive", nil, htmx(views.CouponStatusID))
		if r.status != http.StatusOK || !strings.Contains(r.body, `id="coupon-status"`) || !strings.Contains(r.body, `data-testid="archive"`) {
			t.Fatalf("unarchive status swap: %d %.200s", r.status, r.body)
		}
		if h.mustCoupon("row").Archived {
			t.Error("the status shows the coupon active, but it is archived")
		}
		r = h.post("/coupons/Row/archive", nil, nil)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/coupons/Row" {
			t.Errorf("plain archive: %d %q", r.status, r.header.Get("Location"))
		}
		if !h.mustCoupon("row").Archived {
			t.Error("the plain archive did not archive the coupon")
		}
		// A failed htmx request answers with a message for the flash region.
		r = h.post("/coupons/ghost/archive", nil, htmx("coupon-row-999"))
		if r.status != http.StatusNotFound || !strings.Contains(r.body, `data-testid="flash"`) || strings.Contains(r.body, "<html") {
			t.Errorf("htmx error: %d %.200s", r.status, r.body)
		}
	})
}

func TestConsoleCSRFTokenIsChecked(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		token := h.csrf()
		form := url.Values{"couponCode": {"csrf1"}}
		hdr := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		if r := h.do("POST", "/coupons", strings.NewReader(form.Encode()), hdr); r.status != http.StatusForbidden {
			t.Errorf("POST without a token = %d, want 403", r.status)
		}
		form.Set("_csrf", "forged"+token)
		if r := h.do("POST", "/coupons", strings.NewReader(form.Encode()), hdr); r.status != http.StatusForbidden {
			t.Errorf("POST with a wrong token = %d, want 403", r.status)
		}
		if _, err := h.store.Coupon(t.Context(), "csrf1"); err == nil {
			t.Fatal("a refused POST created the coupon")
		}
		form.Set("_csrf", token)
		if r := h.do("POST", "/coupons", strings.NewReader(form.Encode()), hdr); r.status != http.StatusSeeOther {
			t.Fatalf("POST with the token = %d, want 303", r.status)
		}
		h.mustCoupon("csrf1")
		// Without a token an archive is refused too; htmx sends the token
		// as a header.
		if r := h.do("POST", "/coupons/csrf1/archive", nil, hdr); r.status != http.StatusForbidden {
			t.Errorf("archive without a token = %d, want 403", r.status)
		}
		if h.mustCoupon("csrf1").Archived {
			t.Fatal("an archive without a token archived the coupon")
		}
		hdr["X-CSRF-Token"] = token
		if r := h.do("POST", "/coupons/csrf1/archive", nil, hdr); r.status != http.StatusSeeOther {
			t.Errorf("POST with the header token = %d, want 303", r.status)
		}
		if !h.mustCoupon("csrf1").Archived {
			t.Fatal("the archive with the header token did not archive the coupon")
		}
		// A cross-site browser POST is refused even with the token.
		hdr["Sec-Fetch-Site"] = "cross-site"
		if r := h.do("POST", "/coupons/csrf1/unarchive", nil, hdr); r.status != http.StatusForbidden {
			t.Errorf("cross-site POST = %d, want 403", r.status)
		}
		if !h.mustCoupon("csrf1").Archived {
			t.Error("a refused cross-site unarchive made the coupon active")
		}
	})
}

// TestCSRFTokenIsNotTakenFromTheQuery posts with a Go client, which sends
// no Sec-Fetch-Site, so the token check itself decides: a token in the URL
// (where it would be logged) is refused; one in the form body or the
// header is accepted.
func TestCSRFTokenIsNotTakenFromTheQuery(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		for _, code := range []string{"QUERY", "BODY", "HEADER"} {
			if r := h.api("POST", "/api/rnb/pvt/coupon", `{"couponCode":"`+code+`"}`); r.status != http.StatusCreated {
				t.Fatalf("create %s: %d %s", code, r.status, r.body)
			}
		}
		token := h.csrf()
		form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		archived := func(code string) bool {
			t.Helper()
			c, err := h.store.Coupon(t.Context(), code)
			if err != nil {
				t.Fatal(err)
			}
			return c.Archived
		}

		if r := h.do("POST", "/coupons/QUERY/archive?_csrf="+url.QueryEscape(token), nil, form); r.status != http.StatusForbidden {
			t.Errorf("the token in the query only: %d, want 403", r.status)
		}
		forged := url.Values{"_csrf": {"forged" + token}}.Encode()
		if r := h.do("POST", "/coupons/QUERY/archive?_csrf="+url.QueryEscape(token), strings.NewReader(forged), form); r.status != http.StatusForbidden {
			t.Errorf("the token in the query, a forged one in the body: %d, want 403", r.status)
		}
		if archived("QUERY") {
			t.Error("a POST with the token only in the query archived the coupon")
		}

		body := url.Values{"_csrf": {token}}.Encode()
		if r := h.do("POST", "/coupons/BODY/archive", strings.NewReader(body), form); r.status != http.StatusSeeOther || !archived("BODY") {
			t.Errorf("the token in the form body: %d, want 303 and the coupon archived", r.status)
		}
		header := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": token}
		if r := h.do("POST", "/coupons/HEADER/archive", nil, header); r.status != http.StatusSeeOther || !archived("HEADER") {
			t.Errorf("the token in the header: %d, want 303 and the coupon archived", r.status)
		}
	})
}

func TestHealth(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		for _, p := range []string{"/healthz", "/readyz"} {
			if r := h.do("GET", p, nil, nil); r.status != http.StatusOK {
				t.Errorf("%s = %d", p, r.status)
			}
		}
		if err := h.store.Close(); err != nil {
			t.Fatal(err)
		}
		if r := h.do("GET", "/readyz", nil, nil); r.status != http.StatusServiceUnavailable {
			t.Errorf("/readyz with the database closed = %d, want 503", r.status)
		}
	})
}
