package handlers

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// maxChartDays bounds a results chart: a longer period is charted over
// its last days.
const maxChartDays = 90

// dayLayout is a day as a date input sends it.
const dayLayout = "2006-01-02"

// totalsReader is what a results section reads.
type totalsReader interface {
	TotalsBetween(ctx context.Context, scope, key string, from, to time.Time) (models.Totals, error)
	TotalsBySlot(ctx context.Context, scope, key string, from, to time.Time) ([]models.SlotTotals, error)
}

// resultsOf names whose results a results section shows: the totals'
// scope and key, when it began (the default first day), the page the
// period form goes to, whether distinct customers are counted for the
// scope, and the figures that lead whatever the period (codes issued,
// budget left).
type resultsOf struct {
	scope, key string
	began      time.Time
	url        string
	customers  bool
	lead       []views.Figure
	trail      []views.Figure
}

// promotionResults are p's results over the period the query names (from
// and to, days in the store's zone, both included), since p began unless
// it says otherwise; days that cannot be read are in the answer's Errors
// and its status is 422.
func promotionResults(c echo.Context, store totalsReader, p models.Promotion, now time.Time) (views.PromotionResults, int, error) {
	began := p.CreatedAt
	if p.BeginsAt != nil && p.BeginsAt.Before(began) {
		began = *p.BeginsAt
	}
	of := resultsOf{scope: models.ScopePromotion, key: itoa(int(p.ID)), began: began, url: views.PromotionURL(p.ID), customers: true}
	if p.MaxUsage > 0 {
		terms := TermsOf(c)
		left := max(int64(p.MaxUsage-p.Uses), 0)
		of.trail = append(of.trail, views.Figure{Label: "Uses left now", Value: terms.Count(left) + " of " + terms.Count(int64(p.MaxUsage))})
	}
	return periodResults(c, store, of, now)
}

// codeFigures are the figures of a pool of codes now: how many were made
// (or issued), how many hold a live use, and the rate between them.
func codeFigures(t Terms, madeLabel string, made, redeemed int64) []views.Figure {
	rate := "—"
	if made > 0 {
		// Small rates keep two decimals, so that 7 of 5,000 is not 0.1 %.
		pct := float64(redeemed) * 100 / float64(made)
		digits := 1
		if pct < 1 {
			digits = 2
		}
		rate = strconv.FormatFloat(pct, 'f', digits, 64) + " %"
	}
	return []views.Figure{
		{Label: madeLabel, Value: t.Count(made)},
		{Label: "Codes redeemed", Value: t.Count(redeemed)},
		{Label: "Redemption rate", Value: rate},
	}
}

// periodResults are the results of of over the period the query names
// (from and to, days in the store's zone, both included), since of began
// unless it says otherwise; days that cannot be read are in the answer's
// Errors and its status is 422.
func periodResults(c echo.Context, store totalsReader, of resultsOf, now time.Time) (views.PromotionResults, int, error) {
	terms := TermsOf(c)
	loc := terms.Zone()
	now = now.In(loc)
	v := views.PromotionResults{URL: of.url, Zone: loc.String(), From: c.QueryParam("from"), To: c.QueryParam("to"), Lead: of.lead}
	if v.From == "" {
		// Since it began, and never after today, which a start in the
		// future would be.
		v.From = min(of.began.In(loc).Format(dayLayout), now.Format(dayLayout))
	}
	if v.To == "" {
		v.To = now.Format(dayLayout)
	}
	var verr models.ValidationError
	from, err := time.ParseInLocation(dayLayout, v.From, loc)
	if err != nil {
		verr.Add("from", "must be a day, such as "+now.Format(dayLayout))
	}
	to, err := time.ParseInLocation(dayLayout, v.To, loc)
	if err != nil {
		verr.Add("to", "must be a day, such as "+now.Format(dayLayout))
	} else if verr.Err() == nil && to.Before(from) {
		verr.Add("to", "must be on or after the first day")
	}
	if vr := verr.Err(); vr != nil {
		v.Errors = fieldMessages(vr.(*models.ValidationError), nil)
		return v, http.StatusUnprocessableEntity, nil
	}
	end := to.AddDate(0, 0, 1)
	ctx := c.Request().Context()
	t, err := store.TotalsBetween(ctx, of.scope, of.key, from, end)
	if err != nil {
		return views.PromotionResults{}, 0, err
	}
	average := "—"
	if t.Redemptions > 0 {
		avg := t.Discount / t.Redemptions
		average = terms.Amount(&avg)
	}
	v.Figures = []views.Figure{
		{Label: "Redemptions", Value: terms.Count(t.Redemptions)},
		{Label: "Discount given", Value: terms.Amount(&t.Discount)},
		{Label: "Order revenue", Value: terms.Amount(&t.Revenue)},
	}
	if of.customers {
		v.Figures = append(v.Figures, views.Figure{Label: "Customers", Value: terms.Count(t.Customers)})
	}
	v.Figures = append(v.Figures, views.Figure{Label: "Average discount per order", Value: average})
	v.Figures = append(v.Figures, of.trail...)
	chartFrom := from
	if cut := to.AddDate(0, 0, -(maxChartDays - 1)); cut.After(chartFrom) {
		chartFrom = cut
	}
	v.Chart = views.ChartView{Title: "Redemptions and discount by day", Unit: "Day"}
	if v.Chart.Points, err = chartPoints(ctx, terms, store, of.scope, of.key, days(chartFrom, to), end, false); err != nil {
		return views.PromotionResults{}, 0, err
	}
	return v, http.StatusOK, nil
}
