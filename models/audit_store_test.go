package models_test

import (
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
	"golang.org/x/crypto/bcrypt"
)

// TestAuditDateBoundsAtTheEndsOfTime filters the audit log by the first and
// last days a date can name (years 0000 to 9999): the bounds hold on both
// databases, even the exclusive end of 9999-12-31, which falls in year
// 10000.
func TestAuditDateBoundsAtTheEndsOfTime(t *testing.T) {
	t.Parallel()
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	at := time.Date(2026, 11, 21, 10, 30, 0, 0, time.UTC)
	cfg := models.Config{PasswordCost: bcrypt.MinCost, Now: func() time.Time { return at }}
	storetest.Each(t, cfg, func(t *testing.T, s *models.Store) {
		mustCreateUser(t, s, "dated@example.com", models.RoleViewer)
		for _, tc := range []struct {
			name     string
			from, to time.Time
			want     int
		}{
			{"to the end of 9999-12-31", time.Time{}, day(10000, 1, 1), 1},
			{"to the end of 9998-12-31", time.Time{}, day(9999, 1, 1), 1},
			{"from 0000-01-01 to the end of 9999-12-31", day(0, 1, 1), day(10000, 1, 1), 1},
			{"from 9999-12-31", day(9999, 12, 31), time.Time{}, 0},
			{"from 9999-12-31 to its end", day(9999, 12, 31), day(10000, 1, 1), 0},
			{"from past 9999-12-31", day(10000, 1, 1), time.Time{}, 0},
			{"to the end of 0000-01-01", time.Time{}, day(0, 1, 2), 0},
			{"the event's own day", day(2026, 11, 21), day(2026, 11, 22), 1},
			{"to the end of the day before", time.Time{}, day(2026, 11, 21), 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				page, err := s.ListAudit(t.Context(), models.AuditFilter{From: tc.from, To: tc.to})
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Events) != tc.want {
					t.Errorf("%d events, want %d", len(page.Events), tc.want)
				}
			})
		}
	})
}
