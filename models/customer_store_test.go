package models_test

import (
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
	"github.com/google/go-cmp/cmp"
)

// stepClock is a store clock a test moves by hand.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *stepClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// customerFigures are a customer's kept figures.
type customerFigures struct {
	Redemptions    int64
	Savings        int64
	LastActivityAt time.Time
}

// mustFigures returns the figures the store keeps for customer id, and
// fails when they differ from what a direct query over the redemptions
// says.
func mustFigures(t *testing.T, s *models.Store, db *sql.DB, id string) customerFigures {
	t.Helper()
	c, err := s.Customer(t.Context(), id)
	if err != nil {
		t.Fatalf("customer %q: %v", id, err)
	}
	var uses, saved int64
	err = db.QueryRowContext(t.Context(), `SELECT count(*), coalesce(sum(discount), 0) FROM redemptions WHERE customer_id = $1 AND cancelled_at IS NULL`, id).Scan(&uses, &saved)
	if err != nil {
		t.Fatal(err)
	}
	if c.Redemptions != uses || c.Savings != saved {
		t.Errorf("customer %q keeps %d redemptions saving %d; the redemptions say %d saving %d", id, c.Redemptions, c.Savings, uses, saved)
	}
	return customerFigures{Redemptions: c.Redemptions, Savings: c.Savings, LastActivityAt: c.LastActivityAt.UTC()}
}

func TestCustomerFiguresFollowRedemptionsCancellationsAndIssues(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		clock := &stepClock{t: epoch}
		s, db := storetest.OpenWithDB(t, dialect, models.Config{Now: clock.Now})
		ctx := t.Context()
		mustPromotion(t, s, models.PromotionInput{UTMSource: ptr("spring")})
		mustCoupon(t, s, models.CouponInput{Code: "SPRING", UTMSource: ptr("spring")})
		redeem := func(order string, amount *int64, at time.Time) models.Redemption {
			t.Helper()
			r, _, err := s.Redeem(ctx, models.RedemptionInput{Code: "SPRING", CustomerID: "zoe", OrderID: order, Items: 1, OrderAmount: amount, At: at}, "test")
			if err != nil {
				t.Fatalf("redeem order %s: %v", order, err)
			}
			return r
		}
		want := func(step string, w customerFigures) {
			t.Helper()
			if d := cmp.Diff(w, mustFigures(t, s, db, "zoe")); d != "" {
				t.Errorf("%s (-want +got):\n%s", step, d)
			}
		}
		// zoe is known only from her redemptions.
		t0 := epoch
		first := redeem("o1", ptr(int64(5000)), time.Time{})
		if c, err := s.Customer(ctx, "zoe"); err != nil || !c.CreatedAt.Equal(t0) || c.Email != nil {
			t.Fatalf("the customer the redemption made: %+v, %v", c, err)
		}
		want("first redemption", customerFigures{1, 500, t0})
		redeem("o1", ptr(int64(5000)), time.Time{})
		want("the same order again", customerFigures{1, 500, t0})

		t1 := clock.Advance(time.Hour)
		redeem("o2", ptr(int64(2000)), time.Time{})
		redeem("o3", nil, time.Time{})
		want("two more, one without an amount", customerFigures{3, 700, t1})
		redeem("o4", ptr(int64(1000)), t1.Add(-30*time.Minute))
		want("one recorded at an earlier time", customerFigures{4, 800, t1})

		clock.Advance(time.Hour)
		if _, err := s.CancelRedemption(ctx, first.ID); err != nil {
			t.Fatal(err)
		}
		want("the first cancelled", customerFigures{3, 300, t1})
		if _, err := s.CancelRedemption(ctx, first.ID); err != nil {
			t.Fatal(err)
		}
		want("cancelled again", customerFigures{3, 300, t1})

		t3 := clock.Advance(time.Hour)
		ser := mustSeries(t, s, "Welcome", 0, 0)
		if r := issueOne(t, s, ser, "zoe"); r.Coupon == nil {
			t.Fatalf("issue: %+v", r)
		}
		want("a code issued", customerFigures{3, 300, t3})

		t4 := clock.Advance(time.Hour)
		if _, _, err := s.CreateSingleUse(ctx, models.SingleUseInput{Code: "ZOE-BDAY", CustomerID: "zoe", DiscountType: models.DiscountFixed, DiscountValue: "500"}); err != nil {
			t.Fatal(err)
		}
		want("a single-use code made for her", customerFigures{3, 300, t4})
		if _, _, err := s.Redeem(ctx, models.RedemptionInput{Code: "ZOE-BDAY", CustomerID: "zoe", OrderID: "o5", Items: 1, OrderAmount: ptr(int64(3000))}, "test"); err != nil {
			t.Fatal(err)
		}
		want("her single-use code redeemed", customerFigures{4, 800, t4})

		// A new customer issued a code has an activity and no redemption.
		t5 := clock.Advance(time.Hour)
		if r := issueOne(t, s, ser, "yan"); r.Coupon == nil {
			t.Fatalf("issue: %+v", r)
		}
		if got := mustFigures(t, s, db, "yan"); got != (customerFigures{0, 0, t5}) {
			t.Errorf("a customer issued one code: %+v", got)
		}
	})
}

func TestCustomerFiguresStayExactUnderConcurrency(t *testing.T) {
	t.Parallel()
	storetest.EachWithDB(t, models.Config{Now: fixedClock}, func(t *testing.T, s *models.Store, db *sql.DB) {
		ctx := t.Context()
		const n = 50
		// A code and a promotion of its own for each order, so that on
		// PostgreSQL only the customer's row orders the redemptions of
		// one customer.
		code := func(i int) string { return fmt.Sprintf("SPRING-%02d", i) }
		for i := range n {
			mustPromotion(t, s, models.PromotionInput{UTMSource: ptr(code(i))})
			mustCoupon(t, s, models.CouponInput{Code: code(i), UTMSource: ptr(code(i))})
		}
		run := func(fn func(i int) error) {
			t.Helper()
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { errs[i] = fn(i) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("%d: %v", i, err)
				}
			}
		}
		ids := make([]int64, n)
		for _, who := range []struct {
			name     string
			customer func(int) string
		}{{"one customer", func(int) string { return "same" }}, {"different customers", func(i int) string { return fmt.Sprintf("c%02d", i) }}} {
			t.Run(who.name, func(t *testing.T) {
				run(func(i int) error {
					r, _, err := s.Redeem(ctx, models.RedemptionInput{Code: code(i), CustomerID: who.customer(i), OrderID: fmt.Sprintf("%s-%d", who.customer(i), i),
						Items: 1, OrderAmount: ptr(int64(1000 + 10*i))}, "")
					ids[i] = r.ID
					return err
				})
				// Half of them cancelled, all at once, and every one replayed.
				run(func(i int) error {
					if i%2 == 1 {
						return nil
					}
					_, err := s.CancelRedemption(ctx, ids[i])
					return err
				})
				run(func(i int) error {
					_, created, err := s.Redeem(ctx, models.RedemptionInput{Code: code(i), CustomerID: who.customer(i), OrderID: fmt.Sprintf("%s-%d", who.customer(i), i),
						Items: 1, OrderAmount: ptr(int64(1000 + 10*i))}, "")
					if created {
						return fmt.Errorf("the replay of order %d made a redemption", i)
					}
					return err
				})
				var uses, saved int64
				for i := range n {
					f := mustFigures(t, s, db, who.customer(i))
					if who.customer(i) != "same" {
						uses, saved = uses+f.Redemptions, saved+f.Savings
					} else {
						uses, saved = f.Redemptions, f.Savings
					}
				}
				// Order i's discount is 10% of 1000+10i.
				var wantSaved int64
				for i := 1; i < n; i += 2 {
					wantSaved += int64(100 + i)
				}
				if uses != n/2 || saved != wantSaved {
					t.Errorf("%d live redemptions saving %d, want %d saving %d", uses, saved, n/2, wantSaved)
				}
			})
		}
	})
}

func TestListCustomersByActivityPagesAndSearches(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		clock := &stepClock{t: epoch}
		s := storetest.Open(t, dialect, models.Config{Now: clock.Now})
		ctx := t.Context()
		mustPromotion(t, s, models.PromotionInput{UTMSource: ptr("spring")})
		mustCoupon(t, s, models.CouponInput{Code: "SPRING", UTMSource: ptr("spring")})
		ser := mustSeries(t, s, "Welcome", 0, 0)
		issue := func(ref models.CustomerRef) {
			t.Helper()
			if _, rs, err := s.Issue(ctx, models.IssueRequest{SeriesIDs: []int64{ser.ID()}, Customer: ref}); err != nil || rs[0].Coupon == nil {
				t.Fatalf("issue to %s: %v", ref, err)
			}
		}
		redeem := func(customer, order string) {
			t.Helper()
			if _, _, err := s.Redeem(ctx, models.RedemptionInput{Code: "SPRING", CustomerID: customer, OrderID: order, Items: 1}, "test"); err != nil {
				t.Fatal(err)
			}
		}
		// Three customers active at the same moment, ordered by id.
		issue(models.CustomerRef{ID: "b", Email: "Ann.B@example.com"})
		issue(models.CustomerRef{ID: "a", Email: "ann_a@example.com"})
		redeem("c", "o1")
		clock.Advance(time.Minute)
		issue(models.CustomerRef{ID: "d", Email: "bob@example.com", Mobile: "+91 98765 43210"})
		clock.Advance(time.Minute)
		// a's redemption makes it the most recent.
		redeem("a", "o2")

		var got []string
		var codes []int64
		page := models.CustomerPage{Next: ""}
		for first := true; first || page.Next != ""; first = false {
			var err error
			if page, err = s.ListCustomers(ctx, models.CustomerFilter{After: page.Next, Limit: 2}); err != nil {
				t.Fatal(err)
			}
			for _, c := range page.Customers {
				got, codes = append(got, c.ID), append(codes, c.Codes)
			}
		}
		if d := cmp.Diff([]string{"a", "d", "b", "c"}, got); d != "" {
			t.Errorf("customers by activity, two a page (-want +got):\n%s", d)
		}
		if d := cmp.Diff([]int64{1, 1, 1, 0}, codes); d != "" {
			t.Errorf("codes held (-want +got):\n%s", d)
		}

		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"ANN", []string{"a", "b"}},
			{"ann.", []string{"b"}},
			{"ann_", []string{"a"}}, // '_' is no wildcard
			{"ann%", nil},
			{"bob@example.com", []string{"d"}},
			{"919876543210", []string{"d"}},
			{"c", []string{"c"}},
			{"example.com", nil},
		} {
			page, err := s.ListCustomers(ctx, models.CustomerFilter{Query: tc.query})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, c := range page.Customers {
				ids = append(ids, c.ID)
			}
			if d := cmp.Diff(tc.want, ids); d != "" {
				t.Errorf("search %q (-want +got):\n%s", tc.query, d)
			}
		}
		if _, err := s.ListCustomers(ctx, models.CustomerFilter{After: "garbage"}); err == nil {
			t.Error("a cursor this server never handed out was accepted")
		}
	})
}

// TestMigrationFillsCustomerFigures upgrades a database holding
// redemptions from before customers kept their figures.
func TestMigrationFillsCustomerFigures(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		ctx := t.Context()
		cfg := storetest.Fresh(t, dialect, models.Config{Now: fixedClock})
		s := openStore(t, cfg)
		// Every migration before the one that adds the figures.
		if err := s.MigrateTo(ctx, 7); err != nil {
			t.Fatal(err)
		}
		old := storetest.Connect(t, cfg)
		at := func(h int) time.Time { return epoch.Add(time.Duration(h) * time.Hour) }
		for _, st := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO coupons (id, code, customer_id, created_at, updated_at) VALUES (1, 'ANN-1', 'ann', ?, ?)`, []any{at(0), at(0)}},
			{`INSERT INTO coupons (id, code, created_at, updated_at) VALUES (2, 'SPRING', ?, ?)`, []any{at(0), at(0)}},
			{`INSERT INTO customers (id, email, created_at) VALUES ('ann', 'ann@example.com', ?), ('idle', NULL, ?)`, []any{at(0), at(-5)}},
			{`INSERT INTO issuances (coupon_id, customer_id, issued_at) VALUES (1, 'ann', ?)`, []any{at(1)}},
			{`INSERT INTO redemptions (coupon_id, code, customer_id, order_id, items, order_amount, discount, created_at, cancelled_at) VALUES
				(1, 'ANN-1', 'ann', 'o1', 1, 3000, 300, ?, NULL),
				(2, 'SPRING', 'ann', 'o2', 1, 1000, 100, ?, ?),
				(2, 'SPRING', 'ghost', 'o3', 1, 500, 50, ?, NULL),
				(2, 'SPRING', 'ghost', 'o4', 1, NULL, NULL, ?, NULL),
				(2, 'SPRING', 'ghost', 'o5', 2, 800, 80, ?, ?)`, []any{at(2), at(3), at(4), at(-1), at(6), at(-2), at(7)}},
		} {
			if err := old.Exec(st.sql, st.args...).Error; err != nil {
				t.Fatalf("seed: %v", err)
			}
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		db, err := old.DB()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]customerFigures{}
		for _, id := range []string{"ann", "ghost", "idle"} {
			got[id] = mustFigures(t, s, db, id)
		}
		want := map[string]customerFigures{
			"ann":   {1, 300, at(3)},
			"ghost": {2, 50, at(6)},
			"idle":  {0, 0, at(-5)},
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("figures after the migration (-want +got):\n%s", d)
		}
		if c, err := s.Customer(ctx, "ghost"); err != nil || !c.CreatedAt.Equal(at(-2)) {
			t.Errorf("the customer made for redemptions: %+v, %v; want first seen at its first redemption", c, err)
		}
		page, err := s.ListCustomers(ctx, models.CustomerFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range page.Customers {
			ids = append(ids, c.ID)
		}
		if d := cmp.Diff([]string{"ghost", "ann", "idle"}, ids); d != "" {
			t.Errorf("customers by activity after the migration (-want +got):\n%s", d)
		}
		// The figures go on from there.
		mustPromotion(t, s, models.PromotionInput{UTMSource: ptr("spring")})
		if err := s.ExecWrite(ctx, `UPDATE coupons SET utm_source = 'spring' WHERE id = 2`); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Redeem(ctx, models.RedemptionInput{Code: "SPRING", CustomerID: "ghost", OrderID: "o6", Items: 1, OrderAmount: ptr(int64(1000))}, "test"); err != nil {
			t.Fatal(err)
		}
		if f := mustFigures(t, s, db, "ghost"); f.Redemptions != 3 || f.Savings != 150 {
			t.Errorf("after another redemption: %+v", f)
		}
	})
}
