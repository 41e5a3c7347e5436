package models

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
)

// Guessing protection: a client address or a customer id that looked up
// too many unknown codes recently is refused every look-up until the
// oldest of those failures leaves the window, so that codes cannot be
// found by trying. Failures are rows in the database, shared by every
// instance on PostgreSQL. A failure is recorded after its look-up, so
// look-ups already in flight when the limit is reached still finish; the
// API's per-token concurrency cap bounds how many that can be.

// Defaults of the guessing protection.
const (
	DefaultGuessLimit  = 20
	DefaultGuessWindow = 10 * time.Minute
)

// LookupFailure is one look-up of an unknown code by subject.
type LookupFailure struct {
	ID      int64     `gorm:"primaryKey"`
	Subject string    `gorm:"not null"`
	At      time.Time `gorm:"not null"`
}

// guessSubjects are the keys a look-up is counted under: the client
// address, and the customer when one is named.
func guessSubjects(client, customerID string) []string {
	var subjects []string
	if client != "" {
		subjects = append(subjects, "client:"+client)
	}
	if customerID != "" {
		subjects = append(subjects, "customer:"+customerID)
	}
	return subjects
}

// guessGate refuses a look-up with *TooManyGuessesError when one of its
// subjects has reached the limit within the window; RetryAfter is when
// the oldest of that subject's failures leaves the window.
func (s *Store) guessGate(ctx context.Context, subjects []string) error {
	return s.guessGateIn(s.db.WithContext(ctx), subjects)
}

// guessGateIn is guessGate reading through q (a read transaction of the
// look-up's).
func (s *Store) guessGateIn(q *gorm.DB, subjects []string) error {
	if s.guessLimit == 0 || len(subjects) == 0 {
		return nil
	}
	now := s.now()
	since := now.Add(-s.guessWindow)
	if s.noGuessSince(q, since) {
		return nil
	}
	// Every look-up asks this: one count per subject in one statement,
	// without the sorter a GROUP BY would start.
	counts := make([]int, len(subjects))
	dest := make([]any, len(subjects))
	args := make([]any, 0, 2*len(subjects))
	for i, sub := range subjects {
		dest[i] = &counts[i]
		args = append(args, sub, since)
	}
	err := s.conn(q).queryRow("SELECT "+strings.Repeat("(SELECT count(*) FROM lookup_failures WHERE subject = ? AND at > ?), ", len(subjects)-1)+
		"(SELECT count(*) FROM lookup_failures WHERE subject = ? AND at > ?)", args...).Scan(dest...)
	if err != nil {
		return fmt.Errorf("count failed look-ups: %w", err)
	}
	var tooMany *TooManyGuessesError
	for i, subject := range subjects {
		if counts[i] < s.guessLimit {
			continue
		}
		var oldest []time.Time
		err := q.Model(&LookupFailure{}).Where("subject = ? AND at > ?", subject, since).
			Order("at").Limit(1).Pluck("at", &oldest).Error
		if err != nil {
			return fmt.Errorf("read failed look-ups: %w", err)
		}
		wait := time.Second
		if len(oldest) == 1 {
			wait = max(wait, oldest[0].Add(s.guessWindow).Sub(now))
		}
		if tooMany == nil || wait > tooMany.RetryAfter {
			tooMany = &TooManyGuessesError{Limit: s.guessLimit, Window: s.guessWindow, RetryAfter: wait}
		}
	}
	if tooMany != nil {
		return tooMany
	}
	return nil
}

// guessMemo is what a SQLite store knows of the failed look-ups in its
// database without counting them: the newest one (latest, in Unix
// nanoseconds), read from the database at most every guessMemoFresh
// (readAt, by the wall clock) and noted as the store records its own.
// While the newest lies outside the window, no subject can be over the
// limit and a look-up needs no count. One process serves a SQLite
// database; a second one by mistake has its failures seen within
// guessMemoFresh.
type guessMemo struct {
	reading atomic.Bool
	readAt  atomic.Int64
	latest  atomic.Int64
}

// guessMemoFresh is how long the newest failure read from the database
// is trusted.
const guessMemoFresh = time.Second

// noGuessSince reports whether the store knows that no failed look-up
// was recorded after since (SQLite only). When its knowledge is stale,
// one look-up reads the newest failure through q (its own connection or
// transaction) while the others count as usual: none waits for another.
func (s *Store) noGuessSince(q *gorm.DB, since time.Time) bool {
	if s.dialect != DialectSQLite {
		return false
	}
	m := &s.guesses
	if time.Since(time.Unix(0, m.readAt.Load())) > guessMemoFresh && m.reading.CompareAndSwap(false, true) {
		read := time.Now()
		var newest []time.Time
		if err := q.Model(&LookupFailure{}).Order("at DESC").Limit(1).Pluck("at", &newest).Error; err == nil {
			if len(newest) == 1 {
				m.noteGuess(newest[0])
			}
			m.readAt.Store(read.UnixNano())
		}
		m.reading.Store(false)
	}
	return time.Since(time.Unix(0, m.readAt.Load())) <= 2*guessMemoFresh && m.latest.Load() <= since.UnixNano()
}

// noteGuess records that a failure was recorded at at.
func (m *guessMemo) noteGuess(at time.Time) {
	for {
		old := m.latest.Load()
		if at.UnixNano() <= old || m.latest.CompareAndSwap(old, at.UnixNano()) {
			return
		}
	}
}

// recordGuess records a look-up of an unknown code for each subject.
func (s *Store) recordGuess(ctx context.Context, subjects []string) error {
	if s.guessLimit == 0 || len(subjects) == 0 {
		return nil
	}
	return s.write(ctx, func(tx *gorm.DB) error { return s.insertGuesses(tx, subjects) })
}

// insertGuesses records the failures inside tx and forgets those that
// have left the window.
func (s *Store) insertGuesses(tx *gorm.DB, subjects []string) error {
	if s.guessLimit == 0 || len(subjects) == 0 {
		return nil
	}
	now := s.now()
	if err := tx.Where("at <= ?", now.Add(-s.guessWindow)).Delete(&LookupFailure{}).Error; err != nil {
		return fmt.Errorf("forget old failed look-ups: %w", err)
	}
	rows := make([]LookupFailure, len(subjects))
	for i, sub := range subjects {
		rows[i] = LookupFailure{Subject: sub, At: now}
	}
	// Noted before the commit: a look-up that counts a failure not yet
	// committed finds it missing and is let through, as it would have
	// been a moment earlier.
	s.guesses.noteGuess(now)
	if err := tx.Create(&rows).Error; err != nil {
		return fmt.Errorf("record failed look-up: %w", err)
	}
	return nil
}
