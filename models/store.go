package models

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
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
	// Rand is the source of random codes; nil means crypto/rand.
	Rand io.Reader
	// PasswordCost is the bcrypt cost; 0 means bcrypt.DefaultCost. Tests
	// use bcrypt.MinCost.
	PasswordCost int
}

// Store is coupond's persistence and the home of the rules that need the
// database. It is safe for concurrent use.
type Store struct {
	db           *gorm.DB
	dialect      string
	now          func() time.Time
	rand         io.Reader
	maxActive    int
	passwordCost int
	// dummyHash is checked against when a sign-in names no account, so
	// that it costs as much as one that does.
	dummyHash  []byte
	sessions   SessionStore
	closeExtra func()
}

// Open connects to the database that cfg names. It fails when the URL is
// malformed, the password cost is out of bcrypt's range or the database
// cannot be reached; it does not migrate.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	s := &Store{now: func() time.Time { return now().UTC() }, rand: cfg.Rand, maxActive: cfg.MaxActiveCoupons, passwordCost: cfg.PasswordCost}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.passwordCost == 0 {
		s.passwordCost = bcrypt.DefaultCost
	}
	// Made the way account hashes are, so that bcrypt treats the cost alike.
	dummy, err := s.hashPassword("coupond-no-such-user")
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s.dummyHash = []byte(dummy)
	gcfg := &gorm.Config{
		TranslateError: true,
		NowFunc:        s.now,
		Logger:         logger.Discard,
	}
	var dial gorm.Dialector
	switch {
	case strings.HasPrefix(cfg.DatabaseURL, "postgres://"), strings.HasPrefix(cfg.DatabaseURL, "postgresql://"):
		s.dialect = DialectPostgres
		dial = postgres.Open(cfg.DatabaseURL)
	case cfg.DatabaseURL != "":
		return nil, fmt.Errorf("open database: DATABASE_URL must start with postgres:// or postgresql://")
	case cfg.Path == "":
		return nil, fmt.Errorf("open database: no SQLite path given")
	default:
		s.dialect = DialectSQLite
		dial = sqlite.Open(sqliteDSN(cfg.Path))
	}
	db, err := gorm.Open(dial, gcfg)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", s.dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", s.dialect, err)
	}
	if s.dialect == DialectSQLite {
		// Writers queue on SQLite's single write lock anyway; a small pool
		// keeps page caches few and warm.
		sqlDB.SetMaxOpenConns(8)
		sqlDB.SetMaxIdleConns(8)
	} else {
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(10)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	s.db = db
	if err := s.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	if err := s.openSessions(ctx, cfg.DatabaseURL); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return s, nil
}

// sqliteDSN turns a file path into a go-sqlite3 DSN with WAL, a busy
// timeout, immediate write transactions and foreign keys on.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	q.Set("_busy_timeout", "10000")
	q.Set("_txlock", "immediate")
	q.Set("_foreign_keys", "on")
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

// Close stops the session clean-up and releases the connections.
func (s *Store) Close() error {
	if s.closeExtra != nil {
		s.closeExtra()
		s.closeExtra = nil
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Migrate brings the schema up to date. It is idempotent and safe to run
// at every start.
func (s *Store) Migrate(ctx context.Context) error {
	db := s.db.WithContext(ctx)
	if err := db.AutoMigrate(&Batch{}, &Coupon{}, &User{}, &APIToken{}, &setupToken{}, &AuditEvent{}); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if s.dialect == DialectPostgres {
		// Codes compare byte-wise so that keyset pagination and prefix
		// ranges agree with Go's ordering whatever the cluster's locale.
		var collation *string
		err := db.Raw(`SELECT collation_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = 'coupons' AND column_name = 'code'`).Scan(&collation).Error
		if err != nil {
			return fmt.Errorf("migrate: read code collation: %w", err)
		}
		if collation == nil || *collation != "C" {
			if err := db.Exec(`ALTER TABLE coupons ALTER COLUMN code TYPE varchar(64) COLLATE "C"`).Error; err != nil {
				return fmt.Errorf("migrate: set code collation: %w", err)
			}
		}
	}
	for _, stmt := range []string{
		`CREATE UNIQUE INDEX IF NOT EXISTS idx_coupons_code_key ON coupons (lower(code))`,
		`CREATE INDEX IF NOT EXISTS idx_coupons_archived_code ON coupons (archived, lower(code))`,
		`CREATE INDEX IF NOT EXISTS idx_coupons_utm_source_code ON coupons (utm_source, lower(code))`,
		`CREATE INDEX IF NOT EXISTS idx_coupons_utm_campaign_code ON coupons (utm_campaign, lower(code))`,
		sessionsTableSQL[s.dialect],
		`CREATE INDEX IF NOT EXISTS sessions_expiry_idx ON sessions (expiry)`,
	} {
		if err := db.Exec(stmt).Error; err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return nil
}

// notFound is translate, naming what was looked for when it is missing.
func notFound(err error, entity, key string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return &NotFoundError{Entity: entity, Key: key}
	}
	return translate(err)
}

// translate maps GORM's errors to the domain's.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return ErrNotFound
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return ErrDuplicateCode
	}
	return err
}
