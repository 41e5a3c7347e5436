package handlers_test

import (
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
)

// periodFigures are the figure values the dashboard shows for a period,
// in order: redemptions, discount, revenue, customers.
func periodFigures(t *testing.T, body, period string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?s)data-testid="period-` + regexp.QuoteMeta(period) + `".*?</article>`).FindString(body)
	if m == "" {
		t.Fatalf("no period %q on the dashboard", period)
	}
	var out []string
	for _, v := range regexp.MustCompile(`data-testid="figure-value">([^<]*)<`).FindAllStringSubmatch(m, -1) {
		out = append(out, v[1])
	}
	return out
}

func TestDashboardShowsTheTotals(t *testing.T) {
	t.Parallel()
	webtest.ForEachDBAtEpoch(t, func(t *testing.T, h *webtest.Harness) {
		ctx := t.Context()
		news := h.MustPromotion(models.PromotionInput{Name: "News 10%", UTMSource: new("news")})
		// The coupons exist before the redemptions' times.
		h.MustTaggedCoupon("NEWS1", "news", "")
		redeem := func(order, customer string, amount int64, ago time.Duration) models.Redemption {
			t.Helper()
			in := models.RedemptionInput{Code: "NEWS1", CustomerID: customer, OrderID: order, Items: 1, OrderAmount: new(amount)}
			if ago > 0 {
				in.At = webtest.Epoch.Add(-ago)
			}
			r, _, err := h.Store.Redeem(ctx, in, "test")
			if err != nil {
				t.Fatalf("redeem %s: %v", order, err)
			}
			return r
		}
		// Created at the epoch, so no redemption may be older: the
		// earlier ones are moved back in the database below.
		redeem("today-1", "ann", 5000, 0)
		redeem("today-2", "bob", 3000, 0)
		cancelled := redeem("today-3", "cid", 9000, 0)
		if _, err := h.Store.CancelRedemption(ctx, cancelled.ID); err != nil {
			t.Fatal(err)
		}

		viewer := h.Login(webtest.ViewerEmail)
		r := h.DoWith(viewer, "GET", "/", nil, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("dashboard: %d", r.Status)
		}
		// Today: 10 % of 50.00 and of 30.00; nothing the day before.
		if got, want := periodFigures(t, r.Body, "Today"), []string{"2", "8.00 USD", "80.00 USD", "2"}; !slices.Equal(got, want) {
			t.Errorf("today: %v, want %v", got, want)
		}
		if !strings.Contains(r.Body, `data-testid="figure-change">`) || !strings.Contains(r.Body, "new") {
			t.Error("the change against the day before is not shown")
		}
		if got := testID(r.Body, "live-promotions"); got != "1" {
			t.Errorf("live promotions: %q, want 1", got)
		}
		// NEWS1, and a batch of codes reaching the promotion; not the
		// code of no promotion nor the archived one.
		h.MustTaggedCoupon("NOTHING1", "", "")
		h.MustTaggedCoupon("SHELVED1", "news", "")
		if _, err := h.Store.SetCouponArchived(ctx, "SHELVED1", true); err != nil {
			t.Fatal(err)
		}
		spec, err := models.BatchInput{Quantity: 1200, Format: models.FormatInput{Length: 10}, UTMSource: new("NEWS")}.Validate(1200)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := h.Store.GenerateCodes(ctx, spec); err != nil {
			t.Fatal(err)
		}
		r = h.DoWith(viewer, "GET", "/", nil, nil)
		if got := testID(r.Body, "active-coupons"); got != "1,201" {
			t.Errorf("active coupons: %q, want 1,201", got)
		}
		// The chart's discount axis reads in the currency, not in cents.
		if !strings.Contains(r.Body, `<td data-value="8.00">8.00 USD</td>`) {
			t.Error("today's discount is not charted as 8.00")
		}
		points := regexp.MustCompile(`data-testid="chart-point"`).FindAllString(r.Body, -1)
		if len(points) != 30 || !strings.Contains(r.Body, views.Thousands(2)+"</td>") {
			t.Errorf("the 30-day chart has %d points", len(points))
		}
		if !strings.Contains(r.Body, fmt.Sprintf(`href="/promotions/%d">News 10%%</a>`, news.ID)) || !strings.Contains(r.Body, `href="/redemptions?utmSource=news">news</a>`) {
			t.Error("the top lists do not lead to the promotion and the tag")
		}
		if !strings.Contains(r.Body, `data-testid="no-running-batches"`) || strings.Contains(r.Body, `href="/audit"`) {
			t.Error("a viewer sees running batches that do not exist, or a link to the audit log")
		}

		// Today by the hour runs from midnight to the hour now is in,
		// 10:00, where the two redemptions are.
		for q, want := range map[string]int{"?chart=90d": 90, "?chart=today": 11} {
			r := h.Do("GET", "/"+q, nil, webtest.HTMX(views.DashboardChartID))
			fragmentOf(t, r.Body, views.DashboardChartID)
			if n := len(regexp.MustCompile(`data-testid="chart-point"`).FindAllString(r.Body, -1)); r.Status != http.StatusOK || n != want {
				t.Errorf("%s: %d, %d points, want %d", q, r.Status, n, want)
			}
			last := regexp.MustCompile(`(?s)data-testid="chart-point">\s*<th scope="row">([^<]*)</th>\s*<td data-value="(\d+)"`).FindAllStringSubmatch(r.Body, -1)
			if len(last) == 0 || last[len(last)-1][2] != "2" {
				t.Errorf("%s: the last point %v, want today's or this hour's 2 redemptions", q, last[len(last)-1:])
			}
		}
	})
}
