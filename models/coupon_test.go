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
	for _, f := range []string{"couponCode", "utmSource", "utmCampaign", "maxItemsPerClient", "maxUsage", "expirationIntervalPerUse"} {
		if verr.Fields[f] == "" {
			t.Errorf("no message for %s in %v", f, verr.Fields)
		}
	}
}

func TestValidateCouponRequests(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("b", MaxGeneratedBaseLength+1)
	err := ValidateCouponRequests([]CouponRequest{
		VTEXRequest(1, CouponSpec{Code: "SAME"}),
		VTEXRequest(0, CouponSpec{Code: "x"}),
		VTEXRequest(2, CouponSpec{Code: long}),
		VTEXRequest(1, CouponSpec{Code: "same"}),
		VTEXRequest(1, CouponSpec{Code: long}),
		VTEXRequest(1001, CouponSpec{Code: "x"}),
	})
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("want *ValidationError, got %v", err)
	}
	want := []string{"[1].quantity", "[2].couponConfiguration.couponCode", "[3].couponConfiguration.couponCode", "[5].quantity"}
	for _, f := range want {
		if verr.Fields[f] == "" {
			t.Errorf("no message for %s in %v", f, verr.Fields)
		}
	}
	if len(verr.Fields) != len(want) {
		t.Errorf("fields = %v, want exactly %v", verr.Fields, want)
	}

	many := make([]CouponRequest, 11)
	for i := range many {
		many[i] = VTEXRequest(1000, CouponSpec{Code: "m"})
	}
	if err := ValidateCouponRequests(many); err == nil || !strings.Contains(err.Error(), "at most 10000") {
		t.Errorf("11,000 coupons in one request: got %v", err)
	}
	if err := ValidateCouponRequests(nil); err == nil {
		t.Error("an empty request must be refused")
	}
}
