package models_test

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
	"gorm.io/gorm"
)

// seedSearch fills db with n coupons: codes "C" + 15 random upper-case
// alphanumerics, one in 100 with "SALE" in the middle (a fragment common
// enough that the list reads codes in order), inserted as the console
// inserts them, through the search index's triggers on SQLite and the
// trigram index on PostgreSQL.
func seedSearch(b *testing.B, dialect string, db *gorm.DB, n int) (codes []string) {
	b.Helper()
	f, err := models.FormatInput{Prefix: "C", Length: 15}.Compile()
	if err != nil {
		b.Fatal(err)
	}
	gen := f.Generator(rand.NewChaCha8([32]byte{7}))
	for i := range n {
		code, err := gen.Append(nil)
		if err != nil {
			b.Fatal(err)
		}
		if i%100 == 0 {
			copy(code[5:], "SALE")
		}
		codes = append(codes, string(code))
	}
	slices.Sort(codes)
	codes = slices.Compact(codes)
	now := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	const chunk = 50_000
	for start := 0; start < len(codes); start += chunk {
		part := codes[start:min(start+chunk, len(codes))]
		var err error
		if dialect == models.DialectPostgres {
			err = db.Exec("INSERT INTO coupons (code, max_items_per_client, expiration_interval_per_use, max_usage, created_at, updated_at) SELECT c, 0, 0, 0, ?, ? FROM unnest(?::text[]) AS c", now, now, "{"+join(part)+"}").Error
		} else {
			js, _ := json.Marshal(part)
			err = db.Exec("INSERT INTO coupons (code, max_items_per_client, expiration_interval_per_use, max_usage, created_at, updated_at) SELECT value, 0, 0, 0, ?, ? FROM json_each(?)", now, now, string(js)).Error
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Exec("ANALYZE").Error; err != nil {
		b.Fatal(err)
	}
	return codes
}

func join(codes []string) string {
	out := make([]byte, 0, len(codes)*17)
	for i, c := range codes {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, c...)
	}
	return string(out)
}

// BenchmarkSearchCoupons1M measures one list page (50 rows) of a search
// anywhere in the code over 1,000,000 coupons, on SQLite and on
// PostgreSQL (skipped without COUPOND_TEST_POSTGRES): a fragment of a
// single code, a fragment in about 280 codes, one in 10,000 codes (read
// in code order), its last page, two characters (no index can help; read
// in code order), five characters no code has, and two no code has. The
// target is under 100 ms a page.
func BenchmarkSearchCoupons1M(b *testing.B) {
	for _, dialect := range []string{models.DialectSQLite, models.DialectPostgres} {
		b.Run(dialect, func(b *testing.B) {
			s, db := storetest.OpenWithGORM(b, dialect, models.Config{})
			start := time.Now()
			codes := seedSearch(b, dialect, db, 1_000_000)
			b.Logf("seeded %d coupons with their search index in %v", len(codes), time.Since(start).Round(time.Millisecond))
			ctx := b.Context()
			// The last page of the common fragment: its cursor.
			last := models.CouponFilter{Search: "sale", Limit: models.MaxListLimit}
			for range 9 {
				page, err := s.ListCoupons(ctx, last)
				if err != nil || page.Next == "" {
					b.Fatalf("no cursor near the end of sale: %v", err)
				}
				last.After = page.Next
			}
			cases := []struct {
				name string
				f    models.CouponFilter
			}{
				{"one-code", models.CouponFilter{Search: codes[777_777][6:12]}},
				{"three-characters", models.CouponFilter{Search: "k7q"}},
				{"common", models.CouponFilter{Search: "sale"}},
				{"common-last-page", models.CouponFilter{Search: "sale", After: last.After}},
				{"two-characters", models.CouponFilter{Search: "q7"}},
				{"none", models.CouponFilter{Search: "zzzzz"}},
				// The worst case: two characters no code has, so the page
				// reads every code to say so.
				{"two-characters-none", models.CouponFilter{Search: "_-"}},
			}
			for _, tc := range cases {
				b.Run(tc.name, func(b *testing.B) {
					for b.Loop() {
						page, err := s.ListCoupons(ctx, tc.f)
						if err != nil {
							b.Fatal(err)
						}
						if len(page.Coupons) == 0 && !strings.HasSuffix(tc.name, "none") {
							b.Fatalf("%s: empty page", tc.name)
						}
					}
				})
			}
		})
	}
}
