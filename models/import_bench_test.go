package models_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
)

// BenchmarkImportInProcess imports 300,000 codes through the store alone
// on SQLite (upload and runner), for profiles of the import's own part
// (-cpuprofile); BenchmarkImport1M in cmd/coupond measures the whole.
func BenchmarkImportInProcess(b *testing.B) {
	const n = 300_000
	// Codes of 16 random letters and digits, in no order, as a shop's
	// file has them.
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	seen := make(map[string]bool, n)
	file := importFile("code,maxUsage,utmSource", n, func(int) string {
		for {
			var code [16]byte
			for i := range code {
				code[i] = alphabet[r.IntN(len(alphabet))]
			}
			if !seen[string(code[:])] {
				seen[string(code[:])] = true
				return string(code[:]) + ",1,migrated"
			}
		}
	})
	for b.Loop() {
		s := storetest.Open(b, models.DialectSQLite, models.Config{})
		imp, err := s.CreateImport(b.Context(), models.ImportInput{File: strings.NewReader(file)})
		if err != nil {
			b.Fatal(err)
		}
		stop := runner(b, s, models.RunnerConfig{})
		done := waitBatch(b, s, imp.ID, "done", isDone)
		stop()
		if done.Generated != n {
			b.Fatalf("imported %d, want %d", done.Generated, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}
