package models_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mathrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
)

// freshDB names a fresh database of dialect and connects to it plainly.
func freshDB(t *testing.T, dialect string) (models.Config, *sql.DB) {
	t.Helper()
	base := storetest.Fresh(t, dialect, models.Config{})
	db, err := storetest.Connect(t, base).DB()
	if err != nil {
		t.Fatal(err)
	}
	return base, db
}

// instance opens and migrates a store on the database base names, with
// cfg's other settings, as one instance of coupond would.
func instance(t *testing.T, base, cfg models.Config) *models.Store {
	t.Helper()
	cfg.Path, cfg.DatabaseURL = base.Path, base.DatabaseURL
	s, err := models.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// openStores opens a store per cfg on one fresh database.
func openStores(t *testing.T, dialect string, cfgs ...models.Config) ([]*models.Store, *sql.DB) {
	t.Helper()
	base, db := freshDB(t, dialect)
	var stores []*models.Store
	for _, cfg := range cfgs {
		stores = append(stores, instance(t, base, cfg))
	}
	return stores, db
}

func mustBatchSpec(t *testing.T, in models.BatchInput) models.BatchSpec {
	t.Helper()
	spec, err := in.Validate(models.MaxBatchQuantity)
	if err != nil {
		t.Fatalf("batch input %+v: %v", in, err)
	}
	return spec
}

// runner runs s's batch runner until the test ends or stop is called,
// which waits for it to return.
func runner(t testing.TB, s *models.Store, cfg models.RunnerConfig) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.RunBatches(ctx, cfg) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("runner: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitBatch waits until the batch satisfies ok, failing after a while.
func waitBatch(t testing.TB, s *models.Store, id int64, what string, ok func(models.Batch) bool) models.Batch {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, err := s.Batch(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if ok(b) {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("batch %d never %s: %+v", id, what, b)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func isDone(b models.Batch) bool { return b.Status == models.BatchDone }

// batchRows counts a batch's coupons and their distinct keys.
func batchRows(t *testing.T, db *sql.DB, id int64) (rows, distinct int) {
	t.Helper()
	q := "SELECT count(*), count(DISTINCT lower(code)) FROM coupons WHERE batch_id = $1"
	if err := db.QueryRowContext(t.Context(), q, id).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	return rows, distinct
}

func TestRunnerMakesEveryCodeOfABatch(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		stores, db := openStores(t, dialect, models.Config{})
		s := stores[0]
		b, err := s.CreateBatch(t.Context(), mustBatchSpec(t, models.BatchInput{
			Quantity: 7_500, Format: models.FormatInput{Prefix: "SPRING", Delimiter: "-", Length: 10},
			MaxUsage: 1, MaxUsagePerClient: 1, UTMCampaign: ptr("spring"),
		}))
		if err != nil {
			t.Fatal(err)
		}
		if b.Status != models.BatchPending || b.Generated != 0 {
			t.Fatalf("new batch = %+v, want pending with nothing made", b)
		}
		runner(t, s, models.RunnerConfig{Chunk: 1_000, Poll: time.Hour})
		b = waitBatch(t, s, b.ID, "done", isDone)
		if b.Generated != 7_500 || b.StartedAt == nil || b.FinishedAt == nil || b.LeaseOwner != nil {
			t.Errorf("finished batch = %+v", b)
		}
		if rows, distinct := batchRows(t, db, b.ID); rows != 7_500 || distinct != 7_500 {
			t.Errorf("batch has %d coupons (%d distinct), want 7500", rows, distinct)
		}
		var sample models.Coupon
		codes, err := s.BatchCodes(t.Context(), b.ID, 1)
		if err == nil {
			sample, err = s.Coupon(t.Context(), codes[0])
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(sample.Code) != len("SPRING-")+10 || sample.Code[:7] != "SPRING-" || sample.MaxUsage != 1 || sample.MaxUsagePerClient != 1 ||
			sample.UTMCampaign == nil || *sample.UTMCampaign != "spring" || sample.BatchID == nil || *sample.BatchID != b.ID {
			t.Errorf("a generated coupon = %+v", sample)
		}
	})
}

// TestBatchesOfOneShapeShareItsKeyspace asks for four batches of five
// digits at once (48,000 of the 100,000 codes, under half) and then one
// more that would pass half: the four end with exactly their codes, none
// twice, and the fifth is refused before anything is written.
func TestBatchesOfOneShapeShareItsKeyspace(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		stores, db := openStores(t, dialect, models.Config{}, models.Config{})
		format := models.FormatInput{Length: 5, Charset: models.CharsetDigits}
		ids := make([]int64, 4)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Go(func() {
				b, err := stores[i%2].CreateBatch(t.Context(), mustBatchSpec(t, models.BatchInput{Quantity: 12_000, Format: format}))
				if err != nil {
					t.Errorf("batch %d: %v", i, err)
				}
				ids[i] = b.ID
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		_, err := stores[0].CreateBatch(t.Context(), mustBatchSpec(t, models.BatchInput{Quantity: 2_001, Format: format}))
		var verr *models.ValidationError
		if !errors.As(err, &verr) || verr.Message(models.FieldQuantity) == "" {
			t.Fatalf("a fifth batch past half the keyspace: %v, want a message on quantity", err)
		}
		var batches int
		if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM batches").Scan(&batches); err != nil || batches != 4 {
			t.Fatalf("%d batches recorded (%v), want the 4 accepted", batches, err)
		}
		for _, s := range stores {
			runner(t, s, models.RunnerConfig{Chunk: 2_500, Poll: 20 * time.Millisecond})
		}
		for _, id := range ids {
			waitBatch(t, stores[0], id, "done", isDone)
			if rows, _ := batchRows(t, db, id); rows != 12_000 {
				t.Errorf("batch %d has %d codes, want 12000", id, rows)
			}
		}
		var total, distinct int
		if err := db.QueryRowContext(t.Context(), "SELECT count(*), count(DISTINCT code) FROM coupons").Scan(&total, &distinct); err != nil {
			t.Fatal(err)
		}
		if total != 48_000 || distinct != 48_000 {
			t.Errorf("%d coupons, %d distinct; want 48000 of each", total, distinct)
		}
	})
}

// gatedReader passes its first n bytes of randomness through and then
// holds every read until released, failing it if the release says so: it
// stops a runner in the middle of a batch, at a known point.
type gatedReader struct {
	src     io.Reader
	left    atomic.Int64
	reached chan struct{}
	once    sync.Once
	release chan error
}

// gateAt lets a runner draw its first 64 KiB of randomness (a few
// chunks of the tests' batches) and the few bytes a batch's order takes,
// and holds its next draw.
const gateAt = 96 << 10

func newGatedReader(n int64) *gatedReader {
	g := &gatedReader{src: rand.Reader, reached: make(chan struct{}), release: make(chan error, 1)}
	g.left.Store(n)
	return g
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if g.left.Add(-int64(len(p))) < 0 {
		g.once.Do(func() { close(g.reached) })
		if err := <-g.release; err != nil {
			g.release <- err
			return 0, err
		}
		g.release <- nil
	}
	return g.src.Read(p)
}

// TestBatchResumesAfterItsRunnerStops stops a runner in the middle of a
// batch, reopens the store as a restarted server would, and runs the
// batch to the end: it has exactly the codes asked for, and at every stop
// its count is the codes it owns.
func TestBatchResumesAfterItsRunnerStops(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		gate := newGatedReader(gateAt)
		base, db := freshDB(t, dialect)
		s := instance(t, base, models.Config{Rand: gate})
		b, err := s.CreateBatch(t.Context(), mustBatchSpec(t, models.BatchInput{Quantity: 20_000, Format: models.FormatInput{Length: 12}}))
		if err != nil {
			t.Fatal(err)
		}
		stop := runner(t, s, models.RunnerConfig{Chunk: 1_000, Poll: time.Hour})
		<-gate.reached
		// The runner is stuck inside a chunk; stopping it fails that read.
		go func() { time.Sleep(50 * time.Millisecond); gate.release <- context.Canceled }()
		stop()
		paused, err := s.Batch(t.Context(), b.ID)
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := batchRows(t, db, b.ID)
		if paused.Status != models.BatchRunning || paused.Generated == 0 || paused.Generated >= 20_000 || paused.LeaseOwner != nil {
			t.Fatalf("stopped mid-batch: %+v, want running, part made, lease released", paused)
		}
		if rows != paused.Generated {
			t.Fatalf("the batch counts %d codes but owns %d", paused.Generated, rows)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		restarted := instance(t, base, models.Config{})
		runner(t, restarted, models.RunnerConfig{Chunk: 1_000, Poll: time.Hour})
		done := waitBatch(t, restarted, b.ID, "done", isDone)
		if rows, distinct := batchRows(t, db, b.ID); done.Generated != 20_000 || rows != 20_000 || distinct != 20_000 {
			t.Errorf("resumed batch counts %d, owns %d (%d distinct); want 20000", done.Generated, rows, distinct)
		}
	})
}

// TestAnotherInstanceTakesOverAnExpiredLease has one instance stall in
// the middle of a batch while a second, whose clock has passed the
// first's lease, takes the batch over. The first wakes up while the
// second holds the batch: its chunk is rolled back and it lets go. The
// batch ends with exactly its quantity, its count equal to its codes.
func TestAnotherInstanceTakesOverAnExpiredLease(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		gate, gate2 := newGatedReader(gateAt), newGatedReader(gateAt)
		base, db := freshDB(t, dialect)
		first := instance(t, base, models.Config{Rand: gate})
		later := time.Now().Add(time.Hour)
		second := instance(t, base, models.Config{Rand: gate2, Now: func() time.Time { return later }})
		b, err := first.CreateBatch(t.Context(), mustBatchSpec(t, models.BatchInput{Quantity: 20_000, Format: models.FormatInput{Length: 12}}))
		if err != nil {
			t.Fatal(err)
		}
		letGo := &logWatch{want: "batch left to its new holder or cancelled", seen: make(chan struct{})}
		stopFirst := runner(t, first, models.RunnerConfig{Owner: "first", Chunk: 1_000, Lease: time.Minute, Poll: time.Hour, Logger: slog.New(slog.NewTextHandler(letGo, nil))})
		<-gate.reached
		runner(t, second, models.RunnerConfig{Owner: "second", Chunk: 1_000, Lease: time.Minute, Poll: 10 * time.Millisecond})
		<-gate2.reached
		held, err := second.Batch(t.Context(), b.ID)
		if err != nil || held.LeaseOwner == nil || *held.LeaseOwner != "second" {
			t.Fatalf("batch after the first's lease expired: %+v, %v; want it held by the second", held, err)
		}
		gate.release <- nil
		select {
		case <-letGo.seen:
		case <-time.After(30 * time.Second):
			t.Fatal("the first instance never let go of the batch it no longer holds")
		}
		stopFirst()
		gate2.release <- nil
		done := waitBatch(t, second, b.ID, "done", isDone)
		rows, distinct := batchRows(t, db, b.ID)
		if done.Generated != 20_000 || rows != 20_000 || distinct != 20_000 {
			t.Errorf("taken-over batch: %+v with %d codes (%d distinct); want done with 20000", done, rows, distinct)
		}
	})
}

// TestCancelledBatchKeepsWhatItMade cancels a batch while its runner is
// stalled in a chunk: the chunk is rolled back, and the batch says how
// many codes it has, which are the codes it owns.
func TestCancelledBatchKeepsWhatItMade(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		gate := newGatedReader(gateAt)
		base, db := freshDB(t, dialect)
		s := instance(t, base, models.Config{Rand: gate})
		b, err := s.CreateBatch(t.Context(), mustBatchSpec(t, models.BatchInput{Quantity: 20_000, Format: models.FormatInput{Length: 12}}))
		if err != nil {
			t.Fatal(err)
		}
		letGo := &logWatch{want: "batch left to its new holder or cancelled", seen: make(chan struct{})}
		runner(t, s, models.RunnerConfig{Chunk: 1_000, Poll: time.Hour, Logger: slog.New(slog.NewTextHandler(letGo, nil))})
		<-gate.reached
		cancelled, err := s.CancelBatch(t.Context(), b.ID)
		if err != nil {
			t.Fatal(err)
		}
		gate.release <- nil
		// The runner's next commit finds the batch cancelled, is rolled
		// back, and the runner leaves the batch.
		select {
		case <-letGo.seen:
		case <-time.After(30 * time.Second):
			t.Fatal("the runner never left the cancelled batch")
		}
		after, err := s.Batch(t.Context(), b.ID)
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := batchRows(t, db, b.ID)
		if after.Status != models.BatchCancelled || after.FinishedAt == nil || after.Generated != cancelled.Generated || rows != after.Generated || rows == 0 {
			t.Errorf("cancelled batch %+v owns %d codes; want cancelled, its count equal to its codes", after, rows)
		}
		if _, err := s.CancelBatch(t.Context(), b.ID); err != nil {
			t.Errorf("cancelling again: %v, want no change", err)
		}
		done, err := s.CreateBatch(t.Context(), mustBatchSpec(t, models.BatchInput{Quantity: 10, Format: models.FormatInput{Length: 12}}))
		if err != nil {
			t.Fatal(err)
		}
		waitBatch(t, s, done.ID, "done", isDone)
		var finished *models.BatchFinishedError
		if _, err := s.CancelBatch(t.Context(), done.ID); !errors.As(err, &finished) {
			t.Errorf("cancelling a done batch: %v, want *BatchFinishedError", err)
		}
	})
}

// TestGenerateCodesIsAllOrNothing makes codes synchronously, then asks
// for an impossible batch in the same call path: nothing of it stays.
func TestGenerateCodesIsAllOrNothing(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		stores, db := openStores(t, dialect, models.Config{})
		s := stores[0]
		b, cs, err := s.GenerateCodes(t.Context(), mustBatchSpec(t, models.BatchInput{Quantity: 250, Format: models.FormatInput{Prefix: "BF", Suffix: "X", Delimiter: "_", Length: 8}, MaxUsage: 3}))
		if err != nil {
			t.Fatal(err)
		}
		if b.Status != models.BatchDone || b.Generated != 250 || len(cs) != 250 {
			t.Fatalf("batch %+v with %d coupons; want done with 250", b, len(cs))
		}
		for _, c := range cs {
			if len(c.Code) != len("BF_")+8+len("_X") || c.MaxUsage != 3 || c.ID == 0 {
				t.Fatalf("generated coupon %+v", c)
			}
		}
		_, _, err = s.GenerateCodes(t.Context(), mustBatchSpec(t, models.BatchInput{Quantity: 60, Format: models.FormatInput{Length: 2, Charset: models.CharsetDigits}}))
		var verr *models.ValidationError
		if !errors.As(err, &verr) {
			t.Fatalf("60 codes of two digits: %v, want a validation error", err)
		}
		var batches, coupons int
		if err := db.QueryRowContext(t.Context(), "SELECT (SELECT count(*) FROM batches), (SELECT count(*) FROM coupons)").Scan(&batches, &coupons); err != nil {
			t.Fatal(err)
		}
		if batches != 1 || coupons != 250 {
			t.Errorf("%d batches and %d coupons after a refused request; want 1 and 250", batches, coupons)
		}
	})
}

// logWatch is a log destination that closes seen once a line contains
// want.
type logWatch struct {
	want string
	seen chan struct{}
	once sync.Once
}

func (w *logWatch) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

// TestAFailedCommitCountsNothing makes the commit of a batch's second
// chunk fail after its progress was written (a deferred foreign key,
// checked at COMMIT, that the progress update breaks), every time it is
// tried: the batch fails with its count equal to the codes it owns, not
// the count of the chunks it tried. SQLite only: the failure is built
// from SQLite's deferred constraints; the code path is the same on both.
func TestAFailedCommitCountsNothing(t *testing.T) {
	t.Parallel()
	base, db := freshDB(t, models.DialectSQLite)
	s := instance(t, base, models.Config{})
	for _, q := range []string{
		"CREATE TABLE chunk_guard (ref integer REFERENCES batches (id) DEFERRABLE INITIALLY DEFERRED)",
		"CREATE TRIGGER fail_second_chunk AFTER UPDATE OF generated ON batches WHEN NEW.generated = 2000 BEGIN INSERT INTO chunk_guard VALUES (-1); END",
	} {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	b, err := s.CreateBatch(t.Context(), mustBatchSpec(t, models.BatchInput{Quantity: 5_000, Format: models.FormatInput{Length: 12}}))
	if err != nil {
		t.Fatal(err)
	}
	runner(t, s, models.RunnerConfig{Chunk: 1_000, Poll: time.Hour})
	got := waitBatch(t, s, b.ID, "stopped", models.Batch.Finished)
	rows, _ := batchRows(t, db, b.ID)
	if got.Status != models.BatchFailed || got.Generated != rows || rows != 1_000 {
		t.Errorf("batch %s counting %d with %d codes; want failed, counting the 1000 codes of its first chunk", got.Status, got.Generated, rows)
	}
}

// TestBatchesAndVTEXGenerationUnderTheCap makes batches and VTEX-style
// generations at once with the active-coupon cap set: both take the
// cap's lock and the shapes' lock, in one order, so none of them fails;
// and an archived VTEX generation makes archived codes, which the cap
// does not count.
func TestBatchesAndVTEXGenerationUnderTheCap(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{MaxActiveCoupons: 1_000_000}, func(t *testing.T, s *models.Store) {
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := range 15 {
					var err error
					if g%2 == 0 {
						_, err = s.CreateBatch(t.Context(), mustBatchSpec(t, models.BatchInput{Quantity: 10, Format: models.FormatInput{Length: 10}}))
					} else {
						_, err = s.GenerateCoupons(t.Context(), models.CouponRequest{Quantity: 5, Generate: true, Spec: models.CouponSpec{Code: fmt.Sprintf("G%d-%d", g, i)}})
					}
					if err != nil {
						t.Errorf("goroutine %d, round %d: %v", g, i, err)
						return
					}
				}
			})
		}
		wg.Wait()

		capped := storetest.Open(t, s.Dialect(), models.Config{MaxActiveCoupons: 3})
		cs, err := capped.GenerateCoupons(t.Context(), models.CouponRequest{Quantity: 10, Generate: true, Spec: models.CouponSpec{Code: "ARCH", Archived: new(true)}})
		if err != nil {
			t.Fatalf("10 archived codes under a cap of 3 active: %v", err)
		}
		for _, c := range cs {
			if !c.Archived {
				t.Fatalf("an archived generation made the active %+v", c)
			}
		}
		var capErr *models.ActiveCapError
		if _, err := capped.GenerateCoupons(t.Context(), models.CouponRequest{Quantity: 4, Generate: true, Spec: models.CouponSpec{Code: "LIVE"}}); !errors.As(err, &capErr) {
			t.Errorf("4 active codes under a cap of 3: %v, want the cap", err)
		}
	})
}

// TestACodeSpelledNullIsACode makes, at once, codes of NUL? until one of
// them is NULL (the seed is picked so that it is): on PostgreSQL the
// codes travel in an array literal, where an unquoted NULL is a null.
func TestACodeSpelledNullIsACode(t *testing.T) {
	t.Parallel()
	f := mustFormat(t, models.FormatInput{Pattern: "NUL?", Charset: models.CharsetLetters})
	var seed byte
	for ; ; seed++ {
		if slices.Contains(sampleCodes(t, f, 13, seed), "NULL") {
			break
		}
	}
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect, models.Config{Rand: mathrand.NewChaCha8([32]byte{seed})})
		_, cs, err := s.GenerateCodes(t.Context(), mustBatchSpec(t, models.BatchInput{Quantity: 13, Format: f.Input()}))
		if err != nil {
			t.Fatalf("13 codes of NUL?, NULL among them: %v", err)
		}
		if c, err := s.Coupon(t.Context(), "null"); err != nil || c.Code != "NULL" || len(cs) != 13 {
			t.Errorf("the code NULL: %+v, %v (of %d)", c, err, len(cs))
		}
	})
}
