package models_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
	"gorm.io/gorm"
)

// directTotals adds up the live redemptions made from from to to
// straight from the redemptions, as a report would: for everything
// (scope all), one promotion, or one tag.
func directTotals(t *testing.T, db *gorm.DB, scope, key string, from, to time.Time) models.Totals {
	t.Helper()
	var got models.Totals
	var q *gorm.DB
	// SQLite compares times as the text they are stored as, in UTC.
	from, to = from.UTC(), to.UTC()
	switch scope {
	case models.ScopeAll:
		q = db.Raw(`SELECT count(*) AS redemptions, coalesce(sum(discount), 0) AS discount, coalesce(sum(order_amount), 0) AS revenue,
			count(DISTINCT customer_id) AS customers FROM redemptions WHERE cancelled_at IS NULL AND created_at >= ? AND created_at < ?`, from, to)
	case models.ScopePromotion:
		id, err := strconv.ParseInt(key, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		q = db.Raw(`SELECT count(*) AS redemptions, coalesce(sum(rp.discount), 0) AS discount, coalesce(sum(r.order_amount), 0) AS revenue,
			count(DISTINCT r.customer_id) AS customers FROM redemption_promotions rp JOIN redemptions r ON r.id = rp.redemption_id
			WHERE rp.promotion_id = ? AND r.cancelled_at IS NULL AND r.created_at >= ? AND r.created_at < ?`, id, from, to)
	case models.ScopeUTMSource, models.ScopeUTMCampaign:
		q = db.Raw(`SELECT count(*) AS redemptions, coalesce(sum(r.discount), 0) AS discount, coalesce(sum(r.order_amount), 0) AS revenue
			FROM redemptions r JOIN coupons c ON c.id = r.coupon_id WHERE lower(c.`+scope+`) = ? AND r.cancelled_at IS NULL AND r.created_at >= ? AND r.created_at < ?`, key, from, to)
	}
	if err := q.Scan(&got).Error; err != nil {
		t.Fatal(err)
	}
	return got
}

// openWithClock is a store whose clock the test moves, and a plain
// connection to its database.
func openWithClock(t *testing.T, dialect string) (*models.Store, *gorm.DB, *testClock) {
	t.Helper()
	clock := &testClock{now: epoch}
	s, db := storetest.OpenWithGORM(t, dialect, models.Config{Now: clock.Now})
	return s, db, clock
}

func TestTotalsEqualTheRedemptionsAcrossDaysAndADaylightSavingChange(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		s, db, clock := openWithClock(t, dialect)
		ctx := t.Context()
		// Berlin leaves summer time on 25 October 2026: that day has 25
		// hours.
		day := func(d int) time.Time { return time.Date(2026, 10, d, 0, 0, 0, 0, berlin) }
		clock.Set(day(23))
		spring := mustPromotion(t, s, models.PromotionInput{Name: "Spring", UTMSource: ptr("Spring"), DiscountCap: ptr(int64(300))})
		mail := mustPromotion(t, s, models.PromotionInput{Name: "Mail", UTMCampaign: ptr("mail"), DiscountType: models.DiscountFixed, DiscountValue: "150"})
		mustCoupon(t, s, models.CouponInput{Code: "BOTH", UTMSource: ptr("spring"), UTMCampaign: ptr("MAIL")})
		mustCoupon(t, s, models.CouponInput{Code: "SPRING", UTMSource: ptr("SPRING")})
		mustCoupon(t, s, models.CouponInput{Code: "NOAMOUNT", UTMCampaign: ptr("mail")})

		type step struct {
			at       time.Time
			code     string
			customer string
			amount   int64
			cancel   bool
		}
		steps := []step{
			{day(24).Add(23*time.Hour + 50*time.Minute), "BOTH", "ann", 5000, false},
			{day(25).Add(10 * time.Minute), "SPRING", "ann", 2000, false},
			// 02:30 happens twice on the 25th; this is the second, in
			// winter time.
			{time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC), "BOTH", "bob", 9000, true},
			{day(25).Add(23*time.Hour + 59*time.Minute), "NOAMOUNT", "cid", 0, false},
			{day(26).Add(time.Minute), "SPRING", "bob", 1000, false},
			{day(26).Add(12 * time.Hour), "BOTH", "dee", 800, true},
		}
		clock.Set(day(27))
		for i, st := range steps {
			in := models.RedemptionInput{Code: st.code, CustomerID: st.customer, OrderID: fmt.Sprint("o", i), Items: 1, At: st.at}
			if st.amount > 0 {
				in.OrderAmount = ptr(st.amount)
			}
			r, _, err := s.Redeem(ctx, in, "")
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			if st.cancel {
				if _, err := s.CancelRedemption(ctx, r.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		// Out of order and in the middle of a customer's chain: ann
		// earlier than her first, then her second cancelled, then bob
		// between two of his.
		early, _, err := s.Redeem(ctx, models.RedemptionInput{Code: "SPRING", CustomerID: "ann", OrderID: "early", Items: 1, OrderAmount: ptr(int64(700)), At: day(24).Add(time.Hour)}, "")
		if err != nil {
			t.Fatal(err)
		}
		var second models.Redemption
		if err := db.Where("order_id = ?", "o1").Take(&second).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := s.CancelRedemption(ctx, second.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Redeem(ctx, models.RedemptionInput{Code: "SPRING", CustomerID: "bob", OrderID: "between", Items: 1, OrderAmount: ptr(int64(300)), At: day(25).Add(20 * time.Hour)}, ""); err != nil {
			t.Fatal(err)
		}
		_ = early
		// A cancellation of a cancelled redemption changes nothing.
		r, _, err := s.Redeem(ctx, models.RedemptionInput{Code: "SPRING", CustomerID: "eve", OrderID: "twice", Items: 1, OrderAmount: ptr(int64(100))}, "")
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := s.CancelRedemption(ctx, r.ID); err != nil {
				t.Fatal(err)
			}
		}

		windows := []struct {
			name     string
			from, to time.Time
		}{
			{"24 October in Berlin", day(24), day(25)},
			{"25 October in Berlin, 25 hours long", day(25), day(26)},
			{"26 October in Berlin", day(26), day(27)},
			{"the three days", day(24), day(27)},
			{"the hour after the change", time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC), time.Date(2026, 10, 25, 2, 0, 0, 0, time.UTC)},
			{"from the middle of the 24th", day(24).Add(12 * time.Hour), day(27)},
			{"the last two days", day(25), day(27)},
		}
		scopes := [][2]string{{models.ScopeAll, ""}, {models.ScopePromotion, fmt.Sprint(spring.ID)}, {models.ScopePromotion, fmt.Sprint(mail.ID)},
			{models.ScopeUTMSource, "spring"}, {models.ScopeUTMCampaign, "mail"}}
		for _, w := range windows {
			for _, sc := range scopes {
				want := directTotals(t, db, sc[0], sc[1], w.from, w.to)
				got, err := s.TotalsBetween(ctx, sc[0], sc[1], w.from, w.to)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("%s, %s %q: totals %+v, the redemptions say %+v", w.name, sc[0], sc[1], got, want)
				}
				slots, err := s.TotalsBySlot(ctx, sc[0], sc[1], w.from, w.to)
				if err != nil {
					t.Fatal(err)
				}
				var sum models.Totals
				for _, sl := range slots {
					if sl.Slot < 0 || models.SlotStart(sl.Slot).Before(w.from) || !models.SlotStart(sl.Slot).Before(w.to) {
						t.Errorf("%s: slot %d starts at %s, outside the window", w.name, sl.Slot, models.SlotStart(sl.Slot))
					}
					sum.Redemptions, sum.Discount, sum.Revenue = sum.Redemptions+sl.Redemptions, sum.Discount+sl.Discount, sum.Revenue+sl.Revenue
				}
				want.Customers = 0
				if sum != want {
					t.Errorf("%s, %s %q: slots add up to %+v, want %+v", w.name, sc[0], sc[1], sum, want)
				}
			}
		}
		// The day of the change: ann's 10 % of 20.00 and cid's fixed
		// 1.50 without an amount (bob's was cancelled).
		if got, _ := s.TotalsBetween(ctx, models.ScopeAll, "", day(25), day(26)); got.Customers != 2 || got.Redemptions != 2 {
			t.Errorf("25 October: %+v, want cid's and bob's", got)
		}

		byCount, top, err := s.TopTotals(ctx, models.ScopePromotion, day(24), day(27), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(byCount) != 2 || byCount[0].Redemptions < byCount[1].Redemptions {
			t.Errorf("top promotions by redemptions %+v, want both, the most redeemed first", byCount)
		}
		direct := []models.KeyTotals{}
		for _, p := range []models.Promotion{spring, mail} {
			d := directTotals(t, db, models.ScopePromotion, fmt.Sprint(p.ID), day(24), day(27))
			d.Customers = 0
			direct = append(direct, models.KeyTotals{Key: fmt.Sprint(p.ID), Totals: d})
		}
		if direct[1].Discount > direct[0].Discount {
			direct[0], direct[1] = direct[1], direct[0]
		}
		if fmt.Sprint(top) != fmt.Sprint(direct) {
			t.Errorf("top promotions by discount %+v, want %+v", top, direct)
		}
	})
}

func TestConcurrentRedemptionsAndCancellationsKeepTheTotalsExact(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		s, db, _ := openWithClock(t, dialect)
		ctx := t.Context()
		p := mustPromotion(t, s, models.PromotionInput{UTMSource: ptr("load")})
		mustCoupon(t, s, models.CouponInput{Code: "LOAD", UTMSource: ptr("load")})
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for i := range 50 {
			wg.Go(func() {
				r, _, err := s.Redeem(ctx, models.RedemptionInput{Code: "LOAD", CustomerID: fmt.Sprint("c", i%7), OrderID: fmt.Sprint("o", i), Items: 1, OrderAmount: ptr(int64(1000 + i))}, "")
				if err == nil && i%3 == 0 {
					_, err = s.CancelRedemption(ctx, r.ID)
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		from, to := epoch.Add(-time.Hour), epoch.Add(time.Hour)
		for _, sc := range [][2]string{{models.ScopeAll, ""}, {models.ScopePromotion, fmt.Sprint(p.ID)}, {models.ScopeUTMSource, "load"}} {
			want := directTotals(t, db, sc[0], sc[1], from, to)
			got, err := s.TotalsBetween(ctx, sc[0], sc[1], from, to)
			if err != nil || got != want || got.Redemptions != 33 {
				t.Errorf("%s: totals %+v (%v), the redemptions say %+v; want 33 live", sc[0], got, err, want)
			}
		}
	})
}

func TestTheTotalsMigrationAddsUpWhatWasThere(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		s, db, clock := openWithClock(t, dialect)
		ctx := t.Context()
		p := mustPromotion(t, s, models.PromotionInput{UTMSource: ptr("old"), UTMCampaign: ptr("older")})
		mustCoupon(t, s, models.CouponInput{Code: "OLD", UTMSource: ptr("Old"), UTMCampaign: ptr("OLDER")})
		for i := range 6 {
			clock.Set(epoch.Add(time.Duration(i) * 5 * time.Hour))
			r, _, err := s.Redeem(ctx, models.RedemptionInput{Code: "OLD", CustomerID: fmt.Sprint("c", i%2), OrderID: fmt.Sprint("o", i), Items: 1, OrderAmount: ptr(int64(500 * (i + 1)))}, "")
			if err != nil {
				t.Fatal(err)
			}
			if i == 4 {
				if _, err := s.CancelRedemption(ctx, r.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		from, to := epoch.Add(-time.Hour), epoch.Add(48*time.Hour)
		scopes := [][2]string{{models.ScopeAll, ""}, {models.ScopePromotion, fmt.Sprint(p.ID)}, {models.ScopeUTMSource, "old"}, {models.ScopeUTMCampaign, "older"}}
		kept := map[string]models.Totals{}
		for _, sc := range scopes {
			got, err := s.TotalsBetween(ctx, sc[0], sc[1], from, to)
			if err != nil {
				t.Fatal(err)
			}
			kept[sc[0]] = got
		}
		// Undo the migration and apply it again, as on a database that
		// had these redemptions before it.
		b, err := os.ReadFile(filepath.Join("migrations", dialect, "00007_redemption_totals.sql"))
		if err != nil {
			t.Fatal(err)
		}
		up, down, ok := strings.Cut(strings.SplitN(string(b), "-- +goose Up", 2)[1], "-- +goose Down")
		if !ok {
			t.Fatal("the migration has no Down section")
		}
		for _, section := range []string{down, up} {
			for _, stmt := range strings.Split(section, ";\n") {
				if strings.TrimSpace(stmt) == "" {
					continue
				}
				if err := db.Exec(stmt).Error; err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
		}
		for _, sc := range scopes {
			got, err := s.TotalsBetween(ctx, sc[0], sc[1], from, to)
			if err != nil {
				t.Fatal(err)
			}
			if got != kept[sc[0]] || got.Redemptions != 5 {
				t.Errorf("%s after the migration: %+v, kept by the redemptions %+v; want 5 live", sc[0], got, kept[sc[0]])
			}
		}
	})
}

// A customer with more live quarter hours than the store reads as a
// list (80 here, redeemed in shuffled order so that each lands between
// others, some cancelled) is still counted once in any range.
func TestACustomerWithManyQuarterHoursIsCountedOnce(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		s, db, clock := openWithClock(t, dialect)
		ctx := t.Context()
		start := epoch.Add(-24 * time.Hour)
		clock.Set(start)
		p := mustPromotion(t, s, models.PromotionInput{Status: models.PromotionActive, UTMSource: ptr("loyal")})
		mustCoupon(t, s, models.CouponInput{Code: "LOYAL", UTMSource: ptr("loyal")})
		mustCoupon(t, s, models.CouponInput{Code: "OTHER", UTMSource: ptr("loyal")})
		clock.Set(epoch)
		order := rand.New(rand.NewPCG(7, 7)).Perm(80)
		var ids []int64
		for _, q := range order {
			at := start.Add(time.Duration(q)*15*time.Minute + time.Minute)
			r, _, err := s.Redeem(ctx, models.RedemptionInput{Code: "LOYAL", CustomerID: "ada", OrderID: fmt.Sprint("q", q), Items: 1, At: at}, "")
			if err != nil {
				t.Fatalf("redemption in quarter hour %d: %v", q, err)
			}
			ids = append(ids, r.ID)
		}
		mustRedeem(t, s, "OTHER", "bob", "b1", 1)
		for _, id := range ids[:10] {
			if _, err := s.CancelRedemption(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		for _, w := range [][2]time.Time{{start, epoch.Add(time.Hour)}, {start.Add(5 * time.Hour), start.Add(9 * time.Hour)}, {start.Add(19 * time.Hour), epoch.Add(time.Hour)}} {
			for _, sc := range [][2]string{{models.ScopeAll, ""}, {models.ScopePromotion, fmt.Sprint(p.ID)}} {
				want := directTotals(t, db, sc[0], sc[1], w[0], w[1])
				got, err := s.TotalsBetween(ctx, sc[0], sc[1], w[0], w[1])
				if err != nil || got != want {
					t.Errorf("%s %q from %s to %s: totals %+v (%v), the redemptions say %+v", sc[0], sc[1], w[0], w[1], got, err, want)
				}
			}
		}
	})
}
