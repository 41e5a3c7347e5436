package models

import (
	"context"
	"fmt"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/sqlite3store"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SessionStore is the store interface of github.com/alexedwards/scs/v2.
type SessionStore interface {
	Find(token string) ([]byte, bool, error)
	Commit(token string, b []byte, expiry time.Time) error
	Delete(token string) error
}

// sessionsTableSQL creates the table the scs stores expect.
var sessionsTableSQL = map[string]string{
	DialectSQLite:   `CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, data BLOB NOT NULL, expiry REAL NOT NULL)`,
	DialectPostgres: `CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ NOT NULL)`,
}

// sessionCleanup is how often expired sessions are deleted.
const sessionCleanup = 5 * time.Minute

// openSessions sets up the console session store in the same database:
// scs's sqlite3store on the SQLite connection pool, or its pgxstore on a
// small pgx pool of its own.
func (s *Store) openSessions(ctx context.Context, databaseURL string) error {
	if s.dialect == DialectSQLite {
		sqlDB, err := s.db.DB()
		if err != nil {
			return err
		}
		st := sqlite3store.NewWithCleanupInterval(sqlDB, sessionCleanup)
		s.sessions, s.closeExtra = st, st.StopCleanup
		return nil
	}
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return fmt.Errorf("open session store: %w", err)
	}
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("open session store: %w", err)
	}
	st := pgxstore.NewWithCleanupInterval(pool, sessionCleanup)
	s.sessions = st
	s.closeExtra = func() { st.StopCleanup(); pool.Close() }
	return nil
}

// Sessions is the database-backed store for console sessions, shaped for
// github.com/alexedwards/scs/v2 (Find, Commit, Delete).
func (s *Store) Sessions() SessionStore { return s.sessions }
