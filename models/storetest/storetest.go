// Package storetest opens real stores for tests: a temporary SQLite file
// always, and PostgreSQL when COUPOND_TEST_POSTGRES holds a DSN. Each test
// gets its own PostgreSQL schema, dropped when the test ends.
package storetest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/coupond/coupond/models"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// PostgresEnv names the variable holding the PostgreSQL test DSN.
const PostgresEnv = "COUPOND_TEST_POSTGRES"

// announceSkip says once per test binary that PostgreSQL is skipped.
var announceSkip sync.Once

// Dialects runs fn as a parallel subtest per database ("sqlite",
// "postgres"), so fn must share nothing between its runs.
func Dialects(t *testing.T, fn func(t *testing.T, dialect string)) {
	t.Helper()
	for _, dialect := range []string{models.DialectSQLite, models.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			fn(t, dialect)
		})
	}
}

// Each runs fn as a parallel subtest per database with a fresh, migrated
// store configured by cfg. Without COUPOND_TEST_POSTGRES the PostgreSQL
// subtest is skipped, or fails when CI is set.
func Each(t *testing.T, cfg models.Config, fn func(t *testing.T, s *models.Store)) {
	t.Helper()
	Dialects(t, func(t *testing.T, dialect string) { fn(t, Open(t, dialect, cfg)) })
}

// EachWithDB is Each that also hands fn a connection of its own to the
// store's database, for looking at tables the store keeps to itself.
func EachWithDB(t *testing.T, cfg models.Config, fn func(t *testing.T, s *models.Store, db *sql.DB)) {
	t.Helper()
	Dialects(t, func(t *testing.T, dialect string) {
		s, db := OpenWithDB(t, dialect, cfg)
		fn(t, s, db)
	})
}

// Open returns a fresh, migrated store of the given dialect, closed when
// the test ends.
func Open(t testing.TB, dialect string, cfg models.Config) *models.Store {
	t.Helper()
	s, _ := open(t, dialect, cfg)
	return s
}

// OpenWithDB is Open that also returns a plain connection pool to the same
// database (the same schema on PostgreSQL), closed when the test ends.
func OpenWithDB(t testing.TB, dialect string, cfg models.Config) (*models.Store, *sql.DB) {
	t.Helper()
	s, cfg := open(t, dialect, cfg)
	db, err := Connect(t, cfg).DB()
	if err != nil {
		t.Fatalf("connect to the %s test database: %v", dialect, err)
	}
	return s, db
}

// OpenWithGORM is Open that also returns plain GORM on the same database
// (the same schema on PostgreSQL), for queries a test makes beside the
// store; closed when the test ends.
func OpenWithGORM(t testing.TB, dialect string, cfg models.Config) (*models.Store, *gorm.DB) {
	t.Helper()
	s, cfg := open(t, dialect, cfg)
	return s, Connect(t, cfg)
}

// Fresh returns cfg naming an empty database of the dialect: a new file
// for SQLite, a new schema for PostgreSQL.
func Fresh(t testing.TB, dialect string, cfg models.Config) models.Config {
	t.Helper()
	cfg.Path, cfg.DatabaseURL = "", ""
	if dialect == models.DialectPostgres {
		cfg.DatabaseURL = PostgresSchemaDSN(t)
	} else {
		cfg.Path = filepath.Join(t.TempDir(), "coupond.db")
	}
	return cfg
}

// Connect opens the database cfg names with plain GORM, bypassing the
// store, closed when the test ends.
func Connect(t testing.TB, cfg models.Config) *gorm.DB {
	t.Helper()
	dial := sqlite.Open(cfg.Path)
	if cfg.DatabaseURL != "" {
		dial = postgres.Open(cfg.DatabaseURL)
	}
	g, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("connect to the test database: %v", err)
	}
	db, err := g.DB()
	if err != nil {
		t.Fatalf("connect to the test database: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return g
}

// open opens and migrates a fresh store and returns it with the
// configuration that names its database.
func open(t testing.TB, dialect string, cfg models.Config) (*models.Store, models.Config) {
	t.Helper()
	cfg = Fresh(t, dialect, cfg)
	s, err := models.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("open %s store: %v", dialect, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close %s store: %v", dialect, err)
		}
	})
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate %s store: %v", dialect, err)
	}
	return s, cfg
}

// PostgresSchemaDSN creates an empty schema in the test database and
// returns a DSN whose search_path is that schema. It skips the test (or
// benchmark) when COUPOND_TEST_POSTGRES is unset, and fails it instead
// when CI is set.
func PostgresSchemaDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: CI must run the PostgreSQL tests (make test starts the cluster)", PostgresEnv)
		}
		announceSkip.Do(func() {
			// go test shows nothing of a passing package's output, so the
			// line goes to the terminal, if there is one.
			if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
				fmt.Fprintf(tty, "######## SKIPPING the PostgreSQL tests: %s is not set (make test starts the local cluster and sets it) ########\n", PostgresEnv)
				tty.Close()
			}
		})
		t.Skipf("SKIPPED: PostgreSQL tests need %s (make test sets it after starting the local cluster)", PostgresEnv)
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("connect to PostgreSQL at %s: %v", PostgresEnv, err)
	}
	sqlDB, err := admin.DB()
	if err != nil {
		t.Fatalf("connect to PostgreSQL at %s: %v", PostgresEnv, err)
	}
	err = ensureTrigram(admin)
	if err == nil {
		err = admin.Exec("CREATE SCHEMA " + schema).Error
	}
	if err != nil {
		if cerr := sqlDB.Close(); cerr != nil {
			t.Errorf("close the admin connection: %v", cerr)
		}
		t.Fatalf("prepare the test schema: %v", err)
	}
	t.Cleanup(func() {
		if err := admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		if err := sqlDB.Close(); err != nil {
			t.Errorf("close the admin connection: %v", err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// ensureTrigram creates the pg_trgm extension the migrations need, once
// for the whole test database, before tests in several processes migrate
// schemas of their own at once: CREATE EXTENSION IF NOT EXISTS races
// with itself, so a failure counts only while the extension is still
// missing.
func ensureTrigram(admin *gorm.DB) error {
	err := admin.Exec("CREATE EXTENSION IF NOT EXISTS pg_trgm").Error
	if err == nil {
		return nil
	}
	var n int64
	if cerr := admin.Raw("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'").Scan(&n).Error; cerr == nil && n == 1 {
		return nil
	}
	return fmt.Errorf("create the pg_trgm extension: %w", err)
}
