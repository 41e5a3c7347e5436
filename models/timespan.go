package models

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxTimeSpanDays bounds a TimeSpan to a century, far inside time.Duration's
// range and far beyond any sensible renewal interval.
const maxTimeSpanDays = 36500

// errTimeSpan is the message shown for any malformed TimeSpan.
var errTimeSpan = errors.New(`must be a time span like "00:00:00", "12:30:00" or "14.00:00:00" (days.hours:minutes:seconds)`)

// ParseTimeSpan reads a span of time written [d.]hh:mm:ss[.fffffff]: an
// optional number of days and a point, hours, minutes and seconds of one
// or two digits each separated by colons, and an optional point and
// fraction of a second of up to seven digits (100 ns steps). "12:30:00"
// is twelve and a half hours, "14.00:00:00" fourteen days, "00:00:01.5"
// a second and a half (.NET's constant TimeSpan format). The empty
// string is zero. It fails for negative spans, out-of-range hours (0–23),
// minutes or seconds (0–59), more than seven fraction digits, or more than
// 36500 days.
func ParseTimeSpan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	var days int64
	clock := s
	// A '.' before the first ':' separates days; one after the last ':'
	// starts the fraction of a second.
	colon := strings.IndexByte(s, ':')
	if colon < 0 {
		return 0, errTimeSpan
	}
	if dot := strings.IndexByte(s[:colon], '.'); dot >= 0 {
		d, err := parseDigits(s[:dot], 1, 5)
		if err != nil {
			return 0, errTimeSpan
		}
		if d > maxTimeSpanDays {
			return 0, fmt.Errorf("must be at most %d days", maxTimeSpanDays)
		}
		days = d
		clock = s[dot+1:]
	}
	frac, hasFrac := "", false
	if dot := strings.IndexByte(clock, '.'); dot >= 0 {
		clock, frac, hasFrac = clock[:dot], clock[dot+1:], true
	}
	parts := strings.Split(clock, ":")
	if len(parts) != 3 {
		return 0, errTimeSpan
	}
	limits := [3]int64{23, 59, 59}
	var hms [3]int64
	for i, p := range parts {
		v, err := parseDigits(p, 1, 2)
		if err != nil {
			return 0, errTimeSpan
		}
		if v > limits[i] {
			return 0, errTimeSpan
		}
		hms[i] = v
	}
	var nanos int64
	if hasFrac {
		f, err := parseDigits(frac, 1, 7)
		if err != nil {
			return 0, errTimeSpan
		}
		for range 9 - len(frac) {
			f *= 10
		}
		nanos = f
	}
	d := time.Duration(days)*24*time.Hour +
		time.Duration(hms[0])*time.Hour +
		time.Duration(hms[1])*time.Minute +
		time.Duration(hms[2])*time.Second +
		time.Duration(nanos)
	return d, nil
}

// parseDigits reads an unsigned decimal of minLen to maxLen ASCII digits.
func parseDigits(s string, minLen, maxLen int) (int64, error) {
	if len(s) < minLen || len(s) > maxLen {
		return 0, errTimeSpan
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errTimeSpan
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

// FormatTimeSpan renders d in the format that ParseTimeSpan reads: "hh:mm:ss", "d.hh:mm:ss", with ".fffffff" (100 ns ticks) when the
// span has a fraction of a second. Negative durations render as zero.
func FormatTimeSpan(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h := d / time.Hour
	d -= h * time.Hour
	m := d / time.Minute
	d -= m * time.Minute
	s := d / time.Second
	d -= s * time.Second
	ticks := d / 100
	var b strings.Builder
	if days > 0 {
		fmt.Fprintf(&b, "%d.", days)
	}
	fmt.Fprintf(&b, "%02d:%02d:%02d", h, m, s)
	if ticks > 0 {
		fmt.Fprintf(&b, ".%07d", ticks)
	}
	return b.String()
}
