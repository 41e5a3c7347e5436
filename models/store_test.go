package models_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
)

// latestSchema is the number of the newest migration and migrations how
// many there are, read from the names of the files in one engine's
// folder ("00006_redemption_filters.sql").
var latestSchema, migrations = func() (int64, int64) {
	files, err := filepath.Glob(filepath.Join("migrations", "sqlite", "*.sql"))
	if err != nil || len(files) == 0 {
		panic(fmt.Sprintf("no migrations found: %v", err))
	}
	var newest int64
	for _, f := range files {
		n, err := strconv.ParseInt(strings.SplitN(filepath.Base(f), "_", 2)[0], 10, 64)
		if err != nil {
			panic(fmt.Sprintf("migration %s: %v", f, err))
		}
		newest = max(newest, n)
	}
	return newest, int64(len(files))
}()

func TestUniqueViolationsAreTranslatedByConstraint(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{}, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		now := time.Now().UTC()
		insertCoupon := `INSERT INTO coupons (code, created_at, updated_at) VALUES (?, ?, ?)`
		if err := s.ExecWrite(ctx, insertCoupon, "Twice", now, now); err != nil {
			t.Fatal(err)
		}
		// Past the store's own checks, as a second instance racing this
		// one would be: the index decides.
		err := s.ExecWrite(ctx, insertCoupon, "TWICE", now, now)
		if !errors.Is(err, models.ErrDuplicateCode) {
			t.Errorf("second coupon with the code: %v, want ErrDuplicateCode", err)
		}
		insertSetup := `INSERT INTO setup_tokens (hash, created_at) VALUES (?, ?)`
		if err := s.ExecWrite(ctx, insertSetup, "same-hash", now); err != nil {
			t.Fatal(err)
		}
		err = s.ExecWrite(ctx, insertSetup, "same-hash", now)
		var conflict *models.ConflictError
		if !errors.As(err, &conflict) || errors.Is(err, models.ErrDuplicateCode) || !errors.Is(err, models.ErrConflict) {
			t.Errorf("another unique constraint: %v, want a ConflictError that is not a duplicate code", err)
		}
		if _, err := s.CreateUser(ctx, models.UserInput{Email: "dup@example.com", Password: "correct horse battery", Role: models.RoleViewer}); err != nil {
			t.Fatal(err)
		}
		_, err = s.CreateUser(ctx, models.UserInput{Email: "DUP@example.com", Password: "correct horse battery", Role: models.RoleViewer})
		var verr *models.ValidationError
		if !errors.As(err, &verr) || verr.Message(models.FieldEmail) == "" {
			t.Errorf("second account with the email: %v, want a message on the email", err)
		}
	})
}

func openStore(t *testing.T, cfg models.Config) *models.Store {
	t.Helper()
	s, err := models.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestMigrateUpgradesADatabaseFromBeforeVersionedMigrations(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		cfg := storetest.Fresh(t, dialect, models.Config{})
		schema, err := os.ReadFile(filepath.Join("testdata", "schema0."+dialect+".sql"))
		if err != nil {
			t.Fatal(err)
		}
		old := storetest.Connect(t, cfg)
		if err := old.Exec(string(schema)).Error; err != nil {
			t.Fatalf("build the old schema: %v", err)
		}
		now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
		for _, stmt := range []string{
			`INSERT INTO batches (id, base_code, quantity, status, created_at, updated_at) VALUES (7, 'spring', 1, 'done', ?, ?)`,
			`INSERT INTO coupons (code, batch_id, max_usage, created_at, updated_at) VALUES ('spring-abc', 7, 1, ?, ?)`,
			`INSERT INTO coupons (code, max_usage, created_at, updated_at) VALUES ('Literal', 3, ?, ?)`,
		} {
			if err := old.Exec(stmt, now, now).Error; err != nil {
				t.Fatalf("seed the old schema: %v", err)
			}
		}

		s := openStore(t, cfg)
		for range 2 {
			if err := s.Migrate(t.Context()); err != nil {
				t.Fatalf("migrate: %v", err)
			}
		}
		if v, err := s.SchemaVersion(t.Context()); err != nil || v != latestSchema {
			t.Fatalf("schema version = %d, %v; want %d", v, err, latestSchema)
		}
		gen, err := s.Coupon(t.Context(), "SPRING-ABC")
		if err != nil || gen.GroupingKey == nil || *gen.GroupingKey != "spring" {
			t.Errorf("generated coupon after upgrade: %+v, %v; want grouping key spring from its batch", gen, err)
		}
		lit, err := s.Coupon(t.Context(), "literal")
		if err != nil || lit.GroupingKey != nil || lit.MaxUsage != 3 {
			t.Errorf("literal coupon after upgrade: %+v, %v", lit, err)
		}
		if _, err := s.CreateCoupon(t.Context(), models.CouponSpec{Code: "LITERAL"}); !errors.Is(err, models.ErrDuplicateCode) {
			t.Errorf("the old unique index stopped working: %v", err)
		}
	})
}

func TestMigrateRunsOnceWhenInstancesStartTogether(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		cfg := storetest.Fresh(t, dialect, models.Config{})
		const instances = 4
		stores := make([]*models.Store, instances)
		for i := range stores {
			stores[i] = openStore(t, cfg)
		}
		var wg sync.WaitGroup
		errs := make([]error, instances)
		for i, s := range stores {
			wg.Go(func() { errs[i] = s.Migrate(t.Context()) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("instance %d: %v", i, err)
			}
		}
		var applied int64
		if err := storetest.Connect(t, cfg).Raw("SELECT count(*) FROM goose_db_version WHERE version_id > 0").Scan(&applied).Error; err != nil {
			t.Fatal(err)
		}
		if applied != migrations {
			t.Errorf("%d migrations recorded, want each of the %d once", applied, migrations)
		}
	})
}

// TestMigrateGivesUpTheSQLiteLockWhenCancelled holds the migration lock
// as another process would and cancels a Migrate waiting for it. It is
// not parallel: it looks at every goroutine of the test binary for one
// left waiting on a lock.
func TestMigrateGivesUpTheSQLiteLockWhenCancelled(t *testing.T) {
	cfg := storetest.Fresh(t, models.DialectSQLite, models.Config{})
	s := openStore(t, cfg)
	waiting := make(chan struct{}, 1)
	s.OnMigrateLockWait(func() {
		select {
		case waiting <- struct{}{}:
		default:
		}
	})
	lock, err := os.OpenFile(cfg.Path+"-migrate.lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lock.Close() })
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("take the migration lock: %v", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Migrate(ctx) }()
	wait(t, waiting, "Migrate to wait for the lock")
	cancel()
	err = wait(t, done, "the cancelled Migrate to return")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Migrate: %v, want context.Canceled", err)
	}
	if stuck := goroutinesIn("syscall.Flock"); len(stuck) > 0 {
		t.Fatalf("the cancelled Migrate left %d goroutine(s) waiting on the lock:\n%s", len(stuck), strings.Join(stuck, "\n\n"))
	}

	// Another Migrate waits for the lock and goes on when it is released.
	go func() { done <- s.Migrate(t.Context()) }()
	wait(t, waiting, "the second Migrate to wait for the lock")
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_UN); err != nil {
		t.Fatalf("release the migration lock: %v", err)
	}
	if err := wait(t, done, "Migrate to finish once the lock is released"); err != nil {
		t.Fatalf("Migrate after the lock was released: %v", err)
	}
	if v, err := s.SchemaVersion(t.Context()); err != nil || v != latestSchema {
		t.Errorf("schema version = %d, %v; want %d", v, err, latestSchema)
	}
}

// wait receives from c, failing the test when nothing comes for long
// enough that something must be stuck.
func wait[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// goroutinesIn returns the stacks of the goroutines whose stack names fn.
func goroutinesIn(fn string) []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, fn+"(") {
			found = append(found, g)
		}
	}
	return found
}

func TestSQLiteWritesQueueAndGiveUpWithBusy(t *testing.T) {
	t.Parallel()
	seen := &observed{}
	s := storetest.Open(t, models.DialectSQLite, models.Config{WriteWait: 50 * time.Millisecond, Observer: seen})
	ctx := t.Context()
	release, err := s.HoldWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = s.CreateCoupon(ctx, models.CouponSpec{Code: "waits"})
	var busy *models.BusyError
	if !errors.As(err, &busy) || !errors.Is(err, models.ErrBusy) || busy.RetryAfter <= 0 {
		t.Fatalf("write while the writer is held: %v, want *BusyError", err)
	}
	if waited := time.Since(start); waited < 50*time.Millisecond {
		t.Errorf("gave up after %s, before the configured wait", waited)
	}
	if n := seen.busy.Load(); n != 1 {
		t.Errorf("the observer heard of %d writes giving up, want 1", n)
	}
	// Reads do not wait for the writer.
	if _, err := s.ListCoupons(ctx, models.CouponFilter{}); err != nil {
		t.Errorf("read while the writer is held: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.CreateCoupon(ctx, models.CouponSpec{Code: "queued"})
		done <- err
	}()
	release()
	if err := <-done; err != nil {
		t.Errorf("queued write after the writer was freed: %v", err)
	}
}

// observed counts what a store tells its Observer.
type observed struct {
	busy, waited, groups atomic.Int64
}

func (o *observed) Attempt(string, string, []string) {}
func (o *observed) Cancelled()                       {}
func (o *observed) CodesGenerated(int)               {}
func (o *observed) WriterWaited(time.Duration)       { o.waited.Add(1) }
func (o *observed) WriterGroup(int)                  { o.groups.Add(1) }
func (o *observed) WriterBusy()                      { o.busy.Add(1) }

// The writer's queue counts a write from its submission until the
// writer takes it, and the observer hears of its wait and its group.
func TestTheWriterQueueCountsWaitingWrites(t *testing.T) {
	t.Parallel()
	seen := &observed{}
	s := storetest.Open(t, models.DialectSQLite, models.Config{Observer: seen})
	if n, ok := s.WritesWaiting(); !ok || n != 0 {
		t.Fatalf("writes waiting at rest = %d, %v; want 0, true", n, ok)
	}
	release, err := s.HoldWriter(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	waited := seen.waited.Load()
	done := make(chan error, 2)
	for _, code := range []string{"first", "second"} {
		go func() {
			_, err := s.CreateCoupon(t.Context(), models.CouponSpec{Code: code})
			done <- err
		}()
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if n, _ := s.WritesWaiting(); n == 2 {
			break
		}
		if time.Now().After(deadline) {
			n, _ := s.WritesWaiting()
			t.Fatalf("writes waiting behind a held writer = %d, want 2", n)
		}
	}
	release()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := s.WritesWaiting(); n != 0 {
		t.Errorf("writes waiting once both are answered = %d, want 0", n)
	}
	if got := seen.waited.Load() - waited; got != 2 {
		t.Errorf("the observer heard %d waits, want 2", got)
	}
}

func TestSQLiteReadPoolCannotWrite(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t, models.DialectSQLite, models.Config{})
	err := s.ExecRead(t.Context(), `INSERT INTO setup_tokens (hash, created_at) VALUES ('x', '2026-01-01')`)
	if err == nil {
		t.Fatal("an INSERT through the read pool succeeded; every write must go through the writer")
	}
}

func TestSQLiteWALStaysBoundedUnderSustainedWrites(t *testing.T) {
	t.Parallel()
	cfg := storetest.Fresh(t, models.DialectSQLite, models.Config{})
	path := cfg.Path
	s := openStore(t, cfg)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	const limit = 256 << 10
	s.SetCheckpointAt(limit)
	ctx := t.Context()
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.ListCoupons(ctx, models.CouponFilter{Limit: 20}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var peak int64
	for i := range 30 {
		reqs := make([]models.CouponRequest, 200)
		for j := range reqs {
			reqs[j] = models.CouponRequest{Quantity: 1, Spec: models.CouponSpec{Code: fmt.Sprintf("w%02d-%03d", i, j)}}
		}
		if _, err := s.CreateCoupons(ctx, reqs); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(path + "-wal"); err == nil {
			peak = max(peak, st.Size())
		}
	}
	close(stop)
	readers.Wait()
	// One transaction's frames may sit in the WAL before the next
	// checkpoint, never many.
	if peak > 4*limit {
		t.Errorf("the WAL reached %d bytes with checkpoints past %d", peak, limit)
	}
	page, err := s.ListCoupons(ctx, models.CouponFilter{Prefix: "w29", Limit: 1000})
	if err != nil || len(page.Coupons) != 200 {
		t.Errorf("last transaction: %d coupons, %v", len(page.Coupons), err)
	}
}
