package models

import (
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Every field of a row comes back from its record as it went in, the
// absent ones absent, and a valid-until keeps its instant and offset.
func TestAnImportRowSurvivesItsRecord(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	rows := []ImportRow{
		{Line: 2, Code: "A"},
		{Line: 1 << 40, Code: strings.Repeat("Z", 64), MaxUsage: 1_000_000, MaxUsagePerClient: -1,
			UTMSource: new("shop"), UTMCampaign: new(""), PromotionID: new(int64(42)), CustomerID: new("email:ana@example.com"),
			ValidUntil: new(time.Date(2027, 1, 31, 23, 59, 59, 0, berlin))},
	}
	var blob []byte
	for i := range rows {
		var err error
		if blob, err = appendImportRow(blob, &rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	got, err := readImportRows(blob)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("%d rows back, want %d", len(got), len(rows))
	}
	for i := range rows {
		want, back := rows[i], got[i]
		if want.ValidUntil != nil {
			if back.ValidUntil == nil || !back.ValidUntil.Equal(*want.ValidUntil) || back.ValidUntil.Format(time.RFC3339) != want.ValidUntil.Format(time.RFC3339) {
				t.Errorf("row %d: valid until %v, want %v", i, back.ValidUntil, want.ValidUntil)
			}
			want.ValidUntil, back.ValidUntil = nil, nil
		}
		if !reflect.DeepEqual(back, want) {
			t.Errorf("row %d came back as %+v, want %+v", i, back, want)
		}
	}
	if _, err := readImportRows(blob[:len(blob)-1]); err == nil {
		t.Error("a cut record was read")
	}
}

// Rows come out of the sorter in code order (ignoring case), a code's
// lines in line order, each row once, whether they fit in memory or went
// to temporary files, which no directory shows even while they are used.
func TestTheSorterOrdersRowsByCodeThenLine(t *testing.T) {
	for _, run := range []int{100_000, 1_000, 7} {
		t.Run(fmt.Sprint(run), func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(run)))
			s := &importSorter{run: run}
			const n = 10_000
			for line := 2; line < n+2; line++ {
				// Few distinct codes, so lines share them, in both cases,
				// with '_' that sorts below the letters only lower-cased.
				code := fmt.Sprintf("%c_%03d", "aBcD"[r.IntN(4)], r.IntN(300))
				if err := s.add(ImportRow{Line: line, Code: code, MaxUsage: line}); err != nil {
					t.Fatal(err)
				}
			}
			if run < n && len(s.runs) == 0 {
				t.Fatal("nothing went to a temporary file")
			}
			for _, f := range s.runs {
				if _, err := os.Stat(f.Name()); !os.IsNotExist(err) {
					t.Errorf("%s can be seen in its directory (%v)", f.Name(), err)
				}
			}
			var prev *ImportRow
			seen := map[int]bool{}
			err := s.each(func(row *ImportRow) error {
				if row.MaxUsage != row.Line || seen[row.Line] {
					return fmt.Errorf("line %d came as %+v (seen before: %v)", row.Line, row, seen[row.Line])
				}
				seen[row.Line] = true
				if prev != nil {
					pk, k := strings.ToLower(prev.Code), strings.ToLower(row.Code)
					if pk > k || pk == k && prev.Line > row.Line {
						return fmt.Errorf("%s line %d came after %s line %d", row.Code, row.Line, prev.Code, prev.Line)
					}
				}
				p := *row
				prev = &p
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(seen) != n {
				t.Errorf("%d rows came out, want %d", len(seen), n)
			}
			s.close()
		})
	}
}

// An import's rate and time left count the rows its runner has judged:
// the rows refused as the file was read took none of its time.
func TestAnImportsTimeLeftLeavesOutTheRowsRefusedOnUpload(t *testing.T) {
	start := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	b := Batch{Kind: BatchImport, Status: BatchRunning, Quantity: 1_000_000, Rejected: 500_000, Generated: 8_000, NextBucket: 8_000, StartedAt: &start}
	p := b.Progress(start.Add(time.Second))
	if p.PerSec != 8_000 || p.Left != 61500*time.Millisecond {
		t.Errorf("%.0f rows a second, %v left; want 8000 and 1m1.5s", p.PerSec, p.Left)
	}
	if p.Fraction != 0.508 {
		t.Errorf("%v done, want 0.508", p.Fraction)
	}
}
