package models

import (
	"context"
	"fmt"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/sqlite3store"
	"github.com/jackc/pgx/v5/pgxpool"
	"gorm.io/gorm"
)

// SessionStore is the store interface of github.com/alexedwards/scs/v2.
type SessionStore interface {
	Find(token string) ([]byte, bool, error)
	Commit(token string, b []byte, expiry time.Time) error
	Delete(token string) error
}

// sessionCleanup is how often expired sessions are deleted.
const sessionCleanup = 5 * time.Minute

// expiredSessionsSQL deletes the sessions past their expiry.
var expiredSessionsSQL = map[string]string{
	DialectSQLite:   `DELETE FROM sessions WHERE expiry < julianday('now')`,
	DialectPostgres: `DELETE FROM sessions WHERE expiry < current_timestamp`,
}

// openSessions sets up the console session store in the same database:
// scs's sqlite3store on the SQLite connection pool, or its pgxstore on a
// small pgx pool of its own. The stores' own clean-up goroutines race
// with their StopCleanup, so they are off and one loop here deletes
// expired sessions instead.
func (s *Store) openSessions(ctx context.Context, databaseURL string) error {
	var closePool func()
	if s.dialect == DialectSQLite {
		readDB, err := s.db.DB()
		if err != nil {
			return err
		}
		writeDB, err := s.wdb.DB()
		if err != nil {
			return err
		}
		s.sessions = splitSessions{
			read:  sqlite3store.NewWithCleanupInterval(readDB, 0),
			write: sqlite3store.NewWithCleanupInterval(writeDB, 0),
		}
	} else {
		cfg, err := pgxpool.ParseConfig(databaseURL)
		if err != nil {
			return fmt.Errorf("open session store: %w", err)
		}
		cfg.MaxConns = 4
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return fmt.Errorf("open session store: %w", err)
		}
		s.sessions = pgxstore.NewWithCleanupInterval(pool, 0)
		closePool = pool.Close
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(sessionCleanup)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				// A failed sweep is retried at the next tick; expired
				// sessions are refused by the stores anyway.
				_ = s.DeleteExpiredSessions(context.Background())
			}
		}
	}()
	s.closeExtra = func() {
		close(stop)
		<-done
		if closePool != nil {
			closePool()
		}
	}
	return nil
}

// splitSessions reads sessions through SQLite's read pool and writes
// them through the writer connection.
type splitSessions struct {
	read, write SessionStore
}

// Find reads a session.
func (s splitSessions) Find(token string) ([]byte, bool, error) { return s.read.Find(token) }

// Commit saves a session.
func (s splitSessions) Commit(token string, b []byte, expiry time.Time) error {
	return s.write.Commit(token, b, expiry)
}

// Delete removes a session.
func (s splitSessions) Delete(token string) error { return s.write.Delete(token) }

// Sessions is the database-backed store for console sessions, shaped for
// github.com/alexedwards/scs/v2 (Find, Commit, Delete).
func (s *Store) Sessions() SessionStore { return s.sessions }

// DeleteExpiredSessions removes the sessions past their expiry; the store
// does it every five minutes.
func (s *Store) DeleteExpiredSessions(ctx context.Context) error {
	if err := s.write(ctx, func(tx *gorm.DB) error { return tx.Exec(expiredSessionsSQL[s.dialect]).Error }); err != nil {
		return fmt.Errorf("delete expired sessions: %w", err)
	}
	return nil
}
