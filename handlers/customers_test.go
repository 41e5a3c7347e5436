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
	"github.com/google/go-cmp/cmp"
)

// foundCustomers are the ids the customer search lists, in order.
func foundCustomers(body string) []string {
	return matches(regexp.MustCompile(`<li data-testid="customer" data-customer="([^"]*)">`), body)
}

func TestCustomerSearchFindsAnyIdentifier(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		s := h.mustSeries(models.SeriesInput{})
		ann, _ := h.mustIssue(models.CustomerRef{Email: "Ann@Example.com", Mobile: "+91 98765-43210", ExternalID: "crm-7"}, s.ID())
		h.mustIssue(models.CustomerRef{ID: "bob", Email: "bob@example.com"}, s.ID())

		for _, q := range []string{"ann@example.COM", "919876543210", "+91 (98765) 43210", "crm-7", ann.ID} {
			r := h.do("GET", "/customers?q="+url.QueryEscape(q), nil, nil)
			if got := foundCustomers(r.body); r.status != http.StatusOK || !cmp.Equal(got, []string{ann.ID}) {
				t.Errorf("search %q: %d %v, want Ann (%s) alone", q, r.status, got, ann.ID)
			}
		}
		r := h.do("GET", "/customers?q=bob%40example.com", nil, nil)
		if got := foundCustomers(r.body); !cmp.Equal(got, []string{"bob"}) {
			t.Errorf("search bob's email: %v", got)
		}
		if !strings.Contains(r.body, `<a href="/customers/bob">bob</a>`) || testID(r.body, "identifier-email") != "bob@example.com" {
			t.Error("the result does not link bob's page or show his email")
		}
		if !strings.Contains(r.body, `<a href="/customers" aria-current="page">Customers</a>`) {
			t.Error("the Customers page is not marked in the navigation")
		}
		r = h.do("GET", "/customers?q=nobody%40example.com", nil, htmx(views.CustomerResultsID))
		fragmentOf(t, r.body, views.CustomerResultsID)
		if got := testID(r.body, "no-customers"); got != "No customer has the identifier nobody@example.com." {
			t.Errorf("no match reads %q", got)
		}
		if r := h.doWith(h.login(viewerEmail), "GET", "/customers", nil, nil); r.status != http.StatusOK || testID(r.body, "no-query") == "" {
			t.Errorf("the empty search for a viewer: %d", r.status)
		}
	})
}

func TestCustomerPageListsEveryCode(t *testing.T) {
	t.Parallel()
	forEachDBAtEpoch(t, func(t *testing.T, h *harness) {
		welcome := h.mustSeries(models.SeriesInput{Promotion: models.PromotionInput{Name: "Welcome", EndsAt: "2027-01-01T00:00:00Z"}})
		weekly := h.mustSeries(models.SeriesInput{Promotion: models.PromotionInput{Name: "Weekly"}, Expiry: models.ExpiryDays, ExpiryDays: 7, UsesPerCode: 2,
			Format: models.FormatInput{Prefix: "WK"}})
		// A customer id that needs escaping in a path.
		cust, codes := h.mustIssue(models.CustomerRef{ID: "shop/42%", Email: "carol@example.com"}, welcome.ID(), weekly.ID())
		single, _, err := h.store.CreateSingleUse(t.Context(), models.SingleUseInput{Code: "CAROL-BDAY", CustomerID: cust.ID, DiscountType: models.DiscountFixed, DiscountValue: "500"})
		if err != nil {
			t.Fatal(err)
		}
		h.mustRedeem(single.Code, cust.ID, "o1", 1, nil)
		h.mustRedeem(codes[1], cust.ID, "o2", 1, nil)
		// Someone else's code is not on Carol's page.
		_, others := h.mustIssue(models.CustomerRef{ID: "dave"}, welcome.ID())

		path := views.CustomerURL(cust.ID)
		if path != "/customers/shop%2F42%25" {
			t.Fatalf("the customer's path is %q", path)
		}
		page := h.do("GET", path, nil, nil)
		if page.status != http.StatusOK {
			t.Fatalf("customer page: %d %.300s", page.status, page.body)
		}
		if testID(page.body, "customer-id") != "shop/42%" || testID(page.body, "identifier-email") != "carol@example.com" {
			t.Errorf("identifiers: id %q, email %q", testID(page.body, "customer-id"), testID(page.body, "identifier-email"))
		}
		want := map[string][]string{
			codes[0]:     {codes[0], "Welcome", "2026-11-21 10:00:00", "0 / 1", "available", "2027-01-01 00:00:00"},
			codes[1]:     {codes[1], "Weekly", "2026-11-21 10:00:00", "1 / 2", "used", "2026-11-28 10:00:00"},
			"CAROL-BDAY": {"CAROL-BDAY", "Single-use coupon CAROL-BDAY", "2026-11-21 10:00:00", "1 / 1", "used up", "never expires"},
		}
		if d := cmp.Diff(want, codeRows(page.body)); d != "" {
			t.Errorf("Carol's codes (-want +got):\n%s", d)
		}
		if strings.Contains(page.body, others[0]) {
			t.Error("Dave's code is on Carol's page")
		}
		for _, link := range []string{`<a href="/series/` + fmt.Sprint(welcome.ID()) + `">Welcome</a>`, `<a href="/coupons/CAROL-BDAY">CAROL-BDAY</a>`} {
			if !strings.Contains(page.body, link) {
				t.Errorf("the page has no %s", link)
			}
		}
		if r := h.doWith(h.login(viewerEmail), "GET", path, nil, nil); r.status != http.StatusOK || len(codeRows(r.body)) != 3 {
			t.Errorf("a viewer: %d", r.status)
		}

		// The weekly code expires a week after it was issued, by the
		// server's clock (signed in again: the session has expired too).
		h.clock.Advance(7 * 24 * time.Hour)
		fresh := h.login(viewerEmail)
		if rows := codeRows(h.doWith(fresh, "GET", path, nil, nil).body); len(rows[codes[1]]) != 6 || rows[codes[1]][4] != "expired" {
			t.Errorf("a week on, the weekly code reads %q", rows[codes[1]])
		}
		if r := h.doWith(fresh, "GET", "/customers/nobody", nil, nil); r.status != http.StatusNotFound {
			t.Errorf("unknown customer: %d", r.status)
		}
	})
}

func TestCustomerCodesArePaged(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		s := h.mustSeries(models.SeriesInput{})
		var issued []string
		for range 51 {
			_, codes := h.mustIssue(models.CustomerRef{ID: "erin"}, s.ID())
			issued = append([]string{codes[0]}, issued...)
		}
		page := h.do("GET", "/customers/erin", nil, nil)
		row := regexp.MustCompile(`<tr data-testid="code-row" data-code="([^"]*)">`)
		next := regexp.MustCompile(`<a href="([^"]*)" hx-get="[^"]*" hx-target="#customer-codes" hx-swap="outerHTML" hx-push-url="true" data-testid="next-codes">`).FindStringSubmatch(page.body)
		if first := matches(row, page.body); !cmp.Equal(first, issued[:50]) || next == nil {
			t.Fatalf("the first page lists %d codes (next link: %v), want the newest 50 and a next page", len(first), next != nil)
		}
		r := h.do("GET", html.UnescapeString(next[1]), nil, htmx(views.CustomerCodesID))
		fragmentOf(t, r.body, views.CustomerCodesID)
		if rest := matches(row, r.body); !cmp.Equal(rest, issued[50:]) || strings.Contains(r.body, "next-codes") {
			t.Errorf("second page %v, want %v and no next page", rest, issued[50:])
		}
		if r := h.do("GET", "/customers/erin?after=garbage", nil, nil); r.status != http.StatusOK || testID(r.body, "list-error") == "" || len(codeRows(r.body)) != 50 {
			t.Errorf("stale cursor: %d, want the newest with a note", r.status)
		}
	})
}
