package handlers_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
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

var seriesLocation = regexp.MustCompile(`^/series/([0-9]+)$`)

// createdSeries is the id of the series a successful create sent the
// browser to.
func createdSeries(t *testing.T, location string) int64 {
	t.Helper()
	m := seriesLocation.FindStringSubmatch(location)
	if m == nil {
		t.Fatalf("sent to %q, not a series' page", location)
	}
	id, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// validSeriesForm is a series form the server accepts; tests change one
// field.
func validSeriesForm() url.Values {
	return url.Values{
		"name": {"Birthday club"}, "description": {"One code a year"}, "status": {"active"}, "discountCode": {"BDAY15"},
		"discountType": {"percent"}, "discountValue": {"15"}, "discountCap": {"20"}, "beginsAt": {""}, "endsAt": {"2027-06-30T23:59"},
		"expiry": {"days"}, "expiryDays": {"30"},
		"prefix": {"BDAY"}, "delimiter": {"-"}, "suffix": {""}, "length": {"8"}, "charset": {"unambiguous"}, "exclude": {""}, "pattern": {""},
		"maxCreate": {"1000"}, "maxPerCustomer": {"1"}, "usesPerCode": {"1"}, "maxUsage": {"0"}, "maxUsagePerClient": {"0"},
	}
}

// seriesFormValues are the values the series form with body would send:
// formValues, with the check box only when it is ticked.
func seriesFormValues(t *testing.T, body string) url.Values {
	t.Helper()
	v := formValues(t, body, views.SeriesFormID)
	if !regexp.MustCompile(`<input type="checkbox" id="check" name="check" value="yes" checked`).MatchString(body) {
		v.Del("check")
	}
	return v
}

func TestSeriesCreateThroughTheForm(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		r := h.Do("GET", "/series/new", nil, nil)
		if r.Status != http.StatusOK || !regexp.MustCompile(`<form id="series-form" method="post" action="/series"[^>]*><input type="hidden" name="_csrf" value="`+h.CSRF()+`">`).MatchString(r.Body) {
			t.Fatalf("new form: %d, or no form carrying the CSRF token", r.Status)
		}
		defaults := seriesFormValues(t, r.Body)
		for k, want := range map[string]string{"status": "active", "discountType": "percent", "expiry": "series", "length": "10", "charset": "upper-alnum",
			"usesPerCode": "1", "maxCreate": "0", "maxPerCustomer": "0", "maxUsage": "0", "maxUsagePerClient": "0"} {
			if got := defaults.Get(k); got != want {
				t.Errorf("new form %s = %q, want %q", k, got, want)
			}
		}
		for _, help := range []string{"How many codes the series issues in all. 0 is unlimited.", "How many codes of this series one customer may hold. 0 is unlimited.",
			"Redemptions of all the series&#39; codes together. 0 is unlimited."} {
			if !strings.Contains(r.Body, help) {
				t.Errorf("the form does not say %q", help)
			}
		}

		r = h.Post("/series", validSeriesForm(), nil)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("create: %d %.300s", r.Status, r.Body)
		}
		id := createdSeries(t, r.Header.Get("Location"))
		s := h.Series(id)
		p := s.Promotion
		ends := time.Date(2027, 6, 30, 23, 59, 0, 0, time.UTC)
		f := s.FormatInput()
		if p.Name != "Birthday club" || p.Description != "One code a year" || p.DiscountValue != 1500 || p.DiscountCap == nil || *p.DiscountCap != 2000 ||
			p.EndsAt == nil || !p.EndsAt.Equal(ends) || p.Status != models.PromotionActive || p.Kind != models.KindSeries {
			t.Errorf("stored promotion %+v", p)
		}
		if s.DiscountCode != "BDAY15" || s.Expiry != models.ExpiryDays || s.ExpiryDays != 30 || s.MaxCreate != 1000 || s.MaxPerCustomer != 1 || s.UsesPerCode != 1 ||
			f.Prefix != "BDAY" || f.Delimiter != "-" || f.Length != 8 || f.Charset != models.CharsetUnambiguous {
			t.Errorf("stored series %+v, format %+v", s, f)
		}

		page := h.Do("GET", views.SeriesURL(id), nil, nil)
		for tid, want := range map[string]string{
			"series-name": "Birthday club", "discount-code": "BDAY15", "discount": "15 %", "cap": "20.00 USD", "endsAt": "2027-06-30 23:59:00",
			"expiry": "30 days after it is issued, or when the series ends if that comes first", "issued": "0 / 1,000", "redeemed": "0",
			"maxPerCustomer": "1", "usesPerCode": "1", "maxUsage": "unlimited", "no-codes": "No codes issued yet.",
		} {
			if got := testID(page.Body, tid); got != want {
				t.Errorf("page %s = %q, want %q", tid, got, want)
			}
		}
		if got := testID(page.Body, "format"); !strings.Contains(got, "BDAY") {
			t.Errorf("the format reads %q", got)
		}
		if !strings.Contains(page.Body, `href="/issue?series=`+fmt.Sprint(id)+`"`) || !strings.Contains(page.Body, `href="`+views.SeriesCSVURL(id)+`"`) {
			t.Error("the series' page links no issue form for it or no CSV")
		}
		list := h.Do("GET", "/series", nil, nil)
		if list.Status != http.StatusOK || !strings.Contains(list.Body, `href="/series/`+fmt.Sprint(id)+`">Birthday club</a>`) ||
			testID(list.Body, "issued") != "0 / 1,000" || testID(list.Body, "redeemed") != "0" || !strings.Contains(list.Body, "2027-06-30 23:59:00") {
			t.Errorf("the list does not show the new series: %d", list.Status)
		}
		if !strings.Contains(list.Body, `data-testid="new-series"`) {
			t.Error("an admin is offered no New series")
		}
		if !strings.Contains(list.Body, `<a href="/series" aria-current="page">Series</a>`) || !strings.Contains(list.Body, `<a href="/customers" aria-current="false">Customers</a>`) {
			t.Error("the navigation has no Series marked as this page, or no Customers")
		}

		// htmx: HX-Location; blank limits and expiry read as unlimited and
		// with the series.
		more := validSeriesForm()
		more.Set("prefix", "VIP")
		more.Set("expiry", "series")
		more.Set("expiryDays", "junk, ignored")
		more.Set("maxCreate", "")
		more.Set("usesPerCode", "0")
		r = h.Post("/series", more, webtest.HTMX(views.SeriesFormID))
		if r.Status != http.StatusNoContent || !seriesLocation.MatchString(r.Header.Get("HX-Location")) {
			t.Fatalf("htmx create: %d HX-Location %q %.300s", r.Status, r.Header.Get("HX-Location"), r.Body)
		}
		other := h.Series(createdSeries(t, r.Header.Get("HX-Location")))
		if other.Expiry != models.ExpiryWithSeries || other.ExpiryDays != 0 || other.MaxCreate != 0 || other.UsesPerCode != 0 {
			t.Errorf("second series %+v", other)
		}
		page = h.Do("GET", views.SeriesURL(other.ID()), nil, nil)
		if testID(page.Body, "expiry") != "when the series ends" || testID(page.Body, "issued") != "0 / unlimited" || testID(page.Body, "usesPerCode") != "unlimited" {
			t.Errorf("second series' page: expiry %q, issued %q, uses per code %q", testID(page.Body, "expiry"), testID(page.Body, "issued"), testID(page.Body, "usesPerCode"))
		}
		rows := regexp.MustCompile(`data-testid="series-row" data-series="(\d+)"`).FindAllStringSubmatch(h.Do("GET", "/series", nil, nil).Body, -1)
		if len(rows) != 2 || rows[0][1] != fmt.Sprint(other.ID()) || rows[1][1] != fmt.Sprint(id) {
			t.Errorf("the list's rows %v, want the newest first", rows)
		}
	})
}

func TestSeriesFormRefusesBadInput(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		for _, tc := range []struct {
			name, field, value string
			set                map[string]string
			want               string
		}{
			{name: "no name", field: "name", value: " ", want: "is required"},
			{name: "percentage over 100", field: "discountValue", value: "150", want: "percentage from 0.01 to 100"},
			{name: "cap with more decimals than the currency", field: "discountCap", value: "5.001", want: "at most 2 decimals"},
			{name: "end not a time", field: "endsAt", value: "soon", want: "must be a date such as 2026-12-24 or a date and time such as 2026-12-24T18:00, in UTC time"},
			{name: "discount code too long", field: "discountCode", value: strings.Repeat("D", 101), want: "at most 100"},
			{name: "no days", field: "expiryDays", value: "0", want: "from 1 to 3,650"},
			{name: "days not a number", field: "expiryDays", value: "a month", want: "whole number"},
			{name: "unknown expiry", field: "expiry", value: "never", want: "must be one of the choices listed"},
			{name: "prefix with a space", field: "prefix", value: "B DAY", want: "only letters"},
			{name: "too long", field: "length", value: "99", want: "must be from 1 to 64"},
			{name: "unknown charset", field: "charset", value: "emoji", want: "must be one of the choices listed"},
			{name: "nothing left", field: "exclude", value: "0123456789", set: map[string]string{"charset": "digits"}, want: "leaves no characters"},
			{name: "pattern and length", field: "length", value: "8", set: map[string]string{"pattern": "####"}, want: "left empty when a pattern"},
			{name: "more codes than the format has", field: "maxCreate", value: "1000", set: map[string]string{"length": "2", "charset": "digits"}, want: "100"},
			{name: "negative maxCreate", field: "maxCreate", value: "-1", want: "0 (unlimited) or more"},
			{name: "max per customer not a number", field: "maxPerCustomer", value: "one", want: "whole number"},
			{name: "negative uses per code", field: "usesPerCode", value: "-2", want: "0 (unlimited) or more"},
			{name: "negative total redemptions", field: "maxUsage", value: "-1", want: "0 (unlimited) or more"},
			{name: "redemptions per customer not a number", field: "maxUsagePerClient", value: "2.5", want: "whole number"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				form := validSeriesForm()
				form.Set(tc.field, tc.value)
				for k, v := range tc.set {
					form.Set(k, v)
				}
				r := h.Post("/series", form, nil)
				if r.Status != http.StatusUnprocessableEntity {
					t.Fatalf("status %d, want 422: %.300s", r.Status, r.Body)
				}
				msg, marked := fieldError(r.Body, tc.field)
				if !strings.Contains(msg, tc.want) || !marked {
					t.Errorf("beside %s: %q (marked invalid: %v), want a message containing %q", tc.field, msg, marked, tc.want)
				}
				if n := strings.Count(r.Body, `class="field-error"`); n != 1 {
					t.Errorf("%d field messages, want only the one for %s", n, tc.field)
				}
				if testID(r.Body, "form-error") != "Please correct the fields marked below." {
					t.Errorf("the form says %q", testID(r.Body, "form-error"))
				}
				if shown := formValues(t, r.Body, views.SeriesFormID); shown.Get(tc.field) != tc.value {
					t.Errorf("the typed %s %q is shown back as %q", tc.field, tc.value, shown.Get(tc.field))
				}
			})
		}
		page, err := h.Store.ListSeries(t.Context(), models.SeriesFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Series) != 0 {
			t.Fatalf("refused forms stored %d series", len(page.Series))
		}
		bad := validSeriesForm()
		bad.Set("discountValue", "101")
		r := h.Post("/series", bad, webtest.HTMX(views.SeriesFormID))
		if r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("htmx: %d", r.Status)
		}
		fragmentOf(t, strings.TrimSpace(r.Body), views.SeriesFormID)
	})
}

func TestSeriesEdit(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		capAmount := int64(300)
		s := h.MustSeries(models.SeriesInput{
			Promotion: models.PromotionInput{Name: "Loyalty & more", Description: "line one\nline two", DiscountType: models.DiscountFixed, DiscountValue: "500",
				DiscountCap: &capAmount, BeginsAt: "2026-11-01T09:30:15Z", EndsAt: "2027-01-01T00:00:00Z", MaxUsage: 40, MaxUsagePerClient: 2},
			DiscountCode: "LOY500", Expiry: models.ExpiryDays, ExpiryDays: 14,
			Format:    models.FormatInput{Pattern: "LOY-####-??", Check: true},
			MaxCreate: 50, MaxPerCustomer: 3, UsesPerCode: 2,
			Extra: map[string]json.RawMessage{"campaignId": json.RawMessage(`"c-17"`)},
		})
		path := views.SeriesURL(s.ID())
		edit := h.Do("GET", path+"/edit", nil, nil)
		if edit.Status != http.StatusOK {
			t.Fatalf("edit form: %d", edit.Status)
		}
		shown := seriesFormValues(t, edit.Body)
		for k, want := range map[string]string{"name": "Loyalty & more", "description": "line one\nline two", "discountType": "fixed", "discountValue": "5.00",
			"discountCap": "3.00", "beginsAt": "2026-11-01T09:30:15", "endsAt": "2027-01-01T00:00", "expiry": "days", "expiryDays": "14",
			"pattern": "LOY-####-??", "length": "", "check": "yes", "maxCreate": "50", "maxPerCustomer": "3", "usesPerCode": "2", "maxUsage": "40", "maxUsagePerClient": "2"} {
			if got := shown.Get(k); got != want {
				t.Errorf("edit form %s = %q, want %q", k, got, want)
			}
		}

		// Saving the form as shown changes nothing, the fields it does not
		// show included.
		if r := h.Post(path, shown, nil); r.Status != http.StatusSeeOther || r.Header.Get("Location") != path {
			t.Fatalf("save unchanged: %d %q %.300s", r.Status, r.Header.Get("Location"), r.Body)
		}
		if d := cmp.Diff(s, h.Series(s.ID()), cmpopts.IgnoreFields(models.Promotion{}, "UpdatedAt", "CreatedAt")); d != "" {
			t.Errorf("saving the form unchanged changed the series (-before +after):\n%s", d)
		}

		// Once a code is issued, its format stays, and maxCreate cannot
		// fall below the codes issued.
		h.MustIssue(models.CustomerRef{ID: "c1"}, s.ID())
		h.MustIssue(models.CustomerRef{ID: "c2"}, s.ID())
		changed := seriesFormValues(t, h.Do("GET", path+"/edit", nil, nil).Body)
		if !strings.Contains(h.Do("GET", path+"/edit", nil, nil).Body, `data-testid="format-fixed"`) {
			t.Error("the edit form does not say the format is fixed")
		}
		changed.Set("pattern", "LOY-#####-??")
		changed.Set("maxCreate", "1")
		r := h.Post(path, changed, nil)
		if r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("format change after issue: %d %.300s", r.Status, r.Body)
		}
		if msg := testID(r.Body, "error-format"); !strings.Contains(msg, "2 codes were issued") || !strings.Contains(r.Body, `data-testid="format-fixed"`) {
			t.Errorf("the format's message reads %q, or the refused form does not say the format is fixed", msg)
		}
		if msg, marked := fieldError(r.Body, "maxCreate"); !strings.Contains(msg, "at least the 2 codes already issued") || !marked {
			t.Errorf("beside maxCreate: %q (marked %v)", msg, marked)
		}
		changed.Set("pattern", "LOY-####-??")
		changed.Set("maxCreate", "2")
		changed.Set("name", "Loyalty")
		changed.Set("status", "inactive")
		if r := h.Post(path, changed, nil); r.Status != http.StatusSeeOther {
			t.Fatalf("update: %d %.300s", r.Status, r.Body)
		}
		if got := h.Series(s.ID()); got.Promotion.Name != "Loyalty" || got.MaxCreate != 2 || got.Issued != 2 || got.Promotion.Status != models.PromotionInactive ||
			got.ExtraFields()["campaignId"] == nil {
			t.Errorf("after update: %+v", got)
		}
		if r := h.Post("/series/999999", validSeriesForm(), nil); r.Status != http.StatusNotFound {
			t.Errorf("edit unknown: %d", r.Status)
		}
		plain := h.MustPromotion(models.PromotionInput{Name: "Not a series", UTMSource: new("x")})
		for _, p := range []string{views.SeriesURL(plain.ID), views.SeriesURL(plain.ID) + "/edit", views.SeriesCSVURL(plain.ID), "/series/abc"} {
			if r := h.Do("GET", p, nil, nil); r.Status != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", p, r.Status)
			}
		}
	})
}

// codeRows are the code rows of a series' or a customer's page, each as
// code → its cells' text.
func codeRows(body string) map[string][]string {
	rows := map[string][]string{}
	for _, m := range regexp.MustCompile(`(?s)<tr data-testid="code-row" data-code="([^"]*)">(.*?)</tr>`).FindAllStringSubmatch(body, -1) {
		var cells []string
		for _, c := range regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`).FindAllStringSubmatch(m[2], -1) {
			cells = append(cells, strings.Join(strings.Fields(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(c[1], " ")), " "))
		}
		rows[m[1]] = cells
	}
	return rows
}

func TestSeriesPageShowsCountsAndCodes(t *testing.T) {
	t.Parallel()
	webtest.ForEachDBAtEpoch(t, func(t *testing.T, h *webtest.Harness) {
		s := h.MustSeries(models.SeriesInput{Promotion: models.PromotionInput{Name: "Welcome", EndsAt: "2027-01-01T00:00:00Z"},
			Expiry: models.ExpiryDays, ExpiryDays: 7, MaxCreate: 100})
		_, ann := h.MustIssue(models.CustomerRef{Email: "ann@example.com"}, s.ID())
		bob, bobs := h.MustIssue(models.CustomerRef{ID: "bob"}, s.ID())
		h.MustRedeem(bobs[0], bob.ID, "order-1", 1, nil)
		page := h.Do("GET", views.SeriesURL(s.ID()), nil, nil)
		if page.Status != http.StatusOK {
			t.Fatalf("page: %d", page.Status)
		}
		if got, want := testID(page.Body, "issued"), "2 / 100"; got != want {
			t.Errorf("issued %q, want %q", got, want)
		}
		if got := testID(page.Body, "redeemed"); got != "1" {
			t.Errorf("redeemed %q, want 1", got)
		}
		rows := codeRows(page.Body)
		annCust, err := h.Store.FindCustomer(t.Context(), models.CustomerRef{Email: "ann@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		validTill := "2026-11-28 10:00:00"
		want := map[string][]string{
			ann[0]:  {ann[0], annCust.ID, "2026-11-21 10:00:00", "0 / 1", "available", validTill},
			bobs[0]: {bobs[0], "bob", "2026-11-21 10:00:00", "1 / 1", "used up", validTill},
		}
		if d := cmp.Diff(want, rows); d != "" {
			t.Errorf("code rows (-want +got):\n%s", d)
		}
		if !strings.Contains(page.Body, `href="/customers/bob" data-testid="code-customer"`) || !strings.Contains(page.Body, `href="/customers/`+annCust.ID+`" data-testid="code-customer"`) {
			t.Error("the codes do not link their customers")
		}
		list := h.Do("GET", "/series", nil, nil)
		if testID(list.Body, "issued") != "2 / 100" || testID(list.Body, "redeemed") != "1" {
			t.Errorf("the list reads issued %q, redeemed %q", testID(list.Body, "issued"), testID(list.Body, "redeemed"))
		}

		// A week later, by the server's clock, the codes have expired (and
		// the session has, so a new one looks).
		h.Clock.Advance(7 * 24 * time.Hour)
		if rows := codeRows(h.DoWith(h.Login(webtest.ViewerEmail), "GET", views.SeriesURL(s.ID()), nil, nil).Body); len(rows[ann[0]]) != 6 || rows[ann[0]][4] != "expired" {
			t.Errorf("a week on, Ann's code reads %q", rows[ann[0]])
		}
	})
}

func TestSeriesCodesArePaged(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		s := h.MustSeries(models.SeriesInput{})
		var issued []string
		for i := range 51 {
			_, codes := h.MustIssue(models.CustomerRef{ID: fmt.Sprintf("c%02d", i)}, s.ID())
			issued = append(issued, codes...)
		}
		page := h.Do("GET", views.SeriesURL(s.ID()), nil, nil)
		first := matches(regexp.MustCompile(`<tr data-testid="code-row" data-code="([^"]*)">`), page.Body)
		next := regexp.MustCompile(`<a href="([^"]*)" hx-get="[^"]*" hx-target="#series-codes" hx-swap="outerHTML" hx-push-url="true" data-testid="next-codes">`).FindStringSubmatch(page.Body)
		if len(first) != 50 || next == nil {
			t.Fatalf("the first page lists %d codes (next link: %v), want 50 and a next page", len(first), next != nil)
		}
		if d := cmp.Diff(issued[:50], first); d != "" {
			t.Errorf("first page, want the codes in the order issued (-want +got):\n%s", d)
		}
		r := h.Do("GET", html.UnescapeString(next[1]), nil, webtest.HTMX(views.SeriesCodesID))
		fragmentOf(t, r.Body, views.SeriesCodesID)
		if rest := matches(regexp.MustCompile(`<tr data-testid="code-row" data-code="([^"]*)">`), r.Body); !cmp.Equal(rest, issued[50:]) || strings.Contains(r.Body, "next-codes") {
			t.Errorf("second page %v, want %v and no next page", rest, issued[50:])
		}
		if r := h.Do("GET", views.SeriesURL(s.ID())+"?after=garbage", nil, nil); r.Status != http.StatusOK || testID(r.Body, "list-error") == "" || len(codeRows(r.Body)) != 50 {
			t.Errorf("stale cursor: %d, want the first page with a note", r.Status)
		}
	})
}

func TestSeriesCSV(t *testing.T) {
	t.Parallel()
	webtest.ForEachDBAtEpoch(t, func(t *testing.T, h *webtest.Harness) {
		s := h.MustSeries(models.SeriesInput{Promotion: models.PromotionInput{EndsAt: "2027-01-01T00:00:00Z"}, UsesPerCode: 3})
		_, first := h.MustIssue(models.CustomerRef{ID: "=cmd|x"}, s.ID())
		_, second := h.MustIssue(models.CustomerRef{ID: "shop,42"}, s.ID())
		h.MustRedeem(second[0], "shop,42", "o1", 1, nil)
		viewer := h.Login(webtest.ViewerEmail)
		r := h.DoWith(viewer, "GET", views.SeriesCSVURL(s.ID()), nil, nil)
		if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") ||
			r.Header.Get("Content-Disposition") != fmt.Sprintf(`attachment; filename="coupond-series-%d.csv"`, s.ID()) {
			t.Fatalf("CSV: %d %q %q", r.Status, r.Header.Get("Content-Type"), r.Header.Get("Content-Disposition"))
		}
		rows, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		// The coupon CSV's columns; the codes reach the series alone, as
		// long as it lasts, in the store's zone (UTC here).
		p := h.Promotion(s.ID())
		want := [][]string{
			{"code", "status", "uses", "max_uses", "max_uses_per_customer", "utm_source", "utm_campaign", "promotions", "discount", "valid_from", "valid_until", "customer", "created_at"},
			{first[0], "active", "0", "3", "0", "", "", p.Name, "10 %", "", "2027-01-01 00:00:00", "'=cmd|x", "2026-11-21 10:00:00"},
			{second[0], "active", "1", "3", "0", "", "", p.Name, "10 %", "", "2027-01-01 00:00:00", "shop,42", "2026-11-21 10:00:00"},
		}
		if d := cmp.Diff(want, rows); d != "" {
			t.Errorf("CSV (-want +got):\n%s", d)
		}
		if r := h.Do("GET", "/series/999999/codes.csv", nil, nil); r.Status != http.StatusNotFound {
			t.Errorf("unknown series' CSV: %d", r.Status)
		}
	})
}

func TestSeriesViewerReadsOnly(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		s := h.MustSeries(models.SeriesInput{})
		viewer := h.Login(webtest.ViewerEmail)
		for _, p := range []string{"/series", views.SeriesURL(s.ID())} {
			r := h.DoWith(viewer, "GET", p, nil, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("viewer GET %s: %d", p, r.Status)
			}
			for _, ctl := range []string{`data-testid="new-series"`, `data-testid="edit"`, `data-testid="issue"`} {
				if strings.Contains(r.Body, ctl) {
					t.Errorf("viewer is offered %s on %s", ctl, p)
				}
			}
		}
		for _, p := range []string{views.SeriesURL(s.ID()) + "/edit", views.IssueURL(s.ID())} {
			if r := h.DoWith(viewer, "GET", p, nil, nil); r.Status != http.StatusForbidden {
				t.Errorf("viewer GET %s: %d, want 403", p, r.Status)
			}
		}
	})
}
