// Package httpx holds the HTTP helpers that every handler package shares:
// reading JSON bodies within the body limit, path ids, query and form
// numbers and amounts, Retry-After, streaming CSV, and the problem that
// the server's error handler hands to each URL space's error encoder.
package httpx

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

// Deref is *s, or "" for nil.
func Deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// FormInt reads a whole number from a form field; blank is 0. A bad value
// is recorded in verr under the field's name.
func FormInt(verr *models.ValidationError, field, raw string) int {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return 0
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		verr.Add(field, "must be a whole number")
		return 0
	}
	return n
}

// SetRetryAfter tells the client to wait d, rounded up to whole seconds,
// in a Retry-After header, and returns those seconds for a message.
func SetRetryAfter(c echo.Context, d time.Duration) int {
	secs := int(math.Ceil(d.Seconds()))
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	return secs
}

// PathID reads the numeric :id of the path; anything else names no
// entity, so it is a 404.
func PathID(c echo.Context, entity string) (int64, error) {
	raw := c.Param("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		return 0, &models.NotFoundError{Entity: entity, Key: raw}
	}
	return id, nil
}

// MergeInvalid adds the field errors of err, when it is a
// *models.ValidationError, to verr; other errors are left to the caller.
func MergeInvalid(verr *models.ValidationError, err error) {
	if vr := (*models.ValidationError)(nil); errors.As(err, &vr) {
		verr.Merge(models.NoItem, vr)
	}
}

// FormAmount reads an optional amount of minor units (500 means 5.00)
// from a form field or query parameter; blank is nil. A bad value is
// recorded in verr under field.
func FormAmount(verr *models.ValidationError, field, raw string) *int64 {
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	m, err := models.ParseMoney(raw, 0)
	if err != nil {
		verr.Add(field, "must be a whole amount in minor units (500 means 5.00), or left out")
		return nil
	}
	return new(int64(m))
}
