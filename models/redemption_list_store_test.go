package models_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
)

func TestListRedemptionsFilters(t *testing.T) {
	t.Parallel()
	eachWithClock(t, models.Config{}, func(t *testing.T, s *models.Store, clock *testClock) {
		ctx := t.Context()
		// The coupons exist before every redemption's time.
		clock.Set(epoch.Add(-10 * 24 * time.Hour))
		spring := mustPromotion(t, s, models.PromotionInput{Name: "Spring", UTMSource: ptr("Spring")})
		mustPromotion(t, s, models.PromotionInput{Name: "Mail", UTMCampaign: ptr("mail")})
		mustCoupon(t, s, models.CouponInput{Code: "SPRING1", UTMSource: ptr("spring")})
		mustCoupon(t, s, models.CouponInput{Code: "MAIL1", UTMCampaign: ptr("MAIL")})
		// Orders o1…o5, made a day apart, the newest last.
		redeem := func(code, customer, order string, daysAgo int) models.Redemption {
			t.Helper()
			r, _, err := s.Redeem(ctx, models.RedemptionInput{Code: code, CustomerID: customer, OrderID: order, Items: 1, OrderAmount: ptr(int64(1000)),
				At: epoch.Add(-time.Duration(daysAgo) * 24 * time.Hour)}, "test")
			if err != nil {
				t.Fatalf("redeem %s for %s: %v", code, order, err)
			}
			return r
		}
		clock.Set(epoch)
		redeem("SPRING1", "anna", "o1", 5)
		redeem("MAIL1", "anna", "o2", 4)
		o3 := redeem("spring1", "bert", "o3", 3)
		redeem("MAIL1", "bert", "o4", 2)
		redeem("SPRING1", "carl", "o5", 1)
		if _, err := s.CancelRedemption(ctx, o3.ID); err != nil {
			t.Fatal(err)
		}
		orders := func(f models.RedemptionFilter) []string {
			t.Helper()
			var got []string
			if err := s.EachRedemption(ctx, f, func(r models.Redemption) error {
				got = append(got, r.OrderID)
				return nil
			}); err != nil {
				t.Fatalf("%+v: %v", f, err)
			}
			return got
		}
		day := 24 * time.Hour
		cases := []struct {
			name string
			f    models.RedemptionFilter
			want []string
		}{
			{"every redemption, newest first", models.RedemptionFilter{}, []string{"o5", "o4", "o3", "o2", "o1"}},
			{"a code in any case", models.RedemptionFilter{Code: " spring1 "}, []string{"o5", "o3", "o1"}},
			{"a code nobody has", models.RedemptionFilter{Code: "NOPE"}, nil},
			{"not a code at all", models.RedemptionFilter{Code: "a\x00b"}, nil},
			{"a customer", models.RedemptionFilter{CustomerID: "bert"}, []string{"o4", "o3"}},
			{"a promotion", models.RedemptionFilter{PromotionID: spring.ID}, []string{"o5", "o3", "o1"}},
			{"a UTM source ignoring case", models.RedemptionFilter{UTMSource: "SPRING"}, []string{"o5", "o3", "o1"}},
			{"a UTM campaign ignoring case", models.RedemptionFilter{UTMCampaign: "mail"}, []string{"o4", "o2"}},
			{"live only", models.RedemptionFilter{Cancelled: new(false)}, []string{"o5", "o4", "o2", "o1"}},
			{"cancelled only", models.RedemptionFilter{Cancelled: new(true)}, []string{"o3"}},
			{"a period, its end left out", models.RedemptionFilter{From: epoch.Add(-4 * day), To: epoch.Add(-2 * day)}, []string{"o3", "o2"}},
			{"from a time on", models.RedemptionFilter{From: epoch.Add(-2 * day)}, []string{"o5", "o4"}},
			{"filters together", models.RedemptionFilter{CustomerID: "anna", UTMSource: "spring", From: epoch.Add(-10 * day)}, []string{"o1"}},
		}
		for _, tc := range cases {
			if got := orders(tc.f); !slices.Equal(got, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
		}

		// Pages of two follow each other with nothing lost or repeated.
		var paged []string
		f := models.RedemptionFilter{Limit: 2}
		for range 5 {
			page, err := s.ListRedemptions(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Redemptions {
				paged = append(paged, r.OrderID)
				if len(r.Promotions) != 1 {
					t.Errorf("order %s lists %d promotions, want 1", r.OrderID, len(r.Promotions))
				}
			}
			if page.Next == "" {
				break
			}
			f.After = page.Next
		}
		if !slices.Equal(paged, []string{"o5", "o4", "o3", "o2", "o1"}) {
			t.Errorf("paged: %v", paged)
		}

		_, err := s.ListRedemptions(ctx, models.RedemptionFilter{From: epoch, To: epoch.Add(-day)})
		var verr *models.ValidationError
		if !errors.As(err, &verr) || verr.Errors[0].Field != models.FieldTo {
			t.Errorf("a period that ends before it starts: %v, want a refusal on %s", err, models.FieldTo)
		}
	})
}
