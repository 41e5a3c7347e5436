package models_test

import (
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
)

// mustSeries creates a series of ten-character codes with the given
// limits.
func mustSeries(t *testing.T, s *models.Store, name string, maxCreate, maxPerCustomer int) models.Series {
	t.Helper()
	spec, err := models.SeriesInput{
		Promotion: models.PromotionInput{Name: name, DiscountType: models.DiscountPercent, DiscountValue: "10"},
		MaxCreate: maxCreate, MaxPerCustomer: maxPerCustomer,
	}.Validate()
	if err != nil {
		t.Fatalf("series input: %v", err)
	}
	ser, err := s.CreateSeries(t.Context(), spec)
	if err != nil {
		t.Fatalf("create series %q: %v", name, err)
	}
	return ser
}

// issueOne issues one code of ser to customer and returns the result.
func issueOne(t *testing.T, s *models.Store, ser models.Series, customer string) models.IssueResult {
	t.Helper()
	_, rs, err := s.Issue(t.Context(), models.IssueRequest{SeriesIDs: []int64{ser.ID()}, Customer: models.CustomerRef{ID: customer}})
	if err != nil || len(rs) != 1 {
		t.Fatalf("issue series %d to %q: %v, %d results", ser.ID(), customer, err, len(rs))
	}
	return rs[0]
}

func TestIssueRefusesAtTheSeriesLimitsInMarketerWords(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{Now: fixedClock}, func(t *testing.T, s *models.Store) {
		one := mustSeries(t, s, "One", 1, 0)
		two := mustSeries(t, s, "Two", 2, 0)
		perCustomer := mustSeries(t, s, "Per customer", 0, 1)
		twoPerCustomer := mustSeries(t, s, "Two per customer", 0, 2)
		for _, step := range []struct {
			ser      models.Series
			customer string
		}{{one, "ann"}, {two, "ann"}, {two, "bob"}, {perCustomer, "ann"}, {twoPerCustomer, "ann"}, {twoPerCustomer, "ann"}} {
			if r := issueOne(t, s, step.ser, step.customer); r.Reason != "" || r.Coupon == nil {
				t.Fatalf("issue %q to %q: %+v, want a code", step.ser.Promotion.Name, step.customer, r)
			}
		}
		tests := []struct {
			name     string
			ser      models.Series
			customer string
			reason   string
			limit    int
			held     int
			message  string
		}{
			{name: "series of one code", ser: one, customer: "bob", reason: models.IssueMaxCreate, limit: 1, held: 1,
				message: fmtID("coupon series %d has issued its 1 code, the most it may issue", one)},
			{name: "series of two codes", ser: two, customer: "cy", reason: models.IssueMaxCreate, limit: 2, held: 2,
				message: fmtID("coupon series %d has issued all 2 of its codes, the most it may issue", two)},
			{name: "one code per customer", ser: perCustomer, customer: "ann", reason: models.IssueCustomerLimit, limit: 1, held: 1,
				message: fmtID(`customer "ann" already holds 1 code of coupon series %d, the most one customer may hold`, perCustomer)},
			{name: "two codes per customer", ser: twoPerCustomer, customer: "ann", reason: models.IssueCustomerLimit, limit: 2, held: 2,
				message: fmtID(`customer "ann" already holds 2 codes of coupon series %d, the most one customer may hold`, twoPerCustomer)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := issueOne(t, s, tt.ser, tt.customer)
				if r.Reason != tt.reason || r.Limit != tt.limit || r.Held != tt.held || r.Message != tt.message || r.Coupon != nil {
					t.Errorf("reason %q, limit %d, held %d, message %q, coupon %v; want %q, %d, %d, %q and no coupon",
						r.Reason, r.Limit, r.Held, r.Message, r.Coupon, tt.reason, tt.limit, tt.held, tt.message)
				}
			})
		}
		if r := issueOne(t, s, perCustomer, "bob"); r.Reason != "" || r.Limit != 0 || r.Held != 0 {
			t.Errorf("another customer of a series of one code per customer: %+v, want a code and no limit", r)
		}
	})
}

func TestUpdateSeriesCountsTheIssuedCodesInWords(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{Now: fixedClock}, func(t *testing.T, s *models.Store) {
		one := mustSeries(t, s, "One", 0, 0)
		issueOne(t, s, one, "ann")
		two := mustSeries(t, s, "Two", 0, 0)
		issueOne(t, s, two, "ann")
		issueOne(t, s, two, "bob")
		tests := []struct {
			name      string
			ser       models.Series
			maxCreate int
			field     string
			want      string
		}{
			{name: "format after one code", ser: one, field: models.FieldFormat, want: "cannot change: 1 code was issued in the current format"},
			{name: "format after two codes", ser: two, field: models.FieldFormat, want: "cannot change: 2 codes were issued in the current format"},
			{name: "fewer codes than issued", ser: two, maxCreate: 1, field: models.FieldMaxCreate, want: "must be at least the 2 codes already issued"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				in := models.SeriesInput{
					Promotion: models.PromotionInput{Name: tt.ser.Promotion.Name, DiscountType: models.DiscountPercent, DiscountValue: "10"},
					MaxCreate: tt.maxCreate,
				}
				if tt.field == models.FieldFormat {
					in.Format = models.FormatInput{Length: 12, Charset: models.CharsetUpperAlnum}
				}
				spec, err := in.Validate()
				if err != nil {
					t.Fatalf("series input: %v", err)
				}
				_, err = s.UpdateSeries(t.Context(), tt.ser.ID(), spec)
				var verr *models.ValidationError
				if !errors.As(err, &verr) || !strings.HasPrefix(verr.Message(tt.field), tt.want) {
					t.Errorf("update: %v, want %q on %s", err, tt.want, tt.field)
				}
			})
		}
	})
}

func TestIssueNamesTheSeriesFieldWhenNoneIsListed(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{Now: fixedClock}, func(t *testing.T, s *models.Store) {
		_, _, err := s.Issue(t.Context(), models.IssueRequest{Customer: models.CustomerRef{ID: "ann"}})
		var verr *models.ValidationError
		if !errors.As(err, &verr) || verr.Message(models.FieldSeries) == "" {
			t.Errorf("issue without a series: %v, want a message on %q", err, models.FieldSeries)
		}
	})
}

// fmtID writes format with the series' id.
func fmtID(format string, ser models.Series) string { return fmt.Sprintf(format, ser.ID()) }

func TestIssueDrawsCodesAndCustomerIDsFromTheRandomSource(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		// issue opens a fresh store drawing from a generator seeded with
		// seed and issues a code to a new customer named by email.
		issue := func(seed byte) (code, customerID string) {
			t.Helper()
			s := storetest.Open(t, dialect, models.Config{Now: fixedClock, Rand: mathrand.NewChaCha8([32]byte{seed})})
			ser := mustSeries(t, s, "Seeded", 0, 0)
			cust, rs, err := s.Issue(t.Context(), models.IssueRequest{SeriesIDs: []int64{ser.ID()}, Customer: models.CustomerRef{Email: "ann@example.com"}})
			if err != nil || len(rs) != 1 || rs[0].Coupon == nil {
				t.Fatalf("issue: %v, %+v", err, rs)
			}
			return rs[0].Coupon.Code, cust.ID
		}
		code1, id1 := issue(1)
		code2, id2 := issue(1)
		if code1 != code2 || id1 != id2 {
			t.Errorf("two stores with the same random source issued %s to %s and %s to %s, want the same code and customer", code1, id1, code2, id2)
		}
		if ok, _ := regexp.MatchString(`^[1-9][0-9]{11}$`, id1); !ok {
			t.Errorf("customer id %q, want twelve digits not starting with 0", id1)
		}
		if code3, id3 := issue(2); code3 == code1 || id3 == id1 {
			t.Errorf("another random source issued %s to %s, as the first did; want another code and customer", code3, id3)
		}
	})
}

func TestNewTagDrawsFromTheRandomSource(t *testing.T) {
	t.Parallel()
	tag := func(seed byte) string {
		t.Helper()
		s := storetest.Open(t, "sqlite", models.Config{Rand: mathrand.NewChaCha8([32]byte{seed})})
		tag, err := s.NewTag("shop-")
		if err != nil {
			t.Fatal(err)
		}
		return tag
	}
	first, again, other := tag(1), tag(1), tag(2)
	if first != again || first == other || !regexp.MustCompile(`^shop-[0-9a-f]{16}$`).MatchString(first) {
		t.Errorf("tags %q, %q (same source) and %q (another): want the first two equal, the third not, each shop- and 16 hex digits", first, again, other)
	}
}
