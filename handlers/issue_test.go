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
	"github.com/coupond/coupond/web/webtest"
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
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		a := h.MustSeries(models.SeriesInput{Promotion: models.PromotionInput{Name: "Alpha"}})
		b := h.MustSeries(models.SeriesInput{Promotion: models.PromotionInput{Name: "Beta"}})
		off := h.MustSeries(models.SeriesInput{Promotion: models.PromotionInput{Name: "Paused", Status: models.PromotionInactive}})
		r := h.Do("GET", views.IssueURL(b.ID()), nil, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("issue form: %d", r.Status)
		}
		if d := cmp.Diff(map[string]bool{fmt.Sprint(a.ID()): false, fmt.Sprint(b.ID()): true}, tickedSeries(r.Body)); d != "" {
			t.Errorf("offered series (-want +got):\n%s", d)
		}
		if !regexp.MustCompile(`<form id="issue-form" method="post" action="/issue"[^>]*><input type="hidden" name="_csrf" value="` + h.CSRF() + `">`).MatchString(r.Body) {
			t.Error("the issue form carries no CSRF token")
		}
		// An inactive series is offered only when asked for, and says so.
		r = h.Do("GET", fmt.Sprintf("/issue?series=%d&series=%d", off.ID(), a.ID()), nil, nil)
		if d := cmp.Diff(map[string]bool{fmt.Sprint(a.ID()): true, fmt.Sprint(b.ID()): false, fmt.Sprint(off.ID()): true}, tickedSeries(r.Body)); d != "" {
			t.Errorf("offered series (-want +got):\n%s", d)
		}
		if !strings.Contains(r.Body, "not live: it is inactive") {
			t.Error("the inactive series is not marked")
		}
	})
}

func TestIssueToACustomer(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		once := h.MustSeries(models.SeriesInput{Promotion: models.PromotionInput{Name: "Once each"}, MaxPerCustomer: 1})
		open := h.MustSeries(models.SeriesInput{Promotion: models.PromotionInput{Name: "Open"}, Format: models.FormatInput{Prefix: "OPEN"}})
		form := url.Values{"series": {fmt.Sprint(once.ID()), fmt.Sprint(open.ID())}, "identifierType": {"email"}, "identifier": {"Fay@Example.com"}}
		r := h.Post("/issue", form, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("issue: %d %.300s", r.Status, r.Body)
		}
		fay, err := h.Store.FindCustomer(t.Context(), models.CustomerRef{Email: "fay@example.com"})
		if err != nil {
			t.Fatalf("no customer was made for Fay: %v", err)
		}
		got := issueResults(r.Body)
		if len(got) != 2 || got[0].Code == "" || !strings.HasPrefix(got[1].Code, "OPEN") || got[0].Failure != "" {
			t.Fatalf("first issue's results %+v, want a code of each", got)
		}
		for i, s := range []models.Series{once, open} {
			if c := h.MustCoupon(got[i].Code); c.CustomerID == nil || *c.CustomerID != fay.ID || c.PromotionID == nil || *c.PromotionID != s.ID() {
				t.Errorf("code %s is stored as %+v, want series %d's for %s", got[i].Code, c, s.ID(), fay.ID)
			}
		}
		link := `href="/customers/` + fay.ID + `" data-testid="issued-customer"`
		if !strings.Contains(r.Body, link) || !strings.Contains(r.Body, "fay@example.com") {
			t.Error("the results do not link the customer the codes went to")
		}
		shown := formValues(t, r.Body, views.IssueFormID)
		if shown.Get("identifier") != "" || shown.Get("identifierType") != "email" || !tickedSeries(r.Body)[fmt.Sprint(once.ID())] {
			t.Errorf("after an issue the form holds %v, want the series and type kept and the identifier cleared", shown)
		}

		// Again: the first series has reached its one code per customer;
		// the other still issues. Through htmx the section is swapped.
		r = h.Post("/issue", form, webtest.HTMX(views.IssueID))
		if r.Status != http.StatusOK {
			t.Fatalf("second issue: %d %.300s", r.Status, r.Body)
		}
		fragmentOf(t, r.Body, views.IssueID)
		got = issueResults(r.Body)
		if len(got) != 2 || got[0].Reason != models.IssueCustomerLimit || got[0].Code != "" || got[0].Failure != "This customer already holds 1 code of this series, its Max codes per customer." || strings.Contains(r.Body, models.IssueCustomerLimit+")") ||
			!strings.HasPrefix(got[1].Code, "OPEN") {
			t.Errorf("second issue's results %+v, want the customer limit, then a code", got)
		}
		if n := h.Series(once.ID()).Issued; n != 1 {
			t.Errorf("the limited series issued %d codes, want 1", n)
		}
		if n := h.Series(open.ID()).Issued; n != 2 {
			t.Errorf("the open series issued %d codes, want 2", n)
		}

		// A series that does not exist fails on its own; a mobile number
		// names a new customer.
		r = h.Post("/issue", url.Values{"series": {"999999", fmt.Sprint(open.ID())}, "identifierType": {"mobile"}, "identifier": {"+44 20 7946 0958"}}, nil)
		got = issueResults(r.Body)
		if r.Status != http.StatusOK || len(got) != 2 || got[0].Reason != models.IssueSeriesNotFound || got[0].Failure == "" || got[1].Code == "" {
			t.Errorf("with an unknown series: %d %+v", r.Status, got)
		}
		if _, err := h.Store.FindCustomer(t.Context(), models.CustomerRef{Mobile: "442079460958"}); err != nil {
			t.Errorf("the mobile number named no customer: %v", err)
		}
	})
}

func TestIssueFormRefusesBadInput(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		s := h.MustSeries(models.SeriesInput{})
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
			{name: "unknown type", form: url.Values{"series": {id}, "identifierType": {"twitter"}, "identifier": {"@fay"}}, field: "identifierType", want: "choose one of customer id, mobile number, email or external id"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := h.Post("/issue", tc.form, nil)
				if r.Status != http.StatusUnprocessableEntity {
					t.Fatalf("status %d, want 422: %.300s", r.Status, r.Body)
				}
				var msg string
				if tc.field == "series" {
					msg = testID(r.Body, "error-series")
				} else {
					var marked bool
					if msg, marked = fieldError(r.Body, tc.field); !marked {
						t.Errorf("%s is not marked invalid", tc.field)
					}
				}
				if !strings.Contains(msg, tc.want) {
					t.Errorf("beside %s: %q, want a message containing %q", tc.field, msg, tc.want)
				}
				if len(issueResults(r.Body)) != 0 {
					t.Error("a refused form shows results")
				}
				if tc.field != "identifierType" && formValues(t, r.Body, views.IssueFormID).Get("identifier") != tc.form.Get("identifier") {
					t.Errorf("the identifier typed is not shown back")
				}
			})
		}
		// Every problem is shown at once.
		r := h.Post("/issue", url.Values{"series": {"first"}, "identifierType": {"email"}, "identifier": {"not-an-email"}}, nil)
		if msg, _ := fieldError(r.Body, "identifier"); r.Status != http.StatusUnprocessableEntity || testID(r.Body, "error-series") == "" || !strings.Contains(msg, "email address like") {
			t.Errorf("a bad series and a bad email: %d, series %q, identifier %q", r.Status, testID(r.Body, "error-series"), msg)
		}
		if n := h.Series(s.ID()).Issued; n != 0 {
			t.Errorf("refused forms issued %d codes", n)
		}
		if page, err := h.Store.ListCustomers(t.Context(), models.CustomerFilter{Query: "a@example.com"}); err != nil || len(page.Customers) != 0 {
			t.Errorf("a refused form made customers %v (%v)", page.Customers, err)
		}
		r = h.Post("/issue", url.Values{"identifierType": {"email"}, "identifier": {"a@example.com"}}, webtest.HTMX(views.IssueID))
		if r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("htmx: %d", r.Status)
		}
		fragmentOf(t, r.Body, views.IssueID)
	})
}
