package models_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
	"gorm.io/gorm"
)

var errRefusedHere = errors.New("refused by the test")

// Writes that share a transaction keep to themselves: one that fails,
// by refusing or by a database error, leaves nothing, and the others are
// committed exactly once, each answered with its own result.
func TestGroupCommitKeepsEachWriteToItself(t *testing.T) {
	t.Parallel()
	s, db := storetest.OpenWithGORM(t, models.DialectSQLite, models.Config{})
	if err := db.Exec("CREATE TABLE group_test (n integer PRIMARY KEY, note text)").Error; err != nil {
		t.Fatal(err)
	}
	const writes = 200
	errs := make([]error, writes)
	// The writer is held until most writes queue, so that they share
	// transactions however the machine schedules them.
	release, err := s.HoldWriter(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range writes {
		wg.Go(func() {
			errs[i] = s.Write(t.Context(), func(tx *gorm.DB) error {
				if err := tx.Exec("INSERT INTO group_test (n, note) VALUES (?, 'first')", i).Error; err != nil {
					return err
				}
				if err := tx.Exec("UPDATE group_test SET note = 'second' WHERE n = ?", i).Error; err != nil {
					return err
				}
				switch {
				case i == 7:
					return tx.Exec("INSERT INTO no_such_table VALUES (1)").Error
				case i%5 == 0:
					return fmt.Errorf("write %d: %w", i, errRefusedHere)
				}
				return nil
			})
		})
	}
	for deadline := time.Now().Add(10 * time.Second); s.QueuedWrites() < writes-1 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	release()
	wg.Wait()
	var want []int
	for i, err := range errs {
		switch {
		case i == 7:
			if err == nil || !strings.Contains(err.Error(), "no_such_table") {
				t.Errorf("write 7 (a database error) answered %v", err)
			}
		case i%5 == 0:
			if !errors.Is(err, errRefusedHere) || !strings.Contains(err.Error(), fmt.Sprintf("write %d:", i)) {
				t.Errorf("write %d (refused) answered %v", i, err)
			}
		default:
			want = append(want, i)
			if err != nil {
				t.Errorf("write %d answered %v", i, err)
			}
		}
	}
	var rows []struct {
		N    int
		Note string
	}
	if err := db.Raw("SELECT n, note FROM group_test ORDER BY n").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, r := range rows {
		got = append(got, r.N)
		if r.Note != "second" {
			t.Errorf("row %d is %q: only part of its write was kept", r.N, r.Note)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows kept: %v\nwant:       %v", got, want)
	}
	if s.SharedWrites() == 0 {
		t.Error("no write shared a transaction: nothing here tested group commit")
	}
}

// 200 redemptions at once, every fifth refused (unknown code, a used-up
// code, the wrong customer): every other is recorded exactly once, with
// its audit event and its use, and each refused one left nothing.
func TestGroupedRedemptionsEachGetTheirOwnAnswer(t *testing.T) {
	t.Parallel()
	s, db := storetest.OpenWithGORM(t, models.DialectSQLite, models.Config{})
	mustPromotion(t, s, models.PromotionInput{Status: models.PromotionActive, UTMSource: ptr("group")})
	mustCoupon(t, s, models.CouponInput{Code: "MANY", UTMSource: ptr("group")})
	mustCoupon(t, s, models.CouponInput{Code: "GONE", UTMSource: ptr("group"), MaxUsage: 1})
	if _, err := s.CreateCoupon(t.Context(), models.CouponSpec{Code: "ANNS", UTMSource: ptr("group"), CustomerID: ptr("ann")}); err != nil {
		t.Fatal(err)
	}
	mustRedeem(t, s, "GONE", "first", "first-order", 1)
	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		code, customer := "MANY", fmt.Sprint("c", i)
		switch i % 15 {
		case 0:
			code = "NOPE"
		case 5:
			code = "GONE"
		case 10:
			code = "ANNS"
		}
		wg.Go(func() {
			_, _, errs[i] = s.Redeem(t.Context(), models.RedemptionInput{Code: code, CustomerID: customer, OrderID: fmt.Sprint("o", i), Items: 1}, "")
		})
	}
	wg.Wait()
	wantReason := map[int]string{0: models.ReasonNotFound, 5: models.ReasonUsageLimit, 10: models.ReasonNotForCustomer}
	redeemed := 0
	for i, err := range errs {
		if i%5 == 0 {
			if reasons := reasonsOf(t, err); !slices.Contains(reasons, wantReason[i%15]) {
				t.Errorf("redemption %d: reasons %v, want %s", i, reasons, wantReason[i%15])
			}
			continue
		}
		if err != nil {
			t.Errorf("redemption %d: %v", i, err)
		}
		redeemed++
	}
	var counts struct{ Redemptions, Audits, Uses, Orders int }
	db.Raw("SELECT count(*) FROM redemptions WHERE coupon_id = (SELECT id FROM coupons WHERE code = 'MANY')").Scan(&counts.Redemptions)
	db.Raw("SELECT count(DISTINCT order_id) FROM redemptions WHERE coupon_id = (SELECT id FROM coupons WHERE code = 'MANY')").Scan(&counts.Orders)
	db.Raw("SELECT uses FROM coupons WHERE code = 'MANY'").Scan(&counts.Uses)
	db.Raw("SELECT count(*) FROM audit_events WHERE action = ? AND summary LIKE 'code=MANY %'", models.ActionRedeem).Scan(&counts.Audits)
	if counts.Redemptions != redeemed || counts.Orders != redeemed || counts.Uses != redeemed || counts.Audits != redeemed {
		t.Errorf("after %d redemptions: %+v", redeemed, counts)
	}
	var others int
	db.Raw("SELECT count(*) FROM redemptions WHERE order_id <> 'first-order' AND coupon_id IN (SELECT id FROM coupons WHERE code IN ('GONE', 'ANNS'))").Scan(&others)
	if others != 0 {
		t.Errorf("refused redemptions left %d rows", others)
	}
}

// A write the writer has taken runs to its end even when its client
// gives up mid-statement, and is answered with its group's commit, as
// the writes sharing its transaction are.
func TestAClientGivingUpMidWriteLeavesItsGroupWhole(t *testing.T) {
	t.Parallel()
	s, db := storetest.OpenWithGORM(t, models.DialectSQLite, models.Config{})
	if err := db.Exec("CREATE TABLE group_test (n integer PRIMARY KEY)").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("CREATE TABLE group_bulk (n integer)").Error; err != nil {
		t.Fatal(err)
	}
	release, err := s.HoldWriter(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	const writes = 20
	errs := make([]error, writes)
	var wg sync.WaitGroup
	for i := range writes {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		wg.Go(func() {
			errs[i] = s.Write(ctx, func(tx *gorm.DB) error {
				if err := tx.Exec("INSERT INTO group_test (n) VALUES (?)", i).Error; err != nil {
					return err
				}
				if i != writes/2 {
					return nil
				}
				cancel()
				// Long enough for an interrupt to find it running.
				return tx.Exec("INSERT INTO group_bulk WITH RECURSIVE r(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM r WHERE k < 1000000) SELECT k FROM r").Error
			})
		})
	}
	for deadline := time.Now().Add(10 * time.Second); s.QueuedWrites() < writes-1 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	release()
	wg.Wait()
	var n int
	if err := db.Raw("SELECT count(*) FROM group_test").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("write %d answered %v", i, err)
		}
	}
	if n != writes {
		t.Errorf("%d of %d writes kept", n, writes)
	}
}

// Writes of many rows in one statement (chunks of generated codes) never
// share a group with other writes: SQLite keeps their statement journals
// in a file, and every other write's in memory, whatever order they
// queue in.
func TestBulkWritesRunInGroupsOfTheirOwn(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t, models.DialectSQLite, models.Config{})
	release, err := s.HoldWriter(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	const writes = 40
	stores := make([]int, writes)
	errs := make([]error, writes)
	var wg sync.WaitGroup
	for i := range writes {
		write := s.Write
		if i%3 == 1 {
			write = s.WriteBulk
		}
		wg.Go(func() {
			errs[i] = write(t.Context(), func(tx *gorm.DB) error {
				return tx.Raw("PRAGMA temp_store").Scan(&stores[i]).Error
			})
		})
	}
	for deadline := time.Now().Add(10 * time.Second); s.QueuedWrites() < writes-1 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	release()
	wg.Wait()
	for i := range writes {
		// temp_store: 0 is the default (a file), 2 is memory.
		want := 2
		if i%3 == 1 {
			want = 0
		}
		if errs[i] != nil || stores[i] != want {
			t.Errorf("write %d (bulk %v) ran with temp_store %d (%v), want %d", i, i%3 == 1, stores[i], errs[i], want)
		}
	}
}
