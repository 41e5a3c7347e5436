package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coupond/coupond/models/storetest"
)

// syncBuffer is a bytes.Buffer safe for the server's and the test's
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startRun runs the real program with serve on a free loopback port and
// returns its base URL once /readyz answers 200. The server is stopped
// (and must stop cleanly) when the test ends.
func startRun(t *testing.T, env map[string]string, extra ...string) string {
	t.Helper()
	addr := freeAddr(t)
	args := append([]string{"serve", "--addr", addr}, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), &stderr, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run returned %v after shutdown; log:\n%s", err, stderr.String())
			}
		case <-time.After(20 * time.Second):
			t.Error("run did not return within 20 s of cancellation")
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("run exited early: %v; log:\n%s", err, stderr.String())
		default:
		}
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("/readyz never answered 200; log:\n%s", stderr.String())
	return ""
}

func TestRunServesUntilCancelled(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "coupond.db")
		base := startRun(t, map[string]string{"COUPOND_DB": db})
		res, err := http.Get(base + "/coupons")
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("GET /coupons: %v %v", res, err)
		}
		res.Body.Close()
	})
	t.Run("postgres", func(t *testing.T) {
		base := startRun(t, map[string]string{"DATABASE_URL": storetest.PostgresSchemaDSN(t)})
		res, err := http.Post(base+"/api/rnb/pvt/coupon", "application/json", strings.NewReader(`{"couponCode":"pg"}`))
		if err != nil || res.StatusCode != http.StatusCreated {
			t.Fatalf("create on PostgreSQL: %v %v", res, err)
		}
		res.Body.Close()
	})
}

func TestRunCommandsAndFlags(t *testing.T) {
	noenv := func(string) string { return "" }
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		wantOut string
	}{
		{name: "version", args: []string{"version"}, wantOut: "coupond dev"},
		{name: "no command", args: nil, wantErr: "no command"},
		{name: "unknown command", args: []string{"frobnicate"}, wantErr: `unknown command "frobnicate"`},
		{name: "bad log format", args: []string{"serve", "--log-format", "xml"}, wantErr: "text or json"},
		{name: "bad cap in env", args: []string{"serve"}, env: map[string]string{"COUPOND_MAX_ACTIVE_COUPONS": "many"}, wantErr: "COUPOND_MAX_ACTIVE_COUPONS"},
		{name: "bad database url", args: []string{"serve", "--database-url", "mysql://x"}, wantErr: "postgres://"},
		{name: "stray argument", args: []string{"serve", "extra"}, wantErr: `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := noenv
			if tt.env != nil {
				getenv = func(k string) string { return tt.env[k] }
			}
			var out, errOut bytes.Buffer
			err := run(t.Context(), tt.args, getenv, strings.NewReader(""), &out, &errOut)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("run: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("run error = %v, want one containing %q", err, tt.wantErr)
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("stdout = %q, want %q", out.String(), tt.wantOut)
			}
		})
	}
}
