package models_test

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
)

// mustPromotion creates an active percent promotion listening to source.
func mustPromotion(t *testing.T, s *models.Store, in models.PromotionInput) models.Promotion {
	t.Helper()
	if in.Name == "" {
		in.Name = "Promo"
	}
	if in.DiscountType == "" {
		in.DiscountType, in.DiscountValue = models.DiscountPercent, "10"
	}
	spec, err := in.Validate()
	if err != nil {
		t.Fatalf("promotion input: %v", err)
	}
	p, err := s.CreatePromotion(t.Context(), spec)
	if err != nil {
		t.Fatalf("create promotion: %v", err)
	}
	return p
}

// mustCoupon creates a coupon from in.
func mustCoupon(t *testing.T, s *models.Store, in models.CouponInput) models.Coupon {
	t.Helper()
	c, err := s.CreateCoupon(t.Context(), mustSpec(t, in))
	if err != nil {
		t.Fatalf("create coupon %q: %v", in.Code, err)
	}
	return c
}

// reasonsOf returns the reasons of a *NotRedeemableError, or fails.
func reasonsOf(t *testing.T, err error) []string {
	t.Helper()
	var nr *models.NotRedeemableError
	if !errors.As(err, &nr) {
		t.Fatalf("err = %v, want *NotRedeemableError", err)
	}
	return nr.Reasons
}

func TestRedeemCountsCancelsAndIsIdempotent(t *testing.T) {
	t.Parallel()
	now := epoch
	clock := func() time.Time { return now }
	storetest.Each(t, models.Config{Now: clock}, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		p := mustPromotion(t, s, models.PromotionInput{UTMSource: ptr("Spring"), DiscountCap: ptr(int64(300))})
		c := mustCoupon(t, s, models.CouponInput{Code: "SPRING1", UTMSource: ptr("spring"), MaxUsage: 1})
		amount := int64(5000)
		r, created, err := s.Redeem(ctx, models.RedemptionInput{Code: "spring1", CustomerID: "alice", OrderID: "o-1", Items: 2, OrderAmount: &amount}, "10.0.0.1")
		if err != nil || !created {
			t.Fatalf("redeem: created=%v err=%v", created, err)
		}
		if r.Code != "SPRING1" || len(r.Promotions) != 1 || r.Promotions[0].PromotionID != p.ID || *r.Discount != 300 {
			t.Fatalf("redemption = %+v, want SPRING1 through promotion %d with discount 300 (10%% of 5000 capped at 300)", r, p.ID)
		}
		events, err := s.ListAudit(ctx, models.AuditFilter{Action: models.ActionRedeem})
		if err != nil || len(events.Events) != 1 || events.Events[0].EntityID != strconv.FormatInt(r.ID, 10) ||
			events.Events[0].Summary != "code=SPRING1 customer=alice order=o-1 items=2 promotions=1 amount=5000 discount=300" {
			t.Fatalf("the redemption's audit events = %+v (%v), want one naming redemption %d and what it was", events.Events, err, r.ID)
		}
		again, created, err := s.Redeem(ctx, models.RedemptionInput{Code: "SPRING1", CustomerID: "alice", OrderID: "o-1", Items: 2}, "10.0.0.1")
		if err != nil || created || again.ID != r.ID || len(again.Promotions) != 1 {
			t.Fatalf("retry: id=%d created=%v err=%v, want the first redemption %d", again.ID, created, err, r.ID)
		}
		_, _, err = s.Redeem(ctx, models.RedemptionInput{Code: "SPRING1", CustomerID: "bob", OrderID: "o-2", Items: 1}, "10.0.0.1")
		if got := reasonsOf(t, err); fmt.Sprint(got) != "[USAGE_LIMIT]" {
			t.Fatalf("second order reasons = %v, want [USAGE_LIMIT]", got)
		}
		if got, _ := s.Coupon(ctx, c.Code); got.Uses != 1 {
			t.Fatalf("coupon uses = %d, want 1", got.Uses)
		}
		cancelled, err := s.CancelRedemption(ctx, r.ID)
		if err != nil || cancelled.CancelledAt == nil {
			t.Fatalf("cancel: %+v %v", cancelled, err)
		}
		if _, err := s.CancelRedemption(ctx, r.ID); err != nil {
			t.Fatalf("cancel twice: %v", err)
		}
		if got, _ := s.Coupon(ctx, c.Code); got.Uses != 0 {
			t.Fatalf("coupon uses after cancel = %d, want 0", got.Uses)
		}
		if got, _ := s.Promotion(ctx, p.ID); got.Uses != 0 {
			t.Fatalf("promotion uses after cancel = %d, want 0", got.Uses)
		}
		if _, created, err := s.Redeem(ctx, models.RedemptionInput{Code: "SPRING1", CustomerID: "bob", OrderID: "o-2", Items: 1}, "10.0.0.1"); err != nil || !created {
			t.Fatalf("redeem after cancel: created=%v err=%v", created, err)
		}
	})
}

// redeemConcurrently runs n redemptions at once, order i for customer
// customer(i) with code code(i), and counts successes and reasons.
func redeemConcurrently(t *testing.T, s *models.Store, n int, code func(int) string, customer func(int) string) (ok int, reasons map[string]int) {
	t.Helper()
	var mu sync.Mutex
	reasons = map[string]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, _, err := s.Redeem(t.Context(), models.RedemptionInput{Code: code(i), CustomerID: customer(i), OrderID: fmt.Sprintf("order-%d", i), Items: 1}, "")
			mu.Lock()
			defer mu.Unlock()
			var nr *models.NotRedeemableError
			switch {
			case err == nil:
				ok++
			case errors.As(err, &nr):
				for _, r := range nr.Reasons {
					reasons[r]++
				}
			default:
				t.Errorf("redeem %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	return ok, reasons
}

func TestConcurrentRedemptionsNeverPassALimit(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{Now: fixedClock}, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		t.Run("coupon maxUsage", func(t *testing.T) {
			mustPromotion(t, s, models.PromotionInput{UTMSource: ptr("c-total")})
			mustCoupon(t, s, models.CouponInput{Code: "TOTAL5", UTMSource: ptr("c-total"), MaxUsage: 5})
			ok, reasons := redeemConcurrently(t, s, 100, func(int) string { return "TOTAL5" }, func(i int) string { return fmt.Sprint("cust-", i) })
			if ok != 5 || reasons[models.ReasonUsageLimit] != 95 || len(reasons) != 1 {
				t.Fatalf("ok=%d reasons=%v, want 5 redeemed and 95 USAGE_LIMIT", ok, reasons)
			}
			if c, _ := s.Coupon(ctx, "TOTAL5"); c.Uses != 5 {
				t.Fatalf("uses = %d, want 5", c.Uses)
			}
		})
		t.Run("promotion maxUsage through two coupons", func(t *testing.T) {
			p := mustPromotion(t, s, models.PromotionInput{UTMCampaign: ptr("p-total"), MaxUsage: 5})
			mustCoupon(t, s, models.CouponInput{Code: "PA", UTMCampaign: ptr("p-total")})
			mustCoupon(t, s, models.CouponInput{Code: "PB", UTMCampaign: ptr("P-TOTAL")})
			ok, reasons := redeemConcurrently(t, s, 100, func(i int) string { return []string{"PA", "PB"}[i%2] }, func(i int) string { return fmt.Sprint("cust-", i) })
			if ok != 5 || reasons[models.ReasonPromotionUsageLimit] != 95 || len(reasons) != 1 {
				t.Fatalf("ok=%d reasons=%v, want 5 redeemed and 95 PROMOTION_USAGE_LIMIT", ok, reasons)
			}
			if got, _ := s.Promotion(ctx, p.ID); got.Uses != 5 {
				t.Fatalf("promotion uses = %d, want 5", got.Uses)
			}
		})
		t.Run("per customer", func(t *testing.T) {
			mustPromotion(t, s, models.PromotionInput{UTMSource: ptr("c-client")})
			mustCoupon(t, s, models.CouponInput{Code: "CLIENT3", UTMSource: ptr("c-client"), MaxUsagePerClient: ptr(3)})
			ok, reasons := redeemConcurrently(t, s, 50, func(int) string { return "CLIENT3" }, func(int) string { return "carol" })
			if ok != 3 || reasons[models.ReasonCustomerLimit] != 47 || len(reasons) != 1 {
				t.Fatalf("ok=%d reasons=%v, want 3 redeemed and 47 CUSTOMER_LIMIT", ok, reasons)
			}
		})
		t.Run("same order retried", func(t *testing.T) {
			mustPromotion(t, s, models.PromotionInput{UTMSource: ptr("retry")})
			mustCoupon(t, s, models.CouponInput{Code: "RETRY", UTMSource: ptr("retry")})
			var wg sync.WaitGroup
			ids := make(chan int64, 20)
			var created sync.Map
			for i := range 20 {
				wg.Go(func() {
					r, c, err := s.Redeem(ctx, models.RedemptionInput{Code: "RETRY", CustomerID: "dave", OrderID: "the-order", Items: 1}, "")
					if err != nil {
						t.Errorf("redeem %d: %v", i, err)
						return
					}
					if c {
						created.Store(i, true)
					}
					ids <- r.ID
				})
			}
			wg.Wait()
			close(ids)
			first := int64(0)
			for id := range ids {
				if first == 0 {
					first = id
				}
				if id != first {
					t.Fatalf("retries answered redemptions %d and %d, want one", first, id)
				}
			}
			n := 0
			created.Range(func(any, any) bool { n++; return true })
			if n != 1 {
				t.Fatalf("%d calls created a redemption, want 1", n)
			}
			page, err := s.ListRedemptions(ctx, models.RedemptionFilter{CouponID: mustGet(t, s, "RETRY").ID})
			if err != nil || len(page.Redemptions) != 1 {
				t.Fatalf("redemptions = %d (%v), want 1", len(page.Redemptions), err)
			}
		})
	})
}

func mustGet(t *testing.T, s *models.Store, code string) models.Coupon {
	t.Helper()
	c, err := s.Coupon(t.Context(), code)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
