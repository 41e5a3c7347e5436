package models_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
	"github.com/google/go-cmp/cmp"
)

// redeemAll redeems codes for customer's order and fails the test on an
// error; at is each code's redemption time (zero for now).
func redeemAll(t *testing.T, s *models.Store, customer, order string, at time.Time, codes ...string) ([]models.RedeemResult, bool) {
	t.Helper()
	ins := make([]models.RedemptionInput, len(codes))
	for i, code := range codes {
		ins[i] = models.RedemptionInput{Code: code, CustomerID: customer, OrderID: order, Items: 1, At: at}
	}
	rs, all, err := s.RedeemAll(t.Context(), ins, "10.0.9.1")
	if err != nil {
		t.Fatalf("redeem %v for %s, order %s: %v", codes, customer, order, err)
	}
	return rs, all
}

// reasonsOfAll lists each result's reasons.
func reasonsOfAll(rs []models.RedeemResult) [][]string {
	out := make([][]string, len(rs))
	for i, r := range rs {
		out[i] = r.Reasons
	}
	return out
}

// mustRedeemedAt fails unless rs are all new redemptions made at at, as
// read back from the store.
func mustRedeemedAt(t *testing.T, s *models.Store, rs []models.RedeemResult, all bool, at time.Time) {
	t.Helper()
	if !all {
		t.Fatalf("redeemed none: %v", reasonsOfAll(rs))
	}
	for _, r := range rs {
		if !r.Created || !r.Redemption.CreatedAt.Equal(at) {
			t.Fatalf("%s: created %v at %s, want a new redemption at %s", r.Code, r.Created, r.Redemption.CreatedAt, at)
		}
		stored, err := s.Redemption(t.Context(), r.Redemption.ID)
		if err != nil || !stored.CreatedAt.Equal(at) {
			t.Fatalf("%s as stored: %s (%v), want it made at %s", r.Code, stored.CreatedAt, err, at)
		}
	}
}

func TestRedeemAllIsAllOrNothingAndIdempotent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{Now: fixedClock}, func(t *testing.T, s *models.Store) {
		p := mustPromotion(t, s, models.PromotionInput{UTMSource: ptr("pair")})
		a := mustCoupon(t, s, models.CouponInput{Code: "PAIR-A", UTMSource: ptr("pair")})
		mustCoupon(t, s, models.CouponInput{Code: "PAIR-B", UTMSource: ptr("pair")})
		mustCoupon(t, s, models.CouponInput{Code: "PAIR-ONCE", UTMSource: ptr("pair"), MaxUsage: 1})
		mustRedeem(t, s, "PAIR-ONCE", "zoe", "o-0", 1)

		rs, all := redeemAll(t, s, "ann", "o-1", time.Time{}, "pair-a", "NO-SUCH-CODE", "PAIR-ONCE")
		want := [][]string{{models.ReasonOtherCode}, {models.ReasonNotFound}, {models.ReasonUsageLimit}}
		if d := cmp.Diff(want, reasonsOfAll(rs)); all || d != "" {
			t.Fatalf("a valid, an unknown and a used-up code: all=%v, reasons (-want +got):\n%s", all, d)
		}
		if rs[0].Code != "PAIR-A" || rs[0].Coupon == nil || rs[0].Created || rs[1].Code != "NO-SUCH-CODE" || rs[1].Coupon != nil {
			t.Fatalf("results %+v, want each code as stored (as sent when unknown) and nothing made", rs)
		}
		if got, err := s.Coupon(t.Context(), "PAIR-A"); err != nil || got.Uses != 0 {
			t.Fatalf("PAIR-A after a refused request: %d uses (%v), want 0", got.Uses, err)
		}

		rs, all = redeemAll(t, s, "ann", "o-2", time.Time{}, "PAIR-B", "PAIR-A")
		mustRedeemedAt(t, s, rs, all, epoch)
		again, all := redeemAll(t, s, "ann", "o-2", time.Time{}, "PAIR-A", "PAIR-B")
		if !all || again[0].Created || again[0].Redemption.ID != rs[1].Redemption.ID || again[1].Redemption.ID != rs[0].Redemption.ID {
			t.Fatalf("the same order again: %+v, want the first redemptions, not created", again)
		}
		if len(again[0].Redemption.Promotions) != 1 || again[0].Redemption.Promotions[0].PromotionID != p.ID {
			t.Fatalf("the earlier redemption's promotions: %+v, want %d", again[0].Redemption.Promotions, p.ID)
		}
		if got, err := s.Coupon(t.Context(), a.Code); err != nil || got.Uses != 1 {
			t.Fatalf("PAIR-A: %d uses (%v), want 1", got.Uses, err)
		}
	})
}

func TestRedeemAndRedeemAllCountUnknownCodesAlike(t *testing.T) {
	t.Parallel()
	cfg := models.Config{GuessLimit: new(4), GuessWindow: time.Minute}
	eachWithClock(t, cfg, func(t *testing.T, s *models.Store, clock *testClock) {
		mustPromotion(t, s, models.PromotionInput{UTMSource: ptr("real")})
		mustCoupon(t, s, models.CouponInput{Code: "REAL", UTMSource: ptr("real")})
		g := guessing{t: t, s: s}
		// One failure from Redeem, one per unknown code from RedeemAll
		// (which rolls back), one from Check: four fill the window.
		_, _, err := s.Redeem(t.Context(), models.RedemptionInput{Code: "GUESS-1", CustomerID: "c1", OrderID: "o", Items: 1}, "10.0.4.1")
		wantRefused(t, err, models.ReasonNotFound)
		ins := []models.RedemptionInput{
			{Code: "REAL", CustomerID: "c2", OrderID: "o", Items: 1},
			{Code: "GUESS-2", CustomerID: "c2", OrderID: "o", Items: 1},
			{Code: "GUESS-3", CustomerID: "c2", OrderID: "o", Items: 1},
		}
		if _, all, err := s.RedeemAll(t.Context(), ins, "10.0.4.1"); err != nil || all {
			t.Fatalf("redeem with two unknown codes: all=%v err=%v, want a refusal", all, err)
		}
		g.allowed("10.0.4.1", "", "GUESS-4", models.ReasonNotFound)
		if _, refused := g.check("10.0.4.1", "", "REAL"); refused == nil {
			t.Fatal("a look-up after four unknown codes was answered, want it refused")
		}
		// The customer of the all-or-nothing request was counted too.
		if _, refused := g.check("10.0.4.2", "c2", "REAL"); refused != nil {
			t.Fatalf("customer c2 after two unknown codes refused: %v", refused)
		}
	})
}

func TestRedeemAtAPastTime(t *testing.T) {
	t.Parallel()
	eachWithClock(t, models.Config{}, func(t *testing.T, s *models.Store, clock *testClock) {
		// The subtests move one clock, so they run one after the other.
		t.Run("a promotion that has ended since", func(t *testing.T) {
			clock.Set(epoch)
			mustPromotion(t, s, models.PromotionInput{UTMSource: ptr("ended"), EndsAt: epoch.Add(2 * time.Hour).Format(time.RFC3339)})
			mustCoupon(t, s, models.CouponInput{Code: "ENDED-1", UTMSource: ptr("ended")})
			mustCoupon(t, s, models.CouponInput{Code: "ENDED-2", UTMSource: ptr("ended")})
			clock.Set(epoch.Add(5 * 24 * time.Hour))
			rs, _ := redeemAll(t, s, "ann", "o-1", time.Time{}, "ENDED-1", "ENDED-2")
			if d := cmp.Diff([][]string{{models.ReasonExpired}, {models.ReasonExpired}}, reasonsOfAll(rs)); d != "" {
				t.Fatalf("now, after the promotion ended: reasons (-want +got):\n%s", d)
			}
			at := epoch.Add(time.Hour)
			rs, all := redeemAll(t, s, "ann", "o-1", at, "ENDED-1", "ENDED-2")
			mustRedeemedAt(t, s, rs, all, at)

			r, created, err := s.Redeem(t.Context(), models.RedemptionInput{Code: "ENDED-1", CustomerID: "bob", OrderID: "o-2", Items: 1, At: at.In(time.FixedZone("UTC+2", 2*3600))}, "")
			if err != nil || !created || !r.CreatedAt.Equal(at) || r.CreatedAt.Location() != time.UTC {
				t.Fatalf("one code at %s: %v at %s, created %v; want it made then, in UTC", at, err, r.CreatedAt, created)
			}
			_, err = attempt(t, s, "ENDED-1", "bob", "o-3", 1)
			wantRefused(t, err, models.ReasonExpired)
		})
		t.Run("a code that has expired since", func(t *testing.T) {
			clock.Set(epoch)
			spec, err := models.SeriesInput{
				Promotion: models.PromotionInput{Name: "A day", DiscountType: models.DiscountPercent, DiscountValue: "10"},
				Expiry:    models.ExpiryDays, ExpiryDays: 1,
			}.Validate()
			if err != nil {
				t.Fatal(err)
			}
			ser, err := s.CreateSeries(t.Context(), spec)
			if err != nil {
				t.Fatal(err)
			}
			issued := issueOne(t, s, ser, "carl")
			if issued.Coupon == nil || issued.Coupon.ExpiresAt == nil || !issued.Coupon.ExpiresAt.Equal(epoch.Add(24*time.Hour)) {
				t.Fatalf("issued %+v, want a code expiring a day from now", issued)
			}
			code := issued.Coupon.Code
			clock.Set(epoch.Add(3 * 24 * time.Hour))
			rs, _ := redeemAll(t, s, "carl", "o-1", time.Time{}, code)
			if d := cmp.Diff([][]string{{models.ReasonExpired}}, reasonsOfAll(rs)); d != "" {
				t.Fatalf("now, after the code expired: reasons (-want +got):\n%s", d)
			}
			at := epoch.Add(12 * time.Hour)
			rs, all := redeemAll(t, s, "carl", "o-1", at, code)
			mustRedeemedAt(t, s, rs, all, at)
		})
		t.Run("the renewal interval at that time", func(t *testing.T) {
			mustPromotion(t, s, models.PromotionInput{UTMSource: ptr("renew-at")})
			mustCoupon(t, s, models.CouponInput{Code: "RENEW-AT", UTMSource: ptr("renew-at"), MaxUsagePerClient: ptr(1), ExpirationIntervalPerUse: "1.00:00:00"})
			clock.Set(epoch.Add(10 * 24 * time.Hour))
			first := epoch.Add(8 * 24 * time.Hour)
			rs, all := redeemAll(t, s, "dora", "o-1", first, "RENEW-AT")
			mustRedeemedAt(t, s, rs, all, first)
			// Within a day of the first use, though more than a day before
			// now.
			rs, _ = redeemAll(t, s, "dora", "o-2", first.Add(12*time.Hour), "RENEW-AT")
			if d := cmp.Diff([][]string{{models.ReasonCustomerLimit}}, reasonsOfAll(rs)); d != "" {
				t.Fatalf("half a day after the first use: reasons (-want +got):\n%s", d)
			}
			rs, all = redeemAll(t, s, "dora", "o-3", first.Add(24*time.Hour), "RENEW-AT")
			mustRedeemedAt(t, s, rs, all, first.Add(24*time.Hour))
			// Days before those uses, the limit is free again; but not
			// half a day before one, which would put two uses in a day.
			rs, all = redeemAll(t, s, "dora", "o-4", first.Add(-5*24*time.Hour), "RENEW-AT")
			mustRedeemedAt(t, s, rs, all, first.Add(-5*24*time.Hour))
			rs, _ = redeemAll(t, s, "dora", "o-5", first.Add(-12*time.Hour), "RENEW-AT")
			if d := cmp.Diff([][]string{{models.ReasonCustomerLimit}}, reasonsOfAll(rs)); d != "" {
				t.Fatalf("half a day before a use: reasons (-want +got):\n%s", d)
			}
		})
		t.Run("not before the code existed", func(t *testing.T) {
			clock.Set(epoch.Add(20 * 24 * time.Hour))
			mustPromotion(t, s, models.PromotionInput{UTMSource: ptr("young")})
			mustCoupon(t, s, models.CouponInput{Code: "YOUNG", UTMSource: ptr("young")})
			_, _, err := s.Redeem(t.Context(), models.RedemptionInput{Code: "YOUNG", CustomerID: "ed", OrderID: "o-1", Items: 1, At: epoch.Add(19 * 24 * time.Hour)}, "")
			var verr *models.ValidationError
			if !errors.As(err, &verr) || !strings.Contains(verr.Message(models.FieldRedeemedAt), "before the code existed") {
				t.Fatalf("a day before the code was made: %v, want a refusal on %s", err, models.FieldRedeemedAt)
			}
			if c, err := s.Coupon(t.Context(), "YOUNG"); err != nil || c.Uses != 0 {
				t.Fatalf("YOUNG: %d uses (%v), want 0", c.Uses, err)
			}
		})
	})
}

func TestRedemptionTimeMustBeWithinTheWindow(t *testing.T) {
	t.Parallel()
	eachWithClock(t, models.Config{}, func(t *testing.T, s *models.Store, clock *testClock) {
		now := epoch.Add(60 * 24 * time.Hour)
		// The codes exist long before any time tried here.
		clock.Set(epoch)
		mustPromotion(t, s, models.PromotionInput{UTMSource: ptr("window")})
		tests := []struct {
			name string
			at   time.Time
			// want is the start of the message on FieldRedeemedAt; ""
			// means the time is taken.
			want string
		}{
			{name: "a minute ahead", at: now.Add(models.MaxRedemptionLead)},
			{name: "just over a minute ahead", at: now.Add(models.MaxRedemptionLead + time.Microsecond), want: "must not be in the future"},
			{name: "a day ahead", at: now.Add(24 * time.Hour), want: "must not be in the future"},
			{name: "30 days ago", at: now.Add(-models.MaxRedemptionAge)},
			{name: "just over 30 days ago", at: now.Add(-models.MaxRedemptionAge - time.Microsecond), want: "must be within the last 30 days"},
			{name: "a year ago", at: now.AddDate(-1, 0, 0), want: "must be within the last 30 days"},
		}
		for i := range tests {
			mustCoupon(t, s, models.CouponInput{Code: fmt.Sprint("WINDOW-", i), UTMSource: ptr("window")})
		}
		clock.Set(now)
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code := fmt.Sprint("WINDOW-", i)
				in := models.RedemptionInput{Code: code, CustomerID: "eve", OrderID: "o-1", Items: 1, At: tt.at}
				r, created, err := s.Redeem(t.Context(), in, "")
				if tt.want == "" {
					if err != nil || !created || !r.CreatedAt.Equal(tt.at) {
						t.Fatalf("Redeem at %s: %v, created %v at %s; want it made then", tt.at, err, created, r.CreatedAt)
					}
					return
				}
				var verr *models.ValidationError
				if !errors.As(err, &verr) || len(verr.Errors) != 1 || !strings.HasPrefix(verr.Message(models.FieldRedeemedAt), tt.want) {
					t.Fatalf("Redeem at %s: %v, want only %q on %s", tt.at, err, tt.want, models.FieldRedeemedAt)
				}
				// In a list, the message names the element; nothing is
				// redeemed, not even the element in the window.
				ok := models.RedemptionInput{Code: code, CustomerID: "eve", OrderID: "o-2", Items: 1}
				_, _, err = s.RedeemAll(t.Context(), []models.RedemptionInput{ok, in}, "")
				want := []models.FieldError{{Item: 1, Field: models.FieldRedeemedAt}}
				if !errors.As(err, &verr) || len(verr.Errors) != 1 || verr.Errors[0].Item != want[0].Item || verr.Errors[0].Field != want[0].Field ||
					!strings.HasPrefix(verr.Errors[0].Message, tt.want) {
					t.Fatalf("RedeemAll with element 1 at %s: %v, want %q on [1].%s", tt.at, err, tt.want, models.FieldRedeemedAt)
				}
				if c, err := s.Coupon(t.Context(), code); err != nil || c.Uses != 0 {
					t.Fatalf("%s after refused times: %d uses (%v), want 0", code, c.Uses, err)
				}
			})
		}
	})
}
