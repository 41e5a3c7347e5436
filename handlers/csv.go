package handlers

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"net/http"
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

// streamCSV answers 200 with a CSV attachment named filename: the header
// row, then a row per coupon that each hands over.
func streamCSV(c echo.Context, filename string, each func(fn func(models.ExportRow) error) error) error {
	return streamRows(c, filename, exportColumns, each, appendExportRow)
}

// appendExportRow appends a coupon's row. Rows are written by hand: of
// their cells only the customer's may need quoting, and encoding/csv
// would cost more than the query.
func appendExportRow(line []byte, r models.ExportRow) []byte {
	line = append(line, safeCell(r.Code)...)
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
		line = appendCSVCell(line, safeCell(*r.CustomerID))
	}
	line = append(line, ',')
	return r.CreatedAt.UTC().AppendFormat(line, time.RFC3339)
}

// seriesColumns are the columns of a series' codes as CSV, in order.
var seriesColumns = []string{"code", "customer_id", "issued_at", "uses", "max_uses", "valid_till", "state"}

// streamSeriesCSV answers 200 with a CSV attachment named filename: the
// header row, then a row per code that each hands over, with its state
// at now.
func streamSeriesCSV(c echo.Context, filename string, now time.Time, each func(fn func(models.IssuedCode) error) error) error {
	return streamRows(c, filename, seriesColumns, each, func(line []byte, ic models.IssuedCode) []byte {
		line = append(line, safeCell(ic.Coupon.Code)...)
		line = append(line, ',')
		line = appendCSVCell(line, safeCell(ic.CustomerID))
		line = append(line, ',')
		line = ic.IssuedAt.UTC().AppendFormat(line, time.RFC3339)
		line = append(line, ',')
		line = strconv.AppendInt(line, int64(ic.Coupon.Uses), 10)
		line = append(line, ',')
		line = strconv.AppendInt(line, int64(ic.Coupon.MaxUsage), 10)
		line = append(line, ',')
		if ic.ValidTill != nil {
			line = ic.ValidTill.UTC().AppendFormat(line, time.RFC3339)
		}
		line = append(line, ',')
		return append(line, ic.State(now)...)
	})
}

// streamRows answers 200 with a CSV attachment named filename: the
// header row, then the row that appendRow writes for each item each hands
// over, written as they come so memory does not grow with the file. An
// error once rows have gone out cannot change the status; it ends the
// file short and is returned for the log.
func streamRows[T any](c echo.Context, filename string, header []string, each func(fn func(T) error) error, appendRow func([]byte, T) []byte) error {
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

// appendCSVCell appends s as one CSV cell, quoted (and its quotes
// doubled) when it holds a comma, a quote or a line break.
func appendCSVCell(dst []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	dst = append(dst, strings.ReplaceAll(s, `"`, `""`)...)
	return append(dst, '"')
}

// safeCell keeps a spreadsheet from reading a cell as a formula: one that
// starts with =, +, -, @, a tab or a carriage return gets a leading '.
func safeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
