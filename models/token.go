package models

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
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

// AuthenticateToken returns the live token whose secret is plain and
// notes when it was last used. It fails with ErrUnauthenticated.
func (s *Store) AuthenticateToken(ctx context.Context, plain string) (APIToken, error) {
	if !strings.HasPrefix(plain, TokenPrefix) || len(plain) > 100 {
		return APIToken{}, ErrUnauthenticated
	}
	var t APIToken
	err := s.db.WithContext(ctx).Where("hash = ?", hashSecret(plain)).Take(&t).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return APIToken{}, ErrUnauthenticated
	case err != nil:
		return APIToken{}, fmt.Errorf("authenticate token: %w", err)
	case t.RevokedAt != nil:
		return APIToken{}, ErrUnauthenticated
	}
	now := s.now()
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= tokenTouchInterval {
		// Bookkeeping never waits for the writer: when it is busy, a
		// later request notes the use instead.
		touched, err := s.writeIfIdle(ctx, func(tx *gorm.DB) error {
			return tx.Model(&t).UpdateColumn("last_used_at", now).Error
		})
		if err != nil {
			return APIToken{}, fmt.Errorf("note token use: %w", err)
		}
		if touched {
			t.LastUsedAt = &now
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
		return s.audit(ctx, tx, ActionTokenRevoke, EntityToken, strconv.FormatInt(t.ID, 10), fmt.Sprintf("name=%q", t.Name))
	})
	if err != nil {
		return APIToken{}, fmt.Errorf("revoke token %d: %w", id, err)
	}
	return t, nil
}
