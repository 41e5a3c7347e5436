package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"
)

// ErrSetupDone is returned when first-run setup is asked for but an
// account already exists.
var ErrSetupDone = errors.New("setup is complete: an account exists")

// ErrSetupToken is returned for a setup token that is unknown or used.
var ErrSetupToken = errors.New("this setup link is not valid any more; restart coupond with no accounts to get a new one, or use 'coupond user create'")

// ErrLastAdmin is returned when a change would leave no enabled admin.
var ErrLastAdmin = errors.New("this is the last enabled admin: make another user admin first")

// setupToken is a one-time token that lets the operator create the first
// admin. Only its hash is stored.
type setupToken struct {
	ID        int64     `gorm:"primaryKey"`
	Hash      string    `gorm:"size:64;not null;uniqueIndex"`
	CreatedAt time.Time `gorm:"not null"`
}

func (setupToken) TableName() string { return "setup_tokens" }

// hashPassword hashes with bcrypt at the store's cost.
func (s *Store) hashPassword(p string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(p), s.passwordCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// CountUsers returns how many accounts exist.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&User{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// CreateUser creates an account. It fails with a *ValidationError for a
// bad field or an email already registered.
func (s *Store) CreateUser(ctx context.Context, in UserInput) (User, error) {
	var u User
	err := s.write(ctx, func(tx *gorm.DB) error {
		var err error
		u, err = s.createUser(ctx, tx, in)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

func (s *Store) createUser(ctx context.Context, tx *gorm.DB, in UserInput) (User, error) {
	in, err := in.validate()
	if err != nil {
		return User{}, err
	}
	hash, err := s.hashPassword(in.Password)
	if err != nil {
		return User{}, err
	}
	u := User{Email: in.Email, PasswordHash: hash, Role: in.Role, SessionVersion: 1}
	if err := tx.Create(&u).Error; err != nil {
		if errors.Is(translate(err), ErrDuplicateEmail) {
			return User{}, Invalid(FieldEmail, "is already registered")
		}
		return User{}, err
	}
	if err := s.audit(ctx, tx, ActionUserCreate, EntityUser, u.Email, "role="+u.Role); err != nil {
		return User{}, err
	}
	return u, nil
}

// Authenticate checks an email and password and records the attempt in
// the audit log. It fails with ErrBadCredentials for an unknown email, a
// wrong password or a disabled account.
func (s *Store) Authenticate(ctx context.Context, email, password string) (User, error) {
	var u User
	// Stored emails are trimmed and lower-cased, so this finds them; a
	// malformed one simply finds nothing, and is audited as typed.
	key := strings.ToLower(strings.TrimSpace(email))
	err := s.db.WithContext(ctx).Where("email = ?", key).Take(&u).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		// As slow as checking a real account's password, so the time taken
		// does not tell which emails have accounts.
		_ = bcrypt.CompareHashAndPassword(s.dummyHash(), []byte(password))
	case err != nil:
		return User{}, fmt.Errorf("authenticate %q: %w", key, err)
	}
	ok := u.ID != 0 && bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) == nil && !u.Disabled
	action, summary := ActionLoginFailed, "wrong email or password"
	if ok {
		action, summary = ActionLogin, "signed in"
	} else if u.Disabled {
		summary = "account disabled"
	}
	actx := WithActor(ctx, Actor{Kind: ActorUser, Name: truncate(key, 254), UserID: u.ID})
	if err := s.write(ctx, func(tx *gorm.DB) error {
		return s.audit(actx, tx, action, EntityUser, truncate(key, 128), summary)
	}); err != nil {
		return User{}, err
	}
	if !ok {
		return User{}, ErrBadCredentials
	}
	return u, nil
}

// RecordLogout writes the logout of the actor of ctx to the audit log.
func (s *Store) RecordLogout(ctx context.Context) error {
	a := ActorFrom(ctx)
	return s.write(ctx, func(tx *gorm.DB) error {
		return s.audit(ctx, tx, ActionLogout, EntityUser, a.Name, "signed out")
	})
}

// User returns an account by id. It fails with ErrNotFound.
func (s *Store) User(ctx context.Context, id int64) (User, error) {
	var u User
	if err := s.db.WithContext(ctx).Take(&u, id).Error; err != nil {
		return User{}, fmt.Errorf("get user %d: %w", id, notFound(err, "user", strconv.FormatInt(id, 10)))
	}
	return u, nil
}

// ListUsers returns every account by email.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	var us []User
	if err := s.db.WithContext(ctx).Order("email").Find(&us).Error; err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// changeUser locks a user, applies change and saves it with an audit
// event, refusing any change that leaves no enabled admin.
func (s *Store) changeUser(ctx context.Context, id int64, action string, change func(u *User) (string, error)) (User, error) {
	var u User
	err := s.write(ctx, func(tx *gorm.DB) error {
		// Serialise admin changes so two demotions cannot both pass the
		// last-admin check.
		if err := s.lock(tx, lockAdmins); err != nil {
			return err
		}
		if err := s.forUpdate(tx).Take(&u, id).Error; err != nil {
			return notFound(err, "user", strconv.FormatInt(id, 10))
		}
		wasAdmin := u.Role == RoleAdmin && !u.Disabled
		summary, err := change(&u)
		if err != nil {
			return err
		}
		if wasAdmin && (u.Role != RoleAdmin || u.Disabled) {
			var admins int64
			if err := tx.Model(&User{}).Where("role = ? AND disabled = ? AND id <> ?", RoleAdmin, false, u.ID).Count(&admins).Error; err != nil {
				return err
			}
			if admins == 0 {
				return ErrLastAdmin
			}
		}
		if err := tx.Save(&u).Error; err != nil {
			return err
		}
		return s.audit(ctx, tx, action, EntityUser, u.Email, summary)
	})
	if err != nil {
		return User{}, fmt.Errorf("%s %d: %w", action, id, err)
	}
	return u, nil
}

// SetUserRole changes a user's role. It fails with a *ValidationError for
// an unknown role, ErrNotFound, and ErrLastAdmin.
func (s *Store) SetUserRole(ctx context.Context, id int64, role string) (User, error) {
	if err := CheckRole(role); err != nil {
		return User{}, Invalid(FieldRole, err.Error())
	}
	return s.changeUser(ctx, id, ActionUserRole, func(u *User) (string, error) {
		summary := fmt.Sprintf("role %s → %s", u.Role, role)
		u.Role = role
		return summary, nil
	})
}

// SetUserDisabled disables an account, ending its sessions, or enables it
// again. It fails with ErrNotFound and ErrLastAdmin.
func (s *Store) SetUserDisabled(ctx context.Context, id int64, disabled bool) (User, error) {
	action := ActionUserEnable
	if disabled {
		action = ActionUserDisable
	}
	return s.changeUser(ctx, id, action, func(u *User) (string, error) {
		if disabled && !u.Disabled {
			u.SessionVersion++
		}
		u.Disabled = disabled
		if disabled {
			return "disabled; sessions ended", nil
		}
		return "enabled", nil
	})
}

// ChangePassword replaces a user's password after checking the current
// one, and ends every session of the user. It fails with a
// *ValidationError: it names "currentPassword" whenever the current
// password is wrong, and "newPassword" for a new password that breaks the
// rules. A new password alone is judged only with the right current one,
// so a refusal that names no "currentPassword" proves the current password
// was right.
func (s *Store) ChangePassword(ctx context.Context, id int64, current, next string) (User, error) {
	nextErr := CheckPassword(next)
	var hash string
	if nextErr == nil {
		var err error
		if hash, err = s.hashPassword(next); err != nil {
			return User{}, err
		}
	}
	return s.changeUser(ctx, id, ActionUserPassword, func(u *User) (string, error) {
		var verr ValidationError
		if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(current)) != nil {
			verr.Add(FieldCurrentPassword, "is not your current password")
		}
		if nextErr != nil {
			verr.Add(FieldNewPassword, nextErr.Error())
		}
		if err := verr.Err(); err != nil {
			return "", err
		}
		u.PasswordHash = hash
		u.SessionVersion++
		return "password changed; other sessions ended", nil
	})
}

// NewSetupToken returns a fresh one-time setup token when no account
// exists, and ErrSetupDone otherwise. Only its hash is stored.
func (s *Store) NewSetupToken(ctx context.Context) (string, error) {
	n, err := s.CountUsers(ctx)
	if err != nil {
		return "", err
	}
	if n > 0 {
		return "", ErrSetupDone
	}
	plain, hash, err := newSecret("")
	if err != nil {
		return "", err
	}
	if err := s.write(ctx, func(tx *gorm.DB) error { return tx.Create(&setupToken{Hash: hash}).Error }); err != nil {
		return "", fmt.Errorf("store setup token: %w", err)
	}
	return plain, nil
}

// CheckSetupToken reports ErrSetupDone when an account exists and
// ErrSetupToken when the token is unknown. It only reads: SetupAdmin
// checks again inside its own transaction.
func (s *Store) CheckSetupToken(ctx context.Context, token string) error {
	return checkSetupToken(s.db.WithContext(ctx), token)
}

func checkSetupToken(tx *gorm.DB, token string) error {
	if !utf8.ValidString(token) {
		return ErrSetupToken
	}
	var n int64
	if err := tx.Model(&User{}).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return ErrSetupDone
	}
	var t setupToken
	err := tx.Where("hash = ?", hashSecret(token)).Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrSetupToken
	}
	return err
}

// SetupAdmin uses a setup token to create the first admin; every setup
// token dies with it. It fails with ErrSetupDone, ErrSetupToken, or a
// *ValidationError.
func (s *Store) SetupAdmin(ctx context.Context, token string, in UserInput) (User, error) {
	in.Role = RoleAdmin
	var u User
	err := s.write(ctx, func(tx *gorm.DB) error {
		// Two instances, or two clicks, must not both see "no account
		// yet" under READ COMMITTED.
		if err := s.lock(tx, lockAdmins); err != nil {
			return err
		}
		if err := checkSetupToken(tx, token); err != nil {
			return err
		}
		// Spending the token is the gate: only the transaction that
		// deletes it goes on.
		res := tx.Where("hash = ?", hashSecret(token)).Delete(&setupToken{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrSetupToken
		}
		var err error
		if u, err = s.createUser(ctx, tx, in); err != nil {
			return err
		}
		return tx.Where("1 = 1").Delete(&setupToken{}).Error
	})
	if err != nil {
		return User{}, fmt.Errorf("set up first admin: %w", err)
	}
	return u, nil
}

// newSecret returns a random URL-safe secret with an optional prefix and
// its SHA-256 hash. Secrets carry 256 bits, so a fast hash is enough.
func newSecret(prefix string) (plain, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("make secret: %w", err)
	}
	plain = prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return plain, hashSecret(plain), nil
}

func hashSecret(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}
