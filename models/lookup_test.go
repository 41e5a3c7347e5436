package models_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
)

// generate makes n codes of format synchronously and returns them.
func generate(t *testing.T, s *models.Store, n int, format models.FormatInput) []string {
	t.Helper()
	_, cs, err := s.GenerateCodes(t.Context(), mustBatchSpec(t, models.BatchInput{Quantity: n, Format: format, MaxUsage: 1}))
	if err != nil {
		t.Fatalf("generate %d of %+v: %v", n, format, err)
	}
	codes := make([]string, len(cs))
	for i, c := range cs {
		codes[i] = c.Code
	}
	return codes
}

// mistype is code with its character at i changed to another letter.
func mistype(code string, i int) string {
	c := "A"
	if code[i] == 'A' {
		c = "B"
	}
	return code[:i] + c + code[i+1:]
}

// TestLookupsReadCodesByTheirFormat: a code with a check character is
// found as typed in any case, and refused, as unknown, with one
// character mistyped; a code of the unambiguous set is found with O typed
// for 0 and I or L for 1.
func TestLookupsReadCodesByTheirFormat(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{}, func(t *testing.T, s *models.Store) {
		checked := generate(t, s, 50, models.FormatInput{Prefix: "GIFT", Delimiter: "-", Length: 8, Check: true})[0]
		if c, err := s.Coupon(t.Context(), " "+strings.ToLower(checked)+" "); err != nil || c.Code != checked {
			t.Errorf("look-up of %q in lower case: %+v, %v", checked, c, err)
		}
		typo := mistype(checked, len(checked)-3)
		if _, err := s.Coupon(t.Context(), typo); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("look-up of the mistyped %q: %v, want not found", typo, err)
		}
		v, err := s.Check(t.Context(), models.CheckInput{Code: typo}, "test")
		if err != nil || v.Valid || len(v.Reasons) != 1 || v.Reasons[0] != models.ReasonNotFound {
			t.Errorf("check of the mistyped %q = %+v, %v; want NOT_FOUND", typo, v, err)
		}

		generate(t, s, 20, models.FormatInput{Prefix: "LOVE10", Delimiter: "-", Length: 6, Charset: models.CharsetUnambiguous})
		codes, err := s.BatchCodes(t.Context(), 2, 1)
		if err != nil {
			t.Fatal(err)
		}
		typed := "lovEIO-" + strings.ToLower(codes[0][len("LOVE10-"):])
		if c, err := s.Coupon(t.Context(), typed); err != nil || c.Code != codes[0] {
			t.Errorf("look-up of %q: %+v, %v; want %s", typed, c, err, codes[0])
		}
	})
}

// TestCodesThatCouldNeverBeFoundAreRefused: a code chosen by hand in the
// shape of a check-character format but with a wrong check, or one that
// the unambiguous set reads as another code, is refused with a reason;
// a new format that would hide existing coupons is refused before
// anything is written.
func TestCodesThatCouldNeverBeFoundAreRefused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{}, func(t *testing.T, s *models.Store) {
		checked := generate(t, s, 5, models.FormatInput{Prefix: "GIFT", Length: 4, Check: true})[0]
		bad := mistype(checked, len(checked)-1)
		_, err := s.CreateCoupon(t.Context(), mustSpec(t, models.CouponInput{Code: bad}))
		var verr *models.ValidationError
		if !errors.As(err, &verr) || !strings.Contains(verr.Message(models.FieldCode), "check character") {
			t.Errorf("a hand-made code with a wrong check character: %v, want a message on the code", err)
		}
		mustCreateCoupon(t, s, "GIFTSUMMER")

		generate(t, s, 5, models.FormatInput{Prefix: "VIP10", Length: 4, Charset: models.CharsetUnambiguous})
		_, err = s.CreateCoupon(t.Context(), mustSpec(t, models.CouponInput{Code: "VIPIO-ABCD"}))
		if err != nil {
			t.Errorf("a code of another length is not the format's: %v", err)
		}
		_, err = s.CreateCoupon(t.Context(), mustSpec(t, models.CouponInput{Code: "VIPIOABCD"}))
		if !errors.As(err, &verr) || !strings.Contains(verr.Message(models.FieldCode), "VIP10ABCD") {
			t.Errorf("a code the unambiguous set reads as VIP10ABCD: %v, want a message naming it", err)
		}

		mustCreateCoupon(t, s, "WELCOME12")
		_, _, err = s.GenerateCodes(t.Context(), mustBatchSpec(t, models.BatchInput{Quantity: 5, Format: models.FormatInput{Length: 8, Check: true}}))
		if !errors.As(err, &verr) || !strings.Contains(verr.Message(models.FieldFormat), "existing coupons (such as") {
			t.Errorf("a check-character format of WELCOME12's shape: %v, want it refused, naming the coupon", err)
		}
		if _, err := s.CreateBatch(t.Context(), mustBatchSpec(t, models.BatchInput{Quantity: 5, Format: models.FormatInput{Length: 8, Check: true}})); !errors.As(err, &verr) {
			t.Errorf("the same as a background batch: %v, want it refused", err)
		}
	})
}
