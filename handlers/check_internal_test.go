package handlers

import (
	"testing"

	"github.com/coupond/coupond/models"
)

// TestEveryReasonHasWords keeps "Check a code" from falling back to a
// vague sentence when the domain gains a reason.
func TestEveryReasonHasWords(t *testing.T) {
	t.Parallel()
	for _, code := range models.Reasons {
		if reasonTexts[code] == "" {
			t.Errorf("reason %s has no sentence", code)
		}
	}
	if len(reasonTexts) != len(models.Reasons) {
		t.Errorf("%d sentences for %d reasons: some sentence is for no reason", len(reasonTexts), len(models.Reasons))
	}
}
