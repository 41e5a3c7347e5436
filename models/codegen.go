package models

import (
	"fmt"
	"io"
)

// Alphabets codes are drawn from.
const (
	// AlphabetLowerAlnum is what VTEX-style generated suffixes use.
	AlphabetLowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
)

// CodeRand draws uniformly distributed characters from an alphabet, reading
// random bytes from an underlying source (crypto/rand.Reader in
// production, a deterministic reader in tests). It uses rejection
// sampling, never a bare modulo, so every character is equally likely. A
// CodeRand is not safe for concurrent use.
type CodeRand struct {
	src io.Reader
	buf []byte
	pos int
}

// NewCodeRand returns a CodeRand reading from src in 4 KiB chunks.
func NewCodeRand(src io.Reader) *CodeRand {
	return &CodeRand{src: src, buf: make([]byte, 4096), pos: 4096}
}

func (g *CodeRand) byte() (byte, error) {
	if g.pos == len(g.buf) {
		if _, err := io.ReadFull(g.src, g.buf); err != nil {
			return 0, fmt.Errorf("read random bytes: %w", err)
		}
		g.pos = 0
	}
	b := g.buf[g.pos]
	g.pos++
	return b, nil
}

// String returns n characters of alphabet, each chosen uniformly. It fails
// when the random source fails or when alphabet has fewer than 2 or more
// than 256 bytes.
func (g *CodeRand) String(alphabet string, n int) (string, error) {
	l := len(alphabet)
	if l < 2 || l > 256 {
		return "", fmt.Errorf("alphabet of %d characters: must have 2 to 256", l)
	}
	// Bytes at or above limit would favour the first 256%l characters.
	limit := 256 - 256%l
	out := make([]byte, n)
	for i := 0; i < n; {
		b, err := g.byte()
		if err != nil {
			return "", err
		}
		if int(b) >= limit {
			continue
		}
		out[i] = alphabet[int(b)%l]
		i++
	}
	return string(out), nil
}
