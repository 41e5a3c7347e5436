package models

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ErrNotFound is returned when the entity asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrDuplicateCode is returned when a coupon code is already taken,
// compared case-insensitively.
var ErrDuplicateCode = errors.New("coupon code already exists")

// NotFoundError names what was looked for. It matches ErrNotFound.
type NotFoundError struct {
	Entity string
	Key    string
}

// Error says what does not exist, in words fit for a user.
func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no %s %q exists", e.Entity, e.Key)
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// ErrActiveCap is matched by an *ActiveCapError.
var ErrActiveCap = errors.New("active coupon cap reached")

// ValidationError reports invalid input field by field. Fields maps the
// field name as the client sent it (for example "couponCode" or
// "[2].couponConfiguration.maxUsage") to a message a person can act on.
type ValidationError struct {
	Fields map[string]string
}

// Error lists the fields in a stable order.
func (e *ValidationError) Error() string { return "invalid input: " + e.Summary() }

// Summary is every "field: message" in field order, joined by "; ".
func (e *ValidationError) Summary() string {
	keys := slices.Sorted(maps.Keys(e.Fields))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+e.Fields[k])
	}
	return strings.Join(parts, "; ")
}

// Add records a message for field unless one is already there, so the
// first problem found for a field is the one shown.
func (e *ValidationError) Add(field, msg string) {
	if e.Fields == nil {
		e.Fields = map[string]string{}
	}
	if _, ok := e.Fields[field]; !ok {
		e.Fields[field] = msg
	}
}

// Merge adds every field of other under prefix.
func (e *ValidationError) Merge(prefix string, other *ValidationError) {
	if other == nil {
		return
	}
	for k, v := range other.Fields {
		e.Add(prefix+k, v)
	}
}

// Err returns e when it holds at least one field, else nil.
func (e *ValidationError) Err() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

// DuplicateCodeError names the code that is taken and the request field it
// came from. It matches ErrDuplicateCode with errors.Is.
type DuplicateCodeError struct {
	Code  string
	Field string
}

// Error says which code exists.
func (e *DuplicateCodeError) Error() string {
	return fmt.Sprintf("coupon code %q already exists", e.Code)
}

// Is makes errors.Is(err, ErrDuplicateCode) true.
func (e *DuplicateCodeError) Is(target error) bool { return target == ErrDuplicateCode }

// ActiveCapError says that creating or unarchiving coupons would exceed the
// configured cap on active (non-archived) coupons. It matches ErrActiveCap.
type ActiveCapError struct {
	Cap    int
	Active int64
	Adding int
}

// Error states the cap, how many are active and how many were asked for.
func (e *ActiveCapError) Error() string {
	return fmt.Sprintf("the cap of %d active coupons is reached: %d are active and this request would add %d; archive coupons or raise --max-active-coupons", e.Cap, e.Active, e.Adding)
}

// Is makes errors.Is(err, ErrActiveCap) true.
func (e *ActiveCapError) Is(target error) bool { return target == ErrActiveCap }
