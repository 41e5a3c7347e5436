package models

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// seedCoupons fills a fresh SQLite store with n coupons the fast way
// (sorted multi-row INSERTs in one transaction): codes "C" + 15 random
// upper-case alphanumerics; one in 1,000 has utm_source "rare", the rest
// alternate "news" and "ads"; one in ten is archived.
func seedCoupons(b *testing.B, n int) *Store {
	b.Helper()
	ctx := context.Background()
	s, err := Open(ctx, Config{Path: filepath.Join(b.TempDir(), "bench.db")})
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
	f, err := FormatInput{Prefix: "C", Length: 15}.Compile()
	if err != nil {
		b.Fatal(err)
	}
	gen := f.Generator(rand.NewChaCha8([32]byte{9}))
	codes := make([]string, n)
	for i := range codes {
		code, err := gen.Append(nil)
		if err != nil {
			b.Fatal(err)
		}
		codes[i] = string(code)
	}
	slices.Sort(codes)
	codes = slices.Compact(codes)
	const chunk = 1000
	now := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	// The writer: the store's read pool is read-only.
	sqlDB, err := s.wdb.DB()
	if err != nil {
		b.Fatal(err)
	}
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	for start := 0; start < len(codes); start += chunk {
		part := codes[start:min(start+chunk, len(codes))]
		var q strings.Builder
		q.WriteString("INSERT INTO coupons (code, utm_source, archived, max_items_per_client, expiration_interval_per_use, max_usage, created_at, updated_at) VALUES ")
		args := make([]any, 0, len(part)*3+2)
		for i, code := range part {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(?,?,?,0,0,0,?,?)")
			src := []string{"news", "ads"}[(start+i)%2]
			if (start+i)%1000 == 0 {
				src = "rare"
			}
			args = append(args, code, src, (start+i)%10 == 0, now, now)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if err := s.wdb.Exec("ANALYZE").Error; err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkListCoupons1M measures one console/API list page (50 rows) over
// 1,000,000 coupons in SQLite: the first page, a page deep in the table,
// prefix search and each filter. The target is under 50 ms a page.
func BenchmarkListCoupons1M(b *testing.B) {
	s := seedCoupons(b, 1_000_000)
	ctx := context.Background()
	mid, err := s.ListCoupons(ctx, CouponFilter{Prefix: "CM", Limit: 1})
	if err != nil || mid.Next == "" {
		b.Fatalf("no cursor in the middle: %v", err)
	}
	cases := []struct {
		name string
		f    CouponFilter
	}{
		{"first-page", CouponFilter{}},
		{"deep-page", CouponFilter{After: mid.Next}},
		{"prefix", CouponFilter{Prefix: "c7q"}},
		{"utm-source-rare", CouponFilter{UTMSource: "rare"}},
		{"utm-source-rare-deep", CouponFilter{UTMSource: "rare", After: mid.Next}},
		{"archived", CouponFilter{Archived: new(true)}},
		{"active-prefix", CouponFilter{Archived: new(false), Prefix: "CZ"}},
		// No promotion exists: every coupon not archived is in this
		// state, so the first 50 in code order come at once.
		{"state-common", CouponFilter{State: CouponNoActivePromotion}},
		// None is used up: the page reads every coupon to say so.
		{"state-none", CouponFilter{State: CouponUsedUp}},
		{"sort-newest", CouponFilter{Sort: "-created"}},
		{"sort-most-used", CouponFilter{Sort: "-uses"}},
		{"sort-ends", CouponFilter{Sort: "ends"}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				page, err := s.ListCoupons(ctx, tc.f)
				if err != nil {
					b.Fatal(err)
				}
				if len(page.Coupons) == 0 && tc.name != "state-none" {
					b.Fatalf("%s: empty page", tc.name)
				}
			}
		})
	}
}
