package models_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/coupond/coupond/models"
)

func TestParseMoney(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in       string
		decimals int
		want     models.Money
		// bad means ParseMoney must refuse the input with ErrBadAmount.
		bad bool
	}{
		{name: "two decimals", in: "12.95", decimals: 2, want: 1295},
		{name: "no decimals", in: "500", decimals: 0, want: 500},
		{name: "whole amount with decimals allowed", in: "12", decimals: 2, want: 1200},
		{name: "one decimal of two", in: "12.9", decimals: 2, want: 1290},
		{name: "zero", in: "0", decimals: 2, want: 0},
		{name: "zero with decimals", in: "0.00", decimals: 2, want: 0},
		{name: "below one unit", in: "0.05", decimals: 2, want: 5},
		{name: "leading zeros", in: "007.5", decimals: 2, want: 750},
		{name: "surrounding spaces", in: " 12.95\t", decimals: 2, want: 1295},
		{name: "three decimals", in: "1.295", decimals: 3, want: 1295},
		{name: "max amount at two decimals", in: "10000000000000.00", decimals: 2, want: models.MaxAmount},
		{name: "max amount at no decimals", in: "1000000000000000", decimals: 0, want: models.MaxAmount},
		{name: "max amount with leading zeros", in: "0001000000000000000", decimals: 0, want: models.MaxAmount},

		{name: "empty", in: "", decimals: 2, bad: true},
		{name: "spaces only", in: "   ", decimals: 2, bad: true},
		{name: "minus sign", in: "-12.95", decimals: 2, bad: true},
		{name: "plus sign", in: "+12.95", decimals: 2, bad: true},
		{name: "exponent", in: "1e3", decimals: 2, bad: true},
		{name: "exponent after decimals", in: "1.5e2", decimals: 2, bad: true},
		{name: "nothing after the point", in: "12.", decimals: 2, bad: true},
		{name: "nothing before the point", in: ".5", decimals: 2, bad: true},
		{name: "point alone", in: ".", decimals: 2, bad: true},
		{name: "two points", in: "1.2.3", decimals: 2, bad: true},
		{name: "sign after the point", in: "0.+5", decimals: 2, bad: true},
		{name: "minus after the point", in: "12.-5", decimals: 2, bad: true},
		{name: "thousands separator", in: "1,000", decimals: 2, bad: true},
		{name: "decimal comma", in: "12,95", decimals: 2, bad: true},
		{name: "underscore", in: "1_000", decimals: 0, bad: true},
		{name: "inner space", in: "1 000", decimals: 0, bad: true},
		{name: "currency", in: "12.95 EUR", decimals: 2, bad: true},
		{name: "too many decimals", in: "12.955", decimals: 2, bad: true},
		// "5.00" where minor units are meant is a misread unit, not 5.
		{name: "zeros past the decimals", in: "12.950", decimals: 2, bad: true},
		{name: "zeros past no decimals", in: "500.00", decimals: 0, bad: true},
		{name: "decimals where none are allowed", in: "12.5", decimals: 0, bad: true},
		{name: "above max amount at two decimals", in: "10000000000000.01", decimals: 2, bad: true},
		{name: "above max amount at no decimals", in: "1000000000000001", decimals: 0, bad: true},
		{name: "17 digits", in: "99999999999999999", decimals: 0, bad: true},
		{name: "above int64", in: "9223372036854775808", decimals: 0, bad: true},
		{name: "20-digit overflow", in: "99999999999999999999", decimals: 0, bad: true},
		{name: "20-digit overflow with decimals", in: "99999999999999999999.99", decimals: 2, bad: true},
		{name: "not a number", in: "NaN", decimals: 2, bad: true},
		{name: "other digits", in: "١٢", decimals: 0, bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := models.ParseMoney(tt.in, tt.decimals)
			if tt.bad {
				if !errors.Is(err, models.ErrBadAmount) {
					t.Fatalf("ParseMoney(%q, %d) = %d, %v; want ErrBadAmount", tt.in, tt.decimals, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseMoney(%q, %d) = %d, %v; want %d", tt.in, tt.decimals, got, err, tt.want)
			}
		})
	}
}

func TestMoneyFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m        models.Money
		decimals int
		want     string
	}{
		{1295, 2, "12.95"},
		{1295, 0, "1295"},
		{1295, 3, "1.295"},
		{500, 0, "500"},
		{1200, 2, "12.00"},
		{1290, 2, "12.90"},
		{100, 2, "1.00"},
		{99, 2, "0.99"},
		{50, 2, "0.50"},
		{5, 2, "0.05"},
		{5, 3, "0.005"},
		{0, 2, "0.00"},
		{0, 0, "0"},
		{models.MaxAmount, 2, "10000000000000.00"},
		{models.MaxAmount, 0, "1000000000000000"},
		{-5, 2, "-0.05"},
		{-1295, 2, "-12.95"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d at %d", tt.m, tt.decimals), func(t *testing.T) {
			t.Parallel()
			got := tt.m.Format(tt.decimals)
			if got != tt.want {
				t.Fatalf("Money(%d).Format(%d) = %q, want %q", tt.m, tt.decimals, got, tt.want)
			}
			if tt.m < 0 {
				return // ParseMoney reads no sign
			}
			back, err := models.ParseMoney(got, tt.decimals)
			if err != nil || back != tt.m {
				t.Fatalf("ParseMoney(%q, %d) = %d, %v; want %d back", got, tt.decimals, back, err, tt.m)
			}
		})
	}
}

func TestMoneyRoundTrip(t *testing.T) {
	t.Parallel()
	for _, decimals := range []int{0, 1, 2, 3} {
		for _, m := range []models.Money{0, 1, 5, 9, 10, 99, 100, 101, 1295, 100_000, 123_456_789, models.MaxAmount - 1, models.MaxAmount} {
			s := m.Format(decimals)
			back, err := models.ParseMoney(s, decimals)
			if err != nil || back != m {
				t.Errorf("%d at %d decimals formats as %q, which parses as %d, %v", m, decimals, s, back, err)
			}
		}
	}
}
