package models_test

import (
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
)

func TestSessionsExpireAndAreSwept(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{}, func(t *testing.T, s *models.Store) {
		st := s.Sessions()
		if err := st.Commit("live", []byte("a"), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := st.Commit("dead", []byte("b"), time.Now().Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, found, err := st.Find("dead"); err != nil || found {
			t.Errorf("an expired session was found: %v %v", found, err)
		}
		if err := s.DeleteExpiredSessions(t.Context()); err != nil {
			t.Fatal(err)
		}
		if b, found, err := st.Find("live"); err != nil || !found || string(b) != "a" {
			t.Errorf("the sweep removed a live session: %q %v %v", b, found, err)
		}
		n, err := s.CountSessions(t.Context())
		if err != nil || n != 1 {
			t.Errorf("%d sessions stored after the sweep, want 1 (%v)", n, err)
		}
	})
}
