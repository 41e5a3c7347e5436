package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Idempotency keys let a client send a request again, after a timeout or
// a dropped connection, without doing its work twice: the first request
// with a key claims it, and its response is kept for IdempotencyKeyTTL;
// the same key with the same request gets that response again.

// IdempotencyKeyTTL is how long a key and its response are kept.
const IdempotencyKeyTTL = 24 * time.Hour

// idempotencyClaimTTL is how long a claim may wait for its response
// before a retry takes it over: the request that made it has died.
const idempotencyClaimTTL = 5 * time.Minute

// MaxIdempotencyKeyLength bounds a key.
const MaxIdempotencyKeyLength = 255

// idempotencyKey is a row of idempotency_keys. Status 0 marks a claim
// whose request is still running.
type idempotencyKey struct {
	ID          int64  `gorm:"primaryKey"`
	Scope       string `gorm:"not null"`
	IdemKey     string `gorm:"column:idem_key;not null"`
	RequestHash string `gorm:"not null"`
	Status      int    `gorm:"not null"`
	ContentType string `gorm:"not null"`
	Location    string `gorm:"not null"`
	Body        []byte
	CreatedAt   time.Time `gorm:"not null"`
}

func (idempotencyKey) TableName() string { return "idempotency_keys" }

// StoredResponse is the response first given to a request with an
// idempotency key.
type StoredResponse struct {
	Status      int
	ContentType string
	// Location is the answer's Location header, if it had one.
	Location string
	Body     []byte
}

// ErrIdempotencyMismatch is matched by an *IdempotencyError whose key was
// first used with another request.
var ErrIdempotencyMismatch = errors.New("idempotency key used with another request")

// ErrIdempotencyInProgress is matched by an *IdempotencyError whose first
// request has not answered yet.
var ErrIdempotencyInProgress = errors.New("idempotency key in use by a request still running")

// IdempotencyError says why a request cannot use its idempotency key.
type IdempotencyError struct {
	Key string
	// Kind is ErrIdempotencyMismatch or ErrIdempotencyInProgress.
	Kind error
}

// Error says what the client should do.
func (e *IdempotencyError) Error() string {
	if e.Kind == ErrIdempotencyInProgress {
		return fmt.Sprintf("a request with Idempotency-Key %q is still being answered; wait for it, then send this one again to get its response", e.Key)
	}
	return fmt.Sprintf("Idempotency-Key %q was first used with a different request (another body or address); use a new key for a new request", e.Key)
}

// Is makes errors.Is match the error's kind.
func (e *IdempotencyError) Is(target error) bool { return target == e.Kind }

// CheckIdempotencyKey fails with a *ValidationError on field when key is
// not 1 to MaxIdempotencyKeyLength printable ASCII characters.
func CheckIdempotencyKey(field, key string) error {
	if key == "" || len(key) > MaxIdempotencyKeyLength {
		return Invalid(field, fmt.Sprintf("must be 1 to %d characters", MaxIdempotencyKeyLength))
	}
	for i := range len(key) {
		if key[i] < 0x20 || key[i] > 0x7e {
			return Invalid(field, "must be printable ASCII (a UUID is a good key)")
		}
	}
	return nil
}

// ClaimIdempotencyKey claims key within scope for a request that hashes
// to hash. It returns the stored response when the key has answered a
// request with the same hash, and nil when the caller now holds the
// claim and must end it with FinishIdempotencyKey or
// ReleaseIdempotencyKey. It fails with an *IdempotencyError.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, scope, key, hash string) (*StoredResponse, error) {
	var stored *StoredResponse
	err := s.write(ctx, func(tx *gorm.DB) error {
		var k idempotencyKey
		err := s.forUpdate(tx.Where("scope = ? AND idem_key = ?", scope, key)).Take(&k).Error
		now := s.now()
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
		case err != nil:
			return err
		case k.RequestHash != hash:
			return &IdempotencyError{Key: key, Kind: ErrIdempotencyMismatch}
		case k.Status != 0:
			stored = &StoredResponse{Status: k.Status, ContentType: k.ContentType, Location: k.Location, Body: k.Body}
			return nil
		case now.Sub(k.CreatedAt) < idempotencyClaimTTL:
			return &IdempotencyError{Key: key, Kind: ErrIdempotencyInProgress}
		default:
			// The request that claimed the key died before it answered.
			return tx.Model(&k).Update("created_at", now).Error
		}
		return tx.Create(&idempotencyKey{Scope: scope, IdemKey: key, RequestHash: hash, CreatedAt: now}).Error
	})
	if err != nil {
		var ie *IdempotencyError
		if _, dup := uniqueViolation(err); dup && !errors.As(err, &ie) {
			// Another request claimed the key between the read and the
			// insert.
			err = &IdempotencyError{Key: key, Kind: ErrIdempotencyInProgress}
		}
		return nil, fmt.Errorf("claim idempotency key %q: %w", key, err)
	}
	return stored, nil
}

// FinishIdempotencyKey records the response to the request that holds the
// claim on key.
func (s *Store) FinishIdempotencyKey(ctx context.Context, scope, key string, resp StoredResponse) error {
	err := s.write(ctx, func(tx *gorm.DB) error {
		return tx.Model(&idempotencyKey{}).Where("scope = ? AND idem_key = ? AND status = 0", scope, key).
			Updates(map[string]any{"status": resp.Status, "content_type": resp.ContentType, "location": resp.Location, "body": resp.Body}).Error
	})
	if err != nil {
		return fmt.Errorf("record the response to idempotency key %q: %w", key, err)
	}
	return nil
}

// ReleaseIdempotencyKey gives up the claim on key of a request that
// failed without a response worth keeping, so that a retry runs again.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, scope, key string) error {
	err := s.write(ctx, func(tx *gorm.DB) error {
		return tx.Where("scope = ? AND idem_key = ? AND status = 0", scope, key).Delete(&idempotencyKey{}).Error
	})
	if err != nil {
		return fmt.Errorf("release idempotency key %q: %w", key, err)
	}
	return nil
}

// sweepIdempotencyKeys deletes the keys older than IdempotencyKeyTTL.
func (s *Store) sweepIdempotencyKeys(ctx context.Context) error {
	return s.write(ctx, func(tx *gorm.DB) error {
		return tx.Where("created_at < ?", s.now().Add(-IdempotencyKeyTTL)).Delete(&idempotencyKey{}).Error
	})
}
