package models

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// Token scopes: modify reads and writes, read only reads.
const (
	ScopeModify = "modify"
	ScopeRead   = "read"
)

// TokenPrefix starts every API token, so a leaked one is easy to spot.
const TokenPrefix = "cpd_"

// ErrUnauthenticated is returned for a missing, unknown or revoked token.
var ErrUnauthenticated = errors.New("unknown or revoked API token")

// tokenTouchInterval is how stale LastUsedAt may get before a request
// writes it again: one write a minute per token, not one per request.
const tokenTouchInterval = time.Minute

// APIToken is a named credential for the API. Only the SHA-256 of the
// secret is stored; Hint is its first characters, for recognising it.
type APIToken struct {
	ID         int64  `gorm:"primaryKey"`
	Name       string `gorm:"size:100;not null"`
	Scope      string `gorm:"size:16;not null"`
	Hash       string `gorm:"size:64;not null;uniqueIndex"`
	Hint       string `gorm:"size:16;not null"`
	CreatedBy  string `gorm:"size:300;not null"`
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// TableName keeps the table name readable.
func (APIToken) TableName() string { return "api_tokens" }

// CanWrite reports whether the token's scope allows changes.
func (t APIToken) CanWrite() bool { return t.Scope == ScopeModify }

// CheckScope accepts modify and read.
func CheckScope(scope string) error {
	if scope != ScopeModify && scope != ScopeRead {
		return fmt.Errorf("must be modify (read and write) or read (read-only)")
	}
	return nil
}

// CreateToken makes a token and returns it with its secret, which is shown
// this once and never stored. It fails with a *ValidationError for a bad
// name or scope.
func (s *Store) CreateToken(ctx context.Context, name, scope string) (APIToken, string, error) {
	var verr ValidationError
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		verr.Add(FieldName, "is required: say who or what uses the token")
	case utf8.RuneCountInString(name) > 100:
		verr.Add(FieldName, "must be at most 100 characters")
	}
	if err := CheckScope(scope); err != nil {
		verr.Add(FieldScope, err.Error())
	}
	if err := verr.Err(); err != nil {
		return APIToken{}, "", fmt.Errorf("create token: %w", err)
	}
	plain, hash, err := newSecret(TokenPrefix)
	if err != nil {
		return APIToken{}, "", err
	}
	t := APIToken{Name: name, Scope: scope, Hash: hash, Hint: plain[:len(TokenPrefix)+4], CreatedBy: ActorFrom(ctx).String()}
	err = s.write(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&t).Error; err != nil {
			return err
		}
		return s.audit(ctx, tx, ActionTokenCreate, EntityToken, strconv.FormatInt(t.ID, 10), fmt.Sprintf("name=%q scope=%s", t.Name, t.Scope))
	})
	if err != nil {
		return APIToken{}, "", fmt.Errorf("create token %q: %w", name, err)
	}
	return t, plain, nil
}

// tokenFresh is how long an instance trusts what it read of a token
// before reading it again: a token revoked on another instance (or by
// the command line) is refused here within that, plus one request.
const tokenFresh = time.Second

// tokenCacheMax bounds the tokens one instance remembers; past it, the
// cache starts again empty.
const tokenCacheMax = 10_000

// tokenCache remembers live tokens by the hash of their secret, so that
// a request checks its token in memory; entries are read again once they
// are tokenFresh old. Unknown and revoked tokens are not remembered.
type tokenCache struct {
	mu      sync.Mutex
	entries map[string]cachedToken
}

type cachedToken struct {
	token  APIToken
	readAt time.Time // by the monotonic clock
}

func (c *tokenCache) get(hash string) (APIToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[hash]
	if !ok || time.Since(e.readAt) >= tokenFresh {
		return APIToken{}, false
	}
	return e.token, true
}

func (c *tokenCache) put(t APIToken, readAt time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= tokenCacheMax {
		c.entries = map[string]cachedToken{}
	}
	c.entries[t.Hash] = cachedToken{token: t, readAt: readAt}
}

// noteUse keeps a remembered token's LastUsedAt as this instance wrote it.
func (c *tokenCache) noteUse(hash string, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[hash]; ok {
		e.token.LastUsedAt = &at
		c.entries[hash] = e
	}
}

func (c *tokenCache) forget(hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, hash)
}

// AuthenticateToken returns the live token whose secret is plain and
// notes when it was last used. It fails with ErrUnauthenticated. What it
// read of a token serves this instance for tokenFresh: a revocation made
// here counts at once, one made elsewhere within tokenFresh.
func (s *Store) AuthenticateToken(ctx context.Context, plain string) (APIToken, error) {
	if !strings.HasPrefix(plain, TokenPrefix) || len(plain) > 100 {
		return APIToken{}, ErrUnauthenticated
	}
	hash := hashSecret(plain)
	t, cached := s.tokens.get(hash)
	if !cached {
		readAt := time.Now()
		err := s.db.WithContext(ctx).Where("hash = ?", hash).Take(&t).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			return APIToken{}, ErrUnauthenticated
		case err != nil:
			return APIToken{}, fmt.Errorf("authenticate token: %w", err)
		case t.RevokedAt != nil:
			s.tokens.forget(hash)
			return APIToken{}, ErrUnauthenticated
		}
		s.tokens.put(t, readAt)
	}
	now := s.now()
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= tokenTouchInterval {
		// Bookkeeping never waits for the writer: when it is busy, a
		// later request notes the use instead.
		touched, err := s.writeIfIdle(ctx, func(tx *gorm.DB) error {
			return tx.Model(&APIToken{ID: t.ID}).UpdateColumn("last_used_at", now).Error
		})
		if err != nil {
			return APIToken{}, fmt.Errorf("note token use: %w", err)
		}
		if touched {
			t.LastUsedAt = &now
			s.tokens.noteUse(hash, now)
		}
	}
	return t, nil
}

// ListTokens returns every token, newest first.
func (s *Store) ListTokens(ctx context.Context) ([]APIToken, error) {
	var ts []APIToken
	if err := s.db.WithContext(ctx).Order("id DESC").Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return ts, nil
}

// RevokeToken ends a token for good. Revoking a revoked token changes
// nothing. It fails with ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, id int64) (APIToken, error) {
	var t APIToken
	err := s.write(ctx, func(tx *gorm.DB) error {
		if err := tx.Take(&t, id).Error; err != nil {
			return notFound(err, "token", strconv.FormatInt(id, 10))
		}
		if t.RevokedAt != nil {
			return nil
		}
		now := s.now()
		t.RevokedAt = &now
		if err := tx.Model(&t).UpdateColumn("revoked_at", now).Error; err != nil {
			return err
		}
		// Forgotten before the commit too: a request between the two
		// reads the token again and finds it live still, or revoked.
		s.tokens.forget(t.Hash)
		return s.audit(ctx, tx, ActionTokenRevoke, EntityToken, strconv.FormatInt(t.ID, 10), fmt.Sprintf("name=%q", t.Name))
	})
	if err != nil {
		return APIToken{}, fmt.Errorf("revoke token %d: %w", id, err)
	}
	s.tokens.forget(t.Hash)
	return t, nil
}
