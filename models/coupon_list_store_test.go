package models_test

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
)

// codesOf lists every coupon f selects, page by page.
func codesOf(t *testing.T, s *models.Store, f models.CouponFilter) []string {
	t.Helper()
	var got []string
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("pagination does not end")
		}
		page, err := s.ListCoupons(t.Context(), f)
		if err != nil {
			t.Fatalf("list %+v: %v", f, err)
		}
		for _, c := range page.Coupons {
			got = append(got, c.Code)
		}
		if page.Next == "" {
			return got
		}
		f.After = page.Next
	}
}

func TestSearchFindsAFragmentAnywhereInTheCode(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		{
			s, db := storetest.OpenWithGORM(t, dialect, models.Config{})
			ctx := t.Context()
			for _, code := range []string{"BDAY-ANNA-1205", "anna-x", "XANNAY", "ANN_A", "Bob-1", "ANNxA"} {
				mustCreateCoupon(t, s, code)
			}
			_, batch, err := s.GenerateCodes(ctx, mustBatchSpec(t, models.BatchInput{Quantity: 40, Format: models.FormatInput{Prefix: "GIFT", Delimiter: "-", Length: 10, Charset: models.CharsetDigits}}))
			if err != nil {
				t.Fatal(err)
			}
			check := func(term string, want ...string) {
				t.Helper()
				got := codesOf(t, s, models.CouponFilter{Search: term, Limit: 2})
				if !slices.Equal(got, want) {
					t.Errorf("search %q = %q, want %q", term, got, want)
				}
			}
			check("anna", "anna-x", "BDAY-ANNA-1205", "XANNAY")
			check(" ANNA-1 ", "BDAY-ANNA-1205")
			check("nn_", "ANN_A") // '_' is itself, not a wildcard
			check("n_a", "ANN_A")
			check("nx", "ANNxA")
			check("zzzz")
			check("50%")
			check(strings.Repeat("a", 65))
			// A code of a batch, by the middle of its random part (digits,
			// so that no letter fragment above finds batch codes).
			code := batch[17].Code
			check(code[7:13], code)
			check(strings.ToLower(code[5:]), code)

			// Codes deleted leave the index, and the index stays whole.
			if err := db.Exec("DELETE FROM coupons WHERE code IN ?", []string{"XANNAY", batch[17].Code}).Error; err != nil {
				t.Fatal(err)
			}
			check("anna", "anna-x", "BDAY-ANNA-1205")
			check(code[7:13])
			if dialect == models.DialectSQLite {
				if err := db.Exec("INSERT INTO coupon_search (coupon_search, rank) VALUES ('integrity-check', 1)").Error; err != nil {
					t.Errorf("the search index does not match the coupons: %v", err)
				}
			}
		}
	})
}

// A fragment that many codes share is read in code order rather than
// gathered from the search index; pages are the same.
func TestSearchForACommonFragmentPagesInOrder(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{}, func(t *testing.T, s *models.Store) {
		_, batch, err := s.GenerateCodes(t.Context(), mustBatchSpec(t, models.BatchInput{Quantity: 5100, Format: models.FormatInput{Prefix: "SPRING", Delimiter: "-", Length: 6}}))
		if err != nil {
			t.Fatal(err)
		}
		mustCreateCoupon(t, s, "A-SPRING")
		want := []string{"A-SPRING"}
		for _, c := range batch {
			want = append(want, c.Code)
		}
		slices.SortFunc(want, func(a, b string) int { return strings.Compare(models.CodeKey(a), models.CodeKey(b)) })
		got := codesOf(t, s, models.CouponFilter{Search: "prin", Limit: 1000})
		if !slices.Equal(got, want) {
			t.Fatalf("search prin: %d codes, first %q; want %d, first %q", len(got), got[:min(3, len(got))], len(want), want[:3])
		}
	})
}

func TestListSortsBothWaysPageByPage(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		{
			s, db := storetest.OpenWithGORM(t, dialect, models.Config{})
			base := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
			type row struct {
				code string
				uses int
				ends *time.Time
			}
			rows := []row{
				{"C-1", 0, nil}, {"a-2", 3, new(base)}, {"B-3", 1, new(base.Add(time.Hour))}, {"d-4", 3, nil},
				{"E-5", 0, new(base)}, {"f-6", 7, new(base.Add(-time.Hour))}, {"G-7", 1, nil}, {"h-8", 0, new(base)},
			}
			var ids []int64
			for _, r := range rows {
				ids = append(ids, mustCreateCoupon(t, s, r.code).ID)
				if err := db.Exec("UPDATE coupons SET uses = ?, expires_at = ? WHERE code = ?", r.uses, r.ends, r.code).Error; err != nil {
					t.Fatal(err)
				}
			}
			orders := map[string]func(a, b int) int{
				"code":    func(a, b int) int { return strings.Compare(models.CodeKey(rows[a].code), models.CodeKey(rows[b].code)) },
				"created": func(a, b int) int { return cmp.Compare(ids[a], ids[b]) },
				"uses": func(a, b int) int {
					return cmp.Or(cmp.Compare(rows[a].uses, rows[b].uses), cmp.Compare(ids[a], ids[b]))
				},
				"ends": func(a, b int) int {
					ea, eb := rows[a].ends, rows[b].ends
					switch {
					case ea == nil && eb == nil:
						return cmp.Compare(ids[a], ids[b])
					case ea == nil:
						return 1
					case eb == nil:
						return -1
					}
					return cmp.Or(ea.Compare(*eb), cmp.Compare(ids[a], ids[b]))
				},
			}
			for name, order := range orders {
				idx := []int{0, 1, 2, 3, 4, 5, 6, 7}
				slices.SortFunc(idx, order)
				var want []string
				for _, i := range idx {
					want = append(want, rows[i].code)
				}
				for _, limit := range []int{1, 3, 50} {
					if got := codesOf(t, s, models.CouponFilter{Sort: name, Limit: limit}); !slices.Equal(got, want) {
						t.Errorf("sort %s, %d a page = %q, want %q", name, limit, got, want)
					}
					slices.Reverse(want)
					if got := codesOf(t, s, models.CouponFilter{Sort: "-" + name, Limit: limit}); !slices.Equal(got, want) {
						t.Errorf("sort -%s, %d a page = %q, want %q", name, limit, got, want)
					}
					slices.Reverse(want)
				}
			}
			// Sorted with a filter: the used coupons ending at base.
			if got := codesOf(t, s, models.CouponFilter{Sort: "-uses", Search: "-", Limit: 2}); len(got) != 8 || got[0] != "f-6" || got[7] != "C-1" {
				t.Errorf("sort -uses with a search = %q", got)
			}

			ctx := t.Context()
			page, err := s.ListCoupons(ctx, models.CouponFilter{Sort: "uses", Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			var verr *models.ValidationError
			if _, err := s.ListCoupons(ctx, models.CouponFilter{Sort: "ends", After: page.Next}); !errors.As(err, &verr) || verr.Message(models.FieldCursor) == "" {
				t.Errorf("a cursor of another order: got %v", err)
			}
			if _, err := s.ListCoupons(ctx, models.CouponFilter{Sort: "price"}); !errors.As(err, &verr) || verr.Message(models.FieldSort) == "" {
				t.Errorf("sort price: got %v", err)
			}
		}
	})
}

func TestUTMFiltersMatchTheStartOfATag(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{}, func(t *testing.T, s *models.Store) {
		for code, source := range map[string]string{"A1": "newsletter", "A2": "News", "A3": "fresh-news", "A4": "50%off", "A5": "50xoff", "A6": "news_x"} {
			if _, err := s.CreateCoupon(t.Context(), mustSpec(t, models.CouponInput{Code: code, UTMSource: new(source), UTMCampaign: new("camp-" + source)})); err != nil {
				t.Fatal(err)
			}
		}
		check := func(f models.CouponFilter, want ...string) {
			t.Helper()
			if got := codesOf(t, s, f); !slices.Equal(got, want) {
				t.Errorf("%+v = %q, want %q", f, got, want)
			}
		}
		check(models.CouponFilter{UTMSource: "NEWS", TagPrefix: true}, "A1", "A2", "A6")
		check(models.CouponFilter{UTMSource: "news_", TagPrefix: true}, "A6")
		check(models.CouponFilter{UTMSource: "50%", TagPrefix: true}, "A4")
		check(models.CouponFilter{UTMCampaign: "camp-n", TagPrefix: true}, "A1", "A2", "A6")
		check(models.CouponFilter{UTMSource: "news"}, "A2")
	})
}
