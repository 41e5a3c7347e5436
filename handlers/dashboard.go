package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// DashboardStore is what the dashboard reads: totals, never the
// redemptions themselves.
type DashboardStore interface {
	TotalsBetween(ctx context.Context, scope, key string, from, to time.Time) (models.Totals, error)
	TotalsBySlot(ctx context.Context, scope, key string, from, to time.Time) ([]models.SlotTotals, error)
	TopTotals(ctx context.Context, scope string, from, to time.Time, limit int) (byRedemptions, byDiscount []models.KeyTotals, err error)
	PromotionsByID(ctx context.Context, ids []int64) ([]models.Promotion, error)
	CountActivePromotions(ctx context.Context, now time.Time) (int64, error)
	ActiveCoupons(ctx context.Context, now time.Time) (int64, error)
	ListBatches(ctx context.Context, f models.BatchFilter) (models.BatchPage, error)
	ListAudit(ctx context.Context, f models.AuditFilter) (models.AuditPage, error)
}

// Dashboard serves the console's first page: what the codes did today,
// this week and this month, beside the period before, a chart, the top
// promotions and tags, the batches running and the latest changes. Now
// is the clock; the store's time zone (TermsOf) says whose days the
// figures and the chart count.
type Dashboard struct {
	Store DashboardStore
	Now   func() time.Time
}

// Chart ranges the dashboard offers.
const (
	chartToday = "today"
	chart30    = "30d"
	chart90    = "90d"
)

// topLimit is how many promotions and tags each top list shows.
const topLimit = 5

// Show renders the dashboard; ?chart= picks the chart's range (30d, the
// default, 90d or today by the hour), which the top lists follow. An
// htmx request aimed at the chart gets the chart and the top lists.
func (h *Dashboard) Show(c echo.Context) error {
	ctx := c.Request().Context()
	t := TermsOf(c)
	loc := t.Zone()
	now := h.Now().In(loc)
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	v := views.DashboardView{Zone: loc.String()}

	periods := []struct {
		name, before string
		from, prev   time.Time
		prevTo       time.Time
	}{
		{"Today", "yesterday by this time", midnight, midnight.AddDate(0, 0, -1), now.AddDate(0, 0, -1)},
		{"Last 7 days", "the 7 days before", now.AddDate(0, 0, -7), now.AddDate(0, 0, -14), now.AddDate(0, 0, -7)},
		{"Last 30 days", "the 30 days before", now.AddDate(0, 0, -30), now.AddDate(0, 0, -60), now.AddDate(0, 0, -30)},
	}
	// Until now takes in the quarter hour now is in, and the period
	// before is cut the same way.
	for _, p := range periods {
		cur, err := h.Store.TotalsBetween(ctx, models.ScopeAll, "", p.from, models.SlotEnd(now))
		if err != nil {
			return err
		}
		prev, err := h.Store.TotalsBetween(ctx, models.ScopeAll, "", p.prev, models.SlotEnd(p.prevTo))
		if err != nil {
			return err
		}
		v.Periods = append(v.Periods, views.FigurePeriod{Name: p.name, Before: p.before, Figures: []views.Figure{
			figure("Redemptions", t.Count(cur.Redemptions), cur.Redemptions, prev.Redemptions),
			figure("Discount given", t.Amount(&cur.Discount), cur.Discount, prev.Discount),
			figure("Order revenue with a coupon", t.Amount(&cur.Revenue), cur.Revenue, prev.Revenue),
			figure("Customers", t.Count(cur.Customers), cur.Customers, prev.Customers),
		}})
	}
	active, err := h.Store.CountActivePromotions(ctx, now)
	if err != nil {
		return err
	}
	v.ActivePromotions = t.Count(active)
	if active, err = h.Store.ActiveCoupons(ctx, now); err != nil {
		return err
	}
	v.ActiveCoupons = t.Count(active)

	chart, from, err := h.chart(ctx, t, c.QueryParam("chart"), now, midnight)
	if err != nil {
		return err
	}
	v.Chart = chart
	if v.Top, err = h.top(ctx, t, from, now); err != nil {
		return err
	}
	running, err := h.Store.ListBatches(ctx, models.BatchFilter{Status: models.BatchRunning, Limit: 10})
	if err != nil {
		return err
	}
	for _, b := range running.Batches {
		v.Batches = append(v.Batches, batchRow(t, b))
	}
	audit, err := h.Store.ListAudit(ctx, models.AuditFilter{Limit: 8})
	if err != nil {
		return err
	}
	for _, e := range audit.Events {
		v.Changes = append(v.Changes, views.AuditRow{At: t.Time(e.At), Actor: e.Actor, Action: e.Action, Entity: e.Entity, EntityID: e.EntityID, Summary: e.Summary})
	}
	if wantsFragment(c, views.DashboardChartID) {
		return Render(c, http.StatusOK, views.DashboardChart(v))
	}
	p := page(c, "Dashboard", views.SectionDashboard)
	p.Charts = true
	return Render(c, http.StatusOK, views.DashboardPage(p, v))
}

// chart is the chart for the range named (30 days by default) and where
// it starts: the store's days, or today's hours.
func (h *Dashboard) chart(ctx context.Context, t Terms, rng string, now, midnight time.Time) (views.ChartView, time.Time, error) {
	loc := now.Location()
	v := views.ChartView{Range: rng, Ranges: []views.Choice{{Value: chart30, Label: "30 days"}, {Value: chart90, Label: "90 days"}, {Value: chartToday, Label: "Today by the hour"}}}
	var from time.Time
	var points []time.Time
	switch rng {
	case chartToday:
		from = midnight
		for t := midnight; !t.After(now); t = t.Add(time.Hour) {
			points = append(points, t.In(loc))
		}
		v.Title, v.Unit = "Redemptions and discount by the hour, today", "Hour"
	case chart90:
		from = midnight.AddDate(0, 0, -89)
		points = days(from, midnight)
		v.Title, v.Unit = "Redemptions and discount by day, the last 90 days", "Day"
	default:
		v.Range = chart30
		from = midnight.AddDate(0, 0, -29)
		points = days(from, midnight)
		v.Title, v.Unit = "Redemptions and discount by day, the last 30 days", "Day"
	}
	var err error
	if v.Points, err = chartPoints(ctx, t, h.Store, models.ScopeAll, "", points, models.SlotEnd(now), rng == chartToday); err != nil {
		return views.ChartView{}, time.Time{}, err
	}
	return v, from, nil
}

// chartPoints adds up the totals of one scope and key for each point,
// a day or an hour starting at starts[i] in the store's zone and ending
// where the next starts (the last at end), and labels it by its day, or
// by its hour when hours is set. A day of 23 or 25 hours is one point.
func chartPoints(ctx context.Context, terms Terms, store interface {
	TotalsBySlot(ctx context.Context, scope, key string, from, to time.Time) ([]models.SlotTotals, error)
}, scope, key string, starts []time.Time, end time.Time, hours bool) ([]views.ChartPoint, error) {
	if len(starts) == 0 {
		return nil, nil
	}
	slots, err := store.TotalsBySlot(ctx, scope, key, starts[0], end)
	if err != nil {
		return nil, err
	}
	sums := make([]models.Totals, len(starts))
	i := 0
	for _, sl := range slots {
		at := models.SlotStart(sl.Slot)
		for i+1 < len(starts) && !starts[i+1].After(at) {
			i++
		}
		sums[i].Redemptions += sl.Redemptions
		sums[i].Discount += sl.Discount
	}
	points := make([]views.ChartPoint, len(starts))
	for i, t := range starts {
		label := t.Format("Mon 2 Jan")
		if hours {
			label = t.Format("15:04")
		}
		points[i] = views.ChartPoint{X: t.Unix(), Label: label, Redemptions: sums[i].Redemptions, RedemptionsText: terms.Count(sums[i].Redemptions),
			DiscountValue: models.Money(sums[i].Discount).Format(terms.Decimals()), DiscountText: terms.Amount(&sums[i].Discount)}
	}
	return points, nil
}

// days are the starts of the days from from's to to's, in from's zone.
func days(from, to time.Time) []time.Time {
	var out []time.Time
	for d := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, from.Location()); !d.After(to); d = d.AddDate(0, 0, 1) {
		out = append(out, d)
	}
	return out
}

// top is the top promotions, UTM sources and campaigns by redemptions
// and by discount from from to now.
func (h *Dashboard) top(ctx context.Context, t Terms, from, now time.Time) ([]views.TopList, error) {
	var lists []views.TopList
	for _, scope := range []struct{ scope, noun string }{{models.ScopePromotion, "promotions"}, {models.ScopeUTMSource, "UTM sources"}, {models.ScopeUTMCampaign, "UTM campaigns"}} {
		byRedemptions, byDiscount, err := h.Store.TopTotals(ctx, scope.scope, from, models.SlotEnd(now), topLimit)
		if err != nil {
			return nil, err
		}
		for i, rows := range [][]models.KeyTotals{byRedemptions, byDiscount} {
			list := views.TopList{Title: "Top " + scope.noun + " by redemptions", ID: "top-" + scope.scope + "-redemptions"}
			if i == 1 {
				list.Title, list.ID = "Top "+scope.noun+" by discount", "top-"+scope.scope+"-discount"
			}
			names, err := h.names(ctx, scope.scope, rows)
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				row := views.TopRow{Label: r.Key, Redemptions: t.Count(r.Redemptions), Discount: t.Amount(&r.Discount)}
				switch scope.scope {
				case models.ScopePromotion:
					row.Label, row.URL = names[r.Key], "/promotions/"+r.Key
				case models.ScopeUTMSource:
					row.URL = redemptionsQuery(views.RedemptionsURL, views.RedemptionFilters{UTMSource: r.Key}, "")
				case models.ScopeUTMCampaign:
					row.URL = redemptionsQuery(views.RedemptionsURL, views.RedemptionFilters{UTMCampaign: r.Key}, "")
				}
				list.Rows = append(list.Rows, row)
			}
			lists = append(lists, list)
		}
	}
	return lists, nil
}

// names are the names of the promotions a top list names by id.
func (h *Dashboard) names(ctx context.Context, scope string, rows []models.KeyTotals) (map[string]string, error) {
	if scope != models.ScopePromotion || len(rows) == 0 {
		return nil, nil
	}
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		if id, err := strconv.ParseInt(r.Key, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	ps, err := h.Store.PromotionsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(ps))
	for _, p := range ps {
		names[strconv.FormatInt(p.ID, 10)] = p.Name
	}
	for _, r := range rows {
		if names[r.Key] == "" {
			names[r.Key] = "Promotion " + r.Key
		}
	}
	return names, nil
}

// figure is one figure beside the one of the period before: the change
// in per cent, or "new" when the period before had none.
func figure(label, value string, cur, prev int64) views.Figure {
	f := views.Figure{Label: label, Value: value, Direction: "same", Change: "no change"}
	switch {
	case cur > prev:
		f.Direction = "up"
	case cur < prev:
		f.Direction = "down"
	}
	switch {
	case cur == prev:
	case prev == 0:
		f.Change = "new"
	default:
		pct := float64(cur-prev) * 100 / float64(prev)
		f.Change = fmt.Sprintf("%+.0f %%", pct)
	}
	return f
}
