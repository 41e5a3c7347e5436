package models

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// Roles of console users.
const (
	RoleAdmin  = "admin"
	RoleEditor = "editor"
	RoleViewer = "viewer"
)

// Roles lists the roles, most powerful first.
var Roles = []string{RoleAdmin, RoleEditor, RoleViewer}

// Password length bounds; bcrypt reads at most 72 bytes.
const (
	MinPasswordLength = 10
	MaxPasswordBytes  = 72
)

// ErrBadCredentials is returned for an unknown email, a wrong password or a
// disabled account alike, so a login attempt learns nothing more.
var ErrBadCredentials = errors.New("the email or the password is not right")

// User is a console account. Email is stored lower-case and is unique.
// SessionVersion grows whenever the user's sessions must end (password
// change, disabling); a session carrying an older version is void.
type User struct {
	ID             int64     `gorm:"primaryKey"`
	Email          string    `gorm:"size:254;not null;uniqueIndex"`
	PasswordHash   string    `gorm:"size:100;not null"`
	Role           string    `gorm:"size:16;not null"`
	Disabled       bool      `gorm:"not null;default:false"`
	SessionVersion int64     `gorm:"not null;default:1"`
	CreatedAt      time.Time `gorm:"not null"`
	UpdatedAt      time.Time `gorm:"not null"`
}

// CanEdit reports whether the role may change coupons, promotions and
// batches.
func CanEdit(role string) bool { return role == RoleAdmin || role == RoleEditor }

// CanAdmin reports whether the role may manage users and tokens.
func CanAdmin(role string) bool { return role == RoleAdmin }

// NormalizeEmail trims, lower-cases and checks an email address.
func NormalizeEmail(raw string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(raw))
	if e == "" {
		return "", fmt.Errorf("is required")
	}
	if len(e) > 254 {
		return "", fmt.Errorf("must be at most 254 characters")
	}
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Address != e {
		return "", fmt.Errorf("must be an email address like name@example.com")
	}
	return e, nil
}

// CheckPassword enforces the password rules: 10 to 72 bytes.
func CheckPassword(p string) error {
	switch {
	case len(p) < MinPasswordLength:
		return fmt.Errorf("must be at least %d characters", MinPasswordLength)
	case len(p) > MaxPasswordBytes:
		return fmt.Errorf("must be at most %d bytes", MaxPasswordBytes)
	}
	return nil
}

// CheckRole accepts admin, editor and viewer.
func CheckRole(r string) error {
	for _, ok := range Roles {
		if r == ok {
			return nil
		}
	}
	return fmt.Errorf("must be admin, editor or viewer")
}

// UserInput is a new account as typed.
type UserInput struct {
	Email    string
	Password string
	Role     string
}

// validate normalises the email and checks every field.
func (in UserInput) validate() (UserInput, error) {
	var verr ValidationError
	var err error
	if in.Email, err = NormalizeEmail(in.Email); err != nil {
		verr.Add(FieldEmail, err.Error())
	}
	if err := CheckPassword(in.Password); err != nil {
		verr.Add(FieldPassword, err.Error())
	}
	if err := CheckRole(in.Role); err != nil {
		verr.Add(FieldRole, err.Error())
	}
	return in, verr.Err()
}
