package models

import (
	"fmt"
	"io"
)

// randBufSize is how many random bytes a CodeRand reads at a time: large
// reads make crypto/rand's cost per byte small.
const randBufSize = 64 << 10

// CodeRand draws uniformly distributed numbers, such as the index of a
// character in an alphabet, for a Generator, reading random bytes from
// an underlying source (crypto/rand.Reader in production, a
// deterministic reader in tests). It uses rejection sampling, never a
// bare modulo, so every number is equally likely. A CodeRand is not safe
// for concurrent use.
type CodeRand struct {
	src io.Reader
	buf []byte
	pos int
}

// NewCodeRand returns a CodeRand reading from src in 64 KiB chunks.
func NewCodeRand(src io.Reader) *CodeRand {
	return &CodeRand{src: src, buf: make([]byte, randBufSize), pos: randBufSize}
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

// index returns a uniform number in [0, n) for 1 ≤ n ≤ 256. limit is
// 256 - 256%n: bytes at or above it would favour the first 256%n values,
// so they are drawn again.
func (g *CodeRand) index(n, limit int) (int, error) {
	if n == 1 {
		return 0, nil
	}
	for {
		b, err := g.byte()
		if err != nil {
			return 0, err
		}
		if int(b) < limit {
			return int(b) % n, nil
		}
	}
}
