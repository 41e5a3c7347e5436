package models

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Codes of a format with a check character, or of the unambiguous set,
// are read the way the format writes them before they are looked up: a
// mistyped check character is refused without asking the database, and
// O, I and L typed for 0 and 1 find the code meant. The store keeps the
// formats that need this in memory and reads them again after a batch is
// made here, or every formatCacheTTL (for batches made by another
// instance).

// formatCacheTTL is how long the store trusts its list of formats.
const formatCacheTTL = 10 * time.Second

// formatCache is the formats whose codes are read more carefully than by
// case.
type formatCache struct {
	mu      sync.Mutex
	read    time.Time
	formats []Format
}

// forgetFormats makes the next look-up read the formats again.
func (s *Store) forgetFormats() {
	s.formats.mu.Lock()
	s.formats.read = time.Time{}
	s.formats.mu.Unlock()
}

// lookupFormats returns the formats of every batch that has a check
// character or uses the unambiguous set.
func (s *Store) lookupFormats(ctx context.Context) ([]Format, error) {
	c := &s.formats
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := time.Now(); !c.read.IsZero() && now.Sub(c.read) < formatCacheTTL {
		return c.formats, nil
	}
	var raw []string
	err := s.db.WithContext(ctx).Model(&Batch{}).Distinct("format").
		Where("format LIKE ? OR format LIKE ?", `%"check":true%`, `%"charset":"`+CharsetUnambiguous+`"%`).
		Pluck("format", &raw).Error
	if err != nil {
		return nil, fmt.Errorf("read code formats: %w", err)
	}
	c.formats = c.formats[:0]
	for _, r := range raw {
		var in FormatInput
		if json.Unmarshal([]byte(r), &in) != nil {
			continue
		}
		if f, err := in.Compile(); err == nil {
			c.formats = append(c.formats, f)
		}
	}
	c.read = time.Now()
	return c.formats, nil
}

// readCode is code as the formats read it: the key it is looked up under,
// and BadCheck when a format with a check character claims its shape but
// its check character is wrong (and no other format reads it). Codes of
// no such format are keyed by case alone.
func readCode(formats []Format, code string) (string, Match) {
	verdict := NoMatch
	for _, f := range formats {
		canon, m := f.Canonical(code)
		switch m {
		case Matches:
			return CodeKey(canon), Matches
		case BadCheck:
			verdict = BadCheck
		}
	}
	if verdict == BadCheck {
		return "", BadCheck
	}
	return CodeKey(code), NoMatch
}

// codeKey is the key code is looked up under, and false when the code is
// mistyped: it is refused without a database look-up.
func (s *Store) codeKey(ctx context.Context, code string) (string, bool, error) {
	fs, err := s.lookupFormats(ctx)
	if err != nil {
		return "", false, err
	}
	key, m := readCode(fs, code)
	return key, m != BadCheck, nil
}

// checkLiteralCode fails with a *ValidationError when a code chosen by
// hand could never be found: a batch's format with a check character
// claims its shape but the check character is wrong, or the unambiguous
// set reads it as another code.
func (s *Store) checkLiteralCode(ctx context.Context, code string) error {
	fs, err := s.lookupFormats(ctx)
	if err != nil {
		return err
	}
	key, m := readCode(fs, code)
	switch {
	case m == BadCheck:
		return Invalid(FieldCode, fmt.Sprintf("%q has the shape of generated codes that end in a check character, but not a valid one, so it could never be redeemed; choose a code of another length or with another prefix", code))
	case key != CodeKey(code):
		return Invalid(FieldCode, fmt.Sprintf("%q is read as %q by the format of generated codes of the same shape (O read as 0, I and L as 1), so it could never be redeemed; choose another code", code, strings.ToUpper(key)))
	}
	return nil
}
