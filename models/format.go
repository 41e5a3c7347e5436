package models

import (
	"fmt"
	"io"
	"math"
	"math/big"
	"slices"
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

// Charsets lists every charset, in the order forms offer them.
var Charsets = []string{CharsetUpperAlnum, CharsetLowerAlnum, CharsetDigits, CharsetLetters, CharsetUnambiguous}

// charsets maps each charset name to its characters, in byte order.
var charsets = map[string]string{
	CharsetUpperAlnum:  "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	CharsetLowerAlnum:  "0123456789abcdefghijklmnopqrstuvwxyz",
	CharsetDigits:      "0123456789",
	CharsetLetters:     "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	CharsetUnambiguous: "23456789ABCDEFGHJKMNPQRSTUVWXYZ",
}

// ambiguous are the characters the unambiguous charset leaves out; the
// pattern's # and ? leave them out too under that charset.
const ambiguous = "01ILO"

// patternNames says what each pattern character stands for.
var patternNames = map[byte]string{PatternAny: "the charset", PatternDigit: "# (digits)", PatternLetter: "? (letters)"}

// Delimiters a format may put between its prefix or suffix and the
// random part.
var Delimiters = []string{"", "-", "_"}

// Pattern characters: a digit, a letter, a character of the charset.
// Anything else in a pattern is literal.
const (
	PatternDigit  = '#'
	PatternLetter = '?'
	PatternAny    = '*'
)

// DefaultFormatLength is the random part's length when a format names
// neither a length nor a pattern.
const DefaultFormatLength = 12

// MaxGuessProbability is the chance of a random guess hitting a code
// above which the console warns before it generates.
const MaxGuessProbability = 1e-6

// FormatInput describes the codes of a batch as a client sent it, before
// validation: either a pattern, or a random part of Length characters of
// Charset; either way between an optional prefix and suffix, each joined
// by Delimiter. Exclude lists characters never drawn; Check appends a
// check character.
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
// one with FormatInput.Compile. A Format is immutable and safe to share.
type Format struct {
	in FormatInput
	// slots are the code's characters in order, the check character
	// (when there is one) last.
	slots []slot
	// check is the alphabet of the check character: every character the
	// random slots can hold; "" without a check character.
	check      string
	checkValue [256]int8
	// unambiguous turns on the reading of O as 0 and I, L as 1.
	unambiguous bool
}

// slot is one character of a code: a literal byte, or an alphabet that a
// random character is drawn from.
type slot struct {
	literal  byte
	alphabet string
	// limit is 256 - 256%len(alphabet), for rejection sampling.
	limit int
	// folds maps a typed byte to the alphabet's character it stands for,
	// or 0.
	folds *[256]byte
}

// Compile validates in and returns its Format. It fails with a
// *ValidationError naming each bad field under "format.".
func (in FormatInput) Compile() (Format, error) {
	var verr ValidationError
	if in.Charset == "" {
		in.Charset = CharsetUpperAlnum
	}
	charset, ok := charsets[in.Charset]
	if !ok {
		verr.Add(FieldFormatCharset, "must be one of "+strings.Join(Charsets, ", "))
		charset = charsets[CharsetUpperAlnum]
	}
	excluded, err := parseExclude(in.Exclude)
	if err != nil {
		verr.Add(FieldFormatExclude, err.Error())
	}
	in.Exclude = excluded
	checkLiteral := func(field, s string) {
		for i := range len(s) {
			if !isCodeRune(rune(s[i])) {
				verr.Add(field, fmt.Sprintf("may contain only letters A–Z, digits, '-' and '_' (found %q)", s[i]))
				return
			}
		}
	}
	checkLiteral(FieldFormatPrefix, in.Prefix)
	checkLiteral(FieldFormatSuffix, in.Suffix)
	if !slices.Contains(Delimiters, in.Delimiter) {
		verr.Add(FieldFormatDelimiter, `must be "-", "_" or empty`)
	}
	f := Format{in: in, unambiguous: in.Charset == CharsetUnambiguous}
	alphabets := map[byte]string{
		PatternAny:    without(charset, excluded),
		PatternDigit:  without("0123456789", excluded),
		PatternLetter: without("ABCDEFGHIJKLMNOPQRSTUVWXYZ", excluded),
	}
	if in.Charset == CharsetLowerAlnum {
		alphabets[PatternLetter] = strings.ToLower(alphabets[PatternLetter])
	}
	if f.unambiguous {
		alphabets[PatternDigit] = without(alphabets[PatternDigit], ambiguous)
		alphabets[PatternLetter] = without(alphabets[PatternLetter], ambiguous)
	}
	body := in.Pattern
	switch {
	case in.Pattern != "" && in.Length != 0:
		verr.Add(FieldFormatLength, "must be left empty when a pattern is given: the pattern sets the length")
	case in.Pattern != "":
		literals := strings.Map(func(r rune) rune {
			if r == PatternDigit || r == PatternLetter || r == PatternAny {
				return -1
			}
			return r
		}, in.Pattern)
		if strings.ContainsFunc(literals, func(r rune) bool { return !isCodeRune(r) }) {
			verr.Add(FieldFormatPattern, "may contain only # (a digit), ? (a letter), * (a character of the charset), and letters, digits, '-' and '_' kept as they are")
		} else if len(literals) == len(in.Pattern) {
			verr.Add(FieldFormatPattern, "must contain at least one random character: # (a digit), ? (a letter) or * (a character of the charset)")
		}
	case in.Length < 0 || in.Length > MaxCodeLength:
		verr.Add(FieldFormatLength, fmt.Sprintf("must be between 1 and %d", MaxCodeLength))
	default:
		if in.Length == 0 {
			in.Length = DefaultFormatLength
			f.in.Length = DefaultFormatLength
		}
		body = strings.Repeat(string(rune(PatternAny)), in.Length)
	}
	for _, c := range []byte{PatternAny, PatternDigit, PatternLetter} {
		if alphabets[c] == "" && strings.IndexByte(body, c) >= 0 {
			verr.Add(FieldFormatExclude, fmt.Sprintf("leaves no characters for %s; exclude fewer", patternNames[c]))
			break
		}
	}
	if err := verr.Err(); err != nil {
		return Format{}, err
	}
	literal := func(s string) {
		for i := range len(s) {
			f.slots = append(f.slots, slot{literal: s[i]})
		}
	}
	if in.Prefix != "" {
		literal(in.Prefix + in.Delimiter)
	}
	for i := range len(body) {
		if a, ok := alphabets[body[i]]; ok {
			f.slots = append(f.slots, newSlot(a, f.unambiguous))
			continue
		}
		f.slots = append(f.slots, slot{literal: body[i]})
	}
	if in.Suffix != "" {
		literal(in.Delimiter + in.Suffix)
	}
	if in.Check {
		var union []byte
		for _, s := range f.slots {
			union = append(union, s.alphabet...)
		}
		slices.Sort(union)
		f.check = string(slices.Compact(union))
		for i := range f.checkValue {
			f.checkValue[i] = -1
		}
		for i := range len(f.check) {
			f.checkValue[f.check[i]] = int8(i)
		}
		f.slots = append(f.slots, newSlot(f.check, f.unambiguous))
	}
	switch first := f.slots[0]; {
	case len(f.slots) > MaxCodeLength:
		field := FieldFormatLength
		if in.Pattern != "" {
			field = FieldFormatPattern
		}
		return Format{}, Invalid(field, fmt.Sprintf("makes codes of %d characters with the prefix, suffix and check character; codes are at most %d", len(f.slots), MaxCodeLength))
	case first.alphabet == "" && (first.literal == '-' || first.literal == '_'):
		field := FieldFormatPrefix
		if in.Prefix == "" {
			field = FieldFormatPattern
		}
		return Format{}, Invalid(field, "must start with a letter or a digit, so that no code reads as a formula in a spreadsheet")
	}
	return f, nil
}

// parseExclude reads the characters to exclude, written together
// ("0O1IL") or separated by commas or spaces, as upper-case letters and
// digits in byte order, each once.
func parseExclude(raw string) (string, error) {
	var out []byte
	for _, r := range raw {
		switch {
		case r == ',' || r == ' ':
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		default:
			return "", fmt.Errorf("may list only letters and digits (found %q)", r)
		}
		out = append(out, byte(r))
	}
	slices.Sort(out)
	return string(slices.Compact(out)), nil
}

// without is chars without those in drop, compared ignoring case.
func without(chars, drop string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(drop, toUpperASCII(r)) {
			return -1
		}
		return r
	}, chars)
}

func toUpperASCII(r rune) rune {
	if r >= 'a' && r <= 'z' {
		return r - ('a' - 'A')
	}
	return r
}

// newSlot is a random slot of alphabet, reading a typed character in
// either case and, for the unambiguous set, O as 0 and I or L as 1.
func newSlot(alphabet string, unambiguous bool) slot {
	s := slot{alphabet: alphabet, limit: 256 - 256%len(alphabet), folds: new([256]byte)}
	for i := range len(alphabet) {
		c := alphabet[i]
		s.folds[c] = c
		s.folds[lowerASCII(c)] = c
		s.folds[byte(toUpperASCII(rune(c)))] = c
	}
	if unambiguous {
		for typed, meant := range confusables {
			if strings.IndexByte(alphabet, meant) >= 0 && s.folds[typed] == 0 {
				s.folds[typed] = meant
			}
		}
	}
	return s
}

// confusables are what a customer may type for the character meant.
var confusables = map[byte]byte{'O': '0', 'o': '0', 'I': '1', 'i': '1', 'L': '1', 'l': '1'}

// Input is the format as it was given, with its defaults filled in, for
// storing and showing.
func (f Format) Input() FormatInput { return f.in }

// CodeLength is the number of characters of every code of the format.
func (f Format) CodeLength() int { return len(f.slots) }

// readsCarefully reports whether look-ups must read codes by the format
// (a check character, or the unambiguous set's reading of O, I and L)
// rather than by case alone.
func (f Format) readsCarefully() bool { return f.check != "" || f.unambiguous }

// Keyspace is the number of distinct codes the format can make. The
// check character adds none: it follows from the rest.
func (f Format) Keyspace() *big.Int {
	n := big.NewInt(1)
	for _, s := range f.random() {
		n.Mul(n, big.NewInt(int64(len(s.alphabet))))
	}
	return n
}

// random is the slots drawn at random, without the check character.
func (f Format) random() []slot {
	out := make([]slot, 0, len(f.slots))
	for _, s := range f.slots[:len(f.slots)-f.checkLen()] {
		if s.alphabet != "" {
			out = append(out, s)
		}
	}
	return out
}

func (f Format) checkLen() int {
	if f.check != "" {
		return 1
	}
	return 0
}

// Shape names the set of codes the format can make, case-folded, so that
// batches of the same shape count against one keyspace.
func (f Format) Shape() string {
	var b strings.Builder
	// The check character is named on its own: its alphabet is often
	// the charset, and counted into the run before it, 12 characters and
	// a check would read as 13 characters.
	body := f.slots[:len(f.slots)-f.checkLen()]
	for i := 0; i < len(body); {
		s := body[i]
		if s.alphabet == "" {
			b.WriteByte(lowerASCII(s.literal))
			i++
			continue
		}
		run := 1
		for i+run < len(body) && body[i+run].alphabet == s.alphabet {
			run++
		}
		fmt.Fprintf(&b, "{%s}", strings.ToLower(s.alphabet))
		if run > 1 {
			fmt.Fprintf(&b, "%d", run)
		}
		i += run
	}
	if f.check != "" {
		fmt.Fprintf(&b, "{check:%s}", strings.ToLower(f.check))
	}
	return b.String()
}

// Describe is the format in words for a person, such as
// "SPRING-" + 10 × upper-alnum + check character.
func (f Format) Describe() string {
	var parts []string
	if f.in.Prefix != "" {
		parts = append(parts, fmt.Sprintf("%q", f.in.Prefix+f.in.Delimiter))
	}
	body := fmt.Sprintf("%d × %s", f.in.Length, f.in.Charset)
	if f.in.Pattern != "" {
		body = fmt.Sprintf("pattern %s of %s", f.in.Pattern, f.in.Charset)
	}
	if f.in.Exclude != "" {
		body += " without " + f.in.Exclude
	}
	parts = append(parts, body)
	if f.in.Suffix != "" {
		parts = append(parts, fmt.Sprintf("%q", f.in.Delimiter+f.in.Suffix))
	}
	if f.check != "" {
		parts = append(parts, "check character")
	}
	return strings.Join(parts, " + ")
}

// GuessProbability is the chance that one random guess of the format's
// shape hits one of codes existing codes. The check character is not
// counted as a defence: whoever knows the format can compute it.
func (f Format) GuessProbability(codes int64) float64 {
	p, _ := new(big.Float).Quo(new(big.Float).SetInt64(codes), new(big.Float).SetInt(f.Keyspace())).Float64()
	return min(p, 1)
}

// CheckCapacity fails with a *ValidationError on FieldQuantity when
// quantity new codes and existing codes of the same shape would fill more
// than half of the keyspace. The message states the keyspace and a
// length that would fit.
func (f Format) CheckCapacity(quantity, existing int64) error {
	need := big.NewInt(quantity + existing)
	if new(big.Int).Lsh(need, 1).Cmp(f.Keyspace()) <= 0 {
		return nil
	}
	msg := fmt.Sprintf("the format %s can make %s codes, and %d more beside the %d of its shape that exist would fill more than half of them; ",
		f.Describe(), f.Keyspace(), quantity, existing)
	more, ok := f.moreRandom(need)
	switch {
	case !ok:
		msg += fmt.Sprintf("no format of this kind within %d characters fits; ask for fewer codes", MaxCodeLength)
	case f.in.Pattern != "":
		msg += fmt.Sprintf("add at least %d more random characters (* # ?) to the pattern", more)
	default:
		msg += fmt.Sprintf("a length of %d fits", f.in.Length+more)
	}
	return Invalid(FieldQuantity, msg)
}

// moreRandom is how many more random characters of the format's widest
// alphabet would make the keyspace at least twice need, within the
// longest code; false when none would.
func (f Format) moreRandom(need *big.Int) (int, bool) {
	width := 0
	for _, s := range f.random() {
		width = max(width, len(s.alphabet))
	}
	if f.in.Pattern == "" {
		width = len(f.random()[0].alphabet)
	}
	if width < 2 {
		return 0, false
	}
	k, want := f.Keyspace(), new(big.Int).Lsh(need, 1)
	for more := 1; len(f.slots)+more <= MaxCodeLength; more++ {
		if k.Mul(k, big.NewInt(int64(width))).Cmp(want) >= 0 {
			return more, true
		}
	}
	return 0, false
}

// Odds writes a probability for people: "1 in 2.8 million", "1 in
// 3.4 × 10^18", "certain".
func Odds(p float64) string {
	switch {
	case p <= 0:
		return "none"
	case p >= 1:
		return "certain"
	}
	n := 1 / p
	switch {
	case n < 9999.5:
		return fmt.Sprintf("1 in %.0f", n)
	case n < 1e6:
		return fmt.Sprintf("1 in %.0f thousand", n/1e3)
	case n < 1e9:
		return fmt.Sprintf("1 in %.1f million", n/1e6)
	case n < 1e12:
		return fmt.Sprintf("1 in %.1f billion", n/1e9)
	}
	e := math.Floor(math.Log10(n))
	return fmt.Sprintf("1 in %.1f × 10^%.0f", n/math.Pow(10, e), e)
}

// Generator makes random codes of a format. It is not safe for
// concurrent use.
type Generator struct {
	f   Format
	gen *CodeRand
	// radix is the alphabet size of each random slot, in order.
	radix  []int
	bucket [8]int
}

// Generator returns a generator of f's codes reading randomness from src.
func (f Format) Generator(src io.Reader) *Generator {
	g := &Generator{f: f, gen: NewCodeRand(src)}
	for _, s := range f.random() {
		g.radix = append(g.radix, len(s.alphabet))
	}
	return g
}

// Append appends one random code to dst. It fails only when the random
// source fails.
func (g *Generator) Append(dst []byte) ([]byte, error) {
	return g.AppendInBucket(dst, 0, 0)
}

// Buckets splits the format's codes by their first random characters
// into at most limit ranges of equal size that follow one another in the
// codes' order (each range holds the codes whose first k random
// characters are one value of them): it returns how many there are and
// k. A format with one possible value of its first characters has one
// bucket.
func (f Format) Buckets(limit int) (n, k int) {
	n = 1
	for _, s := range f.random() {
		if n*len(s.alphabet) > limit || k == 8 {
			break
		}
		n *= len(s.alphabet)
		k++
	}
	return n, k
}

// AppendInBucket appends one random code of bucket b of the buckets of
// the format's first k random characters (see Buckets) to dst: those
// characters are b's digits, the others random. It fails only when the
// random source fails.
func (g *Generator) AppendInBucket(dst []byte, b, k int) ([]byte, error) {
	start := len(dst)
	random := g.f.slots[:len(g.f.slots)-g.f.checkLen()]
	// b's digits, most significant first, in the first k slots' radixes.
	for j := k - 1; j >= 0; j-- {
		g.bucket[j] = b % g.radix[j]
		b /= g.radix[j]
	}
	r := 0
	for i := range random {
		s := &random[i]
		if s.alphabet == "" {
			dst = append(dst, s.literal)
			continue
		}
		var j int
		if r < k {
			j = g.bucket[r]
		} else {
			var err error
			if j, err = g.gen.index(len(s.alphabet), s.limit); err != nil {
				return dst[:start], err
			}
		}
		r++
		dst = append(dst, s.alphabet[j])
	}
	if g.f.check != "" {
		dst = append(dst, g.f.checkChar(dst[start:]))
	}
	return dst, nil
}

// Bucket draws a bucket of n uniformly, for spreading codes over the
// buckets as independent codes would fall.
func (g *Generator) Bucket(n int) (int, error) {
	if n <= 256 {
		return g.gen.index(n, 256-256%n)
	}
	// Two bytes at a time: a 16-bit number below the largest multiple of
	// n under 65536.
	limit := 65536 - 65536%n
	for {
		hi, err := g.gen.byte()
		if err != nil {
			return 0, err
		}
		lo, err := g.gen.byte()
		if err != nil {
			return 0, err
		}
		if v := int(hi)<<8 | int(lo); v < limit {
			return v % n, nil
		}
	}
}

// checkChar is the check character of code's random characters over an
// alphabet of N characters: every other character, from the right, is
// doubled. For even N that is Luhn mod N, which catches every single
// mistyped character and nearly every swap of two neighbours; for odd N
// the doubled value is taken mod N as it is (2 is invertible there),
// which catches both always.
func (f Format) checkChar(code []byte) byte {
	n := len(f.check)
	sum, factor := 0, 2
	for i := len(f.slots) - f.checkLen() - 1; i >= 0; i-- {
		if f.slots[i].alphabet == "" {
			continue
		}
		addend := factor * int(f.checkValue[code[i]])
		if n%2 == 0 {
			addend = addend/n + addend%n
		}
		sum += addend
		factor = 3 - factor
	}
	return f.check[(n-sum%n)%n]
}

// Match is what Canonical found.
type Match int

// Canonical's verdicts: the code does not have the format's shape, it
// does and is valid, or it does but its check character is wrong (a
// mistyped code).
const (
	NoMatch Match = iota
	Matches
	BadCheck
)

// Canonical normalises a code as a customer typed it — surrounding
// spaces, case, and for the unambiguous set O read as 0 and I or L as 1 —
// and reports whether it has f's shape and, with a check character, a
// valid one. The code is returned as the format writes it.
func (f Format) Canonical(code string) (string, Match) {
	code = strings.TrimSpace(code)
	if len(code) != len(f.slots) {
		return "", NoMatch
	}
	b := []byte(code)
	for i, s := range f.slots {
		if s.alphabet != "" {
			if b[i] = s.folds[b[i]]; b[i] == 0 {
				return "", NoMatch
			}
			continue
		}
		typed := b[i]
		if f.unambiguous {
			if meant, ok := confusables[typed]; ok && meant == s.literal {
				typed = meant
			}
		}
		if lowerASCII(typed) != lowerASCII(s.literal) {
			return "", NoMatch
		}
		b[i] = s.literal
	}
	if f.check != "" && f.checkChar(b) != b[len(b)-1] {
		return string(b), BadCheck
	}
	return string(b), Matches
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
