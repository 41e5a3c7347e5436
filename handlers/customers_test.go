package handlers_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
	"github.com/coupond/coupond/views"
	"github.com/coupond/coupond/web"
	"github.com/coupond/coupond/web/webtest"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/bcrypt"
)

// foundCustomers are the ids the customer search lists, in order.
func foundCustomers(body string) []string {
	return matches(regexp.MustCompile(`<tr data-testid="customer" data-customer="([^"]*)">`), body)
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
		if r := h.DoWith(h.Login(webtest.ViewerEmail), "GET", "/customers", nil, nil); r.Status != http.StatusOK || len(foundCustomers(r.Body)) != 2 {
			t.Errorf("the list without a search, for a viewer: %d %v, want both customers", r.Status, foundCustomers(r.Body))
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

// forEachDBWithStoreClock is webtest.ForEachDB with the store's clock,
// standing at webtest.Epoch, in the test's hands: moving it orders the
// customers' activity.
func forEachDBWithStoreClock(t *testing.T, fn func(t *testing.T, h *webtest.Harness, clock *webtest.Clock)) {
	t.Helper()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		clock := webtest.NewClock(webtest.Epoch)
		s := storetest.Open(t, dialect, models.Config{Now: clock.Now, PasswordCost: bcrypt.MinCost})
		fn(t, webtest.New(t, s, web.Config{BodyLimit: "64K"}), clock)
	})
}

// customerCells are the text of each cell of the customer list's row of
// customer id.
func customerCells(body, id string) []string {
	m := regexp.MustCompile(`(?s)<tr data-testid="customer" data-customer="` + regexp.QuoteMeta(id) + `">(.*?)</tr>`).FindStringSubmatch(body)
	if m == nil {
		return nil
	}
	var cells []string
	for _, c := range regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`).FindAllStringSubmatch(m[1], -1) {
		cells = append(cells, html.UnescapeString(strings.Join(strings.Fields(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(c[1], " ")), " ")))
	}
	return cells
}

func TestCustomerListIsByActivityWithFiguresAndFindsTheStartOfAnEmail(t *testing.T) {
	t.Parallel()
	forEachDBWithStoreClock(t, func(t *testing.T, h *webtest.Harness, clock *webtest.Clock) {
		s := h.MustSeries(models.SeriesInput{})
		s2 := h.MustSeries(models.SeriesInput{Promotion: models.PromotionInput{Name: "Other"}})
		h.MustPromotion(models.PromotionInput{Name: "Spring", UTMSource: new("spring")})
		h.MustTaggedCoupon("SPRING1", "spring", "")
		h.MustIssue(models.CustomerRef{ID: "ann", Email: "Ann@Example.com"}, s.ID())
		clock.Advance(time.Minute)
		h.MustIssue(models.CustomerRef{ID: "bob", Email: "bob@shop.example", Mobile: "+44 7700 900123"}, s.ID(), s2.ID())
		clock.Advance(time.Minute)
		// a-walkin is known only from the checkout's redemptions.
		h.MustRedeem("SPRING1", "a-walkin", "o-1", 1, new(int64(5000)))
		gone := h.MustRedeem("SPRING1", "a-walkin", "o-2", 1, new(int64(2000)))
		h.MustRedeem("SPRING1", "a-walkin", "o-3", 1, new(int64(3000)))
		clock.Advance(time.Minute)
		// A cancellation is no activity.
		if _, err := h.Store.CancelRedemption(t.Context(), gone.ID); err != nil {
			t.Fatal(err)
		}
		h.MustIssue(models.CustomerRef{ID: "bob"}, s.ID())
		clock.Advance(time.Minute)
		// A redemption makes ann the most recent again.
		h.MustRedeem("SPRING1", "ann", "o-4", 1, nil)

		viewer := h.Login(webtest.ViewerEmail)
		r := h.DoWith(viewer, "GET", "/customers", nil, nil)
		if got := foundCustomers(r.Body); r.Status != http.StatusOK || !cmp.Equal(got, []string{"ann", "bob", "a-walkin"}) {
			t.Fatalf("the list: %d %v, want ann (redeemed), bob (issued a code), a-walkin (redeemed, then one cancelled): most recent activity first", r.Status, got)
		}
		walkin := customerCells(r.Body, "a-walkin")
		if len(walkin) != 8 || walkin[0] != "a-walkin" || walkin[1] != "" || walkin[4] != "none" || walkin[5] != "2" || walkin[6] != "8.00 USD" {
			t.Errorf("a-walkin's row %q, want no identifiers, no codes, 2 redemptions saving 8.00 (500 + 300; the cancelled 200 left out)", walkin)
		}
		bob := customerCells(r.Body, "bob")
		if len(bob) != 8 || bob[1] != "bob@shop.example" || bob[2] != "447700900123" || bob[4] != "3" || bob[5] != "0" || bob[6] != "0.00 USD" {
			t.Errorf("bob's row %q", bob)
		}
		if !strings.Contains(r.Body, `<a href="/customers/a-walkin">a-walkin</a>`) {
			t.Error("a-walkin's row does not link his page")
		}

		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"ANN@", []string{"ann"}},
			{"b", []string{"bob"}},
			{"bob@shop.example", []string{"bob"}},
			{"a-walkin", []string{"a-walkin"}},
			{"shop.example", nil},
		} {
			r := h.DoWith(viewer, "GET", "/customers?q="+url.QueryEscape(tc.query), nil, webtest.HTMX(views.CustomerResultsID))
			fragmentOf(t, r.Body, views.CustomerResultsID)
			if got := foundCustomers(r.Body); !cmp.Equal(got, tc.want) {
				t.Errorf("search %q: %v, want %v", tc.query, got, tc.want)
			}
		}
	})
}

func TestCustomerListIsPaged(t *testing.T) {
	t.Parallel()
	forEachDBWithStoreClock(t, func(t *testing.T, h *webtest.Harness, clock *webtest.Clock) {
		h.MustPromotion(models.PromotionInput{Name: "Spring", UTMSource: new("spring")})
		h.MustTaggedCoupon("SPRING1", "spring", "")
		var want []string
		for i := range 52 {
			// Two by two at the same moment: ties go by id.
			if i%2 == 0 {
				clock.Advance(time.Second)
			}
			id := fmt.Sprintf("c%02d", i)
			h.MustRedeem("SPRING1", id, "o-"+id, 1, nil)
			want = append(want, id)
		}
		slices.SortFunc(want, func(a, b string) int {
			if ia, ib := (a[1]-'0')*10+a[2]-'0', (b[1]-'0')*10+b[2]-'0'; ia/2 != ib/2 {
				return int(ib/2) - int(ia/2)
			}
			return strings.Compare(a, b)
		})
		r := h.Do("GET", "/customers", nil, nil)
		next := regexp.MustCompile(`<a href="([^"]*)" hx-get="[^"]*" hx-target="#customer-results" hx-swap="outerHTML" hx-push-url="true" data-testid="next-customers">`).FindStringSubmatch(r.Body)
		if first := foundCustomers(r.Body); !cmp.Equal(first, want[:50]) || next == nil {
			t.Fatalf("the first page %v (next link: %v), want %v and a next page", first, next != nil, want[:50])
		}
		r = h.Do("GET", html.UnescapeString(next[1]), nil, webtest.HTMX(views.CustomerResultsID))
		fragmentOf(t, r.Body, views.CustomerResultsID)
		if rest := foundCustomers(r.Body); !cmp.Equal(rest, want[50:]) || strings.Contains(r.Body, "next-customers") {
			t.Errorf("second page %v, want %v and no next page", rest, want[50:])
		}
		if r := h.Do("GET", "/customers?after=garbage", nil, nil); r.Status != http.StatusOK || testID(r.Body, "list-error") == "" || len(foundCustomers(r.Body)) != 50 {
			t.Errorf("stale cursor: %d, want the first page with a note", r.Status)
		}
	})
}

func TestCustomerKnownOnlyFromRedemptionsHasAPageWithSavings(t *testing.T) {
	t.Parallel()
	forEachDBWithStoreClock(t, func(t *testing.T, h *webtest.Harness, clock *webtest.Clock) {
		spring := h.MustPromotion(models.PromotionInput{Name: "Spring", UTMSource: new("spring")})
		h.MustTaggedCoupon("SPRING1", "spring", "")
		var orders []string
		for i := range 26 {
			clock.Advance(time.Second)
			order := fmt.Sprintf("o-%02d", i)
			h.MustRedeem("SPRING1", "walk/in", order, 1, new(int64(1000)))
			orders = append([]string{order}, orders...)
		}
		last := h.MustRedeem("SPRING1", "walk/in", "o-last", 2, new(int64(4000)))
		orders = append([]string{"o-last"}, orders...)
		h.MustRedeem("SPRING1", "someone-else", "o-other", 1, new(int64(9000)))

		path := views.CustomerURL("walk/in")
		r := h.DoWith(h.Login(webtest.ViewerEmail), "GET", path, nil, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("the page of a customer known from redemptions: %d %.300s", r.Status, r.Body)
		}
		if testID(r.Body, "customer-id") != "walk/in" || testID(r.Body, "customer-redemptions") != "27" || testID(r.Body, "customer-savings") != "30.00 USD" {
			t.Errorf("header: id %q, redemptions %q, savings %q; want 27 saving 30.00 (26 × 1.00 + 4.00)",
				testID(r.Body, "customer-id"), testID(r.Body, "customer-redemptions"), testID(r.Body, "customer-savings"))
		}
		if got := listedOrders(r.Body); !cmp.Equal(got, orders[:25]) {
			t.Errorf("first page of redemptions %v, want the newest 25 of walk/in's", got)
		}
		row := regexp.MustCompile(`(?s)<tr data-testid="redemption" data-order="o-last">.*?</tr>`).FindString(r.Body)
		for _, want := range []string{`href="/coupons/SPRING1"`, fmt.Sprintf(`href="/promotions/%d">Spring</a>`, spring.ID), `data-testid="redemption-status">counts`} {
			if !strings.Contains(row, want) {
				t.Errorf("the newest redemption's row has no %s: %s", want, row)
			}
		}
		if testID(row, "redemption-amount") != "40.00 USD" || testID(row, "redemption-discount") != "4.00 USD" {
			t.Errorf("the newest redemption shows amount %q discount %q", testID(row, "redemption-amount"), testID(row, "redemption-discount"))
		}
		next := regexp.MustCompile(`<a href="([^"]*)" hx-get="[^"]*" hx-target="#customer-redemptions" hx-swap="outerHTML" hx-push-url="true" data-testid="next-redemptions">`).FindStringSubmatch(r.Body)
		if next == nil || !strings.Contains(next[1], views.RedemptionsAfter+"=") {
			t.Fatalf("no next page of redemptions paged by %s: %v", views.RedemptionsAfter, next)
		}
		r = h.Do("GET", html.UnescapeString(next[1]), nil, webtest.HTMX(views.CustomerRedemptionsID))
		fragmentOf(t, r.Body, views.CustomerRedemptionsID)
		if got := listedOrders(r.Body); !cmp.Equal(got, orders[25:]) {
			t.Errorf("second page of redemptions %v, want %v", got, orders[25:])
		}

		// A cancellation takes its discount out of the savings.
		if _, err := h.Store.CancelRedemption(t.Context(), last.ID); err != nil {
			t.Fatal(err)
		}
		r = h.Do("GET", path, nil, nil)
		if testID(r.Body, "customer-redemptions") != "26" || testID(r.Body, "customer-savings") != "26.00 USD" {
			t.Errorf("after a cancellation: %q redemptions saving %q, want 26 saving 26.00", testID(r.Body, "customer-redemptions"), testID(r.Body, "customer-savings"))
		}
		row = regexp.MustCompile(`(?s)<tr data-testid="redemption" data-order="o-last">.*?</tr>`).FindString(r.Body)
		if !strings.Contains(row, `>cancelled</span>`) {
			t.Errorf("the cancelled redemption's row: %s", row)
		}
	})
}
