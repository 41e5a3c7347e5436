package models

import (
	"fmt"
	"io"
	"math/big"
	"strings"
)

// Character sets a format draws its random characters from.
const (
	CharsetUpperAlnum  = "upper-alnum"
	CharsetLowerAlnum  = "lower-alnum"
	CharsetDigits      = "digits"
	CharsetLetters     = "letters"
	CharsetUnambiguous = "unambiguous"
)

// charsets maps each charset name to its characters.
var charsets = map[string]string{
	CharsetUpperAlnum:  "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	CharsetLowerAlnum:  "0123456789abcdefghijklmnopqrstuvwxyz",
	CharsetDigits:      "0123456789",
	CharsetLetters:     "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	CharsetUnambiguous: "23456789ABCDEFGHJKMNPQRSTUVWXYZ",
}

// FormatInput describes the codes of a batch as a client sent it, before
// validation: either a pattern, or a random part of Length characters of
// Charset between an optional prefix and suffix.
type FormatInput struct {
	Prefix    string `json:"prefix,omitempty"`
	Suffix    string `json:"suffix,omitempty"`
	Delimiter string `json:"delimiter,omitempty"`
	Length    int    `json:"length,omitempty"`
	Charset   string `json:"charset,omitempty"`
	Exclude   string `json:"exclude,omitempty"`
	Pattern   string `json:"pattern,omitempty"`
	Check     bool   `json:"check,omitempty"`
}

// Format is a validated code format. The zero Format is not usable; make
// one with FormatInput.Compile.
type Format struct {
	in       FormatInput
	alphabet string
	// slots are the code's characters in order: a literal byte, or the
	// alphabet a random character is drawn from.
	slots []slot
}

type slot struct {
	literal  byte
	alphabet string
}

// Compile validates in and returns its Format. It fails with a
// *ValidationError naming each bad field under "format.".
func (in FormatInput) Compile() (Format, error) {
	if in.Charset == "" {
		in.Charset = CharsetUpperAlnum
	}
	alphabet, ok := charsets[in.Charset]
	if !ok {
		return Format{}, Invalid(FieldFormatCharset, "must be one of upper-alnum, lower-alnum, digits, letters, unambiguous")
	}
	if in.Length < 1 {
		return Format{}, Invalid(FieldFormatLength, "must be at least 1")
	}
	f := Format{in: in, alphabet: alphabet}
	add := func(s string) {
		for i := range len(s) {
			f.slots = append(f.slots, slot{literal: s[i]})
		}
	}
	if in.Prefix != "" {
		add(in.Prefix + in.Delimiter)
	}
	for range in.Length {
		f.slots = append(f.slots, slot{alphabet: alphabet})
	}
	if in.Suffix != "" {
		add(in.Delimiter + in.Suffix)
	}
	return f, nil
}

// Input is the format as it was given, for storing and showing.
func (f Format) Input() FormatInput { return f.in }

// CodeLength is the number of characters of every code of the format.
func (f Format) CodeLength() int { return len(f.slots) }

// Keyspace is the number of distinct codes the format can make.
func (f Format) Keyspace() *big.Int {
	n := big.NewInt(1)
	for _, s := range f.slots {
		if s.alphabet != "" {
			n.Mul(n, big.NewInt(int64(len(s.alphabet))))
		}
	}
	return n
}

// Shape names the set of codes the format can make, so that batches of
// the same shape count against one keyspace.
func (f Format) Shape() string {
	var b strings.Builder
	for _, s := range f.slots {
		if s.alphabet == "" {
			b.WriteByte(s.literal)
			continue
		}
		b.WriteString("{" + s.alphabet + "}")
	}
	return strings.ToLower(b.String())
}

// GuessProbability is the chance that one random guess of the format's
// shape hits one of codes existing codes.
func (f Format) GuessProbability(codes int64) float64 {
	p, _ := new(big.Float).Quo(big.NewFloat(float64(codes)), new(big.Float).SetInt(f.Keyspace())).Float64()
	return p
}

// CheckCapacity fails with a *ValidationError on FieldQuantity when
// quantity new codes and existing codes of the same shape would fill more
// than half of the keyspace.
func (f Format) CheckCapacity(quantity, existing int64) error {
	need := big.NewInt(quantity + existing)
	half := new(big.Int).Rsh(f.Keyspace(), 1)
	if need.Cmp(half) > 0 {
		return Invalid(FieldQuantity, fmt.Sprintf("the format can make %s codes; %d more with the %d of its shape that exist would fill more than half of them", f.Keyspace(), quantity, existing))
	}
	return nil
}

// Generator makes random codes of a format. It is not safe for
// concurrent use.
type Generator struct {
	f   Format
	gen *CodeRand
}

// Generator returns a generator of f's codes reading randomness from src.
func (f Format) Generator(src io.Reader) *Generator {
	return &Generator{f: f, gen: NewCodeRand(src)}
}

// Append appends one random code to dst. It fails only when the random
// source fails.
func (g *Generator) Append(dst []byte) ([]byte, error) {
	for _, s := range g.f.slots {
		if s.alphabet == "" {
			dst = append(dst, s.literal)
			continue
		}
		c, err := g.gen.String(s.alphabet, 1)
		if err != nil {
			return dst, err
		}
		dst = append(dst, c...)
	}
	return dst, nil
}

// Canonical normalises a code as a customer typed it and reports whether
// it has f's shape (and, with a check character, a valid one).
func (f Format) Canonical(code string) (string, bool) {
	code = strings.TrimSpace(code)
	if len(code) != len(f.slots) {
		return "", false
	}
	b := []byte(code)
	for i, s := range f.slots {
		if s.alphabet == "" {
			if !strings.EqualFold(string(b[i]), string(s.literal)) {
				return "", false
			}
			b[i] = s.literal
			continue
		}
		if !strings.Contains(s.alphabet, string(b[i])) {
			return "", false
		}
	}
	return string(b), true
}
