package handlers_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/coupond/coupond/web/webtest"
	"github.com/google/go-cmp/cmp"
)

// foundCustomers are the ids the customer search lists, in order.
func foundCustomers(body string) []string {
	return matches(regexp.MustCompile(`<li data-testid="customer" data-customer="([^"]*)">`), body)
}

func TestCustomerSearchFindsAnyIdentifier(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		s := h.MustSeries(models.SeriesInput{})
		ann, _ := h.MustIssue(models.CustomerRef{Email: "Ann@Example.com", Mobile: "+91 98765-43210", ExternalID: "crm-7"}, s.ID())
		h.MustIssue(models.CustomerRef{ID: "bob", Email: "bob@example.com"}, s.ID())

		for _, q := range []string{"ann@example.COM", "919876543210", "+91 (98765) 43210", "crm-7", ann.ID} {
			r := h.Do("GET", "/customers?q="+url.QueryEscape(q), nil, nil)
			if got := foundCustomers(r.Body); r.Status != http.StatusOK || !cmp.Equal(got, []string{ann.ID}) {
				t.Errorf("search %q: %d %v, want Ann (%s) alone", q, r.Status, got, ann.ID)
			}
		}
		r := h.Do("GET", "/customers?q=bob%40example.com", nil, nil)
		if got := foundCustomers(r.Body); !cmp.Equal(got, []string{"bob"}) {
			t.Errorf("search bob's email: %v", got)
		}
		if !strings.Contains(r.Body, `<a href="/customers/bob">bob</a>`) || testID(r.Body, "identifier-email") != "bob@example.com" {
			t.Error("the result does not link bob's page or show his email")
		}
		if !strings.Contains(r.Body, `<a href="/customers" aria-current="page">Customers</a>`) {
			t.Error("the Customers page is not marked in the navigation")
		}
		r = h.Do("GET", "/customers?q=nobody%40example.com", nil, webtest.HTMX(views.CustomerResultsID))
		fragmentOf(t, r.Body, views.CustomerResultsID)
		if got := testID(r.Body, "no-customers"); got != "No customer has the identifier nobody@example.com." {
			t.Errorf("no match reads %q", got)
		}
		if r := h.DoWith(h.Login(webtest.ViewerEmail), "GET", "/customers", nil, nil); r.Status != http.StatusOK || testID(r.Body, "no-query") == "" {
			t.Errorf("the empty search for a viewer: %d", r.Status)
		}
	})
}

func TestCustomerPageListsEveryCode(t *testing.T) {
	t.Parallel()
	webtest.ForEachDBAtEpoch(t, func(t *testing.T, h *webtest.Harness) {
		welcome := h.MustSeries(models.SeriesInput{Promotion: models.PromotionInput{Name: "Welcome", EndsAt: "2027-01-01T00:00:00Z"}})
		weekly := h.MustSeries(models.SeriesInput{Promotion: models.PromotionInput{Name: "Weekly"}, Expiry: models.ExpiryDays, ExpiryDays: 7, UsesPerCode: 2,
			Format: models.FormatInput{Prefix: "WK"}})
		// A customer id that needs escaping in a path.
		cust, codes := h.MustIssue(models.CustomerRef{ID: "shop/42%", Email: "carol@example.com"}, welcome.ID(), weekly.ID())
		single, _, err := h.Store.CreateSingleUse(t.Context(), models.SingleUseInput{Code: "CAROL-BDAY", CustomerID: cust.ID, DiscountType: models.DiscountFixed, DiscountValue: "500"})
		if err != nil {
			t.Fatal(err)
		}
		h.MustRedeem(single.Code, cust.ID, "o1", 1, nil)
		h.MustRedeem(codes[1], cust.ID, "o2", 1, nil)
		// Someone else's code is not on Carol's page.
		_, others := h.MustIssue(models.CustomerRef{ID: "dave"}, welcome.ID())

		path := views.CustomerURL(cust.ID)
		if path != "/customers/shop%2F42%25" {
			t.Fatalf("the customer's path is %q", path)
		}
		page := h.Do("GET", path, nil, nil)
		if page.Status != http.StatusOK {
			t.Fatalf("customer page: %d %.300s", page.Status, page.Body)
		}
		if testID(page.Body, "customer-id") != "shop/42%" || testID(page.Body, "identifier-email") != "carol@example.com" {
			t.Errorf("identifiers: id %q, email %q", testID(page.Body, "customer-id"), testID(page.Body, "identifier-email"))
		}
		want := map[string][]string{
			codes[0]:     {codes[0], "Welcome", "2026-11-21 10:00:00", "0 / 1", "available", "2026-12-31 23:59:59"},
			codes[1]:     {codes[1], "Weekly", "2026-11-21 10:00:00", "1 / 2", "used", "2026-11-28 10:00:00"},
			"CAROL-BDAY": {"CAROL-BDAY", "Single-use coupon CAROL-BDAY", "2026-11-21 10:00:00", "1 / 1", "used up", "never expires"},
		}
		if d := cmp.Diff(want, codeRows(page.Body)); d != "" {
			t.Errorf("Carol's codes (-want +got):\n%s", d)
		}
		if strings.Contains(page.Body, others[0]) {
			t.Error("Dave's code is on Carol's page")
		}
		for _, link := range []string{`<a href="/series/` + fmt.Sprint(welcome.ID()) + `">Welcome</a>`, `<a href="/coupons/CAROL-BDAY">CAROL-BDAY</a>`} {
			if !strings.Contains(page.Body, link) {
				t.Errorf("the page has no %s", link)
			}
		}
		if r := h.DoWith(h.Login(webtest.ViewerEmail), "GET", path, nil, nil); r.Status != http.StatusOK || len(codeRows(r.Body)) != 3 {
			t.Errorf("a viewer: %d", r.Status)
		}

		// The weekly code expires a week after it was issued, by the
		// server's clock (signed in again: the session has expired too).
		h.Clock.Advance(7 * 24 * time.Hour)
		fresh := h.Login(webtest.ViewerEmail)
		if rows := codeRows(h.DoWith(fresh, "GET", path, nil, nil).Body); len(rows[codes[1]]) != 6 || rows[codes[1]][4] != "expired" {
			t.Errorf("a week on, the weekly code reads %q", rows[codes[1]])
		}
		if r := h.DoWith(fresh, "GET", "/customers/nobody", nil, nil); r.Status != http.StatusNotFound {
			t.Errorf("unknown customer: %d", r.Status)
		}
	})
}

func TestCustomerCodesArePaged(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		s := h.MustSeries(models.SeriesInput{})
		var issued []string
		for range 51 {
			_, codes := h.MustIssue(models.CustomerRef{ID: "erin"}, s.ID())
			issued = append([]string{codes[0]}, issued...)
		}
		page := h.Do("GET", "/customers/erin", nil, nil)
		row := regexp.MustCompile(`<tr data-testid="code-row" data-code="([^"]*)">`)
		next := regexp.MustCompile(`<a href="([^"]*)" hx-get="[^"]*" hx-target="#customer-codes" hx-swap="outerHTML" hx-push-url="true" data-testid="next-codes">`).FindStringSubmatch(page.Body)
		if first := matches(row, page.Body); !cmp.Equal(first, issued[:50]) || next == nil {
			t.Fatalf("the first page lists %d codes (next link: %v), want the newest 50 and a next page", len(first), next != nil)
		}
		r := h.Do("GET", html.UnescapeString(next[1]), nil, webtest.HTMX(views.CustomerCodesID))
		fragmentOf(t, r.Body, views.CustomerCodesID)
		if rest := matches(row, r.Body); !cmp.Equal(rest, issued[50:]) || strings.Contains(r.Body, "next-codes") {
			t.Errorf("second page %v, want %v and no next page", rest, issued[50:])
		}
		if r := h.Do("GET", "/customers/erin?after=garbage", nil, nil); r.Status != http.StatusOK || testID(r.Body, "list-error") == "" || len(codeRows(r.Body)) != 50 {
			t.Errorf("stale cursor: %d, want the newest with a note", r.Status)
		}
	})
}
