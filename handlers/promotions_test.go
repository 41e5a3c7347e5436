package handlers_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/coupond/coupond/web/webtest"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var promotionLocation = regexp.MustCompile(`^/promotions/([0-9]+)$`)

// createdPromotion is the id of the promotion a successful create sent
// the browser to.
func createdPromotion(t *testing.T, location string) int64 {
	t.Helper()
	m := promotionLocation.FindStringSubmatch(location)
	if m == nil {
		t.Fatalf("sent to %q, not a promotion's page", location)
	}
	id, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// validPromotionForm is a form the server accepts; tests change one field.
func validPromotionForm() url.Values {
	return url.Values{
		"name": {"Spring sale"}, "description": {"For the newsletter"}, "status": {"active"}, "kind": {"regular"},
		"discountType": {"percent"}, "discountValue": {"12.5"}, "discountCap": {"3"},
		"beginsAt": {"2026-11-01T09:30"}, "endsAt": {"2026-12-24T18:00"},
		"maxUsage": {"10"}, "maxUsagePerClient": {"2"}, "utmSource": {"newsletter"}, "utmCampaign": {""},
	}
}

// testID is the text of the element with data-testid id, or "" when
// there is none.
func testID(body, id string) string {
	m := regexp.MustCompile(`(?s)data-testid="` + regexp.QuoteMeta(id) + `"[^>]*>(.*?)<`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(strings.TrimSpace(m[1]))
}

// fieldError is the message shown directly under the field name, inside
// the field's own block, and whether the field is marked invalid and
// described by it.
func fieldError(body, name string) (msg string, marked bool) {
	n := regexp.QuoteMeta(name)
	m := regexp.MustCompile(`(?s)<div><label for="` + n + `">.*?</label><small id="` + n + `-error" class="field-error" data-testid="error-` + n + `">([^<]*)</small></div>`).FindStringSubmatch(body)
	if m == nil {
		return "", false
	}
	marked = regexp.MustCompile(`id="` + n + `" name="` + n + `"[^>]*aria-invalid="true" aria-describedby="` + n + `-error"`).MatchString(body)
	return html.UnescapeString(m[1]), marked
}

// formValues reads the values a browser would submit from the form with
// id in body: inputs, textareas and the selected option of each select.
func formValues(t *testing.T, body, id string) url.Values {
	t.Helper()
	form := regexp.MustCompile(`(?s)<form id="` + id + `".*?</form>`).FindString(body)
	if form == "" {
		t.Fatalf("no form %q in %.300s", id, body)
	}
	attr := func(tag, name string) string {
		m := regexp.MustCompile(`\b` + name + `="([^"]*)"`).FindStringSubmatch(tag)
		if m == nil {
			return ""
		}
		return html.UnescapeString(m[1])
	}
	v := url.Values{}
	for _, tag := range regexp.MustCompile(`<input[^>]*>`).FindAllString(form, -1) {
		v.Set(attr(tag, "name"), attr(tag, "value"))
	}
	for _, m := range regexp.MustCompile(`(?s)<textarea[^>]*name="([^"]*)"[^>]*>(.*?)</textarea>`).FindAllStringSubmatch(form, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	for _, m := range regexp.MustCompile(`(?s)<select[^>]*name="([^"]*)"[^>]*>(.*?)</select>`).FindAllStringSubmatch(form, -1) {
		if sel := regexp.MustCompile(`<option value="([^"]*)" selected>`).FindStringSubmatch(m[2]); sel != nil {
			v.Set(m[1], html.UnescapeString(sel[1]))
		}
	}
	v.Del("_csrf")
	return v
}

func TestPromotionCreateAndShow(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		r := h.Do("GET", "/promotions/new", nil, nil)
		if r.Status != http.StatusOK || !regexp.MustCompile(`<form id="promotion-form" method="post"[^>]*><input type="hidden" name="_csrf" value="`+h.CSRF()+`">`).MatchString(r.Body) {
			t.Fatalf("new form: %d, or no form carrying the CSRF token", r.Status)
		}
		r = h.Post("/promotions", validPromotionForm(), nil)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("create: %d %.300s", r.Status, r.Body)
		}
		id := createdPromotion(t, r.Header.Get("Location"))
		p := h.Promotion(id)
		begins := time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC)
		if p.Name != "Spring sale" || p.DiscountValue != 1250 || p.DiscountCap == nil || *p.DiscountCap != 300 || p.BeginsAt == nil || !p.BeginsAt.Equal(begins) ||
			p.MaxUsage != 10 || p.MaxUsagePerClient != 2 || p.UTMSource == nil || *p.UTMSource != "newsletter" || p.UTMCampaign != nil {
			t.Fatalf("stored %+v", p)
		}

		page := h.Do("GET", r.Header.Get("Location"), nil, nil)
		for tid, want := range map[string]string{
			"promotion-name": "Spring sale", "description": "For the newsletter", "discount": "12.5 %", "cap": "3.00 USD",
			"beginsAt": "2026-11-01 09:30:00", "endsAt": "2026-12-24 18:00:00", "uses": "0 / 10", "maxUsagePerClient": "2",
			"status": "active", "live": "live now", "no-redemptions": "No redemptions yet.",
		} {
			if got := testID(page.Body, tid); got != want {
				t.Errorf("page %s = %q, want %q", tid, got, want)
			}
		}
		list := h.Do("GET", "/promotions", nil, nil)
		if list.Status != http.StatusOK || !strings.Contains(list.Body, `href="/promotions/`+fmt.Sprint(id)+`">Spring sale</a>`) ||
			!strings.Contains(list.Body, "12.5 %") || testID(list.Body, "uses") != "0 / 10" {
			t.Errorf("the list does not show the new promotion: %d", list.Status)
		}

		// htmx: HX-Location; a fixed discount and no limit read as such.
		fixed := validPromotionForm()
		fixed.Set("name", "Five off")
		fixed.Set("discountType", "fixed")
		fixed.Set("discountValue", "5")
		fixed.Set("discountCap", "")
		fixed.Set("maxUsage", "0")
		r = h.Post("/promotions", fixed, webtest.HTMX(views.PromotionFormID))
		if r.Status != http.StatusNoContent {
			t.Fatalf("htmx create: %d %.300s", r.Status, r.Body)
		}
		page = h.Do("GET", "/promotions/"+fmt.Sprint(createdPromotion(t, r.Header.Get("HX-Location"))), nil, nil)
		if got := testID(page.Body, "discount"); got != "5.00 USD off" {
			t.Errorf("fixed discount shows %q", got)
		}
		if got := testID(page.Body, "uses"); got != "0 / unlimited" {
			t.Errorf("unlimited uses show %q", got)
		}
		if got := testID(page.Body, "cap"); got != "no cap" {
			t.Errorf("no cap shows %q", got)
		}
	})
}

func TestPromotionPageSaysWhetherLiveByTheServerClock(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		// Steps shorter than the session's idle limit keep the admin signed in.
		source := "soon"
		p := h.MustPromotion(models.PromotionInput{UTMSource: &source, BeginsAt: "2026-11-21T11:00:00Z", EndsAt: "2026-11-21T12:00:00Z"})
		path := views.PromotionURL(p.ID)
		if got := testID(h.Do("GET", path, nil, nil).Body, "live"); got != "not live: begins 2026-11-21 11:00:00" {
			t.Errorf("before it begins: %q", got)
		}
		h.Clock.Advance(90 * time.Minute)
		if got := testID(h.Do("GET", path, nil, nil).Body, "live"); got != "live now" {
			t.Errorf("between its dates: %q", got)
		}
		h.Clock.Advance(90 * time.Minute)
		if got := testID(h.Do("GET", path, nil, nil).Body, "live"); got != "not live: ended 2026-11-21 12:00:00" {
			t.Errorf("after it ends: %q", got)
		}
	})
}

func TestPromotionFormRefusesBadInput(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		for _, tc := range []struct {
			name, field, value string
			set                map[string]string
			want               string
		}{
			{name: "percentage over 100", field: "discountValue", value: "150", want: "percentage from 0.01 to 100"},
			{name: "ends before begins", field: "endsAt", value: "2026-10-01T00:00", want: "must be after"},
			{name: "regular promotion without a UTM tag", field: "utmSource", value: "", want: "reached only through UTM tags"},
			{name: "max uses not a number", field: "maxUsage", value: "lots", want: "whole number"},
			{name: "cap with more decimals than the currency", field: "discountCap", value: "5.005", want: "must be an amount in USD with at most 2 decimals, such as 20.50"},
			{name: "cap of nothing", field: "discountCap", value: "0.00", want: "must be more than 0.00 USD"},
			{name: "no name", field: "name", value: "  ", want: "is required"},
			{name: "unknown kind", field: "kind", value: "weekly", want: "must be one of the choices listed"},
			{name: "fixed amount with more decimals than the currency", field: "discountValue", value: "4.999", set: map[string]string{"discountType": "fixed"}, want: "at most 2 decimals"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				form := validPromotionForm()
				form.Set(tc.field, tc.value)
				for k, v := range tc.set {
					form.Set(k, v)
				}
				r := h.Post("/promotions", form, nil)
				if r.Status != http.StatusUnprocessableEntity {
					t.Fatalf("status %d, want 422", r.Status)
				}
				msg, marked := fieldError(r.Body, tc.field)
				if !strings.Contains(msg, tc.want) || !marked {
					t.Errorf("beside %s: %q (marked invalid: %v), want a message containing %q", tc.field, msg, marked, tc.want)
				}
				if n := strings.Count(r.Body, `class="field-error"`); n != 1 {
					t.Errorf("%d field messages, want only the one for %s", n, tc.field)
				}
				switch tc.field {
				case "kind":
					if !strings.Contains(r.Body, `<option value="weekly" selected>`) {
						t.Error("the unknown kind is not shown back")
					}
				case "name":
				default:
					if !strings.Contains(r.Body, `name="`+tc.field+`" value="`+tc.value+`"`) {
						t.Errorf("the typed %s %q is not shown back", tc.field, tc.value)
					}
				}
			})
		}
		if n := h.PromotionCount(); n != 0 {
			t.Fatalf("refused forms stored %d promotions", n)
		}
		bad := validPromotionForm()
		bad.Set("discountValue", "101")
		r := h.Post("/promotions", bad, webtest.HTMX(views.PromotionFormID))
		if r.Status != http.StatusUnprocessableEntity || !strings.HasPrefix(strings.TrimSpace(r.Body), `<form id="promotion-form"`) {
			t.Errorf("htmx gets the form alone with 422: %d %.100s", r.Status, r.Body)
		}
	})
}

func TestPromotionEdit(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		source, capAmount := "Mail <list>", int64(250)
		p := h.MustPromotion(models.PromotionInput{Name: "Autumn & more", Description: "line one\nline two", DiscountType: models.DiscountPercent, DiscountValue: "7.25",
			DiscountCap: &capAmount, BeginsAt: "2026-12-01T09:30:15Z", MaxUsage: 40, MaxUsagePerClient: 1, UTMSource: &source})
		path := views.PromotionURL(p.ID)
		edit := h.Do("GET", path+"/edit", nil, nil)
		if edit.Status != http.StatusOK {
			t.Fatalf("edit form: %d", edit.Status)
		}
		shown := formValues(t, edit.Body, views.PromotionFormID)
		for k, want := range map[string]string{"name": "Autumn & more", "discountValue": "7.25", "discountCap": "2.50", "beginsAt": "2026-12-01T09:30:15",
			"endsAt": "", "status": "active", "kind": "regular", "discountType": "percent", "utmSource": "Mail <list>", "maxUsage": "40"} {
			if got := shown.Get(k); got != want {
				t.Errorf("edit form %s = %q, want %q", k, got, want)
			}
		}

		// Saving the form as shown changes nothing, the seconds included.
		if r := h.Post(path, shown, nil); r.Status != http.StatusSeeOther || r.Header.Get("Location") != path {
			t.Fatalf("save unchanged: %d %q %.300s", r.Status, r.Header.Get("Location"), r.Body)
		}
		if d := cmp.Diff(p, h.Promotion(p.ID), cmpopts.IgnoreFields(models.Promotion{}, "UpdatedAt", "CreatedAt")); d != "" {
			t.Errorf("saving the form unchanged changed the promotion (-before +after):\n%s", d)
		}

		changed := validPromotionForm()
		changed.Set("name", "Autumn sale")
		changed.Set("maxUsage", "20")
		if r := h.Post(path, changed, nil); r.Status != http.StatusSeeOther {
			t.Fatalf("update: %d", r.Status)
		}
		if got := h.Promotion(p.ID); got.Name != "Autumn sale" || got.MaxUsage != 20 || got.DiscountValue != 1250 {
			t.Fatalf("after update: %+v", got)
		}
		bad := validPromotionForm()
		bad.Set("discountValue", "100.5")
		r := h.Post(path, bad, webtest.HTMX(views.PromotionFormID))
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `data-testid="error-discountValue"`) || !strings.Contains(r.Body, `action="`+path+`"`) {
			t.Errorf("invalid edit: %d %.300s", r.Status, r.Body)
		}
		if got := h.Promotion(p.ID); got.DiscountValue != 1250 {
			t.Errorf("the refused edit changed the value to %d", got.DiscountValue)
		}
		if r := h.Post("/promotions/999999", validPromotionForm(), nil); r.Status != http.StatusNotFound {
			t.Errorf("edit unknown: %d", r.Status)
		}
		if n := h.PromotionCount(); n != 1 {
			t.Errorf("editing an unknown promotion stored one: %d promotions", n)
		}
	})
}

// writeControls mark what only editors may use on the promotion pages.
var writeControls = []string{`data-testid="new-promotion"`, `data-testid="edit"`, `data-testid="archive"`, `data-testid="link-tag"`, `method="post" action="/promotions`}

func TestPromotionViewerReadsOnly(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		source := "newsletter"
		p := h.MustPromotion(models.PromotionInput{Name: "Read me", UTMSource: &source})
		h.MustTaggedCoupon("NL-1", "newsletter", "")
		path := views.PromotionURL(p.ID)
		viewer, editor := h.Login(webtest.ViewerEmail), h.Login(webtest.EditorEmail)
		for _, page := range []string{"/promotions", path} {
			r := h.DoWith(viewer, "GET", page, nil, nil)
			if r.Status != http.StatusOK || !strings.Contains(r.Body, "Read me") {
				t.Fatalf("viewer GET %s: %d", page, r.Status)
			}
			for _, c := range writeControls {
				if strings.Contains(r.Body, c) {
					t.Errorf("viewer sees %s on %s", c, page)
				}
			}
		}
		r := h.DoWith(editor, "GET", path, nil, nil)
		for _, c := range writeControls[1:] {
			if !strings.Contains(r.Body, c) {
				t.Errorf("editor does not see %s", c)
			}
		}
		if r := h.DoWith(editor, "GET", "/promotions", nil, nil); !strings.Contains(r.Body, writeControls[0]) {
			t.Error("editor does not see the New promotion button")
		}

		same := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"}
		for _, get := range []string{"/promotions/new", path + "/edit"} {
			if r := h.DoWith(viewer, "GET", get, nil, nil); r.Status != http.StatusForbidden {
				t.Errorf("viewer GET %s: %d, want 403", get, r.Status)
			}
		}
		before := h.Promotion(p.ID)
		for target, form := range map[string]url.Values{
			"/promotions":     validPromotionForm(),
			path:              validPromotionForm(),
			path + "/archive": nil,
			path + "/utm":     {"kind": {"campaign"}, "tag": {"newsletter"}},
		} {
			if r := h.DoWith(viewer, "POST", target, strings.NewReader(form.Encode()), same); r.Status != http.StatusForbidden {
				t.Errorf("viewer POST %s: %d, want 403", target, r.Status)
			}
		}
		if d := cmp.Diff(before, h.Promotion(p.ID)); d != "" {
			t.Errorf("refused viewer posts changed the promotion:\n%s", d)
		}
		if n := h.PromotionCount(); n != 1 {
			t.Errorf("a refused viewer post created a promotion: %d", n)
		}
	})
}

func TestPromotionPageShowsLinkedCouponsAndRedemptions(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		ctx := t.Context()
		source, campaign, capAmount := "Spring", "launch", int64(450)
		p := h.MustPromotion(models.PromotionInput{UTMSource: &source, UTMCampaign: &campaign, MaxUsage: 10, DiscountCap: &capAmount})
		h.MustTaggedCoupon("SPRING-A", "spring", "")
		h.MustTaggedCoupon("SPRING-B", "SPRING", "")
		h.MustTaggedCoupon("LAUNCH-1", "", "Launch")
		h.MustTaggedCoupon("OTHER", "autumn", "")
		amount := int64(5000)
		if _, _, err := h.Store.Redeem(ctx, models.RedemptionInput{Code: "spring-a", CustomerID: "alice", OrderID: "o-1", Items: 3, OrderAmount: &amount}, "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
		cancelled, _, err := h.Store.Redeem(ctx, models.RedemptionInput{Code: "LAUNCH-1", CustomerID: "bob", OrderID: "o-2", Items: 1}, "10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.Store.CancelRedemption(ctx, cancelled.ID); err != nil {
			t.Fatal(err)
		}

		page := h.Do("GET", views.PromotionURL(p.ID), nil, nil)
		if page.Status != http.StatusOK {
			t.Fatalf("page: %d", page.Status)
		}
		if !strings.Contains(page.Body, `<a href="/coupons?utmSource=Spring" data-testid="source-coupons">2 coupons</a>`) {
			t.Errorf("no link to the 2 coupons carrying the source: %s", testID(page.Body, "source-coupons"))
		}
		if !strings.Contains(page.Body, `<a href="/coupons?utmCampaign=launch" data-testid="campaign-coupons">1 coupon</a>`) {
			t.Errorf("no link to the coupon carrying the campaign: %s", testID(page.Body, "campaign-coupons"))
		}
		if got := testID(page.Body, "uses"); got != "1 / 10" {
			t.Errorf("uses = %q, want 1 / 10 (the cancelled use does not count)", got)
		}
		rows := regexp.MustCompile(`(?s)<tr data-testid="redemption".*?</tr>`).FindAllString(page.Body, -1)
		if len(rows) != 2 {
			t.Fatalf("%d redemption rows, want 2", len(rows))
		}
		cells := func(row string) []string {
			var out []string
			for _, m := range regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`).FindAllStringSubmatch(row, -1) {
				out = append(out, strings.TrimSpace(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(m[1], "")))
			}
			return out
		}
		newest, oldest := cells(rows[0]), cells(rows[1])
		if newest[0] != "LAUNCH-1" || newest[1] != "bob" || newest[5] != "—" || newest[7] == "no" {
			t.Errorf("newest row = %q, want LAUNCH-1 by bob, no discount, cancelled", newest)
		}
		if d := cmp.Diff([]string{"SPRING-A", "alice", "o-1", "3", "50.00 USD", "4.50 USD"}, oldest[:6]); d != "" || oldest[7] != "no" {
			t.Errorf("oldest row = %q, want SPRING-A by alice for o-1, 3 items, an order of 50.00 and 4.50 off (10 %% capped), not cancelled: %s", oldest, d)
		}

		// The links list the coupons they count, ignoring case.
		list := h.Do("GET", "/coupons?utmSource=Spring", nil, nil)
		if !strings.Contains(list.Body, ">SPRING-A<") || !strings.Contains(list.Body, ">SPRING-B<") || strings.Contains(list.Body, ">OTHER<") {
			t.Error("the source link does not list exactly the coupons it counts")
		}
	})
}

func TestPromotionRedemptionsArePaged(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		source := "many"
		p := h.MustPromotion(models.PromotionInput{UTMSource: &source})
		h.MustTaggedCoupon("MANY", "many", "")
		for i := 1; i <= 26; i++ {
			in := models.RedemptionInput{Code: "MANY", CustomerID: "c", OrderID: fmt.Sprintf("order-%02d", i), Items: 1}
			if _, _, err := h.Store.Redeem(t.Context(), in, "10.0.0.1"); err != nil {
				t.Fatal(err)
			}
		}
		page := h.Do("GET", views.PromotionURL(p.ID), nil, nil)
		if n := strings.Count(page.Body, `data-testid="redemption"`); n != 25 || !strings.Contains(page.Body, ">order-26<") || strings.Contains(page.Body, ">order-01<") {
			t.Fatalf("first page: %d rows, want the newest 25", n)
		}
		m := regexp.MustCompile(`href="([^"]*)"[^>]*data-testid="next-redemptions"`).FindStringSubmatch(page.Body)
		if m == nil {
			t.Fatal("no link to older redemptions")
		}
		older := h.Do("GET", html.UnescapeString(m[1]), nil, webtest.HTMX(views.PromotionRedemptionsID))
		if !strings.HasPrefix(strings.TrimSpace(older.Body), `<div id="promotion-redemptions"`) {
			t.Errorf("htmx paging must get the redemptions alone: %.100s", older.Body)
		}
		if n := strings.Count(older.Body, `data-testid="redemption"`); n != 1 || !strings.Contains(older.Body, ">order-01<") || strings.Contains(older.Body, `data-testid="next-redemptions"`) {
			t.Errorf("second page: %d rows, want order-01 alone and no further link", n)
		}
		if r := h.Do("GET", views.PromotionURL(p.ID)+"?after=***", nil, nil); r.Status != http.StatusOK || strings.Count(r.Body, `data-testid="redemption"`) != 25 ||
			!strings.Contains(r.Body, "not valid any more") {
			t.Errorf("a stale cursor must fall back to the newest, saying so: %d", r.Status)
		}
	})
}

func TestPromotionLinkUTMTag(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		old := "old-source"
		p := h.MustPromotion(models.PromotionInput{UTMSource: &old})
		path := views.PromotionURL(p.ID)
		h.MustTaggedCoupon("UNTAGGED", "", "")
		page := h.Do("GET", path, nil, nil)
		if !strings.Contains(page.Body, `data-testid="no-tags"`) || !strings.Contains(page.Body, `name="tag"`) {
			t.Errorf("without tagged coupons the page must say so and still take a new tag")
		}

		h.MustTaggedCoupon("NL-1", "newsletter", "")
		h.MustTaggedCoupon("NL-2", "newsletter", "")
		h.MustTaggedCoupon("AD-1", "ads", "black-friday")
		page = h.Do("GET", path, nil, nil)
		for _, want := range []string{`<option value="newsletter">2 coupons</option>`, `<option value="ads">1 coupon</option>`, `<option value="black-friday">1 coupon</option>`} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("the tag choice lacks %s", want)
			}
		}
		if strings.Contains(page.Body, `data-testid="no-tags"`) {
			t.Error("the page says no coupon carries a tag")
		}
		// Each form that posts carries the CSRF token for browsers without htmx.
		token := regexp.QuoteMeta(`<input type="hidden" name="_csrf" value="` + h.CSRF() + `">`)
		posts := regexp.MustCompile(`<form method="post"`).FindAllStringIndex(page.Body, -1)
		if n := len(regexp.MustCompile(`<form method="post"[^>]*>`+token).FindAllString(page.Body, -1)); len(posts) < 3 || n != len(posts) {
			t.Errorf("%d of the page's %d post forms carry the CSRF token", n, len(posts))
		}
		// Archiving asks first: the button leads to its question.
		if !strings.Contains(page.Body, `<form method="get" action="`+path+`/archive" class="inline" data-confirm="Archive promotion `) {
			t.Error("the Archive button does not ask first")
		}

		// A tag coupons carry says how many, and waits for the tick.
		r := h.Post(path+"/utm", url.Values{"kind": {"source"}, "tag": {"newsletter"}}, nil)
		if r.Status != http.StatusUnprocessableEntity || !strings.HasPrefix(testID(r.Body, "error-tag-source"), "2 coupons carry newsletter") ||
			!strings.Contains(r.Body, `name="confirmLink"`) {
			t.Fatalf("linking a tag 2 coupons carry, without the tick: %d %q", r.Status, testID(r.Body, "error-tag-source"))
		}
		if got := h.Promotion(p.ID); got.UTMSource == nil || *got.UTMSource != old {
			t.Fatalf("asking changed the promotion: %+v", got)
		}
		r = h.Post(path+"/utm", url.Values{"kind": {"source"}, "tag": {"newsletter"}, "confirmLink": {"true"}}, nil)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != path {
			t.Fatalf("link source: %d %q", r.Status, r.Header.Get("Location"))
		}
		if got := h.Promotion(p.ID); got.UTMSource == nil || *got.UTMSource != "newsletter" || got.UTMCampaign != nil {
			t.Fatalf("after linking the source: %+v", got)
		}
		page = h.Do("GET", path, nil, nil)
		if got := testID(page.Body, "source-coupons"); got != "2 coupons" {
			t.Errorf("linked source counts %q, want 2 coupons", got)
		}
		if !strings.Contains(page.Body, `id="tag-source" name="tag" value="newsletter"`) {
			t.Error("the linked source is not the one shown")
		}

		r = h.Post(path+"/utm", url.Values{"kind": {"campaign"}, "tag": {"black-friday"}, "confirmLink": {"true"}}, webtest.HTMX(views.PromotionTagFormID))
		if r.Status != http.StatusNoContent || r.Header.Get("HX-Location") != path {
			t.Fatalf("htmx link campaign: %d %q", r.Status, r.Header.Get("HX-Location"))
		}
		if got := h.Promotion(p.ID); got.UTMCampaign == nil || *got.UTMCampaign != "black-friday" || *got.UTMSource != "newsletter" {
			t.Fatalf("after linking the campaign: %+v", got)
		}

		before := h.Promotion(p.ID)
		r = h.Post(path+"/utm", url.Values{"kind": {"medium"}, "tag": {"ads"}}, webtest.HTMX(views.PromotionTagFormID))
		if r.Status != http.StatusUnprocessableEntity || !strings.HasPrefix(strings.TrimSpace(r.Body), `<section id="promotion-tag-form"`) ||
			!strings.Contains(testID(r.Body, "form-error"), "choose a UTM source or a UTM campaign") {
			t.Errorf("unknown kind: %d %.300s", r.Status, r.Body)
		}
		r = h.Post(path+"/utm", url.Values{"kind": {"source"}, "tag": {" "}}, nil)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "<html") || testID(r.Body, "error-tag-source") != "choose a tag to link" ||
			!strings.Contains(r.Body, `data-testid="tag-source" aria-invalid="true" aria-describedby="tag-source-error"`) ||
			testID(r.Body, "error-tag-campaign") != "" {
			t.Errorf("blank tag: %d, message beside the source %q", r.Status, testID(r.Body, "error-tag-source"))
		}
		if d := cmp.Diff(before, h.Promotion(p.ID)); d != "" {
			t.Errorf("refused links changed the promotion:\n%s", d)
		}
		if r := h.Post("/promotions/999999/utm", url.Values{"kind": {"source"}, "tag": {"ads"}, "confirmLink": {"true"}}, nil); r.Status != http.StatusNotFound {
			t.Errorf("link on an unknown promotion: %d", r.Status)
		}
		// A tag no coupon carries yet links at once.
		if r := h.Post(path+"/utm", url.Values{"kind": {"source"}, "tag": {"spring-2027"}}, nil); r.Status != http.StatusSeeOther || *h.Promotion(p.ID).UTMSource != "spring-2027" {
			t.Errorf("linking a new tag: %d", r.Status)
		}
	})
}

func TestPromotionArchive(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		source := "s"
		swapped := h.MustPromotion(models.PromotionInput{Name: "Swapped", UTMSource: &source})
		plain := h.MustPromotion(models.PromotionInput{Name: "Plain", UTMSource: &source})

		r := h.Post(views.PromotionURL(swapped.ID)+"/archive", nil, webtest.HTMX(views.PromotionStatusID))
		if r.Status != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(r.Body), `<footer id="promotion-status"`) || strings.Contains(r.Body, "<html") {
			t.Fatalf("htmx archive: %d %.200s", r.Status, r.Body)
		}
		if testID(r.Body, "status") != "archived" || testID(r.Body, "live") != "not live: it is archived" || strings.Contains(r.Body, `data-testid="archive"`) {
			t.Errorf("the swapped status block: %.400s", r.Body)
		}
		if got := h.Promotion(swapped.ID).Status; got != models.PromotionArchived {
			t.Errorf("the block shows the promotion archived, but it is %s", got)
		}

		r = h.Post(views.PromotionURL(plain.ID)+"/archive", nil, nil)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != views.PromotionURL(plain.ID) {
			t.Fatalf("plain archive: %d %q", r.Status, r.Header.Get("Location"))
		}
		if got := h.Promotion(plain.ID).Status; got != models.PromotionArchived {
			t.Errorf("the plain archive left the promotion %s", got)
		}
		page := h.Do("GET", views.PromotionURL(plain.ID), nil, nil)
		if testID(page.Body, "status") != "archived" || strings.Contains(page.Body, `data-testid="archive"`) || !strings.Contains(page.Body, `data-testid="edit"`) {
			t.Error("an archived promotion's page must say so and offer Edit, not Archive")
		}
		r = h.Post("/promotions/999999/archive", nil, webtest.HTMX(views.PromotionStatusID))
		if r.Status != http.StatusNotFound || testID(r.Body, "flash") == "" {
			t.Errorf("htmx archive of an unknown promotion: %d %.200s", r.Status, r.Body)
		}
	})
}

func TestPromotionUnknownOrMalformedIDIsNotFound(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		source := "s"
		h.MustPromotion(models.PromotionInput{UTMSource: &source})
		for _, tc := range []struct{ method, path string }{
			{"GET", "/promotions/999999"},
			{"GET", "/promotions/abc"},
			{"GET", "/promotions/0"},
			{"GET", "/promotions/-1"},
			{"GET", "/promotions/1.5"},
			{"GET", "/promotions/99999999999999999999"},
			{"GET", "/promotions/abc/edit"},
			{"GET", "/promotions/999999/edit"},
			{"POST", "/promotions/abc"},
			{"POST", "/promotions/abc/archive"},
			{"POST", "/promotions/abc/utm"},
		} {
			var r webtest.Response
			if tc.method == "GET" {
				r = h.Do("GET", tc.path, nil, nil)
			} else {
				r = h.Post(tc.path, validPromotionForm(), nil)
			}
			if r.Status != http.StatusNotFound || !strings.Contains(r.Body, `data-testid="error-page"`) || !strings.Contains(r.Body, "No promotion") {
				t.Errorf("%s %s = %d, want the 404 page naming the promotion", tc.method, tc.path, r.Status)
			}
		}
		if n := h.PromotionCount(); n != 1 {
			t.Errorf("posts to bad ids stored promotions: %d", n)
		}
	})
}

func TestPromotionListFiltersAndPages(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		spring, autumn, camp := "Spring", "autumn", "spring-camp"
		h.MustPromotion(models.PromotionInput{Name: "Alpha", UTMSource: &spring})
		h.MustPromotion(models.PromotionInput{Name: "Bravo", Status: models.PromotionInactive, UTMSource: &autumn})
		h.MustPromotion(models.PromotionInput{Name: "Charlie", Kind: models.KindBulk})
		delta, err := models.SeriesInput{Promotion: models.PromotionInput{Name: "Delta", Status: models.PromotionArchived, DiscountType: models.DiscountFixed,
			DiscountValue: "100", UTMCampaign: &camp}, UsesPerCode: 1}.Validate()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.Store.CreateSeries(t.Context(), delta); err != nil {
			t.Fatal(err)
		}
		names := func(body string) []string {
			var out []string
			for _, m := range regexp.MustCompile(`<td><a href="/promotions/[0-9]+">([^<]*)</a></td>`).FindAllStringSubmatch(body, -1) {
				out = append(out, m[1])
			}
			return out
		}
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"", []string{"Delta", "Charlie", "Bravo", "Alpha"}},
			{"?status=inactive", []string{"Bravo"}},
			{"?kind=bulk", []string{"Charlie"}},
			{"?utm=SPRING", []string{"Alpha"}},
			{"?utm=Spring-Camp&status=archived", []string{"Delta"}},
			{"?utm=spring&status=inactive", nil},
		} {
			r := h.Do("GET", "/promotions"+tc.query, nil, webtest.HTMX(views.PromotionTableID))
			if r.Status != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(r.Body), `<section id="promotion-table"`) {
				t.Errorf("%s: %d, or not the table alone: %.100s", tc.query, r.Status, r.Body)
			}
			if d := cmp.Diff(tc.want, names(r.Body)); d != "" {
				t.Errorf("%s lists (-want +got):\n%s", tc.query, d)
			}
		}
		full := h.Do("GET", "/promotions?status=inactive&utm=autumn", nil, nil)
		if !strings.Contains(full.Body, "<html") || !strings.Contains(full.Body, `<option value="inactive" selected>`) || !strings.Contains(full.Body, `name="utm" value="autumn"`) {
			t.Error("the whole page keeps the filters as chosen")
		}
		r := h.Do("GET", "/promotions?status=bogus", nil, nil)
		if msg := testID(r.Body, "error-status"); r.Status != http.StatusUnprocessableEntity || !strings.Contains(msg, "must be one of") ||
			!strings.Contains(r.Body, `id="filter-status" name="status" aria-invalid="true" aria-describedby="filter-status-error"`) {
			t.Errorf("a bad status filter: %d, message %q", r.Status, msg)
		}

		for i := range 50 {
			h.MustPromotion(models.PromotionInput{Name: fmt.Sprintf("Bulk %02d", i), Kind: models.KindBulk})
		}
		first := h.Do("GET", "/promotions", nil, nil)
		got := names(first.Body)
		if len(got) != 50 || got[0] != "Bulk 49" {
			t.Fatalf("first page lists %d: %v; want the newest 50", len(got), got)
		}
		m := regexp.MustCompile(`href="([^"]*)"[^>]*data-testid="next-page"`).FindStringSubmatch(first.Body)
		if m == nil {
			t.Fatal("no next-page link")
		}
		next := h.Do("GET", html.UnescapeString(m[1]), nil, nil)
		if d := cmp.Diff([]string{"Delta", "Charlie", "Bravo", "Alpha"}, names(next.Body)); d != "" || strings.Contains(next.Body, `data-testid="next-page"`) {
			t.Errorf("second page (-want +got):\n%s", d)
		}
		bulk := h.Do("GET", "/promotions?kind=bulk", nil, nil)
		m = regexp.MustCompile(`href="([^"]*)"[^>]*data-testid="next-page"`).FindStringSubmatch(bulk.Body)
		if m == nil || !strings.Contains(html.UnescapeString(m[1]), "kind=bulk") {
			t.Fatal("the next-page link of a filtered list must keep the filter")
		}
		if d := cmp.Diff([]string{"Charlie"}, names(h.Do("GET", html.UnescapeString(m[1]), nil, nil).Body)); d != "" {
			t.Errorf("filtered second page (-want +got):\n%s", d)
		}
		if r := h.Do("GET", "/promotions?after=***", nil, nil); r.Status != http.StatusOK || !strings.Contains(r.Body, "not valid any more") || len(names(r.Body)) != 50 {
			t.Errorf("a stale cursor must fall back to the first page with a note: %d", r.Status)
		}
	})
}

// Promotions and series are found by any part of their name, ignoring
// case; a wildcard typed is a character like any other.
func TestPromotionsAndSeriesAreSearchedByName(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		h.MustPromotion(models.PromotionInput{Name: "Spring Sale 15%", UTMSource: new("a")})
		h.MustPromotion(models.PromotionInput{Name: "Winter sale", UTMSource: new("b")})
		h.MustPromotion(models.PromotionInput{Name: "Newsletter", UTMSource: new("c")})
		h.MustSeries(models.SeriesInput{Promotion: models.PromotionInput{Name: "Birthday club"}})
		h.MustSeries(models.SeriesInput{Promotion: models.PromotionInput{Name: "Welcome"}})
		names := func(body string) []string {
			var out []string
			for _, m := range regexp.MustCompile(`<a href="/(?:promotions|series)/\d+"[^>]*>([^<]+)</a>`).FindAllStringSubmatch(body, -1) {
				out = append(out, m[1])
			}
			return out
		}
		r := h.Do("GET", "/promotions?q=SALE", nil, webtest.HTMX(views.PromotionTableID))
		if got := names(r.Body); !slices.Equal(got, []string{"Winter sale", "Spring Sale 15%"}) {
			t.Errorf("promotions with sale: %v", got)
		}
		if got := names(h.Do("GET", "/promotions?q=15%25", nil, nil).Body); !slices.Contains(got, "Spring Sale 15%") || slices.Contains(got, "Winter sale") {
			t.Errorf("promotions with 15%%: %v", got)
		}
		if r := h.Do("GET", "/promotions?q=_", nil, nil); !strings.Contains(r.Body, "No promotion matches these filters.") {
			t.Error("an underscore matched every name")
		}
		r = h.Do("GET", "/series?q=club", nil, nil)
		if got := names(r.Body); !slices.Contains(got, "Birthday club") || slices.Contains(got, "Welcome") || !strings.Contains(r.Body, `value="club"`) {
			t.Errorf("series with club: %v", got)
		}
		if r := h.Do("GET", "/series?q=nothing", nil, nil); !strings.Contains(r.Body, `No series has "nothing" in its name.`) {
			t.Error("a series search that finds nothing must say so")
		}
	})
}

// The promotion form says how many coupons its tags reach before it is
// saved; tags new to the promotion that coupons carry take a tick.
func TestPromotionFormSaysWhichCouponsItReaches(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		h.MustTaggedCoupon("NL-1", "newsletter", "")
		h.MustTaggedCoupon("NL-2", "Newsletter", "")
		r := h.Post(views.PromotionReachURL, url.Values{"utmSource": {"newsletter"}, "utmCampaign": {"nobody"}}, webtest.HTMX(views.PromotionReachID))
		if r.Status != http.StatusOK || testID(r.Body, "reach-source") != "2 coupons carry the UTM source newsletter." ||
			testID(r.Body, "reach-campaign") != "0 coupons carry the UTM campaign nobody." || !strings.Contains(r.Body, `data-testid="confirm-reach"`) {
			t.Errorf("the reach as typed: %d %s", r.Status, r.Body)
		}
		form := url.Values{"name": {"Newsletter 10%"}, "status": {"active"}, "kind": {"regular"}, "discountType": {"percent"}, "discountValue": {"10"},
			"maxUsage": {"0"}, "maxUsagePerClient": {"0"}, "utmSource": {"newsletter"}}
		r = h.Post("/promotions", form, nil)
		if r.Status != http.StatusUnprocessableEntity || testID(r.Body, "error-confirmReach") == "" || h.PromotionCount() != 0 {
			t.Fatalf("a promotion that 2 coupons would reach, without the tick: %d, %d promotions", r.Status, h.PromotionCount())
		}
		form.Set("confirmReach", "true")
		r = h.Post("/promotions", form, nil)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("with the tick: %d %q", r.Status, testID(r.Body, "form-error"))
		}
		// Saving it again with the same tag asks nothing.
		form.Del("confirmReach")
		form.Set("name", "Newsletter 12%")
		if r := h.Post(r.Header.Get("Location"), form, nil); r.Status != http.StatusSeeOther {
			t.Errorf("an edit keeping its tag: %d %q", r.Status, testID(r.Body, "error-confirmReach"))
		}
	})
}
