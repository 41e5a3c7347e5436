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
		// The redemptions table adds up every redemption that counts.
		if got := [2]string{testID(r.Body, "total-order-amount"), testID(r.Body, "total-discount")}; got != [2]string{"80.00 USD", "8.00 USD"} {
			t.Errorf("the redemptions' totals: %v, want 80.00 USD of orders and 8.00 USD off", got)
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

// A batch's page and a series' page say how many of their codes were
// made or issued and redeemed, the rate between, and what the codes'
// redemptions gave, with the chart.
func TestBatchAndSeriesPagesShowWhatTheirCodesDid(t *testing.T) {
	t.Parallel()
	webtest.ForEachDBAtEpoch(t, func(t *testing.T, h *webtest.Harness) {
		ctx := t.Context()
		h.MustPromotion(models.PromotionInput{Name: "News", UTMSource: new("news")})
		spec, err := models.BatchInput{Quantity: 8, Format: models.FormatInput{Length: 10}, UTMSource: new("news"), MaxUsage: 1}.Validate(8)
		if err != nil {
			t.Fatal(err)
		}
		b, codes, err := h.Store.GenerateCodes(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		h.MustRedeem(codes[0].Code, "ann", "o-1", 1, new(int64(5000)))
		h.MustRedeem(codes[1].Code, "bob", "o-2", 1, new(int64(3000)))
		gone := h.MustRedeem(codes[2].Code, "cid", "o-3", 1, new(int64(7000)))
		if _, err := h.Store.CancelRedemption(ctx, gone.ID); err != nil {
			t.Fatal(err)
		}
		// A code of no batch, of the same promotion, is not the batch's.
		h.MustTaggedCoupon("NEWS-A", "news", "")
		h.MustRedeem("NEWS-A", "dee", "o-4", 1, new(int64(9000)))

		viewer := h.Login(webtest.ViewerEmail)
		r := h.DoWith(viewer, "GET", views.BatchURL(b.ID), nil, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("batch page: %d", r.Status)
		}
		for label, want := range map[string]string{"Codes made": "8", "Codes redeemed": "2", "Redemption rate": "25.0 %",
			"Redemptions": "2", "Discount given": "8.00 USD", "Order revenue": "80.00 USD", "Average discount per order": "4.00 USD"} {
			if got := testID(r.Body, "result-"+label); got != want {
				t.Errorf("batch %s: %q, want %q", label, got, want)
			}
		}
		if !strings.Contains(r.Body, static.ChartJS) || len(regexp.MustCompile(`data-testid="chart-point"`).FindAllString(r.Body, -1)) != 1 {
			t.Error("the batch page does not chart its one day")
		}
		r = h.DoWith(viewer, "GET", views.BatchURL(b.ID)+"?from=2026-11-01&to=2026-11-20", nil, webtest.HTMX(views.PromotionResultsID))
		fragmentOf(t, r.Body, views.PromotionResultsID)
		if r.Status != http.StatusOK || testID(r.Body, "result-Redemptions") != "0" || testID(r.Body, "result-Codes redeemed") != "2" {
			t.Errorf("the batch before it existed: %d, redemptions %q, codes redeemed %q", r.Status, testID(r.Body, "result-Redemptions"), testID(r.Body, "result-Codes redeemed"))
		}

		ser := h.MustSeries(models.SeriesInput{Promotion: models.PromotionInput{Name: "Welcome"}})
		var issued []string
		for _, who := range []string{"eve", "fay", "gus"} {
			_, codes := h.MustIssue(models.CustomerRef{ID: who}, ser.ID())
			issued = append(issued, codes...)
		}
		h.MustRedeem(issued[0], "eve", "o-5", 1, new(int64(2000)))
		r = h.DoWith(viewer, "GET", views.SeriesURL(ser.ID()), nil, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("series page: %d", r.Status)
		}
		for label, want := range map[string]string{"Codes issued": "3", "Codes redeemed": "1", "Redemption rate": "33.3 %",
			"Redemptions": "1", "Discount given": "2.00 USD", "Customers": "1"} {
			if got := testID(r.Body, "result-"+label); got != want {
				t.Errorf("series %s: %q, want %q", label, got, want)
			}
		}
	})
}
