package web

import (
	"bytes"
	"mime/multipart"
	"testing"
)

// A form's body reads the same to the idempotency hash whatever boundary
// its client picked and however the body arrives in pieces; another file
// does not.
func TestAFormsBoundaryIsLeftOutOfItsHash(t *testing.T) {
	t.Parallel()
	form := func(file string) ([]byte, string) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		fw, _ := mw.CreateFormFile("file", "codes.csv")
		fw.Write([]byte(file))
		mw.Close()
		return b.Bytes(), mw.Boundary()
	}
	seen := func(body []byte, boundary string, piece int) string {
		var out bytes.Buffer
		blind := &boundaryBlind{w: &out, sep: []byte(boundary)}
		for len(body) > 0 {
			n := min(piece, len(body))
			blind.Write(body[:n])
			body = body[n:]
		}
		blind.flush()
		return out.String()
	}
	one, b1 := form("code\nA-1\n")
	two, b2 := form("code\nA-1\n")
	if b1 == b2 {
		t.Fatal("the two forms share a boundary")
	}
	want := seen(one, b1, len(one))
	for _, piece := range []int{1, 7, 64} {
		if got := seen(two, b2, piece); got != want {
			t.Errorf("in pieces of %d bytes: %q, want %q", piece, got, want)
		}
	}
	other, b3 := form("code\nA-2\n")
	if seen(other, b3, 5) == want {
		t.Error("another file reads the same")
	}
}
