package models

import (
	"errors"
	"strconv"
	"strings"
)

// Money is an amount of money in the minor units of its currency: 1295
// is 12.95 in a currency with two decimals, and 1295 in one with none.
// Amounts are stored as int64 minor units (a Money's value); each edge
// (the console, each API) reads and writes them through ParseMoney and
// Format at the number of decimals its wire format uses, never with a
// parser of its own.
type Money int64

// ErrBadAmount is ParseMoney's failure: the text is not a plain decimal
// amount from 0 to MaxAmount minor units with at most the allowed
// decimals.
var ErrBadAmount = errors.New("not an amount")

// ParseMoney reads a decimal amount such as "12.95" that has at most
// decimals digits after the point, as minor units: ParseMoney("12.95", 2)
// is 1295 and ParseMoney("500", 0) is 500. Surrounding spaces are
// ignored. Digits past the allowed decimals are refused even when they
// are zeros: "5.00" where whole minor units are meant is more likely a
// misreading of the unit than five of them. A sign, an exponent, thousands separators, an empty part
// before or after the point, more decimals than allowed or more than
// MaxAmount minor units fail with ErrBadAmount. Floating point is never
// used, so no amount is rounded.
func ParseMoney(s string, decimals int) (Money, error) {
	whole, frac, dotted := strings.Cut(strings.TrimSpace(s), ".")
	if whole == "" || dotted && frac == "" || !digits(whole) || !digits(frac) {
		return 0, ErrBadAmount
	}
	if len(frac) > decimals {
		return 0, ErrBadAmount
	}
	whole = strings.TrimLeft(whole, "0")
	// MaxAmount has 16 digits: a longer whole part cannot fit, and
	// ParseInt below must not overflow.
	if len(whole)+decimals > 18 {
		return 0, ErrBadAmount
	}
	v, err := strconv.ParseInt(whole+frac+strings.Repeat("0", decimals-len(frac)), 10, 64)
	if err != nil && whole+frac != "" || v > MaxAmount {
		return 0, ErrBadAmount
	}
	return Money(v), nil
}

// digits reports whether s holds only the digits 0-9 (or nothing).
func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Format writes m with decimals digits after the point, as ParseMoney
// reads it back: 1295 is "12.95" with two decimals and "1295" with none.
func (m Money) Format(decimals int) string {
	s := strconv.FormatInt(int64(m), 10)
	if decimals <= 0 {
		return s
	}
	sign := ""
	if m < 0 {
		sign, s = "-", s[1:]
	}
	if len(s) <= decimals {
		s = strings.Repeat("0", decimals-len(s)+1) + s
	}
	return sign + s[:len(s)-decimals] + "." + s[len(s)-decimals:]
}
