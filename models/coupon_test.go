package models

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNormalizeCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want, err string
	}{
		{in: "  SUMMER-10 ", want: "SUMMER-10"},
		{in: "a_b-C9", want: "a_b-C9"},
		{in: strings.Repeat("x", 64), want: strings.Repeat("x", 64)},
		{in: "", err: "is required"},
		{in: "   ", err: "is required"},
		{in: strings.Repeat("x", 65), err: "at most 64"},
		{in: "two words", err: "only letters"},
		{in: "café", err: "only letters"},
		{in: "50%OFF", err: "only letters"},
		{in: "-A1", err: "start with a letter or a digit"},
		{in: "_x", err: "start with a letter or a digit"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeCode(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("NormalizeCode(%q) error = %v, want one containing %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeCode(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
	if CodeKey(" SuMmer ") != "summer" {
		t.Error("CodeKey must trim and fold case")
	}
}

func ptr[T any](v T) *T { return &v }

func TestCouponInputValidate(t *testing.T) {
	t.Parallel()
	spec, err := CouponInput{
		Code: " Hello ", UTMSource: ptr("  news "), UTMCampaign: ptr("  "),
		MaxItemsPerClient: 2, MaxUsage: 10, ExpirationIntervalPerUse: "1.00:00:00",
	}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	want := CouponSpec{Code: "Hello", UTMSource: ptr("news"), MaxItemsPerClient: 2, MaxUsage: 10, ExpirationIntervalPerUse: 24 * time.Hour}
	if d := cmp.Diff(want, spec); d != "" {
		t.Errorf("spec (-want +got):\n%s", d)
	}

	_, err = CouponInput{
		Code: "bad code", UTMSource: ptr(strings.Repeat("s", 256)), UTMCampaign: ptr("a\x00b"),
		MaxItemsPerClient: -1, MaxUsage: -2, ExpirationIntervalPerUse: "soon",
	}.Validate()
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("want *ValidationError, got %v", err)
	}
	for _, f := range []string{FieldCode, FieldUTMSource, FieldUTMCampaign, FieldMaxItemsPerClient, FieldMaxUsage, FieldExpirationIntervalPerUse} {
		if verr.Message(f) == "" {
			t.Errorf("no message for %s in %v", f, verr.Errors)
		}
	}
}

func TestValidateCouponRequests(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("b", MaxGeneratedBaseLength+1)
	literal := func(code string) CouponRequest { return CouponRequest{Quantity: 1, Spec: CouponSpec{Code: code}} }
	generate := func(n int, code string) CouponRequest {
		return CouponRequest{Quantity: n, Spec: CouponSpec{Code: code}, Generate: true}
	}
	err := ValidateCouponRequests([]CouponRequest{
		literal("SAME"),
		generate(0, "x"),
		generate(2, long),
		literal("same"),
		literal(long),
		generate(1001, "x"),
		{Quantity: 2, Spec: CouponSpec{Code: "lit"}},
	})
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("want *ValidationError, got %v", err)
	}
	want := []FieldError{{1, FieldQuantity, ""}, {2, FieldCode, ""}, {3, FieldCode, ""}, {5, FieldQuantity, ""}, {6, FieldQuantity, ""}}
	var got []FieldError
	for _, fe := range verr.Errors {
		if fe.Message == "" {
			t.Errorf("no message for [%d].%s", fe.Item, fe.Field)
		}
		fe.Message = ""
		got = append(got, fe)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("errors (-want +got):\n%s", d)
	}

	many := make([]CouponRequest, 11)
	for i := range many {
		many[i] = generate(1000, "m")
	}
	if err := ValidateCouponRequests(many); err == nil || !strings.Contains(err.Error(), "at most 10000") {
		t.Errorf("11,000 coupons in one request: got %v", err)
	}
	if err := ValidateCouponRequests(nil); err == nil {
		t.Error("an empty request must be refused")
	}
}
