package models_test

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
)

func mustFormat(t *testing.T, in models.FormatInput) models.Format {
	t.Helper()
	f, err := in.Compile()
	if err != nil {
		t.Fatalf("format %+v: %v", in, err)
	}
	return f
}

// sampleCodes draws n codes of f from a fixed seed.
func sampleCodes(t *testing.T, f models.Format, n int, seed byte) []string {
	t.Helper()
	gen := f.Generator(rand.NewChaCha8([32]byte{seed}))
	out := make([]string, n)
	for i := range out {
		b, err := gen.Append(nil)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(b)
	}
	return out
}

func TestFormatsMakeTheCodesTheySay(t *testing.T) {
	t.Parallel()
	pow := func(b, e int64) *big.Int { return new(big.Int).Exp(big.NewInt(b), big.NewInt(e), nil) }
	tests := []struct {
		name     string
		in       models.FormatInput
		code     string // a regexp every code matches
		keyspace *big.Int
	}{
		{"defaults", models.FormatInput{}, `^[0-9A-Z]{12}$`, pow(36, 12)},
		{"prefix and suffix with a delimiter", models.FormatInput{Prefix: "SPRING", Suffix: "X", Delimiter: "-", Length: 8}, `^SPRING-[0-9A-Z]{8}-X$`, pow(36, 8)},
		{"delimiter only beside what is there", models.FormatInput{Suffix: "EU", Delimiter: "_", Length: 6}, `^[0-9A-Z]{6}_EU$`, pow(36, 6)},
		{"lower-case", models.FormatInput{Length: 10, Charset: models.CharsetLowerAlnum}, `^[0-9a-z]{10}$`, pow(36, 10)},
		{"digits", models.FormatInput{Length: 9, Charset: models.CharsetDigits}, `^[0-9]{9}$`, pow(10, 9)},
		{"letters", models.FormatInput{Length: 5, Charset: models.CharsetLetters}, `^[A-Z]{5}$`, pow(26, 5)},
		{"unambiguous", models.FormatInput{Length: 8, Charset: models.CharsetUnambiguous}, `^[2-9A-HJKMNP-Z]{8}$`, pow(31, 8)},
		{"excluded characters, any case, with separators", models.FormatInput{Length: 6, Charset: models.CharsetDigits, Exclude: "0, 1 9"}, `^[2-8]{6}$`, pow(7, 6)},
		{"pattern", models.FormatInput{Pattern: "BDAY-####-????"}, `^BDAY-[0-9]{4}-[A-Z]{4}$`, new(big.Int).Mul(pow(10, 4), pow(26, 4))},
		{"pattern with * and a prefix", models.FormatInput{Prefix: "VIP", Delimiter: "-", Pattern: "**#", Charset: models.CharsetLowerAlnum}, `^VIP-[0-9a-z]{2}[0-9]$`, new(big.Int).Mul(pow(36, 2), pow(10, 1))},
		{"unambiguous pattern drops 0 1 I L O from # and ?", models.FormatInput{Pattern: "#?", Charset: models.CharsetUnambiguous}, `^[2-9][A-HJKMNP-Z]$`, big.NewInt(8 * 23)},
		{"check character adds a character, not codes", models.FormatInput{Prefix: "GIFT", Length: 6, Check: true}, `^GIFT[0-9A-Z]{7}$`, pow(36, 6)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := mustFormat(t, tt.in)
			if f.Keyspace().Cmp(tt.keyspace) != 0 {
				t.Errorf("keyspace = %s, want %s", f.Keyspace(), tt.keyspace)
			}
			re := regexp.MustCompile(tt.code)
			for _, c := range sampleCodes(t, f, 200, 1) {
				if !re.MatchString(c) {
					t.Fatalf("code %q does not match %s", c, tt.code)
				}
				if len(c) != f.CodeLength() {
					t.Fatalf("code %q has %d characters, the format says %d", c, len(c), f.CodeLength())
				}
			}
		})
	}
}

func TestFormatRefusesWhatCannotMakeCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    models.FormatInput
		field string
		says  string
	}{
		{"unknown charset", models.FormatInput{Charset: "emoji"}, models.FieldFormatCharset, "upper-alnum"},
		{"negative length", models.FormatInput{Length: -1}, models.FieldFormatLength, "between 1 and 64"},
		{"too long", models.FormatInput{Prefix: "ABCDEFGHIJ", Length: 60}, models.FieldFormatLength, "at most 64"},
		{"too long with the check character", models.FormatInput{Length: 64, Check: true}, models.FieldFormatLength, "65 characters"},
		{"a prefix of other characters", models.FormatInput{Prefix: "SPR ING"}, models.FieldFormatPrefix, "found ' '"},
		{"a suffix of other characters", models.FormatInput{Suffix: "€"}, models.FieldFormatSuffix, "letters"},
		{"another delimiter", models.FormatInput{Prefix: "A", Delimiter: "."}, models.FieldFormatDelimiter, `"-", "_"`},
		{"excluding a symbol", models.FormatInput{Exclude: "#"}, models.FieldFormatExclude, "letters and digits"},
		{"excluding every character", models.FormatInput{Charset: models.CharsetDigits, Exclude: "0123456789"}, models.FieldFormatExclude, "no characters"},
		{"excluding every digit of a pattern", models.FormatInput{Pattern: "A#", Exclude: "0123456789"}, models.FieldFormatExclude, "# (digits)"},
		{"a pattern without random characters", models.FormatInput{Pattern: "BDAY-2026"}, models.FieldFormatPattern, "at least one random"},
		{"a pattern of other characters", models.FormatInput{Pattern: "B.##"}, models.FieldFormatPattern, "may contain only"},
		{"a pattern and a length", models.FormatInput{Pattern: "##", Length: 4}, models.FieldFormatLength, "pattern sets"},
		{"a code that starts with a delimiter", models.FormatInput{Pattern: "-###"}, models.FieldFormatPattern, "start with a letter or a digit"},
		{"a prefix that starts with a delimiter", models.FormatInput{Prefix: "_X", Length: 4}, models.FieldFormatPrefix, "start with a letter or a digit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.in.Compile()
			var verr *models.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Compile(%+v) = %v, want a validation error", tt.in, err)
			}
			if msg := verr.Message(tt.field); !strings.Contains(msg, tt.says) {
				t.Errorf("message on %s = %q, want it to say %q (all: %v)", tt.field, msg, tt.says, verr)
			}
		})
	}
}

// TestKeyspaceHoldsForLongFormats: 64 characters of 36 is about 10^99
// codes, far past any machine integer; the arithmetic stays exact and the
// capacity check and guess probability stay sane.
func TestKeyspaceHoldsForLongFormats(t *testing.T) {
	t.Parallel()
	f := mustFormat(t, models.FormatInput{Length: 64})
	want := new(big.Int).Exp(big.NewInt(36), big.NewInt(64), nil)
	if f.Keyspace().Cmp(want) != 0 {
		t.Fatalf("keyspace = %s, want 36^64 = %s", f.Keyspace(), want)
	}
	if err := f.CheckCapacity(math.MaxInt64/4, math.MaxInt64/4); err != nil {
		t.Errorf("capacity of 36^64 for 2^62 codes: %v", err)
	}
	if p := f.GuessProbability(10_000_000); p <= 0 || p > 1e-90 {
		t.Errorf("guess probability of 10M codes among 36^64 = %g, want a tiny positive number", p)
	}
}

func TestCapacityRefusesPastHalfTheKeyspace(t *testing.T) {
	t.Parallel()
	f := mustFormat(t, models.FormatInput{Length: 5, Charset: models.CharsetDigits})
	if err := f.CheckCapacity(40_000, 10_000); err != nil {
		t.Errorf("exactly half of 100000: %v", err)
	}
	err := f.CheckCapacity(40_000, 10_001)
	var verr *models.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("one past half: %v, want a validation error", err)
	}
	msg := verr.Message(models.FieldQuantity)
	for _, want := range []string{"100000 codes", "40000 more", "10001", "a length of 6 fits"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not say %q", msg, want)
		}
	}
	p := mustFormat(t, models.FormatInput{Pattern: "X-##"})
	err = p.CheckCapacity(51, 0)
	if !errors.As(err, &verr) || !strings.Contains(verr.Message(models.FieldQuantity), "add at least 1 more random character") {
		t.Errorf("a pattern past half: %v, want a suggestion to lengthen the pattern", err)
	}
	huge := mustFormat(t, models.FormatInput{Length: 1, Charset: models.CharsetDigits, Prefix: strings.Repeat("A", 63)})
	if err := huge.CheckCapacity(6, 0); !errors.As(err, &verr) || !strings.Contains(verr.Message(models.FieldQuantity), "no format of this kind") {
		t.Errorf("a format that cannot grow: %v, want it to say no length fits", err)
	}
}

func TestGuessProbability(t *testing.T) {
	t.Parallel()
	f := mustFormat(t, models.FormatInput{Length: 6, Charset: models.CharsetDigits})
	if p := f.GuessProbability(1_000); p != 1e-3 {
		t.Errorf("1000 codes of a million = %g, want 0.001", p)
	}
	for p, want := range map[float64]string{1e-3: "1 in 1000", 2.5e-7: "1 in 4.0 million", 1.0 / 3.4e18: "1 in 3.4 × 10^18", 1: "certain"} {
		if got := models.Odds(p); got != want {
			t.Errorf("Odds(%g) = %q, want %q", p, got, want)
		}
	}
}

// TestCheckCharacterCatchesTypos: every generated code passes its own
// check; every code with one character changed to another of its
// alphabet fails it, and so do nearly all codes with two neighbours
// swapped.
func TestCheckCharacterCatchesTypos(t *testing.T) {
	t.Parallel()
	for _, in := range []models.FormatInput{
		{Prefix: "GIFT", Delimiter: "-", Length: 8, Check: true},
		{Pattern: "##-??", Charset: models.CharsetUnambiguous, Check: true},
		{Length: 10, Charset: models.CharsetDigits, Check: true},
	} {
		f := mustFormat(t, in)
		alphabet := "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		swaps, caught := 0, 0
		for _, code := range sampleCodes(t, f, 300, 3) {
			if got, m := f.Canonical(code); m != models.Matches || got != code {
				t.Fatalf("%+v: generated code %q reads as %q, %v", in, code, got, m)
			}
			for i := range len(code) {
				for _, c := range []byte(alphabet) {
					if c == code[i] {
						continue
					}
					typo := code[:i] + string(c) + code[i+1:]
					if _, m := f.Canonical(typo); m == models.Matches {
						t.Fatalf("%+v: %q with position %d mistyped as %q passes the check", in, code, i, typo)
					}
				}
				if i+1 < len(code) && code[i] != code[i+1] {
					swapped := code[:i] + string(code[i+1]) + string(code[i]) + code[i+2:]
					if _, m := f.Canonical(swapped); m != models.NoMatch {
						swaps++
						if m == models.BadCheck {
							caught++
						}
					}
				}
			}
		}
		if swaps == 0 || float64(caught) < 0.95*float64(swaps) {
			t.Errorf("%+v: the check caught %d of %d swapped neighbours, want at least 95%%", in, caught, swaps)
		}
	}
}

func TestCanonicalReadsCodesAsCustomersTypeThem(t *testing.T) {
	t.Parallel()
	upper := mustFormat(t, models.FormatInput{Prefix: "Spring", Delimiter: "-", Length: 4})
	unamb := mustFormat(t, models.FormatInput{Prefix: "BDAY10", Delimiter: "-", Length: 4, Charset: models.CharsetUnambiguous})
	lower := mustFormat(t, models.FormatInput{Length: 4, Charset: models.CharsetLowerAlnum})
	tests := []struct {
		f     models.Format
		typed string
		want  string
		match models.Match
	}{
		{upper, "  spring-ab12 ", "Spring-AB12", models.Matches},
		{upper, "SPRING-ab1z", "Spring-AB1Z", models.Matches},
		{upper, "SPRING_AB12", "", models.NoMatch},
		{upper, "SPRING-AB1", "", models.NoMatch},
		{lower, "AB9Z", "ab9z", models.Matches},
		{unamb, "bdayIO-xy23", "BDAY10-XY23", models.Matches},
		{unamb, "BDAYl0-XY23", "BDAY10-XY23", models.Matches},
		{unamb, "BDAY10-XY2O", "", models.NoMatch},
		{upper, "SPRING-AB1O", "Spring-AB1O", models.Matches},
	}
	for _, tt := range tests {
		got, m := tt.f.Canonical(tt.typed)
		if m != tt.match || (m == models.Matches && got != tt.want) {
			t.Errorf("%s: Canonical(%q) = %q, %v; want %q, %v", tt.f.Describe(), tt.typed, got, m, tt.want, tt.match)
		}
	}
}

// TestGeneratorIsUniform draws 360,000 characters of each position of a
// 36-character alphabet and runs a chi-square test per position (35
// degrees of freedom; 66.6 is the 0.1 % critical value).
func TestGeneratorIsUniform(t *testing.T) {
	t.Parallel()
	f := mustFormat(t, models.FormatInput{Length: 4})
	const draws = 360_000
	counts := make([]map[byte]int, f.CodeLength())
	for i := range counts {
		counts[i] = map[byte]int{}
	}
	for _, code := range sampleCodes(t, f, draws, 42) {
		for i := range len(code) {
			counts[i][code[i]]++
		}
	}
	expected := float64(draws) / 36
	for i, c := range counts {
		if len(c) != 36 {
			t.Fatalf("position %d drew %d distinct characters, want all 36", i, len(c))
		}
		chi := 0.0
		for _, n := range c {
			d := float64(n) - expected
			chi += d * d / expected
		}
		if chi > 66.6 {
			t.Errorf("position %d: chi-square %.1f over %d draws: the generator is biased", i, chi, draws)
		}
	}
}

func TestShapeIgnoresCaseAndSeparatesFormats(t *testing.T) {
	t.Parallel()
	a := mustFormat(t, models.FormatInput{Prefix: "Spring", Delimiter: "-", Length: 6})
	b := mustFormat(t, models.FormatInput{Prefix: "SPRING", Delimiter: "-", Length: 6})
	if a.Shape() != b.Shape() {
		t.Errorf("prefixes differing in case give shapes %q and %q; codes are unique ignoring case", a.Shape(), b.Shape())
	}
	for _, other := range []models.FormatInput{
		{Prefix: "SPRING", Delimiter: "-", Length: 7},
		{Prefix: "SPRING", Delimiter: "_", Length: 6},
		{Prefix: "SPRING", Delimiter: "-", Length: 6, Charset: models.CharsetDigits},
		{Prefix: "SPRING", Delimiter: "-", Length: 6, Check: true},
		{Prefix: "SPRING", Delimiter: "-", Length: 5, Check: true},
	} {
		if s := mustFormat(t, other).Shape(); s == a.Shape() {
			t.Errorf("%+v has the shape %q of %+v", other, s, a.Input())
		}
	}
}
