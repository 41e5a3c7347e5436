package models

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestCodeRandAlphabetAndLength(t *testing.T) {
	t.Parallel()
	g := NewCodeRand(rand.NewChaCha8([32]byte{1}))
	for range 100 {
		s, err := g.String(AlphabetLowerAlnum, GeneratedSuffixLength)
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != GeneratedSuffixLength {
			t.Fatalf("len(%q) = %d, want %d", s, len(s), GeneratedSuffixLength)
		}
		if strings.Trim(s, AlphabetLowerAlnum) != "" {
			t.Fatalf("%q has characters outside the alphabet", s)
		}
	}
}

// A modulo mapping of bytes to 36 characters makes the first four
// characters 8/7 as likely as the rest; over 360,000 draws that pushes the
// chi-square statistic into the thousands. The 0.1% critical value for 35
// degrees of freedom is 66.6.
func TestCodeRandIsUnbiased(t *testing.T) {
	t.Parallel()
	const draws = 360_000
	g := NewCodeRand(rand.NewChaCha8([32]byte{42}))
	s, err := g.String(AlphabetLowerAlnum, draws)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[rune]float64{}
	for _, r := range s {
		counts[r]++
	}
	expected := float64(draws) / float64(len(AlphabetLowerAlnum))
	chi := 0.0
	for _, r := range AlphabetLowerAlnum {
		d := counts[r] - expected
		chi += d * d / expected
	}
	if chi > 66.6 {
		t.Errorf("chi-square = %.1f over %d draws: the distribution is biased", chi, draws)
	}
}

func TestCodeRandRejectsHighBytes(t *testing.T) {
	t.Parallel()
	// 252..255 are above the largest multiple of 36 and must be skipped,
	// not folded onto 'a'..'d'.
	src := bytes.NewReader(append([]byte{252, 253, 254, 255, 1}, make([]byte, randBufSize)...))
	s, err := NewCodeRand(src).String(AlphabetLowerAlnum, 1)
	if err != nil {
		t.Fatal(err)
	}
	if s != "b" {
		t.Errorf("got %q, want %q (byte 1 after four rejected bytes)", s, "b")
	}
}

func TestCodeRandFailsWithItsSource(t *testing.T) {
	t.Parallel()
	_, err := NewCodeRand(bytes.NewReader(nil)).String(AlphabetLowerAlnum, 3)
	if err == nil {
		t.Fatal("want an error from an empty source")
	}
	if _, err := NewCodeRand(rand.NewChaCha8([32]byte{})).String("a", 3); err == nil {
		t.Fatal("want an error for a one-character alphabet")
	}
}
