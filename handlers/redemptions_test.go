package handlers_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/coupond/coupond/web/webtest"
	"github.com/google/go-cmp/cmp"
)

// listedOrders are the orders of the redemption rows a page shows, in
// order.
func listedOrders(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`data-testid="redemption" data-order="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestRedemptionsPageListsFiltersAndExports(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		spring := h.MustPromotion(models.PromotionInput{Name: "Spring 10%", UTMSource: new("spring")})
		h.MustTaggedCoupon("SPRING1", "spring", "")
		h.MustPromotion(models.PromotionInput{Name: "Mail", UTMCampaign: new("mail")})
		h.MustTaggedCoupon("PLAIN1", "", "mail")
		h.MustRedeem("SPRING1", "anna", "o-1", 2, new(int64(8000)))
		h.MustRedeem("PLAIN1", "anna", "o-2", 1, nil)
		third := h.MustRedeem("SPRING1", "=bert", "o-3", 1, new(int64(2000)))
		if _, err := h.Store.CancelRedemption(t.Context(), third.ID); err != nil {
			t.Fatal(err)
		}

		viewer := h.Login(webtest.ViewerEmail)
		r := h.DoWith(viewer, "GET", "/redemptions", nil, nil)
		if r.Status != http.StatusOK || !slices.Equal(listedOrders(r.Body), []string{"o-3", "o-2", "o-1"}) {
			t.Fatalf("every redemption: %d, orders %v", r.Status, listedOrders(r.Body))
		}
		for _, link := range []string{`href="/coupons/SPRING1"`, `href="/customers/anna"`, fmt.Sprintf(`href="/promotions/%d">Spring 10%%</a>`, spring.ID), `href="/redemptions.csv"`} {
			if !strings.Contains(r.Body, link) {
				t.Errorf("the list has no %s", link)
			}
		}
		if strings.Contains(r.Body, `data-testid="cancel-redemption"`) || !strings.Contains(r.Body, `href="/redemptions" aria-current="page"`) {
			t.Error("a viewer is offered a cancel, or the navigation does not mark Redemptions")
		}

		cases := []struct {
			query string
			want  []string
		}{
			{"customerId=anna", []string{"o-2", "o-1"}},
			{"code=spring1", []string{"o-3", "o-1"}},
			{fmt.Sprintf("promotionId=%d", spring.ID), []string{"o-3", "o-1"}},
			{"utmSource=SPRING&status=live", []string{"o-1"}},
			{"status=cancelled", []string{"o-3"}},
			// The store's clock is the machine's: the redemptions were made
			// today.
			{"from=" + time.Now().UTC().AddDate(0, 0, 2).Format("2006-01-02"), nil},
			{"to=" + time.Now().UTC().AddDate(0, 0, -2).Format("2006-01-02"), nil},
			{"from=" + time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02") + "&customerId=anna", []string{"o-2", "o-1"}},
		}
		for _, tc := range cases {
			r := h.Do("GET", "/redemptions?"+tc.query, nil, webtest.HTMX(views.RedemptionsTableID))
			fragmentOf(t, r.Body, views.RedemptionsTableID)
			if got := listedOrders(r.Body); r.Status != http.StatusOK || !slices.Equal(got, tc.want) {
				t.Errorf("%s: %d, orders %v, want %v", tc.query, r.Status, got, tc.want)
			}
		}

		// Filters that cannot be read are shown back with their messages.
		r = h.Do("GET", "/redemptions?from=yesterday&to=2026-01-01&promotionId=x", nil, nil)
		if r.Status != http.StatusUnprocessableEntity || testID(r.Body, "error-from") == "" || testID(r.Body, "error-promotionId") == "" ||
			!strings.Contains(r.Body, `value="yesterday"`) || len(listedOrders(r.Body)) != 0 {
			t.Errorf("unreadable filters: %d, from %q, promotion %q", r.Status, testID(r.Body, "error-from"), testID(r.Body, "error-promotionId"))
		}
		r = h.Do("GET", "/redemptions?from=2026-02-01&to=2026-01-01", nil, nil)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(testID(r.Body, "error-to"), "after the start") {
			t.Errorf("a period ending before it starts: %d, to %q", r.Status, testID(r.Body, "error-to"))
		}

		// The CSV holds what the filters select, as stored, formula-safe.
		r = h.DoWith(viewer, "GET", "/redemptions.csv?code=SPRING1", nil, nil)
		if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("CSV: %d %q", r.Status, r.Header.Get("Content-Type"))
		}
		rows, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var want [][]string
		want = append(want, []string{"redeemed_at", "code", "customer_id", "order_id", "items", "order_amount", "discount", "promotions", "cancelled_at"})
		err = h.Store.EachRedemption(t.Context(), models.RedemptionFilter{Code: "SPRING1"}, func(rd models.Redemption) error {
			cancelled := ""
			if rd.CancelledAt != nil {
				cancelled = rd.CancelledAt.UTC().Format("2006-01-02T15:04:05Z07:00")
			}
			customer := rd.CustomerID
			if strings.HasPrefix(customer, "=") {
				// A spreadsheet must not read it as a formula.
				customer = "'" + customer
			}
			want = append(want, []string{rd.CreatedAt.UTC().Format("2006-01-02T15:04:05Z07:00"), rd.Code, customer, rd.OrderID, fmt.Sprint(rd.Items), fmt.Sprint(*rd.OrderAmount), fmt.Sprint(*rd.Discount), "Spring 10%", cancelled})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, rows); d != "" {
			t.Errorf("CSV (-want +got):\n%s", d)
		}
		if r := h.Do("GET", "/redemptions.csv?status=maybe", nil, nil); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("a CSV with a bad filter: %d, want 422 before the file", r.Status)
		}
	})
}
