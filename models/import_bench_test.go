package models_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
)

// BenchmarkImportInProcess imports 100,000 codes through the store alone
// on SQLite (upload and runner), for profiles of the import's own part
// (-cpuprofile); BenchmarkImport1M in cmd/coupond measures the whole.
func BenchmarkImportInProcess(b *testing.B) {
	const n = 100_000
	// Codes in no order, as a shop's file has them: the digits of i
	// scrambled.
	file := importFile("code,maxUsage,utmSource", n, func(i int) string {
		return fmt.Sprintf("IMP%016X,1,migrated", uint64(i)*0x9E3779B97F4A7C15)
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
