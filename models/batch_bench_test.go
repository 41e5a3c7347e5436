package models_test

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
)

// benchQuantity is the batch size of BenchmarkBatchEngine:
// COUPOND_BENCH_CODES, 1,000,000 by default.
func benchQuantity(b *testing.B) int {
	n := 1_000_000
	if v := os.Getenv("COUPOND_BENCH_CODES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("COUPOND_BENCH_CODES=%q: %v", v, err)
		}
	}
	return n
}

// BenchmarkBatchEngine makes one batch of 16 upper-case alphanumerics
// into a fresh database per iteration, through the runner, from
// CreateBatch to done, on SQLite and (with COUPOND_TEST_POSTGRES) on
// PostgreSQL. Run it with -benchtime 1x.
func BenchmarkBatchEngine(b *testing.B) {
	n := benchQuantity(b)
	for _, dialect := range []string{models.DialectSQLite, models.DialectPostgres} {
		b.Run(dialect, func(b *testing.B) {
			if dialect == models.DialectPostgres && os.Getenv(storetest.PostgresEnv) == "" {
				b.Skip("SKIPPED: set " + storetest.PostgresEnv + " for the PostgreSQL figure")
			}
			for range b.N {
				b.StopTimer()
				s := storetest.Open(b, dialect, models.Config{})
				spec, err := models.BatchInput{Quantity: n, Format: models.FormatInput{Length: 16}}.Validate(models.MaxBatchQuantity)
				if err != nil {
					b.Fatal(err)
				}
				stop := runner(b, s, models.RunnerConfig{Poll: time.Hour})
				b.StartTimer()
				start := time.Now()
				batch, err := s.CreateBatch(b.Context(), spec)
				if err != nil {
					b.Fatal(err)
				}
				done := waitBatch(b, s, batch.ID, "done", isDone)
				elapsed := time.Since(start)
				b.StopTimer()
				stop()
				if done.Generated != n {
					b.Fatalf("batch made %d codes, want %d", done.Generated, n)
				}
				b.ReportMetric(elapsed.Seconds(), "s/batch")
				b.ReportMetric(float64(n)/elapsed.Seconds(), "codes/s")
				b.StartTimer()
			}
		})
	}
}
