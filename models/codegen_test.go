package models

import (
	"bytes"
	"testing"
)

// TestGeneratorRejectsHighBytes feeds a generator of a 36-character
// alphabet the bytes 252..255, which lie above the largest multiple of 36:
// they must be drawn again, not folded onto the alphabet's first four
// characters. (TestGeneratorIsUniform measures the same over many draws.)
func TestGeneratorRejectsHighBytes(t *testing.T) {
	t.Parallel()
	f, err := FormatInput{Length: 3, Charset: CharsetUpperAlnum}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	src := bytes.NewReader(append([]byte{252, 253, 254, 255, 1, 2, 3}, make([]byte, randBufSize)...))
	code, err := f.Generator(src).Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(code) != "123" {
		t.Errorf("code %q, want %q (bytes 1, 2, 3 after four rejected bytes)", code, "123")
	}
}

func TestGeneratorFailsWithItsSource(t *testing.T) {
	t.Parallel()
	f, err := FormatInput{}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	g := f.Generator(bytes.NewReader(nil))
	if code, err := g.Append(nil); err == nil {
		t.Errorf("code %q from an empty source, want an error", code)
	}
	if n, err := g.Bucket(1000); err == nil {
		t.Errorf("bucket %d from an empty source, want an error", n)
	}
}
