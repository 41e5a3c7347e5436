package handlers_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/static"
	"github.com/coupond/coupond/views"
	"github.com/coupond/coupond/web/webtest"
)

func TestPromotionPageLeadsWithItsResults(t *testing.T) {
	t.Parallel()
	webtest.ForEachDBAtEpoch(t, func(t *testing.T, h *webtest.Harness) {
		p := h.MustPromotion(models.PromotionInput{Name: "News", UTMSource: new("news"), MaxUsage: 10})
		h.MustTaggedCoupon("NEWS-A", "news", "")
		h.MustRedeem("NEWS-A", "ann", "o-1", 1, new(int64(5000)))
		h.MustRedeem("NEWS-A", "bob", "o-2", 1, new(int64(3000)))
		gone := h.MustRedeem("NEWS-A", "cid", "o-3", 1, new(int64(7000)))
		if _, err := h.Store.CancelRedemption(t.Context(), gone.ID); err != nil {
			t.Fatal(err)
		}
		path := views.PromotionURL(p.ID)
		r := h.DoWith(h.Login(webtest.ViewerEmail), "GET", path, nil, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("promotion page: %d", r.Status)
		}
		// Since it began: 10 % of 50.00 and of 30.00; the cancelled order
		// does not count, but its use came back.
		for label, want := range map[string]string{"Redemptions": "2", "Discount given": "8.00 USD", "Order revenue": "80.00 USD", "Customers": "2",
			"Average discount per order": "4.00 USD", "Uses left now": "8 of 10"} {
			if got := testID(r.Body, "result-"+label); got != want {
				t.Errorf("%s: %q, want %q", label, got, want)
			}
		}
		if !strings.Contains(r.Body, static.ChartJS) {
			t.Error("the promotion page does not load the chart script, so its chart is never drawn")
		}
		if n := len(regexp.MustCompile(`data-testid="chart-point"`).FindAllString(r.Body, -1)); n != 1 || !strings.Contains(r.Body, `value="2026-11-21"`) {
			t.Errorf("since it began today: %d chart points, or the period is not shown", n)
		}

		r = h.Do("GET", path+"?from=2026-11-01&to=2026-11-20", nil, webtest.HTMX(views.PromotionResultsID))
		fragmentOf(t, r.Body, views.PromotionResultsID)
		if n := len(regexp.MustCompile(`data-testid="chart-point"`).FindAllString(r.Body, -1)); r.Status != http.StatusOK || n != 20 || testID(r.Body, "result-Redemptions") != "0" {
			t.Errorf("a period before it: %d, %d points, redemptions %q", r.Status, n, testID(r.Body, "result-Redemptions"))
		}
		r = h.Do("GET", path+"?from=soon&to=2026-11-20", nil, nil)
		if r.Status != http.StatusUnprocessableEntity || testID(r.Body, "error-from") == "" || !strings.Contains(r.Body, `value="soon"`) {
			t.Errorf("an unreadable day: %d, %q", r.Status, testID(r.Body, "error-from"))
		}
		r = h.Do("GET", path+"?from=2026-11-20&to=2026-11-01", nil, nil)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(testID(r.Body, "error-to"), "on or after") {
			t.Errorf("a period that ends before it starts: %d, %q", r.Status, testID(r.Body, "error-to"))
		}
	})
}
