package models

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// benchNow is where the dashboard benchmark's clock stands.
var benchNow = time.Date(2026, 11, 21, 15, 0, 0, 0, time.UTC)

// seedRedemptions fills a fresh SQLite store with n live redemptions
// spread evenly over the 90 days before benchNow, of the first 1,000 of
// the coupons, by 200,000 customers, from 20 UTM sources and 20
// campaigns; coupons are tagged with the 20 sources that 20 of the 50
// promotions listen to (one in ten untagged), and one in ten ends on its
// own within 30 days either side of benchNow. It fills the totals and the
// counts of usable coupons the way migrations 7 and 9 do from existing
// rows.
func seedRedemptions(b *testing.B, n, coupons int) *Store {
	b.Helper()
	ctx := context.Background()
	s, err := Open(ctx, Config{Path: filepath.Join(b.TempDir(), "bench.db"), Now: func() time.Time { return benchNow }})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := s.Close(); err != nil {
			b.Errorf("close the store: %v", err)
		}
	})
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	const promotions, redeemed = 50, 1000
	stmts := []string{
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < %d)
			INSERT INTO promotions (name, status, kind, discount_type, discount_value, utm_source, created_at, updated_at)
			SELECT 'Promotion ' || i, 'active', 'regular', 'percent', 1000, CASE WHEN i <= 20 THEN 'src' || (i - 1) END,
				'2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00' FROM n`, promotions),
		// As a batch's codes, which the counts' triggers leave to the
		// batch engine: the counts are filled below.
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < %d)
			INSERT INTO coupons (code, utm_source, max_items_per_client, expiration_interval_per_use, max_usage, batch_id, expires_at, created_at, updated_at)
			SELECT 'C' || i, CASE WHEN i %% 10 <> 0 THEN 'src' || (i %% 20) END, 0, 0, 0, 1,
				CASE WHEN i %% 10 = 5 THEN strftime('%%Y-%%m-%%d %%H:%%M:%%S', %d + (i %% 60 - 30) * 86400 + i %% 86400, 'unixepoch') || '+00:00' END,
				'2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00' FROM n`, coupons, benchNow.Unix()),
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < %d)
			INSERT INTO redemptions (coupon_id, code, customer_id, order_id, items, order_amount, discount, created_at, utm_source, utm_campaign)
			SELECT 1 + i %% %d, 'C' || (1 + i %% %d), 'cust' || (i %% 200000), 'o' || i, 1, 1000 + i %% 5000, 100 + i %% 500,
				strftime('%%Y-%%m-%%d %%H:%%M:%%S', %d - i * %d / %d, 'unixepoch') || '+00:00', 'src' || (i %% 20), 'camp' || (i %% 20) FROM n`,
			n, redeemed, redeemed, benchNow.Unix(), int64(90*24*3600), n),
		fmt.Sprintf(`INSERT INTO redemption_promotions (redemption_id, promotion_id, customer_id, discount, cancelled)
			SELECT id, 1 + id %% %d, customer_id, discount, 0 FROM redemptions`, promotions),
	}
	// The totals and the counts, as migrations 7 and 9 fill them from
	// existing rows.
	for _, m := range []string{"00007_redemption_totals.sql", "00009_coupon_counts.sql"} {
		up, err := fs.ReadFile(migrations, "migrations/sqlite/"+m)
		if err != nil {
			b.Fatal(err)
		}
		for _, stmt := range strings.Split(string(up), ";\n") {
			stmt = strings.TrimSpace(stmt)
			if (strings.HasPrefix(stmt, "INSERT INTO redemption_") || strings.HasPrefix(stmt, "INSERT INTO coupon_counts") && strings.Contains(stmt, "FROM coupons")) && !strings.Contains(stmt, "-- +goose Down") {
				stmts = append(stmts, stmt)
			}
		}
	}
	stmts = append(stmts, "ANALYZE")
	for _, stmt := range stmts {
		if err := s.wdb.Exec(stmt).Error; err != nil {
			b.Fatalf("%.80s: %v", stmt, err)
		}
	}
	return s
}

// BenchmarkDashboardReads1M measures the reads the console's dashboard
// makes, over the totals of 1,000,000 redemptions and the counts of
// 10,000,000 coupons in SQLite, part by part and whole: the three
// periods' figures beside the periods before (the sums, and the distinct
// customers), the 30-day chart by slot, the six top lists, the active
// coupons and the live promotions. The target is the whole page under
// 100 ms.
func BenchmarkDashboardReads1M(b *testing.B) {
	s := seedRedemptions(b, 1_000_000, 10_000_000)
	ctx := context.Background()
	now := benchNow
	midnight := now.Truncate(24 * time.Hour)
	end := SlotEnd(now)
	periods := [][3]time.Time{
		{midnight, midnight.AddDate(0, 0, -1), now.AddDate(0, 0, -1)},
		{now.AddDate(0, 0, -7), now.AddDate(0, 0, -14), now.AddDate(0, 0, -7)},
		{now.AddDate(0, 0, -30), now.AddDate(0, 0, -60), now.AddDate(0, 0, -30)},
	}
	figures := func(b *testing.B, scope string) {
		for _, p := range periods {
			cur, err := s.TotalsBetween(ctx, scope, "", p[0], end)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.TotalsBetween(ctx, scope, "", p[1], SlotEnd(p[2])); err != nil {
				b.Fatal(err)
			}
			if p == periods[2] && scope == ScopeAll && (cur.Redemptions < 300_000 || cur.Customers == 0) {
				b.Fatalf("the last 30 days hold %+v, want about a third of the redemptions", cur)
			}
		}
	}
	chart := func(b *testing.B) {
		if _, err := s.TotalsBySlot(ctx, ScopeAll, "", midnight.AddDate(0, 0, -29), end); err != nil {
			b.Fatal(err)
		}
	}
	top := func(b *testing.B) {
		for _, scope := range []string{ScopePromotion, ScopeUTMSource, ScopeUTMCampaign} {
			if _, _, err := s.TopTotals(ctx, scope, midnight.AddDate(0, 0, -29), end, 5); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("figures", func(b *testing.B) {
		for b.Loop() {
			figures(b, ScopeAll)
		}
	})
	b.Run("chart", func(b *testing.B) {
		for b.Loop() {
			chart(b)
		}
	})
	b.Run("top-lists", func(b *testing.B) {
		for b.Loop() {
			top(b)
		}
	})
	active := func(b *testing.B) {
		n, err := s.ActiveCoupons(ctx, now)
		if err != nil {
			b.Fatal(err)
		}
		// Nine in ten are tagged, and of those one in nine ends on its
		// own, about half of them before now.
		if n < 7_500_000 || n > 8_500_000 {
			b.Fatalf("%d active coupons, want about 7,900,000", n)
		}
	}
	b.Run("active-coupons", func(b *testing.B) {
		for b.Loop() {
			active(b)
		}
	})
	// The reference: the same figure counted over the coupons, as the
	// list's state filter selects them.
	b.Run("active-coupons-counted", func(b *testing.B) {
		for b.Loop() {
			var n int64
			if err := s.stateWhere(s.db.WithContext(ctx).Model(&Coupon{}), CouponActive, now).Count(&n).Error; err != nil {
				b.Fatal(err)
			}
			if want, err := s.ActiveCoupons(ctx, now); err != nil || n != want {
				b.Fatalf("counted %d active coupons, the counts say %d (%v)", n, want, err)
			}
		}
	})
	b.Run("page", func(b *testing.B) {
		for b.Loop() {
			figures(b, ScopeAll)
			chart(b)
			top(b)
			active(b)
			if _, err := s.CountActivePromotions(ctx, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}
