package handlers_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
	"github.com/coupond/coupond/web"
	"github.com/coupond/coupond/web/webtest"
	"golang.org/x/crypto/bcrypt"
)

// logBuffer collects log output written from the server's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestSetupTokenIsNotLogged opens the one-time setup link, then makes the
// database fail under it: neither the request log, nor the internal-error
// line, nor the session store's error line holds the token, while each
// shows the parameter was there.
func TestSetupTokenIsNotLogged(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{PasswordCost: bcrypt.MinCost}, func(t *testing.T, s *models.Store) {
		var logs logBuffer
		e := web.NewServer(slog.New(slog.NewTextHandler(&logs, nil)), web.Config{}, s)
		h := &webtest.Harness{T: t, E: e, Store: s, Srv: webtest.NewTestServer(t, e)}
		token, err := s.NewSetupToken(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if r := h.DoWith(webtest.NewClient(), "GET", "/setup?token="+token+"&from=mail", nil, nil); r.Status != http.StatusOK {
			t.Fatalf("setup link: %d", r.Status)
		}
		// The key spelled with an escape is the same parameter to the server.
		if r := h.DoWith(webtest.NewClient(), "GET", "/setup?tok%65n="+token, nil, nil); r.Status != http.StatusOK {
			t.Fatalf("setup link with an escaped key: %d", r.Status)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if r := h.DoWith(webtest.NewClient(), "GET", "/setup?token="+token, nil, nil); r.Status != http.StatusInternalServerError {
			t.Fatalf("setup link with the database closed: %d, want 500", r.Status)
		}
		if r := h.DoWith(webtest.NewClient(), "GET", "/setup?token="+token, nil, map[string]string{"Cookie": "coupond_session=abc"}); r.Status != http.StatusServiceUnavailable {
			t.Fatalf("setup link with a session and the database closed: %d, want 503", r.Status)
		}

		out := logs.String()
		if strings.Contains(out, token) {
			t.Errorf("the setup token is in the log:\n%s", out)
		}
		for _, msg := range []string{`msg=request`, `msg="internal error"`, `msg="session store"`} {
			found := false
			for line := range strings.Lines(out) {
				if strings.Contains(line, msg) && strings.Contains(line, "token=REDACTED") {
					found = true
				}
			}
			if !found {
				t.Errorf("no %s line shows token=REDACTED:\n%s", msg, out)
			}
		}
		if !strings.Contains(out, "token=REDACTED&from=mail") || !strings.Contains(out, "tok%65n=REDACTED") {
			t.Errorf("the rest of the URI is not kept as sent:\n%s", out)
		}
	})
}
