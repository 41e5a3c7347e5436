package models_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
)

// reserve holds a use of code for order and fails the test on an error
// other than a refusal, which it returns.
func reserve(t *testing.T, s *models.Store, code, customer, order, ttl string) (models.Reservation, bool, error) {
	t.Helper()
	r, created, err := s.Reserve(t.Context(), models.ReservationInput{Code: code, CustomerID: customer, OrderID: order, Items: 1, TTL: ttl}, "")
	if err != nil && !errors.Is(err, models.ErrNotRedeemable) {
		t.Fatalf("reserve %s for %s: %v", code, order, err)
	}
	return r, created, err
}

// reservationStores are the instances a test reserves through: two on
// one PostgreSQL database, one on SQLite (one process per file).
func reservationStores(t *testing.T, dialect string, cfg models.Config) []*models.Store {
	t.Helper()
	if dialect == models.DialectSQLite {
		return []*models.Store{storetest.Open(t, dialect, cfg)}
	}
	stores, _ := openStores(t, dialect, cfg, cfg)
	return stores
}

// 100 orders ask at once to hold a use of a 5-use coupon: exactly 5 get
// one, across instances, and the rest are told it is used up.
func TestConcurrentReservationsHoldExactlyTheUsesLeft(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		stores := reservationStores(t, dialect, models.Config{})
		s := stores[0]
		mustPromotion(t, s, models.PromotionInput{Status: models.PromotionActive, UTMSource: ptr("hold")})
		mustCoupon(t, s, models.CouponInput{Code: "FIVE", UTMSource: ptr("hold"), MaxUsage: 5})
		var wg sync.WaitGroup
		var mu sync.Mutex
		held, refused := 0, map[string]int{}
		for i := range 100 {
			wg.Go(func() {
				_, created, err := stores[i%len(stores)].Reserve(t.Context(), models.ReservationInput{Code: "five", CustomerID: fmt.Sprint("c", i), OrderID: fmt.Sprint("o", i), Items: 1}, "")
				mu.Lock()
				defer mu.Unlock()
				var nr *models.NotRedeemableError
				switch {
				case err == nil && created:
					held++
				case errors.As(err, &nr):
					for _, r := range nr.Reasons {
						refused[r]++
					}
				default:
					t.Errorf("reservation %d: created %v, %v", i, created, err)
				}
			})
		}
		wg.Wait()
		if held != 5 || refused[models.ReasonUsageLimit] != 95 {
			t.Errorf("held %d, refused %v; want 5 held and 95 refused as used up", held, refused)
		}
		v, err := s.Check(t.Context(), models.CheckInput{Code: "FIVE"}, "")
		if err != nil || v.Valid || v.Held != 5 || v.UsesLeft() != 0 {
			t.Errorf("validation beside 5 holds = valid %v, held %d, left %d, %v", v.Valid, v.Held, v.UsesLeft(), err)
		}
	})
}

// A hold counts while it lasts; it ends by running out (at once, by the
// clock), by a release, or by the order's redemption, which takes its
// use; the same order asking again gets the same hold.
func TestAHoldRunsOutIsReleasedOrRedeemed(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		clock := &stepClock{t: epoch}
		s := storetest.Open(t, dialect, models.Config{Now: clock.Now})
		mustPromotion(t, s, models.PromotionInput{Status: models.PromotionActive, UTMSource: ptr("hold"), MaxUsage: 10})
		mustCoupon(t, s, models.CouponInput{Code: "ONE", UTMSource: ptr("hold"), MaxUsage: 1})

		a, created, err := reserve(t, s, "ONE", "ann", "order-a", "90s")
		if err != nil || !created || !a.ExpiresAt.Equal(epoch.Add(90*time.Second)) || len(a.Promotions) != 1 {
			t.Fatalf("first hold = %+v, created %v, %v", a, created, err)
		}
		again, created, err := reserve(t, s, "one", "ann", "order-a", "")
		if err != nil || created || again.ID != a.ID {
			t.Errorf("the same order again = %d (created %v, %v), want hold %d unchanged", again.ID, created, err, a.ID)
		}
		if _, _, err := reserve(t, s, "ONE", "bob", "order-b", ""); !slices.Contains(reasonsOf(t, err), models.ReasonUsageLimit) {
			t.Errorf("a second order while the last use is held: %v", err)
		}
		if _, _, err := s.Redeem(t.Context(), models.RedemptionInput{Code: "ONE", CustomerID: "bob", OrderID: "order-b", Items: 1}, ""); !slices.Contains(reasonsOf(t, err), models.ReasonUsageLimit) {
			t.Errorf("another order's redemption while the last use is held: %v", err)
		}

		// Run out: the use is free again at once.
		clock.Advance(90 * time.Second)
		b, created, err := reserve(t, s, "ONE", "bob", "order-b", "")
		if err != nil || !created {
			t.Fatalf("after the first hold ran out: created %v, %v", created, err)
		}
		if got, _ := s.Reservation(t.Context(), a.ID); got.Status(clock.Now()) != models.ReservationExpired {
			t.Errorf("the hold that ran out is %q", got.Status(clock.Now()))
		}

		// Release: free again.
		released, err := s.ReleaseReservation(t.Context(), b.ID)
		if err != nil || released.Status(clock.Now()) != models.ReservationReleased {
			t.Fatalf("release = %+v, %v", released, err)
		}
		if again, err := s.ReleaseReservation(t.Context(), b.ID); err != nil || again.Status(clock.Now()) != models.ReservationReleased {
			t.Errorf("releasing again = %q, %v", again.Status(clock.Now()), err)
		}
		if _, err := s.ReleaseReservation(t.Context(), 9999); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("releasing an unknown hold: %v", err)
		}

		// Redeemed by its order: the hold's use becomes the redemption.
		c, _, err := reserve(t, s, "ONE", "cat", "order-c", "")
		if err != nil {
			t.Fatal(err)
		}
		r, created, err := s.Redeem(t.Context(), models.RedemptionInput{Code: "ONE", CustomerID: "cat", OrderID: "order-c", Items: 1}, "")
		if err != nil || !created {
			t.Fatalf("the holding order's redemption: %v", err)
		}
		got, err := s.Reservation(t.Context(), c.ID)
		if err != nil || got.Status(clock.Now()) != models.ReservationRedeemed || got.RedemptionID == nil || *got.RedemptionID != r.ID {
			t.Errorf("the redeemed hold = %+v, %v", got, err)
		}
		coupon, _ := s.Coupon(t.Context(), "ONE")
		v, _ := s.Check(t.Context(), models.CheckInput{Code: "ONE"}, "")
		if coupon.Uses != 1 || v.Held != 0 {
			t.Errorf("after the redemption: %d uses, %d held; want 1 and 0", coupon.Uses, v.Held)
		}
		if _, _, err := reserve(t, s, "ONE", "dan", "order-d", ""); !slices.Contains(reasonsOf(t, err), models.ReasonUsageLimit) {
			t.Errorf("a hold of a used-up coupon: %v", err)
		}
	})
}

// Holds count against the per-customer and promotion limits too.
func TestHoldsCountAgainstEveryLimit(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{}, func(t *testing.T, s *models.Store) {
		p := mustPromotion(t, s, models.PromotionInput{Status: models.PromotionActive, UTMSource: ptr("limit"), MaxUsage: 2, MaxUsagePerClient: 1})
		for _, code := range []string{"L1", "L2", "L3"} {
			mustCoupon(t, s, models.CouponInput{Code: code, UTMSource: ptr("limit"), MaxUsagePerClient: new(1)})
		}
		if _, _, err := reserve(t, s, "L1", "ann", "o1", ""); err != nil {
			t.Fatal(err)
		}
		if _, _, err := reserve(t, s, "L1", "ann", "o2", ""); !slices.Contains(reasonsOf(t, err), models.ReasonCustomerLimit) {
			t.Errorf("ann's second hold of L1: %v", err)
		}
		if _, _, err := reserve(t, s, "L2", "ann", "o3", ""); !slices.Contains(reasonsOf(t, err), models.ReasonPromotionCustomerLimit) {
			t.Errorf("ann's second hold through promotion %d: %v", p.ID, err)
		}
		if _, _, err := reserve(t, s, "L2", "bob", "o4", ""); err != nil {
			t.Fatal(err)
		}
		if _, _, err := reserve(t, s, "L3", "cat", "o5", ""); !slices.Contains(reasonsOf(t, err), models.ReasonPromotionUsageLimit) {
			t.Errorf("a third hold of a 2-use promotion: %v", err)
		}
		for _, ttl := range []string{"soon", "0s", "500ms", "25h", "-1m"} {
			var verr *models.ValidationError
			if _, _, err := s.Reserve(t.Context(), models.ReservationInput{Code: "L3", CustomerID: "x", OrderID: "o", Items: 1, TTL: ttl}, ""); !errors.As(err, &verr) || verr.Message(models.FieldTTL) == "" {
				t.Errorf("ttl %q: %v", ttl, err)
			}
		}
		if _, _, err := reserve(t, s, "NOPE", "x", "o9", ""); !slices.Contains(reasonsOf(t, err), models.ReasonNotFound) {
			t.Errorf("an unknown code: %v", err)
		}
	})
}

// A hold and a plain redemption racing for a coupon's last use: exactly
// one gets it, every time.
func TestAHoldAndARedemptionRaceForTheLastUse(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		stores := reservationStores(t, dialect, models.Config{})
		s := stores[0]
		mustPromotion(t, s, models.PromotionInput{Status: models.PromotionActive, UTMSource: ptr("race")})
		for round := range 20 {
			code := fmt.Sprint("RACE-", round)
			mustCoupon(t, s, models.CouponInput{Code: code, UTMSource: ptr("race"), MaxUsage: 1})
			var wg sync.WaitGroup
			var holdErr, redeemErr error
			wg.Go(func() {
				_, _, holdErr = stores[0].Reserve(t.Context(), models.ReservationInput{Code: code, CustomerID: "h", OrderID: "hold", Items: 1}, "")
			})
			wg.Go(func() {
				_, _, redeemErr = stores[len(stores)-1].Redeem(t.Context(), models.RedemptionInput{Code: code, CustomerID: "r", OrderID: "redeem", Items: 1}, "")
			})
			wg.Wait()
			won := 0
			for _, err := range []error{holdErr, redeemErr} {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, models.ErrNotRedeemable):
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if won != 1 {
				t.Errorf("round %d: hold %v, redemption %v; want exactly one to win", round, holdErr, redeemErr)
			}
		}
	})
}
