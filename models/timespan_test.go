package models

import (
	"testing"
	"time"
)

func TestParseTimeSpan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		out  string
	}{
		{"", 0, "00:00:00"},
		{"00:00:00", 0, "00:00:00"},
		{"12:30:05", 12*time.Hour + 30*time.Minute + 5*time.Second, "12:30:05"},
		{"14.00:00:00", 14 * 24 * time.Hour, "14.00:00:00"},
		{"1.02:03:04", 26*time.Hour + 3*time.Minute + 4*time.Second, "1.02:03:04"},
		{" 2:3:4 ", 2*time.Hour + 3*time.Minute + 4*time.Second, "02:03:04"},
		{"00:00:01.5", 1500 * time.Millisecond, "00:00:01.5000000"},
		{"3.00:00:00.0000001", 72*time.Hour + 100, "3.00:00:00.0000001"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTimeSpan(tt.in)
			if err != nil {
				t.Fatalf("ParseTimeSpan(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseTimeSpan(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if s := FormatTimeSpan(got); s != tt.out {
				t.Errorf("FormatTimeSpan(%v) = %q, want %q", got, s, tt.out)
			}
			if again, err := ParseTimeSpan(FormatTimeSpan(got)); err != nil || again != got {
				t.Errorf("round trip of %q gave %v, %v", tt.in, again, err)
			}
		})
	}
}

func TestParseTimeSpanRejects(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"abc", "10", "1:00", "24:00:00", "00:60:00", "00:00:60", "-1.00:00:00",
		"00:00:00.", "00:00:00.12345678", "1.2.00:00:00", "36501.00:00:00", "x.00:00:00", "00:+1:00",
	} {
		t.Run(in, func(t *testing.T) {
			if d, err := ParseTimeSpan(in); err == nil {
				t.Errorf("ParseTimeSpan(%q) = %v, want an error", in, d)
			}
		})
	}
}
