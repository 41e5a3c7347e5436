package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/coupond/coupond/web/webtest"
)

func TestConsolePagesRender(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		if r := h.API("POST", "/api/rnb/pvt/coupon", `{"couponCode":"Visible","utmSource":"<b>src</b>","utmCampaign":"<script>alert(1)</script>"}`); r.Status != http.StatusCreated {
			t.Fatalf("seed: %d %s", r.Status, r.Body)
		}
		for _, tc := range []struct{ path, want string }{
			{"/coupons", `id="coupon-table"`},
			{"/coupons/new", `id="coupon-form"`},
			{"/coupons/generate", `id="generate-form"`},
			{"/coupons/visible", `data-testid="coupon-code">Visible<`},
			{"/coupons/Visible/edit", `value="Visible" readonly`},
		} {
			r := h.Do("GET", tc.path, nil, nil)
			if r.Status != http.StatusOK || !strings.Contains(r.Body, tc.want) {
				t.Errorf("GET %s = %d, want 200 containing %q", tc.path, r.Status, tc.want)
			}
			if strings.Contains(r.Body, "<b>src</b>") || strings.Contains(r.Body, "<script>alert") {
				t.Errorf("GET %s shows user data unescaped", tc.path)
			}
		}
		if r := h.Do("GET", "/", nil, nil); r.Status != http.StatusOK || !strings.Contains(r.Body, "<h1>Dashboard</h1>") {
			t.Errorf("GET / = %d, want the dashboard", r.Status)
		}
		r := h.Do("GET", "/coupons/missing", nil, nil)
		if r.Status != http.StatusNotFound || !strings.Contains(r.Body, `data-testid="error-page"`) || !strings.Contains(r.Body, `<p>No coupon &#34;missing&#34; exists.</p>`) {
			t.Errorf("unknown coupon page = %d %s", r.Status, r.Body)
		}
		if r := h.Do("GET", "/static/vendor/htmx-2.0.11.min.js", nil, nil); r.Status != http.StatusOK || !strings.Contains(r.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("htmx asset = %d, Cache-Control %q", r.Status, r.Header.Get("Cache-Control"))
		}
		if r := h.Do("GET", "/static/vendor", nil, nil); r.Status != http.StatusNotFound {
			t.Errorf("a static directory must not be listed: %d", r.Status)
		}
	})
}

func TestConsoleListSearchAndFragment(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		for _, code := range []string{"SPRING-1", "SPRING-2", "SUMMER-1"} {
			h.MustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"`+code+`"}`)
		}
		r := h.Do("GET", "/coupons?q=spring", nil, webtest.HTMX(views.CouponTableID))
		if r.Status != http.StatusOK {
			t.Fatalf("status %d", r.Status)
		}
		if strings.Contains(r.Body, "<html") || !strings.HasPrefix(strings.TrimSpace(r.Body), `<section id="coupon-table"`) {
			t.Errorf("an htmx request for the table must get only the table: %.200s", r.Body)
		}
		if !strings.Contains(r.Body, "SPRING-1") || !strings.Contains(r.Body, "SPRING-2") || strings.Contains(r.Body, "SUMMER-1") {
			t.Errorf("search by prefix shows the wrong rows")
		}
		full := h.Do("GET", "/coupons?q=spring", nil, nil)
		if !strings.Contains(full.Body, "<html") || !strings.Contains(full.Body, `value="spring"`) {
			t.Errorf("a plain request gets the whole page with the query kept")
		}
		// Paging: 3 coupons, 50 a page: no next link; the state filter works.
		if strings.Contains(full.Body, `data-testid="next-page"`) {
			t.Error("next-page link on the only page")
		}
		h.MustAPI(http.StatusOK, "POST", "/api/rnb/pvt/archive/coupon/SUMMER-1", "")
		arch := h.Do("GET", "/coupons?state=archived", nil, nil)
		if !strings.Contains(arch.Body, "SUMMER-1") || strings.Contains(arch.Body, "SPRING-1") {
			t.Error("state=archived shows the wrong rows")
		}
		if bad := h.Do("GET", "/coupons?after=***", nil, nil); bad.Status != http.StatusOK || !strings.Contains(bad.Body, "not valid any more") {
			t.Errorf("a stale cursor must fall back to the first page with a note: %d", bad.Status)
		}
	})
}

func TestConsoleCreateValidationAndSuccess(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		bad := url.Values{"couponCode": {"bad code"}, "maxUsage": {"lots"}, "maxItemsPerClient": {"-1"}, "expirationIntervalPerUse": {"25:00:00"}, "utmSource": {"kept-value"}}
		r := h.Post("/coupons", bad, nil)
		if r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("invalid form: %d", r.Status)
		}
		for _, f := range []string{"couponCode", "maxUsage", "maxItemsPerClient", "expirationIntervalPerUse"} {
			if !strings.Contains(r.Body, `data-testid="error-`+f+`"`) {
				t.Errorf("no message next to %s", f)
			}
			if !regexp.MustCompile(`id="` + f + `"[^>]*aria-invalid="true"[^>]*aria-describedby="` + f + `-error"`).MatchString(r.Body) {
				t.Errorf("%s is not marked aria-invalid and described by its error", f)
			}
		}
		if !strings.Contains(r.Body, `value="kept-value"`) || !strings.Contains(r.Body, `value="lots"`) {
			t.Error("the form must show back what the user typed")
		}

		// htmx gets only the form fragment with 422.
		r = h.Post("/coupons", bad, webtest.HTMX(views.CouponFormID))
		if r.Status != http.StatusUnprocessableEntity || !strings.HasPrefix(strings.TrimSpace(r.Body), `<form id="coupon-form"`) {
			t.Errorf("htmx invalid form: %d %.100s", r.Status, r.Body)
		}

		good := url.Values{"couponCode": {"Welcome"}, "maxUsage": {"10"}, "expirationIntervalPerUse": {"1.00:00:00"}}
		r = h.Post("/coupons", good, nil)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/coupons/Welcome" {
			t.Fatalf("create: %d %q", r.Status, r.Header.Get("Location"))
		}
		c, err := h.Store.Coupon(t.Context(), "welcome")
		if err != nil || c.MaxUsage != 10 {
			t.Fatalf("stored: %+v %v", c, err)
		}

		// The same code in another case is refused next to the field.
		r = h.Post("/coupons", url.Values{"couponCode": {"WELCOME"}}, nil)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "already exists") {
			t.Errorf("duplicate: %d", r.Status)
		}
		if c := h.MustCoupon("welcome"); c.Code != "Welcome" || c.MaxUsage != 10 {
			t.Errorf("the refused duplicate changed the coupon: %+v", c)
		}

		r = h.Post("/coupons", url.Values{"couponCode": {"Second"}}, webtest.HTMX(views.CouponFormID))
		if r.Status != http.StatusNoContent || r.Header.Get("HX-Location") != "/coupons/Second" {
			t.Errorf("htmx create: %d HX-Location %q", r.Status, r.Header.Get("HX-Location"))
		}
		if _, ok := h.Coupon("Second"); !ok {
			t.Error("the htmx create stored no coupon")
		}
	})
}

func TestConsoleEditKeepsCode(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		h.MustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"Keep","maxUsage":1}`)
		r := h.Post("/coupons/keep", url.Values{"couponCode": {"CHANGED"}, "maxUsage": {"7"}, "utmCampaign": {"fall"}}, nil)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/coupons/Keep" {
			t.Fatalf("update: %d %q", r.Status, r.Header.Get("Location"))
		}
		c, err := h.Store.Coupon(t.Context(), "keep")
		if err != nil || c.Code != "Keep" || c.MaxUsage != 7 || c.UTMCampaign == nil || *c.UTMCampaign != "fall" {
			t.Fatalf("after edit: %+v %v", c, err)
		}
		if _, err := h.Store.Coupon(t.Context(), "CHANGED"); err == nil {
			t.Error("editing must never change the code")
		}
		r = h.Post("/coupons/keep", url.Values{"maxUsage": {"-5"}}, nil)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `data-testid="error-maxUsage"`) {
			t.Errorf("invalid edit: %d", r.Status)
		}
		if c := h.MustCoupon("keep"); c.MaxUsage != 7 {
			t.Errorf("the refused edit changed max usage to %d", c.MaxUsage)
		}
		if r := h.Post("/coupons/nope", url.Values{"maxUsage": {"1"}}, nil); r.Status != http.StatusNotFound {
			t.Errorf("edit unknown: %d", r.Status)
		}
		if _, ok := h.Coupon("nope"); ok {
			t.Error("editing an unknown coupon created it")
		}
	})
}

func TestConsoleArchiveSwapsRow(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		h.MustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"Row"}`)
		rowID := views.CouponRowID(h.MustCoupon("row").ID)
		r := h.Post("/coupons/Row/archive", nil, webtest.HTMX(rowID))
		if r.Status != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(r.Body), `<tr id="`+rowID+`"`) || !strings.Contains(r.Body, `data-testid="unarchive"`) {
			t.Fatalf("archive row swap: %d %.200s", r.Status, r.Body)
		}
		if !h.MustCoupon("row").Archived {
			t.Error("the row shows the coupon archived, but it is not")
		}
		r = h.Post("/coupons/Row/unarchive", nil, webtest.HTMX(views.CouponStatusID))
		if r.Status != http.StatusOK || !strings.Contains(r.Body, `id="coupon-status"`) || !strings.Contains(r.Body, `data-testid="archive"`) {
			t.Fatalf("unarchive status swap: %d %.200s", r.Status, r.Body)
		}
		if h.MustCoupon("row").Archived {
			t.Error("the status shows the coupon active, but it is archived")
		}
		r = h.Post("/coupons/Row/archive", nil, nil)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/coupons/Row" {
			t.Errorf("plain archive: %d %q", r.Status, r.Header.Get("Location"))
		}
		if !h.MustCoupon("row").Archived {
			t.Error("the plain archive did not archive the coupon")
		}
		// A failed htmx request answers with a message for the flash region.
		r = h.Post("/coupons/ghost/archive", nil, webtest.HTMX("coupon-row-999"))
		if r.Status != http.StatusNotFound || !strings.Contains(r.Body, `data-testid="flash"`) || strings.Contains(r.Body, "<html") {
			t.Errorf("htmx error: %d %.200s", r.Status, r.Body)
		}
	})
}

func TestConsoleCSRFTokenIsChecked(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		token := h.CSRF()
		form := url.Values{"couponCode": {"csrf1"}}
		hdr := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		if r := h.Do("POST", "/coupons", strings.NewReader(form.Encode()), hdr); r.Status != http.StatusForbidden {
			t.Errorf("POST without a token = %d, want 403", r.Status)
		}
		form.Set("_csrf", "forged"+token)
		if r := h.Do("POST", "/coupons", strings.NewReader(form.Encode()), hdr); r.Status != http.StatusForbidden {
			t.Errorf("POST with a wrong token = %d, want 403", r.Status)
		}
		if _, err := h.Store.Coupon(t.Context(), "csrf1"); err == nil {
			t.Fatal("a refused POST created the coupon")
		}
		form.Set("_csrf", token)
		if r := h.Do("POST", "/coupons", strings.NewReader(form.Encode()), hdr); r.Status != http.StatusSeeOther {
			t.Fatalf("POST with the token = %d, want 303", r.Status)
		}
		h.MustCoupon("csrf1")
		// Without a token an archive is refused too; htmx sends the token
		// as a header.
		if r := h.Do("POST", "/coupons/csrf1/archive", nil, hdr); r.Status != http.StatusForbidden {
			t.Errorf("archive without a token = %d, want 403", r.Status)
		}
		if h.MustCoupon("csrf1").Archived {
			t.Fatal("an archive without a token archived the coupon")
		}
		hdr["X-CSRF-Token"] = token
		if r := h.Do("POST", "/coupons/csrf1/archive", nil, hdr); r.Status != http.StatusSeeOther {
			t.Errorf("POST with the header token = %d, want 303", r.Status)
		}
		if !h.MustCoupon("csrf1").Archived {
			t.Fatal("the archive with the header token did not archive the coupon")
		}
		// A cross-site browser POST is refused even with the token.
		hdr["Sec-Fetch-Site"] = "cross-site"
		if r := h.Do("POST", "/coupons/csrf1/unarchive", nil, hdr); r.Status != http.StatusForbidden {
			t.Errorf("cross-site POST = %d, want 403", r.Status)
		}
		if !h.MustCoupon("csrf1").Archived {
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
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		for _, code := range []string{"QUERY", "BODY", "HEADER"} {
			if r := h.API("POST", "/api/rnb/pvt/coupon", `{"couponCode":"`+code+`"}`); r.Status != http.StatusCreated {
				t.Fatalf("create %s: %d %s", code, r.Status, r.Body)
			}
		}
		token := h.CSRF()
		form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		archived := func(code string) bool {
			t.Helper()
			c, err := h.Store.Coupon(t.Context(), code)
			if err != nil {
				t.Fatal(err)
			}
			return c.Archived
		}

		if r := h.Do("POST", "/coupons/QUERY/archive?_csrf="+url.QueryEscape(token), nil, form); r.Status != http.StatusForbidden {
			t.Errorf("the token in the query only: %d, want 403", r.Status)
		}
		forged := url.Values{"_csrf": {"forged" + token}}.Encode()
		if r := h.Do("POST", "/coupons/QUERY/archive?_csrf="+url.QueryEscape(token), strings.NewReader(forged), form); r.Status != http.StatusForbidden {
			t.Errorf("the token in the query, a forged one in the body: %d, want 403", r.Status)
		}
		if archived("QUERY") {
			t.Error("a POST with the token only in the query archived the coupon")
		}

		body := url.Values{"_csrf": {token}}.Encode()
		if r := h.Do("POST", "/coupons/BODY/archive", strings.NewReader(body), form); r.Status != http.StatusSeeOther || !archived("BODY") {
			t.Errorf("the token in the form body: %d, want 303 and the coupon archived", r.Status)
		}
		header := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": token}
		if r := h.Do("POST", "/coupons/HEADER/archive", nil, header); r.Status != http.StatusSeeOther || !archived("HEADER") {
			t.Errorf("the token in the header: %d, want 303 and the coupon archived", r.Status)
		}
	})
}

func TestHealth(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		for _, p := range []string{"/healthz", "/readyz"} {
			if r := h.Do("GET", p, nil, nil); r.Status != http.StatusOK {
				t.Errorf("%s = %d", p, r.Status)
			}
		}
		if err := h.Store.Close(); err != nil {
			t.Fatal(err)
		}
		if r := h.Do("GET", "/readyz", nil, nil); r.Status != http.StatusServiceUnavailable {
			t.Errorf("/readyz with the database closed = %d, want 503", r.Status)
		}
	})
}

// The cap on coupons is explained in a marketer's words in the console,
// never with the flag's name.
func TestConsoleExplainsTheCouponCap(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{MaxActiveCoupons: 1}, func(t *testing.T, h *webtest.Harness) {
		if r := h.Post("/coupons", url.Values{"couponCode": {"FIRST"}}, nil); r.Status != http.StatusSeeOther {
			t.Fatalf("the first coupon: %d", r.Status)
		}
		r := h.Post("/coupons", url.Values{"couponCode": {"SECOND"}}, nil)
		msg := testID(r.Body, "form-error")
		if r.Status != http.StatusUnprocessableEntity || msg != "This store allows at most 1 coupon in use (not archived) at once; 1 is in use now, and this would add 1 more. Archive coupons that are no longer needed, or ask whoever runs coupond to raise the limit." {
			t.Errorf("over the cap: %d %q", r.Status, msg)
		}
		if strings.Contains(r.Body, "--max-active-coupons") {
			t.Error("the console names a flag")
		}
		// Unarchiving over the cap says the same in the flash.
		if r := h.Post("/coupons/FIRST/archive", nil, nil); r.Status != http.StatusSeeOther {
			t.Fatalf("archive: %d", r.Status)
		}
		if r := h.Post("/coupons", url.Values{"couponCode": {"THIRD"}}, nil); r.Status != http.StatusSeeOther {
			t.Fatalf("the third coupon: %d", r.Status)
		}
		r = h.Post("/coupons/FIRST/unarchive", nil, webtest.HTMX(views.CouponStatusID))
		if r.Status != http.StatusConflict || !strings.Contains(r.Body, "This store allows at most 1 coupon in use (not archived) at once; 1 is in use now, and this would add 1 more.") ||
			strings.Contains(r.Body, "--max-active-coupons") {
			t.Errorf("unarchive over the cap: %d %.300s", r.Status, r.Body)
		}
	})
}

// The list finds a code by any part of it, filters by the start of a UTM
// tag, and sorts by the column whose header is clicked, both ways, the
// order kept across pages, filters and the CSV.
func TestConsoleListFindsAnyPartAndSortsByItsHeaders(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		h.MustPromotion(models.PromotionInput{Status: models.PromotionActive, UTMSource: new("newsletter-dec")})
		for _, code := range []string{"BDAY-ANNA-1205", "SPRING-1", "SUMMER-1"} {
			h.MustTaggedCoupon(code, "newsletter-dec", "")
		}
		h.MustTaggedCoupon("ADS-1", "ads", "")
		h.MustRedeem("SPRING-1", "c1", "o1", 1, nil)
		h.MustRedeem("SPRING-1", "c2", "o2", 1, nil)
		h.MustRedeem("SUMMER-1", "c1", "o3", 1, nil)
		rows := func(r webtest.Response) []string {
			t.Helper()
			var codes []string
			for _, m := range regexp.MustCompile(`data-code="([^"]+)"`).FindAllStringSubmatch(r.Body, -1) {
				codes = append(codes, m[1])
			}
			return codes
		}
		check := func(path string, want ...string) webtest.Response {
			t.Helper()
			r := h.Do("GET", path, nil, nil)
			if got := rows(r); r.Status != http.StatusOK || strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("GET %s = %d %q, want %q", path, r.Status, got, want)
			}
			return r
		}
		check("/coupons?q=anna", "BDAY-ANNA-1205")
		check("/coupons?q=ING-", "SPRING-1")
		check("/coupons?utmSource=NEWS", "BDAY-ANNA-1205", "SPRING-1", "SUMMER-1")
		byUses := check("/coupons?sort=-uses&utmSource=news", "SPRING-1", "SUMMER-1", "BDAY-ANNA-1205")
		// The sorted header says so and sorts the other way; the others
		// start their own order, the filters kept.
		if !strings.Contains(byUses.Body, `aria-sort="descending"`) || !regexp.MustCompile(`href="/coupons\?sort=uses&amp;utmSource=news"[^>]*data-testid="sort-uses"`).MatchString(byUses.Body) {
			t.Errorf("the Uses header of a list sorted by -uses: %s", regexp.MustCompile(`<th[^>]*class="sortable"[\s\S]*?</th>`).FindAllString(byUses.Body, -1))
		}
		if !regexp.MustCompile(`href="/coupons\?sort=-created&amp;utmSource=news"[^>]*data-testid="sort-created"`).MatchString(byUses.Body) {
			t.Error("the Created header must sort newest first under the same filters")
		}
		if !strings.Contains(byUses.Body, `href="/coupons.csv?sort=-uses&amp;utmSource=news"`) || !strings.Contains(byUses.Body, `name="sort" value="-uses"`) {
			t.Error("the CSV link and the filter form must keep the order")
		}
		// Ties in the order of creation.
		check("/coupons?sort=uses", "BDAY-ANNA-1205", "ADS-1", "SUMMER-1", "SPRING-1")
		check("/coupons?sort=-created", "ADS-1", "SUMMER-1", "SPRING-1", "BDAY-ANNA-1205")
		bad := check("/coupons?sort=price", "ADS-1", "BDAY-ANNA-1205", "SPRING-1", "SUMMER-1")
		if !strings.Contains(bad.Body, "cannot be sorted that way") {
			t.Error("an unknown order must say the list is in code order")
		}
		csv := h.Do("GET", "/coupons.csv?sort=-uses&q=s", nil, nil)
		lines := strings.Split(strings.TrimSpace(csv.Body), "\n")
		if csv.Status != http.StatusOK || len(lines) != 4 || !strings.HasPrefix(lines[1], "SPRING-1,") || !strings.HasPrefix(lines[3], "ADS-1,") {
			t.Errorf("CSV sorted by -uses, searching s = %d %q", csv.Status, lines)
		}
	})
}
