package models

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrNotFound is returned when the entity asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrDuplicateCode is returned when a coupon code is already taken,
// compared case-insensitively.
var ErrDuplicateCode = errors.New("coupon code already exists")

// ErrConflict is matched by a *ConflictError: a unique-constraint
// violation that has no domain error of its own (ErrDuplicateCode and
// ErrDuplicateEmail are the ones that do).
var ErrConflict = errors.New("conflicts with an existing record")

// ErrDuplicateEmail is returned when an account's email is taken.
var ErrDuplicateEmail = errors.New("email already registered")

// ErrBusy is matched by a *BusyError: the database could not take the
// write in time and the client should retry.
var ErrBusy = errors.New("database busy")

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

// NoItem is the Item of a FieldError about the request as a whole rather
// than one element of a list.
const NoItem = -1

// FieldError is one problem with one input field. Field is a domain field
// name (one of the Field constants) or, for problems found while reading
// the wire format, the name the client used; Item is the index of the
// element in a list input, or NoItem.
type FieldError struct {
	Item    int
	Field   string
	Message string
}

// ValidationError reports invalid input field by field, in domain terms:
// each API dialect and the console name the fields their own way.
type ValidationError struct {
	Errors []FieldError
	// seen indexes Errors by element and field, so that a list of many
	// bad elements is checked in linear time.
	seen map[fieldKey]bool
}

type fieldKey struct {
	item  int
	field string
}

// Error lists the fields in the order they were found.
func (e *ValidationError) Error() string { return "invalid input: " + e.Summary() }

// Summary is every "field: message", with "[i]." before the field of a
// list element, joined by "; ".
func (e *ValidationError) Summary() string {
	parts := make([]string, 0, len(e.Errors))
	for _, fe := range e.Errors {
		name := fe.Field
		if fe.Item != NoItem {
			name = fmt.Sprintf("[%d].%s", fe.Item, fe.Field)
		}
		parts = append(parts, name+": "+fe.Message)
	}
	return strings.Join(parts, "; ")
}

// Add records a message for a field of the request as a whole.
func (e *ValidationError) Add(field, msg string) { e.AddItem(NoItem, field, msg) }

// AddItem records a message for a field of list element item unless one
// is already there, so the first problem found for a field is the one
// shown.
func (e *ValidationError) AddItem(item int, field, msg string) {
	if e.seen == nil {
		// Built from Errors, so a ValidationError written as a literal
		// keeps its messages first.
		e.seen = make(map[fieldKey]bool, len(e.Errors)+1)
		for _, fe := range e.Errors {
			e.seen[fieldKey{fe.Item, fe.Field}] = true
		}
	}
	k := fieldKey{item, field}
	if e.seen[k] {
		return
	}
	e.seen[k] = true
	e.Errors = append(e.Errors, FieldError{Item: item, Field: field, Message: msg})
}

// Merge adds every error of other; with item other than NoItem they are
// recorded as errors of that list element.
func (e *ValidationError) Merge(item int, other *ValidationError) {
	if other == nil {
		return
	}
	for _, fe := range other.Errors {
		if item != NoItem {
			fe.Item = item
		}
		e.AddItem(fe.Item, fe.Field, fe.Message)
	}
}

// Message returns the message recorded for field of the request as a
// whole, or "".
func (e *ValidationError) Message(field string) string {
	for _, fe := range e.Errors {
		if fe.Item == NoItem && fe.Field == field {
			return fe.Message
		}
	}
	return ""
}

// Err returns e when it holds at least one field, else nil.
func (e *ValidationError) Err() error {
	if e == nil || len(e.Errors) == 0 {
		return nil
	}
	return e
}

// Invalid is a *ValidationError with one message for one field.
func Invalid(field, msg string) *ValidationError {
	return &ValidationError{Errors: []FieldError{{Item: NoItem, Field: field, Message: msg}}}
}

// DuplicateCodeError names the code that is taken and, for a list input,
// the element that asked for it (NoItem otherwise). It matches
// ErrDuplicateCode with errors.Is.
type DuplicateCodeError struct {
	Code string
	Item int
}

// Error says which code exists.
func (e *DuplicateCodeError) Error() string {
	return fmt.Sprintf("coupon code %q already exists", e.Code)
}

// Is makes errors.Is(err, ErrDuplicateCode) true.
func (e *DuplicateCodeError) Is(target error) bool { return target == ErrDuplicateCode }

// ConflictError is a unique-constraint violation that no domain rule
// expected, named by its constraint. It matches ErrConflict.
type ConflictError struct {
	Constraint string
}

// Error names the constraint.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("the change conflicts with an existing record (unique constraint %s)", e.Constraint)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

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

// BusyError says that a write waited Waited for the database writer and
// gave up; the client should try again after RetryAfter. It matches
// ErrBusy.
type BusyError struct {
	Waited     time.Duration
	RetryAfter time.Duration
}

// Error says how long the write waited.
func (e *BusyError) Error() string {
	return fmt.Sprintf("the database is busy with other writes (waited %s); try again in %s", e.Waited.Round(time.Millisecond), e.RetryAfter)
}

// Is makes errors.Is(err, ErrBusy) true.
func (e *BusyError) Is(target error) bool { return target == ErrBusy }

// BatchFinishedError says that a batch has already stopped for good, so
// it cannot be cancelled.
type BatchFinishedError struct {
	ID     int64
	Status string
}

// Error names the batch and how it ended.
func (e *BatchFinishedError) Error() string {
	return fmt.Sprintf("batch %d is already %s; only a pending or running batch can be cancelled", e.ID, e.Status)
}

// counted writes n and the noun that agrees with it, for messages: "1
// code", "2 codes", "12,500 codes".
func counted(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return thousands(n) + " " + many
}

// thousands writes n with a comma between each group of three digits,
// as the console shows counts: 12500 is "12,500".
func thousands(n int) string {
	s := strconv.Itoa(n)
	sign := ""
	if n < 0 {
		sign, s = "-", s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return sign + s
}
