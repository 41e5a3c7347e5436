package httpx

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

// exportColumns are the columns of every coupon CSV, in order.
var exportColumns = []string{"code", "status", "uses", "max_uses", "issued_to", "created_at"}

// csvBuffer is how much of a CSV is written at a time.
const csvBuffer = 64 << 10

// streamCoupons answers 200 with a CSV attachment named filename: the header
// row, then a row per coupon that each hands over.
func streamCoupons(c echo.Context, filename string, each func(fn func(models.ExportRow) error) error) error {
	return StreamRows(c, filename, exportColumns, each, appendExportRow)
}

// appendExportRow appends a coupon's row. Rows are written by hand: of
// their cells only the customer's may need quoting, and encoding/csv
// would cost more than the query.
func appendExportRow(line []byte, r models.ExportRow) []byte {
	line = append(line, SafeCell(r.Code)...)
	if r.Archived {
		line = append(line, ",archived,"...)
	} else {
		line = append(line, ",active,"...)
	}
	line = strconv.AppendInt(line, int64(r.Uses), 10)
	line = append(line, ',')
	line = strconv.AppendInt(line, int64(r.MaxUsage), 10)
	line = append(line, ',')
	if r.CustomerID != nil {
		line = AppendCSVCell(line, SafeCell(*r.CustomerID))
	}
	line = append(line, ',')
	return r.CreatedAt.UTC().AppendFormat(line, time.RFC3339)
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

// BatchCSV streams batch id's codes, answering 404 before the file when
// there is no such batch.
func BatchCSV(c echo.Context, store interface {
	Batch(ctx context.Context, id int64) (models.Batch, error)
	EachBatchCoupon(ctx context.Context, id int64, fn func(models.ExportRow) error) error
}, id int64) error {
	ctx := c.Request().Context()
	if _, err := store.Batch(ctx, id); err != nil {
		return err
	}
	return streamCoupons(c, fmt.Sprintf("coupond-batch-%d.csv", id), func(fn func(models.ExportRow) error) error {
		return store.EachBatchCoupon(ctx, id, fn)
	})
}

// CouponsCSV streams the coupons that the query's list filters select.
func CouponsCSV(c echo.Context, store interface {
	EachCoupon(ctx context.Context, f models.CouponFilter, fn func(models.Coupon) error) error
}) error {
	f, err := CouponFilterOf(c.QueryParams())
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	return streamCoupons(c, "coupond-coupons.csv", func(fn func(models.ExportRow) error) error {
		return store.EachCoupon(ctx, f, func(cp models.Coupon) error { return fn(models.ExportRowOf(cp)) })
	})
}

// Coupon list statuses, as the console's filter and the CSV export name
// them.
const (
	statusAll      = "all"
	statusActive   = "active"
	statusArchived = "archived"
)

// CouponFilterOf reads the coupon list's filters from a query: q (a code
// prefix), utmSource, utmCampaign, state (one of models.CouponStates) and
// status (all, active or archived: whether archived).
func CouponFilterOf(q url.Values) (models.CouponFilter, error) {
	f := models.CouponFilter{Prefix: q.Get("q"), UTMSource: q.Get("utmSource"), UTMCampaign: q.Get("utmCampaign"), State: q.Get("state")}
	if f.State != "" && !models.ValidCouponState(f.State) {
		return f, models.Invalid(models.FieldState, "must be one of "+strings.Join(models.CouponStates, ", "))
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
