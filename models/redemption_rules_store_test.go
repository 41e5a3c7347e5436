package models_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
	"github.com/google/go-cmp/cmp"
)

// testClock stands still until the test moves it; safe for concurrent
// use.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// The store keeps times to the microsecond, both engines' precision, so a
// microsecond is the least step that is "a moment before".

// eachWithClock runs fn per database on a fresh store whose clock starts
// at epoch. Each database gets a clock of its own, since the two subtests
// run in parallel and each moves its clock.
func eachWithClock(t *testing.T, cfg models.Config, fn func(t *testing.T, s *models.Store, clock *testClock)) {
	t.Helper()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		clock := &testClock{now: epoch}
		cfg := cfg
		cfg.Now = clock.Now
		fn(t, storetest.Open(t, dialect, cfg), clock)
	})
}

// attempt redeems code for customer's order with items.
func attempt(t *testing.T, s *models.Store, code, customer, order string, items int) (models.Redemption, error) {
	t.Helper()
	r, _, err := s.Redeem(t.Context(), models.RedemptionInput{Code: code, CustomerID: customer, OrderID: order, Items: items}, "")
	return r, err
}

// mustRedeem redeems and fails the test unless a new redemption was
// made.
func mustRedeem(t *testing.T, s *models.Store, code, customer, order string, items int) models.Redemption {
	t.Helper()
	r, created, err := s.Redeem(t.Context(), models.RedemptionInput{Code: code, CustomerID: customer, OrderID: order, Items: items}, "")
	if err != nil || !created {
		t.Fatalf("redeem %s for %s, order %s, %d items: created=%v err=%v", code, customer, order, items, created, err)
	}
	return r
}

// wantRefused fails unless err refuses for exactly the reasons given.
func wantRefused(t *testing.T, err error, want ...string) {
	t.Helper()
	if d := cmp.Diff(want, reasonsOf(t, err)); d != "" {
		t.Fatalf("reasons (-want +got):\n%s", d)
	}
}

// mustCheck checks a code and fails the test on an error.
func mustCheck(t *testing.T, s *models.Store, in models.CheckInput) models.Verdict {
	t.Helper()
	v, err := s.Check(t.Context(), in, "")
	if err != nil {
		t.Fatalf("check %+v: %v", in, err)
	}
	return v
}

// mustCancel cancels a redemption.
func mustCancel(t *testing.T, s *models.Store, id int64) {
	t.Helper()
	if r, err := s.CancelRedemption(t.Context(), id); err != nil || r.Live() {
		t.Fatalf("cancel redemption %d: live=%v err=%v", id, r.Live(), err)
	}
}

func TestRenewalIntervalStopsAUseCountingWhenItPasses(t *testing.T) {
	t.Parallel()
	eachWithClock(t, models.Config{}, func(t *testing.T, s *models.Store, clock *testClock) {
		// The subtests move one clock, so they run one after the other.
		t.Run("uses per customer", func(t *testing.T) {
			mustPromotion(t, s, models.PromotionInput{UTMSource: ptr("renew-uses")})
			mustCoupon(t, s, models.CouponInput{Code: "RENEW-USES", UTMSource: ptr("renew-uses"), MaxUsagePerClient: ptr(1), ExpirationIntervalPerUse: "1.00:00:00"})
			start := epoch.Add(time.Hour)
			clock.Set(start)
			mustRedeem(t, s, "RENEW-USES", "alice", "o-1", 1)
			_, err := attempt(t, s, "RENEW-USES", "alice", "o-2", 1)
			wantRefused(t, err, models.ReasonCustomerLimit)
			mustRedeem(t, s, "RENEW-USES", "bob", "o-3", 1)

			clock.Set(start.Add(24*time.Hour - time.Microsecond))
			if v := mustCheck(t, s, models.CheckInput{Code: "RENEW-USES", CustomerID: "alice"}); fmt.Sprint(v.Reasons) != "[CUSTOMER_LIMIT]" {
				t.Fatalf("check a microsecond before the interval has passed: %v, want [CUSTOMER_LIMIT]", v.Reasons)
			}
			_, err = attempt(t, s, "RENEW-USES", "alice", "o-4", 1)
			wantRefused(t, err, models.ReasonCustomerLimit)

			clock.Set(start.Add(24 * time.Hour))
			if v := mustCheck(t, s, models.CheckInput{Code: "RENEW-USES", CustomerID: "alice"}); !v.Valid {
				t.Fatalf("check once the interval has passed: %v, want valid", v.Reasons)
			}
			mustRedeem(t, s, "RENEW-USES", "alice", "o-5", 1)
			_, err = attempt(t, s, "RENEW-USES", "alice", "o-6", 1)
			wantRefused(t, err, models.ReasonCustomerLimit)
		})
		t.Run("items per customer", func(t *testing.T) {
			mustPromotion(t, s, models.PromotionInput{UTMSource: ptr("renew-items")})
			mustCoupon(t, s, models.CouponInput{Code: "RENEW-ITEMS", UTMSource: ptr("renew-items"), MaxItemsPerClient: 3, ExpirationIntervalPerUse: "01:00:00"})
			start := epoch.Add(48 * time.Hour)
			clock.Set(start)
			mustRedeem(t, s, "RENEW-ITEMS", "alice", "o-1", 2)
			clock.Set(start.Add(30 * time.Minute))
			_, err := attempt(t, s, "RENEW-ITEMS", "alice", "o-2", 2)
			wantRefused(t, err, models.ReasonItemsLimit)
			mustRedeem(t, s, "RENEW-ITEMS", "alice", "o-3", 1)

			// 2 + 1 items still count a moment before the first use's hour.
			clock.Set(start.Add(time.Hour - time.Microsecond))
			if v := mustCheck(t, s, models.CheckInput{Code: "RENEW-ITEMS", CustomerID: "alice", Items: 1}); fmt.Sprint(v.Reasons) != "[ITEMS_LIMIT]" {
				t.Fatalf("check a microsecond before the interval has passed: %v, want [ITEMS_LIMIT]", v.Reasons)
			}
			_, err = attempt(t, s, "RENEW-ITEMS", "alice", "o-4", 1)
			wantRefused(t, err, models.ReasonItemsLimit)

			// Then only the later use's 1 item does.
			clock.Set(start.Add(time.Hour))
			_, err = attempt(t, s, "RENEW-ITEMS", "alice", "o-5", 3)
			wantRefused(t, err, models.ReasonItemsLimit)
			mustRedeem(t, s, "RENEW-ITEMS", "alice", "o-6", 2)
		})
		t.Run("no interval: every live use counts for ever", func(t *testing.T) {
			mustPromotion(t, s, models.PromotionInput{UTMSource: ptr("forever")})
			mustCoupon(t, s, models.CouponInput{Code: "FOREVER", UTMSource: ptr("forever"), MaxUsagePerClient: ptr(1)})
			clock.Set(epoch)
			mustRedeem(t, s, "FOREVER", "alice", "o-1", 1)
			clock.Set(epoch.Add(10 * 365 * 24 * time.Hour))
			_, err := attempt(t, s, "FOREVER", "alice", "o-2", 1)
			wantRefused(t, err, models.ReasonCustomerLimit)
		})
	})
}

func TestItemsLimitSumsTheCustomersLiveRedemptions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{Now: fixedClock}, func(t *testing.T, s *models.Store) {
		mustPromotion(t, s, models.PromotionInput{UTMSource: ptr("items")})
		mustCoupon(t, s, models.CouponInput{Code: "ITEMS5", UTMSource: ptr("items"), MaxItemsPerClient: 5})
		first := mustRedeem(t, s, "ITEMS5", "alice", "o-1", 2)
		mustRedeem(t, s, "ITEMS5", "alice", "o-2", 2)
		_, err := attempt(t, s, "ITEMS5", "alice", "o-3", 2)
		wantRefused(t, err, models.ReasonItemsLimit)
		if v := mustCheck(t, s, models.CheckInput{Code: "ITEMS5", CustomerID: "alice", Items: 2}); fmt.Sprint(v.Reasons) != "[ITEMS_LIMIT]" {
			t.Fatalf("check 2 more items: %v, want [ITEMS_LIMIT]", v.Reasons)
		}
		mustRedeem(t, s, "ITEMS5", "alice", "o-4", 1)
		_, err = attempt(t, s, "ITEMS5", "alice", "o-5", 1)
		wantRefused(t, err, models.ReasonItemsLimit)
		// Another customer has items of their own.
		mustRedeem(t, s, "ITEMS5", "bob", "o-6", 5)
		// A replay of an order already made is not a new use.
		if _, created, err := s.Redeem(t.Context(), models.RedemptionInput{Code: "ITEMS5", CustomerID: "alice", OrderID: "o-2", Items: 2}, ""); err != nil || created {
			t.Fatalf("replay of o-2: created=%v err=%v, want the first redemption back", created, err)
		}
		mustCancel(t, s, first.ID)
		mustRedeem(t, s, "ITEMS5", "alice", "o-7", 2)
		_, err = attempt(t, s, "ITEMS5", "alice", "o-8", 1)
		wantRefused(t, err, models.ReasonItemsLimit)
	})
}

func TestCancellationFreesTheUseForEveryLimit(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{Now: fixedClock}, func(t *testing.T, s *models.Store) {
		tests := []struct {
			name      string
			promotion models.PromotionInput
			coupons   []models.CouponInput
			// first is redeemed, then second is refused for reason until
			// first is cancelled.
			first, second [2]string // code, customer
			reason        string
		}{
			{name: "coupon uses", promotion: models.PromotionInput{UTMSource: ptr("cx-total")},
				coupons: []models.CouponInput{{Code: "CX-TOTAL", UTMSource: ptr("cx-total"), MaxUsage: 1}},
				first:   [2]string{"CX-TOTAL", "alice"}, second: [2]string{"CX-TOTAL", "bob"}, reason: models.ReasonUsageLimit},
			{name: "coupon uses per customer", promotion: models.PromotionInput{UTMSource: ptr("cx-client")},
				coupons: []models.CouponInput{{Code: "CX-CLIENT", UTMSource: ptr("cx-client"), MaxUsagePerClient: ptr(1)}},
				first:   [2]string{"CX-CLIENT", "alice"}, second: [2]string{"CX-CLIENT", "alice"}, reason: models.ReasonCustomerLimit},
			{name: "promotion uses", promotion: models.PromotionInput{UTMCampaign: ptr("px-total"), MaxUsage: 1},
				coupons: []models.CouponInput{{Code: "PX-TOTAL-A", UTMCampaign: ptr("px-total")}, {Code: "PX-TOTAL-B", UTMCampaign: ptr("px-total")}},
				first:   [2]string{"PX-TOTAL-A", "alice"}, second: [2]string{"PX-TOTAL-B", "bob"}, reason: models.ReasonPromotionUsageLimit},
			{name: "promotion uses per customer", promotion: models.PromotionInput{UTMCampaign: ptr("px-client"), MaxUsagePerClient: 1},
				coupons: []models.CouponInput{{Code: "PX-CLIENT-A", UTMCampaign: ptr("px-client")}, {Code: "PX-CLIENT-B", UTMCampaign: ptr("px-client")}},
				first:   [2]string{"PX-CLIENT-A", "alice"}, second: [2]string{"PX-CLIENT-B", "alice"}, reason: models.ReasonPromotionCustomerLimit},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				p := mustPromotion(t, s, tt.promotion)
				for _, in := range tt.coupons {
					mustCoupon(t, s, in)
				}
				r := mustRedeem(t, s, tt.first[0], tt.first[1], "first", 1)
				_, err := attempt(t, s, tt.second[0], tt.second[1], "second", 1)
				wantRefused(t, err, tt.reason)
				if v := mustCheck(t, s, models.CheckInput{Code: tt.second[0], CustomerID: tt.second[1]}); fmt.Sprint(v.Reasons) != "["+tt.reason+"]" {
					t.Fatalf("check before the cancellation: %v, want [%s]", v.Reasons, tt.reason)
				}
				mustCancel(t, s, r.ID)
				if got := mustGet(t, s, tt.first[0]).Uses; got != 0 {
					t.Errorf("coupon uses after the cancellation = %d, want 0", got)
				}
				if got, err := s.Promotion(t.Context(), p.ID); err != nil || got.Uses != 0 {
					t.Errorf("promotion uses after the cancellation = %d (%v), want 0", got.Uses, err)
				}
				if v := mustCheck(t, s, models.CheckInput{Code: tt.second[0], CustomerID: tt.second[1]}); !v.Valid {
					t.Fatalf("check after the cancellation: %v, want valid", v.Reasons)
				}
				mustRedeem(t, s, tt.second[0], tt.second[1], "second", 1)
				_, err = attempt(t, s, tt.first[0], tt.first[1], "third", 1)
				wantRefused(t, err, tt.reason)
			})
		}
	})
}

func TestSingleUseCoupon(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{Now: fixedClock}, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		c, p, err := s.CreateSingleUse(ctx, models.SingleUseInput{Code: "Bday-Ann", CustomerID: "ann", DiscountType: models.DiscountFixed, DiscountValue: "1500"})
		if err != nil {
			t.Fatal(err)
		}
		if c.CustomerID == nil || *c.CustomerID != "ann" || c.MaxUsage != 1 || c.MaxUsagePerClient != 1 || p.MaxUsage != 1 || p.MaxUsagePerClient != 1 {
			t.Fatalf("coupon %+v, promotion %+v: want one use, for ann only", c, p)
		}

		_, err = attempt(t, s, "bday-ann", "bob", "b-1", 1)
		wantRefused(t, err, models.ReasonNotForCustomer)
		if v := mustCheck(t, s, models.CheckInput{Code: "BDAY-ANN", CustomerID: "bob"}); fmt.Sprint(v.Reasons) != "[NOT_FOR_CUSTOMER]" {
			t.Fatalf("check for bob: %v, want [NOT_FOR_CUSTOMER]", v.Reasons)
		}
		amount := int64(10_000)
		r, created, err := s.Redeem(ctx, models.RedemptionInput{Code: "BDAY-ANN", CustomerID: "ann", OrderID: "a-1", Items: 1, OrderAmount: &amount}, "")
		if err != nil || !created || r.Discount == nil || *r.Discount != 1500 {
			t.Fatalf("ann's redemption: %+v created=%v err=%v, want a discount of 1500", r, created, err)
		}
		_, err = attempt(t, s, "BDAY-ANN", "ann", "a-2", 1)
		wantRefused(t, err, models.ReasonUsageLimit, models.ReasonCustomerLimit, models.ReasonPromotionUsageLimit)
		_, err = attempt(t, s, "BDAY-ANN", "bob", "b-2", 1)
		wantRefused(t, err, models.ReasonUsageLimit, models.ReasonPromotionUsageLimit, models.ReasonNotForCustomer)

		before, err := s.ListPromotions(ctx, models.PromotionFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		mustCreateCoupon(t, s, "Taken")
		for _, code := range []string{"bday-ann", "TAKEN"} {
			_, _, err := s.CreateSingleUse(ctx, models.SingleUseInput{Code: code, DiscountType: models.DiscountFixed, DiscountValue: "100"})
			if !errors.Is(err, models.ErrDuplicateCode) {
				t.Fatalf("single use with the existing code %q: %v, want ErrDuplicateCode", code, err)
			}
		}
		after, err := s.ListPromotions(ctx, models.PromotionFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(after.Promotions) != len(before.Promotions) {
			t.Fatalf("promotions: %d before the refused single-use coupons, %d after; want none left behind", len(before.Promotions), len(after.Promotions))
		}
	})
}

func TestSingleUseCouponOverTheCapLeavesNoPromotion(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{Now: fixedClock, MaxActiveCoupons: 1}, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		mustCreateCoupon(t, s, "ONLY")
		_, _, err := s.CreateSingleUse(ctx, models.SingleUseInput{Code: "GIFT", DiscountType: models.DiscountPercent, DiscountValue: "10"})
		if !errors.Is(err, models.ErrActiveCap) {
			t.Fatalf("single use over the cap: %v, want ErrActiveCap", err)
		}
		page, err := s.ListPromotions(ctx, models.PromotionFilter{})
		if err != nil || len(page.Promotions) != 0 {
			t.Fatalf("promotions after the refusal: %d (%v), want none", len(page.Promotions), err)
		}
		if _, err := s.Coupon(ctx, "GIFT"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("coupon GIFT after the refusal: %v, want ErrNotFound", err)
		}
	})
}

func TestPromotionDatesAtTheEdges(t *testing.T) {
	t.Parallel()
	begins, ends := epoch.Add(24*time.Hour), epoch.Add(48*time.Hour)
	eachWithClock(t, models.Config{}, func(t *testing.T, s *models.Store, clock *testClock) {
		mustPromotion(t, s, models.PromotionInput{UTMSource: ptr("dated"), BeginsAt: begins.Format(time.RFC3339), EndsAt: ends.Format(time.RFC3339)})
		mustCoupon(t, s, models.CouponInput{Code: "DATED", UTMSource: ptr("dated")})
		steps := []struct {
			at     time.Time
			reason string // "" is valid
		}{
			{at: begins.Add(-time.Microsecond), reason: models.ReasonNotStarted},
			{at: begins},
			{at: ends.Add(-time.Microsecond)},
			{at: ends, reason: models.ReasonExpired},
			{at: ends.Add(time.Hour), reason: models.ReasonExpired},
		}
		for i, step := range steps {
			clock.Set(step.at)
			v := mustCheck(t, s, models.CheckInput{Code: "DATED", CustomerID: "alice"})
			_, err := attempt(t, s, "DATED", "alice", fmt.Sprint("o-", i), 1)
			if step.reason == "" {
				if !v.Valid || err != nil {
					t.Fatalf("at %s: check %v, redeem %v; want both valid", step.at, v.Reasons, err)
				}
				continue
			}
			if fmt.Sprint(v.Reasons) != "["+step.reason+"]" {
				t.Fatalf("at %s: check %v, want [%s]", step.at, v.Reasons, step.reason)
			}
			wantRefused(t, err, step.reason)
		}
	})
}

func TestCheckAgreesWithRedeem(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{Now: fixedClock}, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		mustPromotion(t, s, models.PromotionInput{UTMSource: ptr("agree"), MaxUsage: 4, DiscountCap: ptr(int64(250))})
		mustPromotion(t, s, models.PromotionInput{UTMSource: ptr("agree"), DiscountType: models.DiscountFixed, DiscountValue: "100", MaxUsagePerClient: 1})
		mustCoupon(t, s, models.CouponInput{Code: "AGREE", UTMSource: ptr("agree"), MaxUsage: 5, MaxUsagePerClient: ptr(2), MaxItemsPerClient: 3})
		mustCoupon(t, s, models.CouponInput{Code: "AGREE-OLD", UTMSource: ptr("agree"), Archived: ptr(true)})
		mustCoupon(t, s, models.CouponInput{Code: "AGREE-NONE", UTMSource: ptr("nobody-listens")})
		amount := int64(3000)
		steps := []struct {
			code, customer string
			items          int
			want           []string // nil is valid
		}{
			{code: "AGREE", customer: "alice", items: 1},
			{code: "AGREE", customer: "alice", items: 1},
			{code: "AGREE", customer: "alice", items: 1, want: []string{models.ReasonCustomerLimit}},
			{code: "AGREE", customer: "bob", items: 4, want: []string{models.ReasonItemsLimit}},
			{code: "AGREE", customer: "bob", items: 3},
			{code: "AGREE", customer: "carol", items: 1},
			{code: "AGREE", customer: "dave", items: 1},
			{code: "AGREE", customer: "erin", items: 1, want: []string{models.ReasonUsageLimit}},
			// The same promotions: the percentage has run out, alice has had
			// the fixed amount.
			{code: "AGREE-OLD", customer: "alice", items: 1, want: []string{models.ReasonArchived, models.ReasonPromotionUsageLimit, models.ReasonPromotionCustomerLimit}},
			{code: "AGREE-NONE", customer: "alice", items: 1, want: []string{models.ReasonNoActivePromotion}},
			{code: "NO-SUCH", customer: "alice", items: 1, want: []string{models.ReasonNotFound}},
		}
		for i, st := range steps {
			v, err := s.Check(ctx, models.CheckInput{Code: st.code, CustomerID: st.customer, Items: st.items, OrderAmount: &amount}, "")
			if err != nil {
				t.Fatalf("step %d: check: %v", i, err)
			}
			r, _, rerr := s.Redeem(ctx, models.RedemptionInput{Code: st.code, CustomerID: st.customer, OrderID: fmt.Sprint("o-", i), Items: st.items, OrderAmount: &amount}, "")
			if st.want == nil {
				if !v.Valid || rerr != nil {
					t.Fatalf("step %d (%s for %s): check %v, redeem %v; want both valid", i, st.code, st.customer, v.Reasons, rerr)
				}
				if v.Discount == nil || r.Discount == nil || *v.Discount != *r.Discount || len(v.Promotions) != len(r.Promotions) {
					t.Fatalf("step %d: check discount %v through %d promotions, redemption %v through %d; want the same",
						i, derefOr(v.Discount), len(v.Promotions), derefOr(r.Discount), len(r.Promotions))
				}
				continue
			}
			if d := cmp.Diff(st.want, v.Reasons); d != "" {
				t.Errorf("step %d: check reasons (-want +got):\n%s", i, d)
			}
			if d := cmp.Diff(st.want, reasonsOf(t, rerr)); d != "" {
				t.Errorf("step %d: redeem reasons (-want +got):\n%s", i, d)
			}
		}
		// alice's second use had only the capped percentage, as the fixed
		// promotion allows one use per customer; dave's only the fixed
		// amount, as the percentage had run out of uses.
		page, err := s.ListRedemptions(ctx, models.RedemptionFilter{CouponID: mustGet(t, s, "AGREE").ID, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var discounts []int64
		for i := len(page.Redemptions) - 1; i >= 0; i-- {
			discounts = append(discounts, *page.Redemptions[i].Discount)
		}
		if d := cmp.Diff([]int64{350, 250, 350, 350, 100}, discounts); d != "" {
			t.Errorf("discounts of the redemptions in order (-want +got):\n%s", d)
		}
	})
}

func derefOr(p *int64) any {
	if p == nil {
		return "nil"
	}
	return *p
}

// guessing sends look-ups from client for customer and reports what
// became of them.
type guessing struct {
	t *testing.T
	s *models.Store
}

// check looks code up from client (for customer, if any) and returns
// the verdict's reasons, or the refusal.
func (g guessing) check(client, customer, code string) ([]string, *models.TooManyGuessesError) {
	g.t.Helper()
	v, err := g.s.Check(g.t.Context(), models.CheckInput{Code: code, CustomerID: customer}, client)
	var tooMany *models.TooManyGuessesError
	switch {
	case errors.As(err, &tooMany):
		if !errors.Is(err, models.ErrTooManyGuesses) {
			g.t.Fatalf("refusal %v does not match ErrTooManyGuesses", err)
		}
		return nil, tooMany
	case err != nil:
		g.t.Fatalf("check %s from %s: %v", code, client, err)
	}
	return v.Reasons, nil
}

// allowed fails unless a look-up is answered with want's reasons.
func (g guessing) allowed(client, customer, code string, want ...string) {
	g.t.Helper()
	got, refused := g.check(client, customer, code)
	if refused != nil {
		g.t.Fatalf("look-up of %s from %s for %q refused: %v", code, client, customer, refused)
	}
	if want == nil {
		want = []string{}
	}
	if d := cmp.Diff(want, got); d != "" {
		g.t.Fatalf("look-up of %s from %s for %q: reasons (-want +got):\n%s", code, client, customer, d)
	}
}

// refused fails unless a look-up is refused with retryAfter.
func (g guessing) refused(client, customer, code string, retryAfter time.Duration) {
	g.t.Helper()
	_, refused := g.check(client, customer, code)
	if refused == nil {
		g.t.Fatalf("look-up of %s from %s for %q answered, want it refused", code, client, customer)
	}
	if refused.RetryAfter != retryAfter || refused.Limit != 3 || refused.Window != time.Minute {
		g.t.Fatalf("refusal %+v, want limit 3, window 1m and RetryAfter %s", *refused, retryAfter)
	}
}

func TestGuessingProtection(t *testing.T) {
	t.Parallel()
	cfg := models.Config{GuessLimit: new(3), GuessWindow: time.Minute}
	setup := func(t *testing.T, s *models.Store) guessing {
		t.Helper()
		mustPromotion(t, s, models.PromotionInput{UTMSource: ptr("real")})
		mustCoupon(t, s, models.CouponInput{Code: "REAL", UTMSource: ptr("real")})
		return guessing{t: t, s: s}
	}
	t.Run("one client", func(t *testing.T) {
		t.Parallel()
		eachWithClock(t, cfg, func(t *testing.T, s *models.Store, clock *testClock) {
			g := setup(t, s)
			g.allowed("10.0.0.1", "", "REAL")
			for i := range 3 {
				clock.Set(epoch.Add(time.Duration(i) * 10 * time.Second))
				g.allowed("10.0.0.1", "", fmt.Sprint("GUESS-", i), models.ReasonNotFound)
			}
			// The oldest failure, at epoch, leaves the window at epoch+1m.
			clock.Set(epoch.Add(30 * time.Second))
			g.refused("10.0.0.1", "", "GUESS-3", 30*time.Second)
			g.refused("10.0.0.1", "", "REAL", 30*time.Second)
			_, _, err := s.Redeem(t.Context(), models.RedemptionInput{Code: "REAL", CustomerID: "alice", OrderID: "o-1", Items: 1}, "10.0.0.1")
			if !errors.Is(err, models.ErrTooManyGuesses) {
				t.Fatalf("redeem from the refused client: %v, want ErrTooManyGuesses", err)
			}
			// Another client is unaffected, with a valid code or not.
			g.allowed("10.0.0.2", "", "REAL")
			g.allowed("10.0.0.2", "", "GUESS-X", models.ReasonNotFound)

			clock.Set(epoch.Add(time.Minute - time.Second))
			g.refused("10.0.0.1", "", "REAL", time.Second)
			clock.Set(epoch.Add(time.Minute))
			g.allowed("10.0.0.1", "", "REAL")
			// One more failure fills the window again (at 10 s, 20 s and
			// now); the next look-up waits for the one at 10 s.
			g.allowed("10.0.0.1", "", "GUESS-4", models.ReasonNotFound)
			g.refused("10.0.0.1", "", "REAL", 10*time.Second)
		})
	})
	t.Run("a customer across clients", func(t *testing.T) {
		t.Parallel()
		eachWithClock(t, cfg, func(t *testing.T, s *models.Store, clock *testClock) {
			g := setup(t, s)
			for i := range 3 {
				clock.Set(epoch.Add(time.Duration(i) * time.Second))
				g.allowed(fmt.Sprint("10.0.1.", i), "mallory", fmt.Sprint("GUESS-", i), models.ReasonNotFound)
			}
			clock.Set(epoch.Add(5 * time.Second))
			g.refused("10.0.1.9", "mallory", "REAL", 55*time.Second)
			// The client itself has no failures; another customer neither.
			g.allowed("10.0.1.9", "", "REAL")
			g.allowed("10.0.1.9", "trent", "REAL")
			_, _, err := s.Redeem(t.Context(), models.RedemptionInput{Code: "REAL", CustomerID: "mallory", OrderID: "o-1", Items: 1}, "10.0.1.10")
			if !errors.Is(err, models.ErrTooManyGuesses) {
				t.Fatalf("redeem for the refused customer: %v, want ErrTooManyGuesses", err)
			}
		})
	})
	t.Run("redemptions of unknown codes count", func(t *testing.T) {
		t.Parallel()
		eachWithClock(t, cfg, func(t *testing.T, s *models.Store, clock *testClock) {
			g := setup(t, s)
			for i := range 3 {
				_, _, err := s.Redeem(t.Context(), models.RedemptionInput{Code: fmt.Sprint("GUESS-", i), CustomerID: fmt.Sprint("c", i), OrderID: "o", Items: 1}, "10.0.2.1")
				wantRefused(t, err, models.ReasonNotFound)
			}
			g.refused("10.0.2.1", "", "REAL", time.Minute)
		})
	})
	t.Run("a limit of 0 turns it off", func(t *testing.T) {
		t.Parallel()
		eachWithClock(t, models.Config{GuessLimit: new(0), GuessWindow: time.Minute}, func(t *testing.T, s *models.Store, clock *testClock) {
			g := setup(t, s)
			// Past the default limit too, so that off is not read as the
			// default.
			for i := range models.DefaultGuessLimit + 1 {
				g.allowed("10.0.3.1", "eve", fmt.Sprint("GUESS-", i), models.ReasonNotFound)
			}
			g.allowed("10.0.3.1", "eve", "REAL")
		})
	})
	t.Run("a negative limit is refused", func(t *testing.T) {
		t.Parallel()
		s, err := models.Open(t.Context(), models.Config{Path: filepath.Join(t.TempDir(), "coupond.db"), GuessLimit: new(-1)})
		if err == nil {
			s.Close()
			t.Fatal("Open with a guess limit of -1 succeeded, want an error")
		}
	})
	t.Run("the zero Config has the default limit and window", func(t *testing.T) {
		t.Parallel()
		eachWithClock(t, models.Config{}, func(t *testing.T, s *models.Store, clock *testClock) {
			g := setup(t, s)
			for i := range models.DefaultGuessLimit {
				g.allowed("10.0.4.1", "", fmt.Sprint("GUESS-", i), models.ReasonNotFound)
			}
			_, refused := g.check("10.0.4.1", "", "REAL")
			if refused == nil || refused.Limit != models.DefaultGuessLimit || refused.Window != models.DefaultGuessWindow {
				t.Fatalf("look-up past the default limit: refusal %+v, want limit %d and window %s", refused, models.DefaultGuessLimit, models.DefaultGuessWindow)
			}
		})
	})
}

// TestConcurrentRedemptionsHoldThePromotionPerCustomerLimit redeems, all
// at once, ten coupons that reach one promotion, for one customer. Only
// the promotion's row lock serialises them: the coupons' rows are
// different and the promotion has no counter per customer to fall back
// on. Ten coupons, so that up to ten redemptions pass their coupon's lock
// together.
func TestConcurrentRedemptionsHoldThePromotionPerCustomerLimit(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{Now: fixedClock}, func(t *testing.T, s *models.Store) {
		p := mustPromotion(t, s, models.PromotionInput{UTMCampaign: ptr("pc-race"), MaxUsagePerClient: 2})
		for i := range 10 {
			mustCoupon(t, s, models.CouponInput{Code: fmt.Sprint("PC-RACE-", i), UTMCampaign: ptr("pc-race")})
		}
		ok, reasons := redeemConcurrently(t, s, 100, func(i int) string { return fmt.Sprint("PC-RACE-", i%10) }, func(int) string { return "frank" })
		if ok != 2 || reasons[models.ReasonPromotionCustomerLimit] != 98 || len(reasons) != 1 {
			t.Fatalf("ok=%d reasons=%v, want 2 redeemed and 98 PROMOTION_CUSTOMER_LIMIT", ok, reasons)
		}
		if got, err := s.Promotion(t.Context(), p.ID); err != nil || got.Uses != 2 {
			t.Fatalf("promotion uses = %d (%v), want 2", got.Uses, err)
		}
	})
}

// Failed look-ups recorded before the server restarted still count: a
// client that guessed past the limit is refused by the next process on
// the same database too.
func TestGuessesCountAcrossARestart(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		clock := &testClock{}
		clock.Set(epoch)
		cfg := storetest.Fresh(t, dialect, models.Config{GuessLimit: new(3), GuessWindow: time.Minute, Now: clock.Now})
		first := instance(t, cfg, cfg)
		for i := range 3 {
			g := guessing{t: t, s: first}
			g.allowed("10.0.9.1", "", fmt.Sprint("GUESS-", i), models.ReasonNotFound)
		}
		if err := first.Close(); err != nil {
			t.Fatal(err)
		}
		clock.Set(epoch.Add(10 * time.Second))
		g := guessing{t: t, s: instance(t, cfg, cfg)}
		g.refused("10.0.9.1", "", "ANY", 50*time.Second)
		g.allowed("10.0.9.2", "", "ANY", models.ReasonNotFound)
	})
}
