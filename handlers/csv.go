package handlers

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

// exportColumns are the columns of every coupon CSV, in order.
var exportColumns = []string{"code", "status", "uses", "max_uses", "issued_to", "created_at"}

// csvBuffer is how much of a CSV is written at a time.
const csvBuffer = 64 << 10

// streamCSV answers 200 with a CSV attachment named filename: the header
// row, then a row per coupon that each hands over, written as they come
// so memory does not grow with the file. An error once rows have gone
// out cannot change the status; it ends the file short and is returned
// for the log.
func streamCSV(c echo.Context, filename string, each func(fn func(models.ExportRow) error) error) error {
	hdr := c.Response().Header()
	hdr.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	hdr.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename=%q`, filename))
	hdr.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	buf := bufio.NewWriterSize(c.Response(), csvBuffer)
	w := csv.NewWriter(buf)
	if err := w.Write(exportColumns); err != nil {
		return err
	}
	row := make([]string, len(exportColumns))
	var num [3][20]byte
	err := each(func(r models.ExportRow) error {
		row[0] = safeCell(r.Code)
		row[1] = "active"
		if r.Archived {
			row[1] = "archived"
		}
		row[2] = string(strconv.AppendInt(num[0][:0], int64(r.Uses), 10))
		row[3] = string(strconv.AppendInt(num[1][:0], int64(r.MaxUsage), 10))
		row[4] = ""
		if r.CustomerID != nil {
			row[4] = safeCell(*r.CustomerID)
		}
		row[5] = r.CreatedAt.UTC().Format(time.RFC3339)
		return w.Write(row)
	})
	w.Flush()
	if err == nil {
		err = w.Error()
	}
	if ferr := buf.Flush(); err == nil {
		err = ferr
	}
	return err
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
