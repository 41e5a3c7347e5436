package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/google/go-cmp/cmp"
)

// issueResult is one series' row of the issue results.
type issueResult struct {
	Series, Reason, Code, Failure string
}

// issueResults reads the issue results of body, in order.
func issueResults(body string) []issueResult {
	var out []issueResult
	for _, m := range regexp.MustCompile(`(?s)<tr data-testid="issue-result" data-series="(\d+)" data-reason="([^"]*)">(.*?)</tr>`).FindAllStringSubmatch(body, -1) {
		out = append(out, issueResult{Series: m[1], Reason: m[2], Code: testID(m[3], "issued-code"), Failure: testID(m[3], "issue-failure")})
	}
	return out
}

// tickedSeries are the series the issue form in body offers, each with
// whether it is ticked.
func tickedSeries(body string) map[string]bool {
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`<input type="checkbox" name="series" value="(\d+)"( checked)?`).FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2] != ""
	}
	return out
}

func TestIssueFormOffersActiveSeries(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		a := h.mustSeries(models.SeriesInput{Promotion: models.PromotionInput{Name: "Alpha"}})
		b := h.mustSeries(models.SeriesInput{Promotion: models.PromotionInput{Name: "Beta"}})
		off := h.mustSeries(models.SeriesInput{Promotion: models.PromotionInput{Name: "Paused", Status: models.PromotionInactive}})
		r := h.do("GET", views.IssueURL(b.ID()), nil, nil)
		if r.status != http.StatusOK {
			t.Fatalf("issue form: %d", r.status)
		}
		if d := cmp.Diff(map[string]bool{fmt.Sprint(a.ID()): false, fmt.Sprint(b.ID()): true}, tickedSeries(r.body)); d != "" {
			t.Errorf("offered series (-want +got):\n%s", d)
		}
		if !regexp.MustCompile(`<form id="issue-form" method="post" action="/issue"[^>]*><input type="hidden" name="_csrf" value="` + h.csrf() + `">`).MatchString(r.body) {
			t.Error("the issue form carries no CSRF token")
		}
		// An inactive series is offered only when asked for, and says so.
		r = h.do("GET", fmt.Sprintf("/issue?series=%d&series=%d", off.ID(), a.ID()), nil, nil)
		if d := cmp.Diff(map[string]bool{fmt.Sprint(a.ID()): true, fmt.Sprint(b.ID()): false, fmt.Sprint(off.ID()): true}, tickedSeries(r.body)); d != "" {
			t.Errorf("offered series (-want +got):\n%s", d)
		}
		if !strings.Contains(r.body, "not live: it is inactive") {
			t.Error("the inactive series is not marked")
		}
	})
}

func TestIssueToACustomer(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		once := h.mustSeries(models.SeriesInput{Promotion: models.PromotionInput{Name: "Once each"}, MaxPerCustomer: 1})
		open := h.mustSeries(models.SeriesInput{Promotion: models.PromotionInput{Name: "Open"}, Format: models.FormatInput{Prefix: "OPEN"}})
		form := url.Values{"series": {fmt.Sprint(once.ID()), fmt.Sprint(open.ID())}, "identifierType": {"email"}, "identifier": {"Fay@Example.com"}}
		r := h.post("/issue", form, nil)
		if r.status != http.StatusOK {
			t.Fatalf("issue: %d %.300s", r.status, r.body)
		}
		fay, err := h.store.FindCustomer(t.Context(), models.CustomerRef{Email: "fay@example.com"})
		if err != nil {
			t.Fatalf("no customer was made for Fay: %v", err)
		}
		got := issueResults(r.body)
		if len(got) != 2 || got[0].Code == "" || !strings.HasPrefix(got[1].Code, "OPEN") || got[0].Failure != "" {
			t.Fatalf("first issue's results %+v, want a code of each", got)
		}
		for i, s := range []models.Series{once, open} {
			if c := h.mustCoupon(got[i].Code); c.CustomerID == nil || *c.CustomerID != fay.ID || c.PromotionID == nil || *c.PromotionID != s.ID() {
				t.Errorf("code %s is stored as %+v, want series %d's for %s", got[i].Code, c, s.ID(), fay.ID)
			}
		}
		link := `href="/customers/` + fay.ID + `" data-testid="issued-customer"`
		if !strings.Contains(r.body, link) || !strings.Contains(r.body, "fay@example.com") {
			t.Error("the results do not link the customer the codes went to")
		}
		shown := formValues(t, r.body, views.IssueFormID)
		if shown.Get("identifier") != "" || shown.Get("identifierType") != "email" || !tickedSeries(r.body)[fmt.Sprint(once.ID())] {
			t.Errorf("after an issue the form holds %v, want the series and type kept and the identifier cleared", shown)
		}

		// Again: the first series has reached its one code per customer;
		// the other still issues. Through htmx the section is swapped.
		r = h.post("/issue", form, htmx(views.IssueID))
		if r.status != http.StatusOK {
			t.Fatalf("second issue: %d %.300s", r.status, r.body)
		}
		fragmentOf(t, r.body, views.IssueID)
		got = issueResults(r.body)
		if len(got) != 2 || got[0].Reason != models.IssueCustomerLimit || got[0].Code != "" || !strings.Contains(got[0].Failure, "already holds 1 codes") ||
			!strings.HasPrefix(got[1].Code, "OPEN") {
			t.Errorf("second issue's results %+v, want the customer limit, then a code", got)
		}
		if n := h.series(once.ID()).Issued; n != 1 {
			t.Errorf("the limited series issued %d codes, want 1", n)
		}
		if n := h.series(open.ID()).Issued; n != 2 {
			t.Errorf("the open series issued %d codes, want 2", n)
		}

		// A series that does not exist fails on its own; a mobile number
		// names a new customer.
		r = h.post("/issue", url.Values{"series": {"999999", fmt.Sprint(open.ID())}, "identifierType": {"mobile"}, "identifier": {"+44 20 7946 0958"}}, nil)
		got = issueResults(r.body)
		if r.status != http.StatusOK || len(got) != 2 || got[0].Reason != models.IssueSeriesNotFound || got[0].Failure == "" || got[1].Code == "" {
			t.Errorf("with an unknown series: %d %+v", r.status, got)
		}
		if _, err := h.store.FindCustomer(t.Context(), models.CustomerRef{Mobile: "442079460958"}); err != nil {
			t.Errorf("the mobile number named no customer: %v", err)
		}
	})
}

func TestIssueFormRefusesBadInput(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		s := h.mustSeries(models.SeriesInput{})
		id := fmt.Sprint(s.ID())
		for _, tc := range []struct {
			name  string
			form  url.Values
			field string
			want  string
		}{
			{name: "no series", form: url.Values{"identifierType": {"email"}, "identifier": {"a@example.com"}}, field: "series", want: "tick at least one series"},
			{name: "series not a number", form: url.Values{"series": {"first"}, "identifierType": {"email"}, "identifier": {"a@example.com"}}, field: "series", want: "among the series listed"},
			{name: "bad email", form: url.Values{"series": {id}, "identifierType": {"email"}, "identifier": {"not-an-email"}}, field: "identifier", want: "email address like"},
			{name: "bad mobile", form: url.Values{"series": {id}, "identifierType": {"mobile"}, "identifier": {"12"}}, field: "identifier", want: "phone number of 6 to 15 digits"},
			{name: "no identifier", form: url.Values{"series": {id}, "identifierType": {"id"}, "identifier": {" "}}, field: "identifier", want: "name the customer"},
			{name: "unknown type", form: url.Values{"series": {id}, "identifierType": {"twitter"}, "identifier": {"@fay"}}, field: "identifierType", want: "must be one of id, mobile, email or externalId"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := h.post("/issue", tc.form, nil)
				if r.status != http.StatusUnprocessableEntity {
					t.Fatalf("status %d, want 422: %.300s", r.status, r.body)
				}
				var msg string
				if tc.field == "series" {
					msg = testID(r.body, "error-series")
				} else {
					var marked bool
					if msg, marked = fieldError(r.body, tc.field); !marked {
						t.Errorf("%s is not marked invalid", tc.field)
					}
				}
				if !strings.Contains(msg, tc.want) {
					t.Errorf("beside %s: %q, want a message containing %q", tc.field, msg, tc.want)
				}
				if len(issueResults(r.body)) != 0 {
					t.Error("a refused form shows results")
				}
				if tc.field != "identifierType" && formValues(t, r.body, views.IssueFormID).Get("identifier") != tc.form.Get("identifier") {
					t.Errorf("the identifier typed is not shown back")
				}
			})
		}
		// Every problem is shown at once.
		r := h.post("/issue", url.Values{"series": {"first"}, "identifierType": {"email"}, "identifier": {"not-an-email"}}, nil)
		if msg, _ := fieldError(r.body, "identifier"); r.status != http.StatusUnprocessableEntity || testID(r.body, "error-series") == "" || !strings.Contains(msg, "email address like") {
			t.Errorf("a bad series and a bad email: %d, series %q, identifier %q", r.status, testID(r.body, "error-series"), msg)
		}
		if n := h.series(s.ID()).Issued; n != 0 {
			t.Errorf("refused forms issued %d codes", n)
		}
		if cs, err := h.store.SearchCustomers(t.Context(), models.CustomerFilter{Query: "a@example.com"}); err != nil || len(cs) != 0 {
			t.Errorf("a refused form made customers %v (%v)", cs, err)
		}
		r = h.post("/issue", url.Values{"identifierType": {"email"}, "identifier": {"a@example.com"}}, htmx(views.IssueID))
		if r.status != http.StatusUnprocessableEntity {
			t.Fatalf("htmx: %d", r.status)
		}
		fragmentOf(t, r.body, views.IssueID)
	})
}
