package models

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Customer is who a personal code is for. Each identifier is unique;
// any one of them finds the customer. ID is what the native API calls
// customerId and what redemptions record. A redemption for a customer
// id no customer has yet creates one with that id.
//
// LastActivityAt, Redemptions and Savings are kept by each issue,
// redemption and cancellation in its own transaction: the time of the
// customer's latest issue or redemption, its live (not cancelled)
// redemptions, and the sum of their discounts in minor units.
type Customer struct {
	ID             string `gorm:"primaryKey"`
	Mobile         *string
	Email          *string
	ExternalID     *string `gorm:"column:external_id"`
	CreatedAt      time.Time
	LastActivityAt time.Time
	Redemptions    int64
	Savings        int64
}

// Customer identifier fields.
const (
	FieldCustomer   = "customer"
	FieldMobile     = "mobile"
	FieldExternalID = "externalId"
)

// Limits on customer identifiers.
const (
	MaxEmailLength   = 254
	MinMobileDigits  = 6
	MaxMobileDigits  = 15
	MaxExternalIDLen = 128
)

// CustomerRef names a customer by one or more identifiers, as a client
// sent them; blanks are ignored.
type CustomerRef struct {
	ID         string
	Mobile     string
	Email      string
	ExternalID string
}

// Normalize trims every identifier, lower-cases the email and keeps only
// the mobile number's digits ("+91 98765-43210" is "919876543210"). It
// fails with a *ValidationError naming each bad identifier, and on
// FieldCustomer when none is given. Errors are recorded under prefix
// + field ("customer.mobile").
func (r CustomerRef) Normalize(prefix string) (CustomerRef, error) {
	var verr ValidationError
	out := CustomerRef{
		ID:         strings.TrimSpace(r.ID),
		Email:      strings.ToLower(strings.TrimSpace(r.Email)),
		ExternalID: strings.TrimSpace(r.ExternalID),
	}
	if msg := checkID(out.ID, MaxCustomerIDLength, false); msg != "" {
		verr.Add(prefix+FieldID, msg)
	}
	if m := strings.TrimSpace(r.Mobile); m != "" {
		var digits strings.Builder
		bad := false
		for _, c := range m {
			switch {
			case c >= '0' && c <= '9':
				digits.WriteRune(c)
			case c == '+' || c == ' ' || c == '-' || c == '(' || c == ')' || c == '.':
			default:
				bad = true
			}
		}
		out.Mobile = digits.String()
		if bad || len(out.Mobile) < MinMobileDigits || len(out.Mobile) > MaxMobileDigits {
			verr.Add(prefix+FieldMobile, fmt.Sprintf("must be a phone number of %d to %d digits (spaces, '+', '-', '.' and brackets are ignored), not %q", MinMobileDigits, MaxMobileDigits, m))
		}
	}
	if out.Email != "" {
		local, domain, ok := strings.Cut(out.Email, "@")
		switch {
		case len(out.Email) > MaxEmailLength:
			verr.Add(prefix+FieldEmail, fmt.Sprintf("must be at most %d characters", MaxEmailLength))
		case !ok || local == "" || domain == "" || strings.Contains(domain, "@") || checkID(out.Email, MaxEmailLength, true) != "":
			verr.Add(prefix+FieldEmail, fmt.Sprintf("must be an email address like name@example.com, not %q", r.Email))
		}
	}
	if msg := checkID(out.ExternalID, MaxExternalIDLen, false); msg != "" {
		verr.Add(prefix+FieldExternalID, msg)
	}
	if err := verr.Err(); err != nil {
		return CustomerRef{}, err
	}
	if out.Empty() {
		field := strings.TrimSuffix(prefix, ".")
		if field == "" {
			field = FieldCustomer
		}
		return CustomerRef{}, Invalid(field, "name the customer by one of id, mobile, email or externalId")
	}
	return out, nil
}

// Empty reports whether the reference names no identifier.
func (r CustomerRef) Empty() bool {
	return r.ID == "" && r.Mobile == "" && r.Email == "" && r.ExternalID == ""
}

// String writes the identifiers given, for messages: "mobile 9198…".
func (r CustomerRef) String() string {
	var parts []string
	for _, p := range r.parts() {
		parts = append(parts, p.name+" "+p.value)
	}
	return strings.Join(parts, ", ")
}

type refPart struct {
	name, column, value string
}

// parts are the identifiers given, in a fixed order.
func (r CustomerRef) parts() []refPart {
	var ps []refPart
	for _, p := range []refPart{{"id", "id", r.ID}, {"mobile", "mobile", r.Mobile}, {"email", "email", r.Email}, {"externalId", "external_id", r.ExternalID}} {
		if p.value != "" {
			ps = append(ps, p)
		}
	}
	return ps
}

// Identifiers lists the customer's identifiers as (name, value) pairs,
// id first.
func (c Customer) Identifiers() [][2]string {
	out := [][2]string{{"id", c.ID}}
	for _, p := range []struct {
		name string
		v    *string
	}{{"mobile", c.Mobile}, {"email", c.Email}, {"externalId", c.ExternalID}} {
		if p.v != nil {
			out = append(out, [2]string{p.name, *p.v})
		}
	}
	return out
}

// ErrCustomerMismatch is matched by a *CustomerMismatchError.
var ErrCustomerMismatch = errors.New("the identifiers name different customers")

// CustomerMismatchError refuses a reference whose identifiers belong to
// different customers, or that gives a customer an identifier other than
// the one it has.
type CustomerMismatchError struct {
	Message string
}

// Error says which identifiers disagree.
func (e *CustomerMismatchError) Error() string { return e.Message }

// Is makes errors.Is(err, ErrCustomerMismatch) true.
func (e *CustomerMismatchError) Is(target error) bool { return target == ErrCustomerMismatch }
