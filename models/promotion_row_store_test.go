package models_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
)

// On PostgreSQL, checkouts reaching a promotion without a limit neither
// wait for its row nor write it: 20 redemptions through two instances
// go through while another transaction holds the row against updates,
// and the row is the same version afterwards. Its uses are still shown;
// once it is given a limit, its row counts them again, the cancelled
// one left out, and the limit holds.
func TestAPromotionWithoutALimitIsNoHotRow(t *testing.T) {
	t.Parallel()
	stores, db := openStores(t, models.DialectPostgres, models.Config{}, models.Config{})
	s := stores[0]
	p := mustPromotion(t, s, models.PromotionInput{Status: models.PromotionActive, UTMSource: ptr("free")})
	for i := range 20 {
		mustCoupon(t, s, models.CouponInput{Code: fmt.Sprint("FREE-", i), UTMSource: ptr("free")})
	}
	var before string
	if err := db.QueryRow("SELECT xmin::text FROM promotions WHERE id = $1", p.ID).Scan(&before); err != nil {
		t.Fatal(err)
	}
	hold, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hold.Exec("SELECT 1 FROM promotions WHERE id = $1 FOR NO KEY UPDATE", p.ID); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	ids := make([]int64, 20)
	for i := range 20 {
		wg.Go(func() {
			r, _, err := stores[i%2].Redeem(ctx, models.RedemptionInput{Code: fmt.Sprint("FREE-", i), CustomerID: fmt.Sprint("c", i), OrderID: fmt.Sprint("o", i), Items: 1}, "")
			if err != nil {
				t.Errorf("redemption %d beside a transaction holding the promotion's row: %v", i, err)
			}
			ids[i] = r.ID
		})
	}
	wg.Wait()
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	var after string
	if err := db.QueryRow("SELECT xmin::text FROM promotions WHERE id = $1", p.ID).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("the promotion's row was rewritten by checkouts (xmin %s → %s)", before, after)
	}
	if _, err := s.CancelRedemption(t.Context(), ids[0]); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Promotion(t.Context(), p.ID); err != nil || got.Uses != 19 {
		t.Errorf("uses of the promotion without a limit = %d (%v), want 19", got.Uses, err)
	}
	spec, err := models.PromotionInput{Name: p.Name, Status: models.PromotionActive, UTMSource: ptr("free"), MaxUsage: 21,
		DiscountType: models.DiscountPercent, DiscountValue: "10"}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	limited, err := s.UpdatePromotion(t.Context(), p.ID, spec)
	if err != nil || limited.Uses != 19 {
		t.Fatalf("uses once limited = %d (%v), want 19", limited.Uses, err)
	}
	var row int
	if err := db.QueryRow("SELECT uses FROM promotions WHERE id = $1", p.ID).Scan(&row); err != nil || row != 19 {
		t.Fatalf("uses in the limited promotion's row = %d (%v), want 19", row, err)
	}
	var won, refused int
	var mu sync.Mutex
	for i := range 6 {
		wg.Go(func() {
			_, _, err := stores[i%2].Redeem(t.Context(), models.RedemptionInput{Code: fmt.Sprint("FREE-", i), CustomerID: fmt.Sprint("late", i), OrderID: fmt.Sprint("late", i), Items: 1}, "")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case refusedByPromotionLimit(err):
				refused++
			default:
				t.Errorf("late redemption %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if won != 2 || refused != 4 {
		t.Errorf("6 redemptions for the last 2 uses: %d redeemed, %d refused", won, refused)
	}
	if err := db.QueryRow("SELECT uses FROM promotions WHERE id = $1", p.ID).Scan(&row); err != nil || row != 21 {
		t.Errorf("uses in the row after reaching the limit = %d (%v), want 21", row, err)
	}
}

// Checkouts that read a promotion without a limit while it was being
// given one wait for that change and are then judged by the limit, one
// at a time, on PostgreSQL: of two checkouts for the last use, one wins
// and the other is refused.
func TestCheckoutsMeetALimitSetWhileTheyRan(t *testing.T) {
	t.Parallel()
	stores, db := openStores(t, models.DialectPostgres, models.Config{}, models.Config{})
	p := mustPromotion(t, stores[0], models.PromotionInput{Status: models.PromotionActive, UTMSource: ptr("late")})
	for _, code := range []string{"LATE-A", "LATE-B", "LATE-C"} {
		mustCoupon(t, stores[0], models.CouponInput{Code: code, UTMSource: ptr("late")})
	}
	mustRedeem(t, stores[0], "LATE-A", "ann", "o1", 1)
	change, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = change.Rollback() }()
	var changer int
	if err := change.QueryRow("SELECT pg_backend_pid()").Scan(&changer); err != nil {
		t.Fatal(err)
	}
	// As UpdatePromotion gives a limit: the row locked, the uses counted.
	if _, err := change.Exec("SELECT 1 FROM promotions WHERE id = $1 FOR UPDATE", p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := change.Exec("UPDATE promotions SET max_usage = 2, uses = 1 WHERE id = $1", p.ID); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for i, code := range []string{"LATE-B", "LATE-C"} {
		go func() {
			_, _, err := stores[i].Redeem(t.Context(), models.RedemptionInput{Code: code, CustomerID: fmt.Sprint("c", i), OrderID: fmt.Sprint("o", i+2), Items: 1}, "")
			errs <- err
		}()
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		var waiting int
		if err := db.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", changer).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 2 checkouts waited for the promotion being changed", waiting)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := change.Commit(); err != nil {
		t.Fatal(err)
	}
	won, refused := 0, 0
	for range 2 {
		err := <-errs
		switch {
		case err == nil:
			won++
		case refusedByPromotionLimit(err):
			refused++
		default:
			t.Errorf("checkout for the last use: %v", err)
		}
	}
	if won != 1 || refused != 1 {
		t.Errorf("two checkouts for the last use: %d redeemed, %d refused; want one of each", won, refused)
	}
}

// refusedByPromotionLimit reports whether err refuses a redemption for
// its promotion's limit alone.
func refusedByPromotionLimit(err error) bool {
	var nr *models.NotRedeemableError
	return errors.As(err, &nr) && slices.Equal(nr.Reasons, []string{models.ReasonPromotionUsageLimit})
}
