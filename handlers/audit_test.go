package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/web/webtest"
)

// TestAuditDatesAtTheEndsOfTime filters the audit page by the first and
// last dates the form accepts: every event is between them on both
// databases.
func TestAuditDatesAtTheEndsOfTime(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		for _, tc := range []struct {
			query string
			shown bool
		}{
			{"to=9999-12-31", true},
			{"to=9998-12-31", true},
			{"from=0000-01-01&to=9999-12-31", true},
			{"from=9999-12-31", false},
			{"to=2000-01-01", false},
		} {
			r := h.Do("GET", "/audit?"+tc.query, nil, nil)
			if r.Status != http.StatusOK {
				t.Errorf("%s: %d, want 200", tc.query, r.Status)
				continue
			}
			if shown := strings.Contains(r.Body, `data-action="user.create"`); shown != tc.shown {
				t.Errorf("%s: events shown = %v, want %v", tc.query, shown, tc.shown)
			}
		}
	})
}
