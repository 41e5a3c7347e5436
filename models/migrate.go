package models

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"syscall"

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
func (s *Store) Migrate(ctx context.Context) error {
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
		opts = append(opts, goose.WithLocker(&fileLocker{path: s.path + "-migrate.lock"}))
	}
	p, err := goose.NewProvider(dialect, sqlDB, sub, opts...)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
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
}

// Lock waits for the lock file.
func (l *fileLocker) Lock(ctx context.Context, _ *sql.DB) error {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("open migration lock %s: %w", l.path, err)
	}
	done := make(chan error, 1)
	go func() { done <- syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }()
	select {
	case err := <-done:
		if err != nil {
			f.Close()
			return fmt.Errorf("lock %s: %w", l.path, err)
		}
	case <-ctx.Done():
		// Closing the file ends the wait and whatever lock it gets.
		f.Close()
		return ctx.Err()
	}
	l.f = f
	return nil
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
