package models_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
)

// statesByHand reads every coupon and judges its state one by one, as the
// coupon's page does.
func statesByHand(t *testing.T, s *models.Store, now time.Time) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := s.EachCoupon(t.Context(), models.CouponFilter{}, func(c models.Coupon) error {
		ps, err := s.CouponPromotions(t.Context(), c)
		if err != nil {
			return err
		}
		got[c.Code] = models.CouponState(c, ps, now)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// checkStates holds the list filter and the active count to the states
// judged one coupon at a time.
func checkStates(t *testing.T, s *models.Store, now time.Time, when string) map[string]string {
	t.Helper()
	byHand := statesByHand(t, s, now)
	active := 0
	for _, st := range byHand {
		if st == models.CouponActive {
			active++
		}
	}
	for _, state := range models.CouponStates {
		var listed []string
		err := s.EachCoupon(t.Context(), models.CouponFilter{State: state}, func(c models.Coupon) error {
			listed = append(listed, c.Code)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for code, st := range byHand {
			if st == state {
				want = append(want, code)
			}
		}
		slices.Sort(listed)
		slices.Sort(want)
		if !slices.Equal(listed, want) {
			t.Errorf("%s: the list filtered by %s holds %v; judged one by one, %v are", when, state, listed, want)
		}
	}
	n, err := s.ActiveCoupons(t.Context(), now)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(active) {
		t.Errorf("%s: ActiveCoupons = %d; judged one by one, %d coupons are active", when, n, active)
	}
	return byHand
}

// A coupon's state is what a checkout would find: the filter of the
// coupon list and the dashboard's count of active coupons say the same
// as the coupon's own page, through every change a coupon goes through.
func TestCouponStatesAgreeWithTheListFilterAndTheActiveCount(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		s, _, clock := openWithClock(t, dialect)
		ctx := t.Context()
		at := func(d time.Duration) string { return epoch.Add(d).Format(time.RFC3339) }
		clock.Set(epoch.Add(-10 * 24 * time.Hour))
		mustPromotion(t, s, models.PromotionInput{Name: "Live", UTMSource: ptr("Live")})
		mustPromotion(t, s, models.PromotionInput{Name: "Soon", UTMCampaign: ptr("soon"), BeginsAt: at(48 * time.Hour)})
		mustPromotion(t, s, models.PromotionInput{Name: "Gone", UTMSource: ptr("gone"), EndsAt: at(-24 * time.Hour)})
		mustPromotion(t, s, models.PromotionInput{Name: "Full", UTMCampaign: ptr("full"), MaxUsage: 1})
		mustPromotion(t, s, models.PromotionInput{Name: "Paused", UTMSource: ptr("paused"), Status: models.PromotionInactive})
		clock.Set(epoch)

		for _, in := range []models.CouponInput{
			{Code: "LIVE1", UTMSource: ptr("live")},
			{Code: "LIVE-SOON", UTMSource: ptr("LIVE"), UTMCampaign: ptr("soon")},
			{Code: "SOON", UTMCampaign: ptr("soon")},
			{Code: "GONE", UTMSource: ptr("gone")},
			{Code: "GONE-SOON", UTMSource: ptr("gone"), UTMCampaign: ptr("soon")},
			{Code: "FULL1", UTMCampaign: ptr("full")},
			{Code: "FULL2", UTMCampaign: ptr("full")},
			{Code: "ONCE", UTMSource: ptr("live"), MaxUsage: 1},
			{Code: "PAUSED", UTMSource: ptr("paused")},
			{Code: "BARE"},
			{Code: "SHELVED", UTMSource: ptr("live")},
		} {
			mustCoupon(t, s, in)
		}
		if _, err := s.SetCouponArchived(ctx, "SHELVED", true); err != nil {
			t.Fatal(err)
		}
		mustRedeem(t, s, "FULL1", "ann", "o1", 1)
		once := mustRedeem(t, s, "ONCE", "ann", "o2", 1)
		// A birthday code: one customer, one use.
		if _, _, err := s.CreateSingleUse(ctx, models.SingleUseInput{Code: "BDAY-ANN", CustomerID: "ann", DiscountType: models.DiscountPercent, DiscountValue: "20"}); err != nil {
			t.Fatal(err)
		}
		mustRedeem(t, s, "BDAY-ANN", "ann", "o3", 1)

		want := map[string]string{
			"LIVE1": models.CouponActive, "LIVE-SOON": models.CouponActive, "SOON": models.CouponNotStarted,
			"GONE": models.CouponExpired, "GONE-SOON": models.CouponNotStarted, "FULL1": models.CouponUsedUp,
			"FULL2": models.CouponUsedUp, "ONCE": models.CouponUsedUp, "PAUSED": models.CouponNoActivePromotion,
			"BARE": models.CouponNoActivePromotion, "SHELVED": models.CouponArchived, "BDAY-ANN": models.CouponUsedUp,
		}
		got := checkStates(t, s, epoch, "at the start")
		for code, st := range want {
			if got[code] != st {
				t.Errorf("%s is %q, want %q", code, got[code], st)
			}
		}

		// A series code that lasts a day from its issue, and a batch of
		// codes made by the runner, both reaching the live promotion.
		spec, err := models.SeriesInput{
			Promotion: models.PromotionInput{Name: "Welcome", DiscountType: models.DiscountPercent, DiscountValue: "10"},
			Expiry:    models.ExpiryDays, ExpiryDays: 1,
		}.Validate()
		if err != nil {
			t.Fatal(err)
		}
		ser, err := s.CreateSeries(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		issueOne(t, s, ser, "bob")
		bs := mustBatchSpec(t, models.BatchInput{Quantity: 3000, Format: models.FormatInput{Length: 10}, UTMSource: ptr("Live"), MaxUsage: 1})
		b, err := s.CreateBatch(ctx, bs)
		if err != nil {
			t.Fatal(err)
		}
		stop := runner(t, s, models.RunnerConfig{Poll: 10 * time.Millisecond, Chunk: 1000})
		waitBatch(t, s, b.ID, "done", isDone)
		stop()
		checkStates(t, s, epoch, "after a series issue and a batch")
		if n, _ := s.ActiveCoupons(ctx, epoch); n != 3000+3 {
			t.Errorf("active coupons %d, want the batch's 3000, the series code, LIVE1 and LIVE-SOON", n)
		}

		// Changes: cancel a use, archive and unarchive, retag, and a
		// synchronous batch.
		mustCancel(t, s, once.ID)
		if _, err := s.SetCouponArchived(ctx, "SHELVED", false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetCouponArchived(ctx, "LIVE1", true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateCoupon(ctx, "PAUSED", mustSpec(t, models.CouponInput{Code: "PAUSED", UTMSource: ptr("LIVE")})); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.GenerateCodes(ctx, mustBatchSpec(t, models.BatchInput{Quantity: 20, Format: models.FormatInput{Length: 10}, UTMCampaign: ptr("soon")})); err != nil {
			t.Fatal(err)
		}
		checkStates(t, s, epoch, "after the changes")

		// Two days on: the series code has ended, and so has nothing else.
		later := epoch.Add(49 * time.Hour)
		clock.Set(later)
		got = checkStates(t, s, later, "two days on")
		if got["SOON"] != models.CouponActive || got["GONE"] != models.CouponExpired {
			t.Errorf("two days on, SOON is %q and GONE %q, want active (its promotion began) and expired", got["SOON"], got["GONE"])
		}
	})
}

// Imports that run at once, each with codes of several tags in its own
// order, neither fail nor wait on one another over the counts, and the
// active count stays exact once the changes are folded.
func TestConcurrentImportsKeepTheActiveCountExact(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		s, db, clock := openWithClock(t, dialect)
		ctx := t.Context()
		clock.Set(epoch)
		mustPromotion(t, s, models.PromotionInput{Name: "A", UTMSource: ptr("a")})
		mustPromotion(t, s, models.PromotionInput{Name: "B", UTMCampaign: ptr("b")})
		const importers, each = 8, 300
		var wg sync.WaitGroup
		errs := make(chan error, importers)
		for g := range importers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var reqs []models.CouponRequest
				for i := range each {
					in := models.CouponInput{Code: fmt.Sprintf("IMP-%d-%d", g, i)}
					// Half the importers put tag a first, half b.
					if (i+g)%2 == 0 {
						in.UTMSource = ptr("a")
					} else {
						in.UTMCampaign = ptr("B")
					}
					if i%10 == 0 {
						in.MaxUsage = 1
					}
					spec, err := in.Validate()
					if err != nil {
						errs <- err
						return
					}
					reqs = append(reqs, models.CouponRequest{Quantity: 1, Spec: spec})
				}
				if _, err := s.CreateCoupons(ctx, reqs); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("import: %v", err)
		}
		// Some used up, some archived, meanwhile.
		for g := range 3 {
			mustRedeem(t, s, fmt.Sprintf("IMP-%d-0", g), "ann", fmt.Sprint("o", g), 1)
			if _, err := s.SetCouponArchived(ctx, fmt.Sprintf("IMP-%d-1", g), true); err != nil {
				t.Fatal(err)
			}
		}
		n, err := s.ActiveCoupons(ctx, epoch)
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(importers*each - 6); n != want {
			t.Errorf("active coupons %d, want %d", n, want)
		}
		// The first read folded the changes on PostgreSQL; the second
		// reads the folded rows and says the same.
		var rows int64
		if err := db.Raw("SELECT count(*) FROM coupon_counts").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if dialect == "postgres" && rows > 4 {
			t.Errorf("%d rows of counts after the fold, want one per tag", rows)
		}
		checkStates(t, s, epoch, "after concurrent imports")
	})
}
