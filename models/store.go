package models

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialects a Store runs on.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// Config says which database to open and the rules the store enforces.
type Config struct {
	// DatabaseURL, when it starts with postgres:// or postgresql://,
	// selects PostgreSQL; otherwise Path names the SQLite file.
	DatabaseURL string
	// Path is the SQLite database file, created when missing.
	Path string
	// MaxActiveCoupons caps non-archived coupons; 0 means no cap.
	MaxActiveCoupons int
	// Now is the clock; nil means time.Now. Times are stored in UTC.
	Now func() time.Time
	// Rand is the source of every random choice the store makes: codes
	// (of batches, of base codes, of series), the order a batch is made
	// in, and new customer ids; nil means crypto/rand. A deterministic
	// reader makes them repeatable in tests. It need not be safe for
	// concurrent use: the store takes turns reading it. Secrets (API
	// tokens, sessions) always come from crypto/rand.
	Rand io.Reader
	// PasswordCost is the bcrypt cost; 0 means bcrypt.DefaultCost. Tests
	// use bcrypt.MinCost.
	PasswordCost int
	// GuessLimit is how many look-ups of unknown codes one client address
	// or customer may make within GuessWindow before every look-up is
	// refused: nil means DefaultGuessLimit, 0 turns the protection off,
	// and Open refuses a negative limit. GuessWindow 0 means
	// DefaultGuessWindow.
	GuessLimit  *int
	GuessWindow time.Duration
	// WriteWait is how long a write may wait for SQLite's one writer
	// before it fails with a *BusyError; 0 means DefaultWriteWait.
	WriteWait time.Duration
	// WALCheckpointAt is the size of SQLite's WAL past which the writer
	// resets it between two transactions; 0 means 24 MiB. Tests make it
	// small to reach that point with little data.
	WALCheckpointAt int64
	// Logger receives what the store reports of itself (a WAL that
	// readers keep from being reset); nil means slog.Default().
	Logger *slog.Logger
	// Observer hears what the store does, for metrics; nil means no one.
	Observer Observer
}

// DefaultWriteWait is how long a write waits for the SQLite writer by
// default: long enough for a queue of the largest requests the API takes.
const DefaultWriteWait = 30 * time.Second

// Store is coupond's persistence and the home of the rules that need the
// database. It is safe for concurrent use.
type Store struct {
	// db serves reads. On SQLite it is a pool of read-only connections;
	// on PostgreSQL it serves writes too.
	db *gorm.DB
	// wdb serves writes, always through write: on SQLite it is the one
	// writer connection, on PostgreSQL the same pool as db.
	wdb          *gorm.DB
	writer       *sqliteWriter
	tokens       tokenCache
	dialect      string
	now          func() time.Time
	rand         io.Reader
	maxActive    int
	guessLimit   int
	guessWindow  time.Duration
	guesses      guessMemo
	passwordCost int
	sessions     SessionStore
	closeExtra   func()
	// batchWake wakes this process's batch runner when a batch is created.
	batchWake chan struct{}
	// formats are the code formats that look-ups read codes by.
	formats formatCache
	path    string
	// migrateLockWaiting, when set (by tests), is called when Migrate
	// finds the SQLite migration lock held and starts waiting for it.
	migrateLockWaiting func()
	// dummyHash is checked against when a sign-in names no account, so
	// that it costs as much as one that does.
	dummyHash func() []byte
	observer  Observer
	// importRun, when set (by tests), is how many rows an upload sorts
	// in memory at once instead of sortRun.
	importRun int
	// log receives what the store reports of itself.
	log *slog.Logger
}

// Open connects to the database that cfg names. It fails when the URL is
// malformed, the password cost is out of bcrypt's range, the guess limit
// is negative or the database cannot be reached; it does not migrate.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	s := &Store{now: func() time.Time { return now().UTC().Truncate(time.Microsecond) }, rand: cfg.Rand, maxActive: cfg.MaxActiveCoupons, passwordCost: cfg.PasswordCost,
		guessLimit: DefaultGuessLimit, guessWindow: cfg.GuessWindow, batchWake: make(chan struct{}, 1), observer: cmp.Or[Observer](cfg.Observer, nobody{}), log: cmp.Or(cfg.Logger, slog.Default())}
	if cfg.GuessLimit != nil {
		s.guessLimit = *cfg.GuessLimit
	}
	if s.guessLimit < 0 {
		return nil, fmt.Errorf("open store: guess limit %d: must be 0 (off) or more", s.guessLimit)
	}
	if s.guessWindow <= 0 {
		s.guessWindow = DefaultGuessWindow
	}
	if s.rand == nil {
		s.rand = rand.Reader
	} else {
		s.rand = &lockedReader{r: s.rand}
	}
	if s.passwordCost == 0 {
		s.passwordCost = bcrypt.DefaultCost
	}
	if cfg.WriteWait <= 0 {
		cfg.WriteWait = DefaultWriteWait
	}
	if s.passwordCost > bcrypt.MaxCost {
		return nil, fmt.Errorf("open store: password cost %d is above bcrypt's %d", s.passwordCost, bcrypt.MaxCost)
	}
	// Made the way account hashes are, so that bcrypt treats the cost
	// alike; only on the first sign-in that names no account, so that
	// opening a store (every command, every test) does not pay for it.
	s.dummyHash = sync.OnceValue(func() []byte {
		h, _ := s.hashPassword("coupond-no-such-user") // the cost was checked above
		return []byte(h)
	})
	gcfg := func() *gorm.Config {
		// Unique violations are translated here, by constraint name,
		// which GORM's own translation drops on SQLite.
		return &gorm.Config{NowFunc: s.now, Logger: logger.Discard}
	}
	var err error
	switch {
	case strings.HasPrefix(cfg.DatabaseURL, "postgres://"), strings.HasPrefix(cfg.DatabaseURL, "postgresql://"):
		s.dialect = DialectPostgres
		if s.db, err = gorm.Open(postgres.Open(cfg.DatabaseURL), gcfg()); err != nil {
			return nil, fmt.Errorf("open postgres database: %w", err)
		}
		sqlDB, err := s.db.DB()
		if err != nil {
			return nil, fmt.Errorf("open postgres database: %w", err)
		}
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(10)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		if err := s.db.Callback().Query().After("gorm:query").Register("coupond:free_uses", freeUses); err != nil {
			return nil, fmt.Errorf("open postgres database: %w", err)
		}
		s.wdb = s.db
	case cfg.DatabaseURL != "":
		return nil, fmt.Errorf("open database: DATABASE_URL must start with postgres:// or postgresql://")
	case cfg.Path == "":
		return nil, fmt.Errorf("open database: no SQLite path given")
	default:
		s.dialect = DialectSQLite
		s.path = cfg.Path
		if err := s.openSQLite(cfg, gcfg); err != nil {
			return nil, err
		}
	}
	if err := s.Ping(ctx); err != nil {
		s.closeDBs()
		return nil, err
	}
	if err := s.openSessions(ctx, cfg.DatabaseURL); err != nil {
		s.closeDBs()
		return nil, err
	}
	return s, nil
}

// openSQLite opens the writer connection first (it creates the file and
// turns WAL on), then the pool of read-only connections.
func (s *Store) openSQLite(cfg Config, gcfg func() *gorm.Config) error {
	registerSQLiteDriver()
	var err error
	if s.wdb, err = gorm.Open(sqlite.New(sqlite.Config{DriverName: sqliteDriverName, DSN: sqliteDSN(cfg.Path, false)}), gcfg()); err != nil {
		return fmt.Errorf("open sqlite database %s: %w", cfg.Path, err)
	}
	w, err := s.wdb.DB()
	if err != nil {
		return fmt.Errorf("open sqlite database %s: %w", cfg.Path, err)
	}
	// One connection: writers queue here, in Go, instead of on SQLite's
	// lock; it stays open so its pragmas and page cache stay with it.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.Ping(); err != nil {
		_ = w.Close()
		return fmt.Errorf("open sqlite database %s: %w", cfg.Path, err)
	}
	if s.db, err = gorm.Open(sqlite.New(sqlite.Config{DriverName: sqliteDriverName, DSN: sqliteDSN(cfg.Path, true)}), gcfg()); err != nil {
		_ = w.Close()
		return fmt.Errorf("open sqlite database %s: %w", cfg.Path, err)
	}
	r, err := s.db.DB()
	if err != nil {
		_ = w.Close()
		return fmt.Errorf("open sqlite database %s: %w", cfg.Path, err)
	}
	r.SetMaxOpenConns(sqliteReaders)
	r.SetMaxIdleConns(sqliteReaders)
	s.writer = newSQLiteWriter(s.wdb, cfg.Path+"-wal", cfg.WriteWait, s.observer)
	if cfg.WALCheckpointAt > 0 {
		s.writer.checkpointAt = cfg.WALCheckpointAt
	}
	s.writer.logger = s.log
	s.writer.start()
	bf, err := sql.Open(sqliteDriverName, sqliteDSN(cfg.Path, false))
	if err != nil {
		_ = w.Close()
		_ = r.Close()
		return fmt.Errorf("open sqlite database %s: %w", cfg.Path, err)
	}
	bf.SetMaxOpenConns(1)
	s.writer.backfill = startBackfiller(bf)
	return nil
}

// sqliteStatementCache is how many prepared statements each SQLite
// connection keeps for reuse.
const sqliteStatementCache = 128

// writerCacheKiB is the writer's page cache: the pages one chunk of a
// generation batch dirties stay in memory until it commits.
const writerCacheKiB = 64 << 10

// sqliteReaders is the size of the read pool; reads never wait for the
// writer in WAL mode.
const sqliteReaders = 8

// sqliteDSN turns a file path into a go-sqlite3 DSN: WAL, a busy timeout,
// foreign keys on; the writer's transactions take the write lock at
// BEGIN, and readers may not write at all.
func sqliteDSN(path string, readOnly bool) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	q.Set("_busy_timeout", strconv.Itoa(sqliteBusyTimeout))
	q.Set("_foreign_keys", "on")
	// Each connection keeps its prepared statements: preparing the same
	// few statements again took a fifth of a redemption's time.
	q.Set("_stmt_cache_size", strconv.Itoa(sqliteStatementCache))
	if readOnly {
		q.Set("_query_only", "true")
	} else {
		q.Set("_txlock", "immediate")
		q.Set("_cache_size", strconv.Itoa(-writerCacheKiB))
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Dialect names the database the store runs on.
func (s *Store) Dialect() string { return s.dialect }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s database: %w", s.dialect, err)
	}
	return nil
}

// Close stops the session clean-up and releases the connections. On
// SQLite the last connection to close checkpoints the WAL into the
// database file and removes it.
func (s *Store) Close() error {
	if s.closeExtra != nil {
		s.closeExtra()
		s.closeExtra = nil
	}
	return s.closeDBs()
}

func (s *Store) closeDBs() error {
	var errs []error
	if s.writer != nil {
		s.writer.stop()
	}
	if s.writer != nil && s.writer.backfill != nil {
		errs = append(errs, s.writer.backfill.stop())
	}
	dbs := []*gorm.DB{s.db}
	if s.wdb != s.db {
		dbs = append(dbs, s.wdb)
	}
	for _, g := range dbs {
		if g == nil {
			continue
		}
		if sqlDB, err := g.DB(); err == nil {
			errs = append(errs, sqlDB.Close())
		}
	}
	return errors.Join(errs...)
}

// lockedReader lets one goroutine at a time read r: a reader given as
// Config.Rand, such as a seeded generator, may not be safe for concurrent
// use, and the store's writes draw from it concurrently on PostgreSQL.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

// notFound is translate, naming what was looked for when it is missing.
func notFound(err error, entity, key string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return &NotFoundError{Entity: entity, Key: key}
	}
	return translate(err)
}

// translate maps database errors to the domain's: a missing row is
// ErrNotFound, a unique violation the error of its constraint.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return ErrNotFound
	}
	if name, ok := uniqueViolation(err); ok {
		if known, ok := uniqueConstraints[name]; ok {
			return fmt.Errorf("%w: %w", known, err)
		}
		return fmt.Errorf("%w: %w", &ConflictError{Constraint: name}, err)
	}
	return err
}
