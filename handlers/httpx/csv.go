package httpx

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

// exportColumns are the columns of every coupon CSV, in order.
var exportColumns = []string{"code", "status", "uses", "max_uses", "max_uses_per_customer", "utm_source", "utm_campaign",
	"promotions", "discount", "valid_from", "valid_until", "customer", "created_at"}

// ExportTerms say how a coupon CSV writes what depends on who reads it:
// times (the console's in the store's zone, the API's in UTC) and a
// promotion's discount.
type ExportTerms struct {
	Time     func(time.Time) string
	Discount func(models.Promotion) string
}

// APIExportTerms write times as RFC 3339 in UTC and discounts as the
// API's values: "10 %", "500 off" in minor units, with a cap.
var APIExportTerms = ExportTerms{
	Time: func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	Discount: func(p models.Promotion) string {
		d := models.FormatDiscountValue(p.DiscountType, p.DiscountValue)
		if p.DiscountType == models.DiscountPercent {
			d += " %"
		} else {
			d += " off"
		}
		if p.DiscountCap != nil {
			d += ", at most " + strconv.FormatInt(*p.DiscountCap, 10)
		}
		return d
	},
}

// csvBuffer is how much of a CSV is written at a time.
const csvBuffer = 64 << 10

// reachKey is what a coupon reaches promotions by.
type reachKey struct {
	promotion        int64
	source, campaign string
}

// reached is what an export writes of the promotions one key reaches.
type reached struct {
	promotions []models.Promotion
	names      string
	discounts  string
	from       string
	until      *time.Time
}

// couponExport writes the rows of a coupon CSV, judging each coupon's
// state at now by the active promotions, read once; what a key reaches
// is worked out once per key.
type couponExport struct {
	terms  ExportTerms
	now    time.Time
	active []models.Promotion
	byKey  map[reachKey]*reached
}

func (e *couponExport) reach(c models.Coupon) *reached {
	k := reachKey{}
	if c.PromotionID != nil {
		k.promotion = *c.PromotionID
	}
	if c.UTMSource != nil {
		k.source = strings.ToLower(*c.UTMSource)
	}
	if c.UTMCampaign != nil {
		k.campaign = strings.ToLower(*c.UTMCampaign)
	}
	if r, ok := e.byKey[k]; ok {
		return r
	}
	r := &reached{}
	var names, discounts []string
	// Valid from the earliest start and until the latest end of the
	// promotions it reaches; one without a start (or end) leaves that
	// side open.
	var from *time.Time
	openStart, openEnd := false, false
	for _, p := range e.active {
		if !p.Reaches(c) {
			continue
		}
		r.promotions = append(r.promotions, p)
		names = append(names, p.Name)
		discounts = append(discounts, e.terms.Discount(p))
		if p.BeginsAt == nil {
			openStart = true
		} else if from == nil || p.BeginsAt.Before(*from) {
			from = p.BeginsAt
		}
		if p.EndsAt == nil {
			openEnd = true
		} else if r.until == nil || p.EndsAt.After(*r.until) {
			r.until = p.EndsAt
		}
	}
	if from != nil && !openStart {
		r.from = e.terms.Time(*from)
	}
	if openEnd {
		r.until = nil
	}
	r.names, r.discounts = strings.Join(names, "; "), strings.Join(discounts, "; ")
	e.byKey[k] = r
	return r
}

// appendRow appends c's row. Rows are written by hand (encoding/csv
// would cost more than the query); every free-text cell is made safe
// from spreadsheet formulas and quoted where it must be.
func (e *couponExport) appendRow(line []byte, c models.Coupon) []byte {
	r := e.reach(c)
	line = append(line, SafeCell(c.Code)...)
	line = append(line, ',')
	line = append(line, models.CouponState(c, r.promotions, e.now)...)
	line = append(line, ',')
	line = strconv.AppendInt(line, int64(c.Uses), 10)
	line = append(line, ',')
	line = strconv.AppendInt(line, int64(c.MaxUsage), 10)
	line = append(line, ',')
	line = strconv.AppendInt(line, int64(c.MaxUsagePerClient), 10)
	line = append(line, ',')
	if c.UTMSource != nil {
		line = AppendCSVCell(line, SafeCell(*c.UTMSource))
	}
	line = append(line, ',')
	if c.UTMCampaign != nil {
		line = AppendCSVCell(line, SafeCell(*c.UTMCampaign))
	}
	line = append(line, ',')
	line = AppendCSVCell(line, SafeCell(r.names))
	line = append(line, ',')
	line = AppendCSVCell(line, SafeCell(r.discounts))
	line = append(line, ',')
	line = append(line, r.from...)
	line = append(line, ',')
	until := r.until
	if c.ExpiresAt != nil && (until == nil || c.ExpiresAt.Before(*until)) {
		until = c.ExpiresAt
	}
	if until != nil {
		line = append(line, e.terms.Time(*until)...)
	}
	line = append(line, ',')
	if c.CustomerID != nil {
		line = AppendCSVCell(line, SafeCell(*c.CustomerID))
	}
	line = append(line, ',')
	return append(line, e.terms.Time(c.CreatedAt)...)
}

// StreamCoupons answers 200 with a CSV attachment named filename: the
// header row, then a row per coupon that each hands over, each judged at
// now by the active promotions.
func StreamCoupons(c echo.Context, filename string, terms ExportTerms, now time.Time, active []models.Promotion, each func(fn func(models.Coupon) error) error) error {
	e := &couponExport{terms: terms, now: now, active: active, byKey: map[reachKey]*reached{}}
	return StreamRows(c, filename, exportColumns, each, e.appendRow)
}

// StreamRows answers 200 with a CSV attachment named filename: the
// header row, then the row that appendRow writes for each item each hands
// over, written as they come so memory does not grow with the file. An
// error once rows have gone out cannot change the status; it ends the
// file short and is returned for the log.
func StreamRows[T any](c echo.Context, filename string, header []string, each func(fn func(T) error) error, appendRow func([]byte, T) []byte) error {
	hdr := c.Response().Header()
	hdr.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	hdr.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename=%q`, filename))
	hdr.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	buf := bufio.NewWriterSize(c.Response(), csvBuffer)
	w := csv.NewWriter(buf)
	if err := w.Write(header); err != nil {
		return err
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	line := make([]byte, 0, 256)
	err := each(func(item T) error {
		line = append(appendRow(line[:0], item), '\n')
		_, err := buf.Write(line)
		return err
	})
	if ferr := buf.Flush(); err == nil {
		err = ferr
	}
	return err
}

// AppendCSVCell appends s as one CSV cell, quoted (and its quotes
// doubled) when it holds a comma, a quote or a line break.
func AppendCSVCell(dst []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	dst = append(dst, strings.ReplaceAll(s, `"`, `""`)...)
	return append(dst, '"')
}

// SafeCell keeps a spreadsheet from reading a cell as a formula: one that
// starts with =, +, -, @, a tab or a carriage return gets a leading '.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// CouponExportStore is what the coupon CSVs read.
type CouponExportStore interface {
	ActivePromotions(ctx context.Context) ([]models.Promotion, error)
}

// BatchCSV streams batch id's codes, answering 404 before the file when
// there is no such batch.
func BatchCSV(c echo.Context, store interface {
	CouponExportStore
	Batch(ctx context.Context, id int64) (models.Batch, error)
	EachBatchCoupon(ctx context.Context, id int64, fn func(models.Coupon) error) error
}, id int64, terms ExportTerms, now time.Time) error {
	ctx := c.Request().Context()
	if _, err := store.Batch(ctx, id); err != nil {
		return err
	}
	active, err := store.ActivePromotions(ctx)
	if err != nil {
		return err
	}
	return StreamCoupons(c, fmt.Sprintf("coupond-batch-%d.csv", id), terms, now, active, func(fn func(models.Coupon) error) error {
		return store.EachBatchCoupon(ctx, id, fn)
	})
}

// SeriesCSV streams every code series id has issued, in the order they
// were issued, answering 404 before the file when there is no such
// series.
func SeriesCSV(c echo.Context, store interface {
	CouponExportStore
	Series(ctx context.Context, id int64) (models.Series, error)
	EachSeriesCode(ctx context.Context, id int64, fn func(models.IssuedCode) error) error
}, id int64, terms ExportTerms, now time.Time) error {
	ctx := c.Request().Context()
	if _, err := store.Series(ctx, id); err != nil {
		return err
	}
	active, err := store.ActivePromotions(ctx)
	if err != nil {
		return err
	}
	return StreamCoupons(c, fmt.Sprintf("coupond-series-%d.csv", id), terms, now, active, func(fn func(models.Coupon) error) error {
		return store.EachSeriesCode(ctx, id, func(ic models.IssuedCode) error { return fn(ic.Coupon) })
	})
}

// CouponsCSV streams the coupons that the query's list filters select.
func CouponsCSV(c echo.Context, store interface {
	CouponExportStore
	EachCoupon(ctx context.Context, f models.CouponFilter, fn func(models.Coupon) error) error
}, terms ExportTerms, now time.Time) error {
	f, err := CouponFilterOf(c.QueryParams())
	if err != nil {
		return err
	}
	f.At = now
	ctx := c.Request().Context()
	active, err := store.ActivePromotions(ctx)
	if err != nil {
		return err
	}
	return StreamCoupons(c, "coupond-coupons.csv", terms, now, active, func(fn func(models.Coupon) error) error {
		return store.EachCoupon(ctx, f, fn)
	})
}

// Coupon list statuses, as the console's filter and the CSV export name
// them.
const (
	statusAll      = "all"
	statusActive   = "active"
	statusArchived = "archived"
)

// CouponFilterOf reads the coupon list's filters from a query: q (any
// part of a code), utmSource and utmCampaign (the start of a tag), state
// (one of models.CouponStates), status (all, active or archived: whether
// archived) and sort (one of models.CouponSorts, which the store checks).
func CouponFilterOf(q url.Values) (models.CouponFilter, error) {
	f := models.CouponFilter{Search: q.Get("q"), UTMSource: q.Get("utmSource"), UTMCampaign: q.Get("utmCampaign"), TagPrefix: true, State: q.Get("state"), Sort: q.Get("sort")}
	if f.State != "" && !models.ValidCouponState(f.State) {
		return f, models.Invalid(models.FieldState, "must be one of "+strings.Join(models.CouponStates, ", "))
	}
	// Checked here, before the first row is written: the store would
	// refuse it only once the answer has begun.
	if f.Sort != "" && !slices.Contains(models.CouponSorts, f.Sort) {
		return f, models.Invalid(models.FieldSort, "must be one of "+strings.Join(models.CouponSorts, ", "))
	}
	switch q.Get("status") {
	case "", statusAll:
	case statusActive:
		f.Archived = new(false)
	case statusArchived:
		f.Archived = new(true)
	default:
		return f, models.Invalid(models.FieldStatus, "must be all, active or archived")
	}
	return f, nil
}
