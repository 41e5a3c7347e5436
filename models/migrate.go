package models

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math"
	"os"
	"syscall"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrations holds the numbered schema changes of each engine; goose
// applies them in order and records each in goose_db_version. A change
// to the schema is a new file in both folders, never an edit of an old
// one.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Migrate applies the migrations the database lacks. Several processes
// may call it at once on the same database: on PostgreSQL they queue on
// an advisory lock, on SQLite on a lock file beside the database, and
// each applies only what is still missing. A database made before
// versioned migrations takes migration 1 as done and gets the rest.
//
// It fails with ctx's error when ctx is done, also while it waits for
// the lock (on SQLite within 50 ms, leaving nothing waiting behind it);
// on PostgreSQL when the lock stays taken for five minutes; and with the
// database's error when a migration fails, which goose rolls back so
// that the next Migrate applies it again.
func (s *Store) Migrate(ctx context.Context) error {
	return s.migrate(ctx, math.MaxInt64)
}

// migrate applies the migrations the database lacks up to version, as
// Migrate describes.
func (s *Store) migrate(ctx context.Context, version int64) error {
	sub, err := fs.Sub(migrations, "migrations/"+s.dialect)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sqlDB, err := s.wdb.DB()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	dialect := goose.DialectSQLite3
	if s.dialect == DialectPostgres {
		dialect = goose.DialectPostgres
		id, err := migrationLockID(ctx, sqlDB)
		if err != nil {
			return err
		}
		// Retried every second for up to five minutes.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(id), lock.WithLockTimeout(1, 300))
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	} else {
		opts = append(opts, goose.WithLocker(&fileLocker{path: s.path + "-migrate.lock", waiting: s.migrateLockWaiting}))
	}
	p, err := goose.NewProvider(dialect, sqlDB, sub, opts...)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// migrationLockID is the advisory lock taken while migrating, one per
// schema, so that databases in different schemas of one cluster migrate
// side by side.
func migrationLockID(ctx context.Context, db *sql.DB) (int64, error) {
	var schema string
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return 0, fmt.Errorf("migrate: read current schema: %w", err)
	}
	h := fnv.New64a()
	h.Write([]byte("coupond migrate " + schema))
	return int64(h.Sum64() >> 1), nil
}

// fileLocker is goose's Locker for SQLite: an exclusive flock on a file
// beside the database, held while migrating. The kernel releases it when
// the process dies, so a crash never leaves it stuck.
type fileLocker struct {
	path string
	f    *os.File
	// waiting, when set, is called once when the lock is found held.
	waiting func()
}

// How long fileLocker pauses between attempts while the lock is held:
// doubling from the first to the last, so that a cancelled wait ends
// within lockPollMax.
const (
	lockPollFirst = 10 * time.Millisecond
	lockPollMax   = 50 * time.Millisecond
)

// Lock takes the lock file, waiting while another process or store holds
// it. A blocked flock cannot be interrupted, so Lock never blocks in one:
// it tries without blocking and, while the lock is held, tries again
// after a short pause, until it gets the lock or ctx is done. It fails
// with ctx's error when ctx ends the wait, and with the system's error
// when the file cannot be opened or locked.
func (l *fileLocker) Lock(ctx context.Context, _ *sql.DB) error {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("open migration lock %s: %w", l.path, err)
	}
	pause := lockPollFirst
	for waited := false; ; waited = true {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			l.f = f
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return fmt.Errorf("lock %s: %w", l.path, err)
		}
		if !waited && l.waiting != nil {
			l.waiting()
		}
		timer := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			timer.Stop()
			f.Close()
			return fmt.Errorf("wait for migration lock %s: %w", l.path, ctx.Err())
		case <-timer.C:
		}
		pause = min(2*pause, lockPollMax)
	}
}

// Unlock releases the lock file.
func (l *fileLocker) Unlock(context.Context, *sql.DB) error {
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
