package handlers

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestStrayMessagesAreKeptForTheWholeForm(t *testing.T) {
	msgs := map[string]string{"name": "is required", "items": "too big", "appliesTo": "must be bill"}
	got := strayMessages(msgs, map[string]bool{"name": true})
	if want := "Settings this form does not show are not valid (must be bill; too big); ask whoever set them through the API to correct them."; got != want {
		t.Errorf("stray messages %q, want %q", got, want)
	}
	if d := cmp.Diff(map[string]string{"name": "is required"}, msgs); d != "" {
		t.Errorf("the messages left beside their fields (-want +got):\n%s", d)
	}
	if got := strayMessages(map[string]string{"name": "x"}, map[string]bool{"name": true}); got != "" {
		t.Errorf("no stray message gives %q", got)
	}
}
