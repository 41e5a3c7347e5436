package web_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
	"github.com/coupond/coupond/web"
	"github.com/labstack/echo/v4"
)

// lockedBuffer is a log that a test reads while the server writes it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A client that hangs up while its request is being answered is no
// error of the server's: the log says so at info level with status 499,
// not as an internal error (which an alert on 5xx would count).
func TestAClientThatHangsUpIsNoServerError(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	s := storetest.Open(t, models.DialectSQLite, models.Config{})
	e := web.NewServer(slog.New(slog.NewTextHandler(&logs, nil)), web.Config{}, s)
	entered := make(chan struct{})
	e.GET("/api/hang-up", func(c echo.Context) error {
		close(entered)
		<-c.Request().Context().Done()
		return fmt.Errorf("read the coupons: %w", c.Request().Context().Err())
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/hang-up", nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		<-entered
		cancel()
	}()
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatal("the request was answered although its client hung up")
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "msg=request"); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no request line logged:\n%s", logs.String())
		}
	}
	log := logs.String()
	if strings.Contains(log, "level=ERROR") || !strings.Contains(log, "status=499") || !strings.Contains(log, "the client went away") {
		t.Errorf("a client that hung up was logged as:\n%s", log)
	}
}
