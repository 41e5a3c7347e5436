package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Every write goes through Store.write. On SQLite that means one writer
// connection used by one transaction at a time: writers queue in Go, for
// at most the configured wait, instead of fighting over SQLite's lock
// until "database is locked"; between transactions the writer keeps the
// WAL bounded. On PostgreSQL a write is a transaction on the pool, and
// the locks below serialise what must not interleave across instances.

const (
	// sqliteDriverName is go-sqlite3 with coupond's per-connection setup.
	sqliteDriverName = "sqlite3_coupond"
	// journalSizeLimit is what SQLite truncates the WAL to after a
	// checkpoint resets it.
	journalSizeLimit = 16 << 20
	// walCheckpointAt is the WAL size past which the writer checkpoints
	// and truncates it between two transactions.
	walCheckpointAt = 24 << 20
	// backfillAt is the WAL size past which the backfiller copies it
	// into the database beside the writer, so that the writer's own
	// checkpoint finds little left to copy.
	backfillAt = 8 << 20
	// busyRetryAfter is what a client refused with *BusyError is told to
	// wait.
	busyRetryAfter = 2 * time.Second
	// sqliteBusyTimeout is how long, in milliseconds, a connection waits
	// for a lock SQLite holds for another one.
	sqliteBusyTimeout = 10000
	// checkpointLogEvery is how often a WAL that readers keep from being
	// reset is logged while it lasts.
	checkpointLogEvery = time.Minute
	// checkpointWait is the longest the writer's checkpoint waits for
	// readers to finish, in milliseconds: long enough for the short reads
	// the store makes (so that a steady stream of them does not keep the
	// WAL from ever being reset), short enough that a reader that does
	// not finish costs a write next to nothing.
	checkpointWait = 50
)

var registerSQLiteOnce sync.Once

// registerSQLiteDriver registers go-sqlite3 under sqliteDriverName with a
// connect hook that bounds the WAL left on disk after a checkpoint.
func registerSQLiteDriver() {
	registerSQLiteOnce.Do(func() {
		sql.Register(sqliteDriverName, &sqlite3.SQLiteDriver{
			ConnectHook: func(c *sqlite3.SQLiteConn) error {
				// The writer checkpoints by itself (checkpoint, below), once
				// the WAL has grown past walCheckpointAt, rather than after
				// every commit of more than a thousand pages.
				_, err := c.Exec(fmt.Sprintf("PRAGMA journal_size_limit = %d; PRAGMA wal_autocheckpoint = 0", journalSizeLimit), nil)
				return err
			},
		})
	})
}

// sqliteWriter hands SQLite's one writer connection to one transaction
// at a time.
type sqliteWriter struct {
	db           *gorm.DB
	slot         chan struct{}
	walPath      string
	wait         time.Duration
	checkpointAt int64
	backfill     *backfiller
	logger       *slog.Logger
	// blocked counts the checkpoints in a row that readers kept from
	// resetting the WAL, logged at most every checkpointLogEvery.
	blocked    int
	loggedAt   time.Time
	blockedFor time.Time
}

func newSQLiteWriter(db *gorm.DB, walPath string, wait time.Duration) *sqliteWriter {
	return &sqliteWriter{db: db, slot: make(chan struct{}, 1), walPath: walPath, wait: wait, checkpointAt: walCheckpointAt}
}

// acquire waits for the writer for at most w.wait, or until ctx ends.
func (w *sqliteWriter) acquire(ctx context.Context) error {
	if w.tryAcquire() {
		return nil
	}
	t := time.NewTimer(w.wait)
	defer t.Stop()
	select {
	case w.slot <- struct{}{}:
		return nil
	case <-t.C:
		return &BusyError{Waited: w.wait, RetryAfter: busyRetryAfter}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// tryAcquire takes the writer only when it is free at once.
func (w *sqliteWriter) tryAcquire() bool {
	select {
	case w.slot <- struct{}{}:
		return true
	default:
		return false
	}
}

func (w *sqliteWriter) release() { <-w.slot }

// checkpoint copies the WAL into the database and truncates it once it
// has grown past checkpointAt. It runs between transactions while the
// writer is held, so nothing writes meanwhile, and it waits for readers
// at most checkpointWait: a reader in the middle of a read keeps SQLite
// from resetting the WAL, and waiting for one that does not finish would
// hold every write up behind it. A checkpoint that readers block copies
// what it can and is tried again after the next write; one that stays
// blocked is logged.
func (w *sqliteWriter) checkpoint(ctx context.Context) {
	st, err := os.Stat(w.walPath)
	if err != nil {
		return
	}
	if st.Size() >= backfillAt && w.backfill != nil {
		w.backfill.poke()
	}
	if st.Size() < w.checkpointAt {
		return
	}
	busy, err := w.truncate(ctx)
	if err == nil && !busy {
		if w.blocked > 0 && !w.loggedAt.IsZero() {
			w.logger.Info("the WAL is reset again", "wal", w.walPath, "blocked_checkpoints", w.blocked, "blocked_for", time.Since(w.blockedFor).Round(time.Millisecond))
		}
		w.blocked, w.loggedAt = 0, time.Time{}
		return
	}
	if w.blocked == 0 {
		w.blockedFor = time.Now()
	}
	w.blocked++
	if time.Since(w.loggedAt) >= checkpointLogEvery && time.Since(w.blockedFor) >= time.Second {
		w.loggedAt = time.Now()
		args := []any{"wal", w.walPath, "wal_bytes", st.Size(), "blocked_checkpoints", w.blocked, "blocked_for", time.Since(w.blockedFor).Round(time.Millisecond)}
		if err != nil {
			args = append(args, "err", err)
		}
		w.logger.Warn("readers keep the WAL from being reset; it grows until they finish", args...)
	}
}

// truncate resets the WAL when no reader is using it, waiting at most
// checkpointWait for them, and reports whether a reader was in the way.
func (w *sqliteWriter) truncate(ctx context.Context) (busy bool, err error) {
	err = w.db.WithContext(ctx).Connection(func(tx *gorm.DB) error {
		if err := tx.Exec(fmt.Sprintf("PRAGMA busy_timeout = %d", checkpointWait)).Error; err != nil {
			return err
		}
		var blocked, frames, copied int
		cerr := tx.Raw("PRAGMA wal_checkpoint(TRUNCATE)").Row().Scan(&blocked, &frames, &copied)
		busy = blocked != 0
		return errors.Join(cerr, tx.Exec(fmt.Sprintf("PRAGMA busy_timeout = %d", sqliteBusyTimeout)).Error)
	})
	return busy, err
}

// write runs fn in a write transaction. On SQLite it first waits for the
// writer, failing with *BusyError when the wait is too long.
func (s *Store) write(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if s.writer == nil {
		return s.wdb.WithContext(ctx).Transaction(fn)
	}
	if err := s.writer.acquire(ctx); err != nil {
		return err
	}
	defer s.writer.release()
	err := s.wdb.WithContext(ctx).Transaction(fn)
	s.writer.checkpoint(ctx)
	return err
}

// backfiller copies committed WAL frames into the database file on a
// connection of its own (a PASSIVE checkpoint, which waits for no reader
// or writer), woken by the writer when the WAL has grown; the writer's
// truncating checkpoint then has little left to copy while it holds the
// writer.
type backfiller struct {
	db   *sql.DB
	wake chan struct{}
	quit chan struct{}
	done chan struct{}
	once sync.Once
}

func startBackfiller(db *sql.DB) *backfiller {
	b := &backfiller{db: db, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		for {
			select {
			case <-b.quit:
				return
			case <-b.wake:
			}
			// A checkpoint that fails is tried again on the next wake;
			// the writer's own one bounds the WAL either way.
			_, _ = b.db.Exec("PRAGMA wal_checkpoint(PASSIVE)")
		}
	}()
	return b
}

// poke wakes the backfiller unless it is awake already; after stop it
// does nothing.
func (b *backfiller) poke() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// stop waits for the backfiller to finish and closes its connection; a
// write still running may poke it meanwhile, harmlessly.
func (b *backfiller) stop() error {
	var err error
	b.once.Do(func() {
		close(b.quit)
		<-b.done
		err = b.db.Close()
	})
	return err
}

// writeIfIdle runs fn in a write transaction only when it need not wait
// for the writer, and reports whether it ran: for bookkeeping (such as a
// token's last use) that must never slow a read down.
func (s *Store) writeIfIdle(ctx context.Context, fn func(tx *gorm.DB) error) (bool, error) {
	if s.writer == nil {
		return true, s.write(ctx, fn)
	}
	if !s.writer.tryAcquire() {
		return false, nil
	}
	defer s.writer.release()
	return true, s.wdb.WithContext(ctx).Transaction(fn)
}

// Keys of the locks that serialise checks across PostgreSQL instances.
const (
	lockActiveCap int64 = 0x636f75706f6e64
	lockAdmins    int64 = 0x636f75706f6e65
	// lockCouponCounts lets one instance at a time fold the counts of
	// usable coupons.
	lockCouponCounts int64 = 0x636f75706f6e66
)

// lock serialises the rest of tx with every other transaction that takes
// the same key: a transaction-scoped advisory lock on PostgreSQL; on
// SQLite the writer already runs one transaction at a time.
func (s *Store) lock(tx *gorm.DB, key int64) error {
	if s.dialect != DialectPostgres {
		return nil
	}
	if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", key).Error; err != nil {
		return fmt.Errorf("take advisory lock %#x: %w", key, err)
	}
	return nil
}

// forUpdate makes q lock the rows it reads until tx ends: FOR UPDATE on
// PostgreSQL; SQLite's writer already excludes other writers.
func (s *Store) forUpdate(q *gorm.DB) *gorm.DB {
	if s.dialect != DialectPostgres {
		return q
	}
	return q.Clauses(clause.Locking{Strength: "UPDATE"})
}

// uniqueConstraints names the domain error of each unique constraint
// that has one, by its PostgreSQL index name and by SQLite's wording
// ("index 'name'" for an expression index, "table.column" otherwise).
var uniqueConstraints = map[string]error{
	"idx_coupons_code_key": ErrDuplicateCode,
	"idx_users_email":      ErrDuplicateEmail,
	"users.email":          ErrDuplicateEmail,
}

// uniqueViolation reports whether err is a unique-constraint violation
// and names the constraint.
func uniqueViolation(err error) (string, bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.ConstraintName, pgErr.Code == "23505"
	}
	var sqErr sqlite3.Error
	if errors.As(err, &sqErr) && (sqErr.ExtendedCode == sqlite3.ErrConstraintUnique || sqErr.ExtendedCode == sqlite3.ErrConstraintPrimaryKey) {
		// "UNIQUE constraint failed: index 'idx_x'" or "…: users.email".
		_, name, _ := strings.Cut(sqErr.Error(), "failed: ")
		name = strings.TrimSuffix(strings.TrimPrefix(name, "index '"), "'")
		return name, true
	}
	return "", false
}
