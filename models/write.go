package models

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
		// The writer checkpoints by itself (checkpoint, below), once the
		// WAL has grown past walCheckpointAt, rather than after every
		// commit of more than a thousand pages.
		setup := fmt.Sprintf("PRAGMA journal_size_limit = %d; PRAGMA wal_autocheckpoint = 0", journalSizeLimit)
		sql.Register(sqliteDriverName, &sqlite3.SQLiteDriver{
			ConnectHook: func(c *sqlite3.SQLiteConn) error {
				_, err := c.Exec(setup, nil)
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
	// journalsSet and fileJournals say where the writer's connection
	// keeps its statement journals now (see Journals).
	journalsSet, fileJournals bool
	// queue holds the writes waiting for the writer; run takes them in
	// groups until quit, then closes stopped.
	queue   chan *writeRequest
	quit    chan struct{}
	stopped chan struct{}
	once    sync.Once
	// shared counts the writes that shared a transaction with an earlier
	// write of their group.
	shared atomic.Int64
	// waiting counts the writes submitted and not yet taken or given up.
	waiting  atomic.Int64
	observer Observer
	// blocked counts the checkpoints in a row that readers kept from
	// resetting the WAL, logged at most every checkpointLogEvery.
	blocked    int
	loggedAt   time.Time
	blockedFor time.Time
}

func newSQLiteWriter(db *gorm.DB, walPath string, wait time.Duration, o Observer) *sqliteWriter {
	return &sqliteWriter{db: db, slot: make(chan struct{}, 1), walPath: walPath, wait: wait, checkpointAt: walCheckpointAt, observer: o,
		queue: make(chan *writeRequest, 4*groupMax), quit: make(chan struct{}), stopped: make(chan struct{})}
}

// start runs the writer's loop.
func (w *sqliteWriter) start() { go w.run() }

// stop ends the writer's loop once its group has committed; writes still
// queued are answered with errWriterClosed.
func (w *sqliteWriter) stop() {
	w.once.Do(func() {
		close(w.quit)
		<-w.stopped
	})
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

// settle holds a bulk writer back while the WAL is past limit, giving
// the writer turns at checkpointing it, for at most about five seconds:
// an import writes a page or more per row, and would otherwise outrun
// checkpoints that a backfill in progress keeps from resetting the WAL.
func (w *sqliteWriter) settle(ctx context.Context, limit int64) {
	for range 100 {
		if st, err := os.Stat(w.walPath); err != nil || st.Size() < limit {
			return
		}
		select {
		case w.slot <- struct{}{}:
		case <-ctx.Done():
			return
		}
		w.checkpoint(ctx)
		<-w.slot
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return
		}
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

// write runs fn in a write transaction. On SQLite it queues fn for the
// writer, failing with *BusyError when the wait is too long, and fn
// shares its transaction with the writes queued beside it (group commit,
// below). On PostgreSQL fn runs again when a promotion it locked was
// given a limit meanwhile (errLimitAppeared).
func (s *Store) write(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if s.writer == nil {
		for tries := 1; ; tries++ {
			err := s.wdb.WithContext(ctx).Transaction(fn)
			if tries == 4 || !errors.Is(err, errLimitAppeared) {
				return err
			}
		}
	}
	return s.writer.submit(ctx, fn, false)
}

// writeBulk is write for a write that changes many rows in one statement
// (a chunk of generated codes): on SQLite it runs in a group of bulk
// writes only, whose statement journals SQLite keeps in a temporary file
// (see journals).
func (s *Store) writeBulk(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if s.writer == nil {
		return s.write(ctx, fn)
	}
	return s.writer.submit(ctx, fn, true)
}

// Group commit. Writes that queue for the SQLite writer while it is busy
// share its next transaction, each inside a savepoint of its own: one
// that fails rolls back to its savepoint and leaves the others' work in
// place; all are answered once the shared transaction has committed (or
// with its error when the commit fails), so a write that was answered is
// as durable as before. A group takes at most groupMax writes and starts
// no write once it has run for groupTime; the rest wait for the next
// group, first in line.
const (
	groupMax  = 64
	groupTime = 50 * time.Millisecond
)

// Journals. Each write of a group runs in a savepoint, and SQLite keeps
// the pages a savepoint or a statement changes in a journal of its own,
// in memory up to 64 KiB and in a temporary file past that; once in the
// file, every page every later write of the group changes is written
// there as well. A checkout's writes pass 64 KiB, so the writer keeps
// those journals in memory (temp_store = MEMORY: 1,050-1,100 against
// 1,800-1,960 redemptions a second in process). A bulk write changes
// thousands of pages in one statement, which a memory journal keeps in
// 1 KiB pieces, slower than the file (about a tenth of the generation
// engine's speed): bulk writes run in groups of their own, with the file.

// writeRequest is one write waiting for the writer; bulk marks a write
// of many rows.
type writeRequest struct {
	ctx    context.Context
	bulk   bool
	fn     func(tx *gorm.DB) error
	state  atomic.Int32
	done   chan error
	queued time.Time
}

// States of a writeRequest: waiting, taken into a group, or given up by
// its caller (too long a wait, or its context ended) before that.
const (
	requestWaiting int32 = iota
	requestTaken
	requestAbandoned
)

// errWriterClosed answers writes still waiting when the store closes.
var errWriterClosed = errors.New("the store is closing")

// submit queues fn for the writer and waits for its answer, for at most
// w.wait before it is taken into a group (then *BusyError), or until ctx
// ends.
func (w *sqliteWriter) submit(ctx context.Context, fn func(tx *gorm.DB) error, bulk bool) error {
	if err := ctx.Err(); err != nil {
		// Not queued: a write the writer takes runs to its end.
		return err
	}
	r := &writeRequest{ctx: ctx, bulk: bulk, fn: fn, done: make(chan error, 1), queued: time.Now()}
	w.waiting.Add(1)
	t := time.NewTimer(w.wait)
	defer t.Stop()
	busy := func() error {
		w.waiting.Add(-1)
		w.observer.WriterBusy()
		return &BusyError{Waited: w.wait, RetryAfter: busyRetryAfter}
	}
	select {
	case w.queue <- r:
	case <-t.C:
		return busy()
	case <-ctx.Done():
		w.waiting.Add(-1)
		return ctx.Err()
	case <-w.quit:
		w.waiting.Add(-1)
		return errWriterClosed
	}
	select {
	case err := <-r.done:
		return err
	case <-t.C:
		if r.state.CompareAndSwap(requestWaiting, requestAbandoned) {
			return busy()
		}
	case <-ctx.Done():
		if r.state.CompareAndSwap(requestWaiting, requestAbandoned) {
			w.waiting.Add(-1)
			return ctx.Err()
		}
	}
	// Taken already: its answer comes with its group's commit.
	return <-r.done
}

// run takes the writer for one group after another until quit.
func (w *sqliteWriter) run() {
	defer close(w.stopped)
	var carry []*writeRequest
	for {
		if len(carry) == 0 {
			select {
			case r := <-w.queue:
				carry = append(carry, r)
			case <-w.quit:
				w.drain()
				return
			}
		}
		// The writes that queued while the writer was taken join the
		// group once it is free.
		w.slot <- struct{}{}
		group := carry
		carry = nil
	fill:
		for len(group) < groupMax {
			select {
			case r := <-w.queue:
				group = append(group, r)
			default:
				break fill
			}
		}
		// A group is of bulk writes only, or of none (see Journals); the
		// others keep their turn for the next group.
		kind := slices.IndexFunc(group, func(r *writeRequest) bool { return r.bulk != group[0].bulk })
		if kind > 0 {
			group, carry = group[:kind:kind], group[kind:]
		}
		w.journals(group[0].bulk)
		rest, answer := w.runGroup(group)
		carry = append(rest, carry...)
		// Answered once the WAL is in bounds and the writer is free, as
		// a write that held the writer on its own would be.
		w.checkpoint(context.Background())
		<-w.slot
		answer()
	}
}

// journals has the writer keep statement journals in a temporary file
// for a group of bulk writes and in memory for any other (see Journals),
// changing the setting only when the kind of group changes.
func (w *sqliteWriter) journals(bulk bool) {
	if w.journalsSet && w.fileJournals == bulk {
		return
	}
	store := "MEMORY"
	if bulk {
		store = "DEFAULT"
	}
	if err := w.db.Exec("PRAGMA temp_store = " + store).Error; err != nil {
		// Only speed depends on it: the group runs either way.
		w.logger.Warn("could not set where the writer keeps its journals", "temp_store", store, "err", err)
		return
	}
	w.journalsSet, w.fileJournals = true, bulk
}

// drain answers every write still queued once the writer stops.
func (w *sqliteWriter) drain() {
	for {
		select {
		case r := <-w.queue:
			if w.take(r) {
				r.done <- errWriterClosed
			}
		default:
			return
		}
	}
}

// runGroup runs the writes of group in one transaction, each in a
// savepoint, and commits; it returns the writes it did not start because
// the group had run for groupTime, and the function that answers the
// writes it ran.
func (w *sqliteWriter) runGroup(group []*writeRequest) (rest []*writeRequest, answer func()) {
	tx := w.db.Begin()
	if tx.Error != nil {
		var taken []*writeRequest
		for _, r := range group {
			if w.take(r) {
				taken = append(taken, r)
			}
		}
		return nil, func() {
			for _, r := range taken {
				r.done <- tx.Error
			}
		}
	}
	start := time.Now()
	var taken []*writeRequest
	var errs []error
	for i, r := range group {
		if len(taken) > 0 && time.Since(start) >= groupTime {
			rest = group[i:]
			break
		}
		if !w.take(r) {
			continue
		}
		taken = append(taken, r)
		errs = append(errs, runSaved(tx, r, "group_"+strconv.Itoa(len(taken))))
	}
	commit := tx.Commit().Error
	if len(taken) > 1 {
		w.shared.Add(int64(len(taken) - 1))
	}
	if len(taken) > 0 {
		w.observer.WriterGroup(len(taken))
	}
	return rest, func() {
		for i, r := range taken {
			r.done <- cmp.Or(errs[i], commit)
		}
	}
}

// take takes r from the queue into a group, unless its caller gave it
// up: only then does it run.
func (w *sqliteWriter) take(r *writeRequest) bool {
	if !r.state.CompareAndSwap(requestWaiting, requestTaken) {
		return false
	}
	w.waiting.Add(-1)
	w.observer.WriterWaited(time.Since(r.queued))
	return true
}

// runSaved runs r's write inside savepoint name of tx, rolling back to
// it when the write fails (or panics, which becomes its error).
func runSaved(tx *gorm.DB, r *writeRequest, name string) (err error) {
	if err := tx.SavePoint(name).Error; err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write panicked: %v\n%s", p, debug.Stack())
		}
		if err != nil {
			if rerr := tx.RollbackTo(name).Error; rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
		if rerr := tx.Exec("RELEASE SAVEPOINT " + name).Error; rerr != nil {
			err = errors.Join(err, rerr)
		}
	}()
	// A write the writer has taken runs to its end, as a transaction
	// whose commit is on its way would: its statements do not watch the
	// client's context, which spares the driver a goroutine for each of
	// them, and its answer comes with the group's commit.
	return r.fn(tx.WithContext(context.WithoutCancel(r.ctx)))
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
	if len(s.writer.queue) > 0 || !s.writer.tryAcquire() {
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
