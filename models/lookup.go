package models

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
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
	mu         sync.Mutex
	read       time.Time
	formats    []Format
	refreshing bool
	// epoch counts forgetFormats calls: a read that began before one is
	// kept but not trusted, as it may miss the batch just made.
	epoch int
}

// forgetFormats makes the next look-up read the formats again.
func (s *Store) forgetFormats() {
	s.formats.mu.Lock()
	s.formats.read = time.Time{}
	s.formats.epoch++
	s.formats.mu.Unlock()
}

// lookupFormats returns the formats of every batch and series that has a check
// character or uses the unambiguous set, reading them through q (the
// caller's transaction, when it has one: a look-up inside a write must
// not wait for another connection of the pool) when the list is stale.
// While one caller reads them again the others keep the list they have;
// no lock is held during the query.
func (s *Store) lookupFormats(q *gorm.DB) ([]Format, error) {
	c := &s.formats
	c.mu.Lock()
	if !c.read.IsZero() && (time.Since(c.read) < formatCacheTTL || c.refreshing) {
		fs := c.formats
		c.mu.Unlock()
		return fs, nil
	}
	c.refreshing = true
	epoch := c.epoch
	c.mu.Unlock()
	fs, err := readLookupFormats(q)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refreshing = false
	if err != nil {
		if !c.read.IsZero() {
			// A failed read keeps the list it had: look-ups and a
			// running batch go on, and the next one reads again.
			return c.formats, nil
		}
		return nil, err
	}
	c.formats = fs
	if c.epoch == epoch {
		c.read = time.Now()
	}
	return fs, nil
}

// readLookupFormats reads the formats lookupFormats keeps.
func readLookupFormats(q *gorm.DB) ([]Format, error) {
	var raw []string
	for _, model := range []any{&Batch{}, &Series{}} {
		var some []string
		err := q.Model(model).Distinct("format").
			Where("format LIKE ? OR format LIKE ?", `%"check":true%`, `%"charset":"`+CharsetUnambiguous+`"%`).
			Pluck("format", &some).Error
		if err != nil {
			return nil, fmt.Errorf("read code formats: %w", err)
		}
		raw = append(raw, some...)
	}
	var fs []Format
	for _, r := range raw {
		var in FormatInput
		if json.Unmarshal([]byte(r), &in) != nil {
			continue
		}
		if f, err := in.Compile(); err == nil {
			fs = append(fs, f)
		}
	}
	return fs, nil
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
// mistyped: it is refused without a database look-up. q reads the formats
// when they are stale (see lookupFormats).
func (s *Store) codeKey(q *gorm.DB, code string) (string, bool, error) {
	fs, err := s.lookupFormats(q)
	if err != nil {
		return "", false, err
	}
	key, m := readCode(fs, code)
	return key, m != BadCheck, nil
}

// checkLiteralCode fails with a *ValidationError when a code chosen by
// hand could never be found (reading the formats through q): a batch's format with a check character
// claims its shape but the check character is wrong, or the unambiguous
// set reads it as another code.
func (s *Store) checkLiteralCode(q *gorm.DB, code string) error {
	// Read now, not from the cache: a format another instance made a
	// moment ago must not let an unfindable code in.
	fs, err := readLookupFormats(q)
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
