package httpx

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

// Redemption list states, as the console's filter and the API name them.
const (
	RedemptionsAll       = "all"
	RedemptionsLive      = "live"
	RedemptionsCancelled = "cancelled"
)

// dateLayout is a day as a date input sends it.
const dateLayout = "2006-01-02"

// RedemptionFilterOf reads the redemption list's filters from a query:
// code, customerId, promotionId, utmSource, utmCampaign, status (all,
// live or cancelled), and the period from and to, each a day
// (2026-12-01, a day in zone: from its start, to its end included) or an
// instant with its offset (from included, to left out). The API reads
// days in UTC, the console in the store's zone. Every bad value is a
// *models.ValidationError naming its parameter.
func RedemptionFilterOf(q url.Values, zone *time.Location) (models.RedemptionFilter, error) {
	var verr models.ValidationError
	f := models.RedemptionFilter{Code: strings.TrimSpace(q.Get("code")), CustomerID: strings.TrimSpace(q.Get("customerId")),
		UTMSource: strings.TrimSpace(q.Get("utmSource")), UTMCampaign: strings.TrimSpace(q.Get("utmCampaign"))}
	if raw := strings.TrimSpace(q.Get("promotionId")); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id < 1 {
			verr.Add(models.FieldPromotionID, "must be a promotion's id, a whole number from 1")
		}
		f.PromotionID = id
	}
	switch q.Get("status") {
	case "", RedemptionsAll:
	case RedemptionsLive:
		f.Cancelled = new(false)
	case RedemptionsCancelled:
		f.Cancelled = new(true)
	default:
		verr.Add(models.FieldStatus, "must be all, live or cancelled")
	}
	f.From = periodBound(&verr, models.FieldFrom, q.Get("from"), zone, false)
	f.To = periodBound(&verr, models.FieldTo, q.Get("to"), zone, true)
	if verr.Err() == nil {
		MergeInvalid(&verr, f.Validate())
	}
	return f, verr.Err()
}

// periodBound reads one end of a period: a day or an instant; "" is open.
// A day is read in zone; one that ends a period takes the whole day in,
// however long daylight saving made it.
func periodBound(verr *models.ValidationError, field, raw string, zone *time.Location, end bool) time.Time {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return time.Time{}
	}
	if d, err := time.ParseInLocation(dateLayout, raw, zone); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d.UTC()
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		verr.Add(field, "must be a day such as 2026-12-01 or a time such as 2026-12-01T09:30:00Z")
		return time.Time{}
	}
	return t.UTC()
}

// redemptionColumns are the columns of the redemptions CSV, in order.
// Amounts are minor units, as the API writes them.
var redemptionColumns = []string{"redeemed_at", "code", "customer_id", "order_id", "items", "order_amount", "discount", "promotions", "cancelled_at"}

// RedemptionsCSV answers 200 with every redemption f selects as a CSV
// attachment, newest first, read a page at a time. Free-text cells are
// formula-safe.
func RedemptionsCSV(c echo.Context, store interface {
	EachRedemption(ctx context.Context, f models.RedemptionFilter, fn func(models.Redemption) error) error
}, f models.RedemptionFilter) error {
	ctx := c.Request().Context()
	return StreamRows(c, "coupond-redemptions.csv", redemptionColumns, func(fn func(models.Redemption) error) error {
		return store.EachRedemption(ctx, f, fn)
	}, appendRedemptionRow)
}

// appendRedemptionRow appends a redemption's row.
func appendRedemptionRow(line []byte, r models.Redemption) []byte {
	line = r.CreatedAt.UTC().AppendFormat(line, time.RFC3339)
	line = append(line, ',')
	line = AppendCSVCell(line, SafeCell(r.Code))
	line = append(line, ',')
	line = AppendCSVCell(line, SafeCell(r.CustomerID))
	line = append(line, ',')
	line = AppendCSVCell(line, SafeCell(r.OrderID))
	line = append(line, ',')
	line = strconv.AppendInt(line, int64(r.Items), 10)
	line = append(line, ',')
	if r.OrderAmount != nil {
		line = append(line, models.Money(*r.OrderAmount).Format(0)...)
	}
	line = append(line, ',')
	if r.Discount != nil {
		line = append(line, models.Money(*r.Discount).Format(0)...)
	}
	line = append(line, ',')
	names := make([]string, len(r.Promotions))
	for i, p := range r.Promotions {
		names[i] = p.Name
	}
	line = AppendCSVCell(line, SafeCell(strings.Join(names, "; ")))
	line = append(line, ',')
	if r.CancelledAt != nil {
		line = r.CancelledAt.UTC().AppendFormat(line, time.RFC3339)
	}
	return line
}
