package handlers_test

import (
	"bytes"
	"database/sql"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
	"github.com/coupond/coupond/web"
	"github.com/coupond/coupond/web/webtest"
	"golang.org/x/crypto/bcrypt"
)

// tokenSecret finds a new token's secret on the Tokens page.
var tokenSecret = regexp.MustCompile(`data-testid="token-secret">(cpd_[A-Za-z0-9_-]+)<`)

// TestNewTokenSecretIsShownOnceAndKeptNowhere creates a token in the
// console: the answer to the form shows the secret once and must not be
// cached, the sessions table never holds it, and the page does not show it
// again.
func TestNewTokenSecretIsShownOnceAndKeptNowhere(t *testing.T) {
	t.Parallel()
	storetest.EachWithDB(t, models.Config{PasswordCost: bcrypt.MinCost}, func(t *testing.T, s *models.Store, db *sql.DB) {
		h := webtest.New(t, s, web.Config{})
		r := h.Post("/tokens", url.Values{"name": {"checkout"}, "scope": {"modify"}}, nil)
		if r.Status != http.StatusCreated {
			t.Fatalf("create token: %d, want 201 with the secret; Location %q", r.Status, r.Header.Get("Location"))
		}
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control = %q, want no-store", cc)
		}
		m := tokenSecret.FindAllStringSubmatch(r.Body, -1)
		if len(m) != 1 {
			t.Fatalf("the secret is shown %d times, want once: %.300s", len(m), r.Body)
		}
		secret := m[0][1]
		if n := strings.Count(r.Body, secret); n != 1 {
			t.Errorf("the secret appears %d times in the page, want once", n)
		}
		if r := h.APIWith(map[string]string{"X-Auth-Token": secret}, "GET", "/api/rnb/pvt/coupon", ""); r.Status != http.StatusOK {
			t.Errorf("the shown secret does not work: %d", r.Status)
		}

		rows, err := db.QueryContext(t.Context(), "SELECT data FROM sessions")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		sessions := 0
		for rows.Next() {
			var data []byte
			if err := rows.Scan(&data); err != nil {
				t.Fatal(err)
			}
			sessions++
			if bytes.Contains(data, []byte(secret)) {
				t.Error("a row of the sessions table holds the token's secret")
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if sessions == 0 {
			t.Fatal("the sessions table is empty: the admin's session should be there")
		}

		again := h.Do("GET", "/tokens", nil, nil)
		if again.Status != http.StatusOK || strings.Contains(again.Body, secret) || strings.Contains(again.Body, `data-testid="token-secret"`) {
			t.Errorf("the Tokens page later: %d, and it shows a secret again", again.Status)
		}
		if !strings.Contains(again.Body, `data-token="checkout"`) {
			t.Error("the new token is not listed")
		}
	})
}
