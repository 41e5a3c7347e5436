package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
)

// syncBuffer is a bytes.Buffer safe for the server's and the test's
// goroutines. After each write it signals on wrote (one signal pending at
// most), so a reader can wait for a line without polling.
type syncBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	wrote chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{wrote: make(chan struct{}, 1)} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	select {
	case s.wrote <- struct{}{}:
	default:
	}
	return n, err
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// servingLine is the log line run writes once it listens, with its URL.
var servingLine = regexp.MustCompile(`msg="coupond serving" url=(http://[^\s"]+)`)

// startRun runs the real program with serve on a loopback port the system
// picks and returns its base URL once /readyz answers 200. The server is
// stopped (and must stop cleanly) when the test ends.
func startRun(t testing.TB, env map[string]string, extra ...string) string {
	t.Helper()
	base, _ := startRunLog(t, env, extra...)
	return base
}

// startRunLog is startRun that also returns the server's log so far.
func startRunLog(t testing.TB, env map[string]string, extra ...string) (string, func() string) {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0"}, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	stderr := newSyncBuffer()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), stderr, stderr)
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
	// The log names the address once the socket listens; a request made
	// from then on waits in the listen queue until the server takes it.
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	var base string
	for base == "" {
		if m := servingLine.FindStringSubmatch(stderr.String()); m != nil {
			base = m[1]
			break
		}
		select {
		case <-stderr.wrote:
		case err := <-done:
			t.Fatalf("run exited early: %v; log:\n%s", err, stderr.String())
		case <-timeout.C:
			t.Fatalf("run logged no address within 30 s; log:\n%s", stderr.String())
		}
	}
	res, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatalf("GET /readyz: %v; log:\n%s", err, stderr.String())
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/readyz = %d; log:\n%s", res.StatusCode, stderr.String())
	}
	return base, stderr.String
}

func TestRunServesUntilCancelled(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "coupond.db")
		base, log := startRunLog(t, map[string]string{"COUPOND_DB": db})
		if setupURL(t, log()) == "" {
			t.Fatal("no setup link in the log of a first start")
		}
		res, err := http.Get(base + "/login")
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("GET /login: %v %v", res, err)
		}
		res.Body.Close()
	})
	t.Run("postgres", func(t *testing.T) {
		env := map[string]string{"DATABASE_URL": storetest.PostgresSchemaDSN(t)}
		token := mustRun(t, env, "token", "create", "--name", "smoke")
		postCoupon(t, startRun(t, env), token, "pg")
	})
}

// postCoupon creates a coupon through the API and fails the test unless
// the server answers 201.
func postCoupon(t *testing.T, base, token, code string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "POST", base+"/api/rnb/pvt/coupon", strings.NewReader(`{"couponCode":"`+code+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("create coupon %s: %v", code, err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create coupon %s: status %d", code, res.StatusCode)
	}
}

// setupURL finds the one-time setup link in a server log.
func setupURL(t *testing.T, log string) string {
	t.Helper()
	m := regexp.MustCompile(`url="?(http://[^"\s]+/setup\?token=[^"\s]+)`).FindStringSubmatch(log)
	if m == nil {
		return ""
	}
	return m[1]
}

// mustRun runs a command of the program and returns the last line of its
// output.
func mustRun(t testing.TB, env map[string]string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(t.Context(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("coupond %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return lines[len(lines)-1]
}

// TestRunGuessLimit looks up more unknown codes from one address than
// the default guess limit allows, through the API of the real program.
func TestRunGuessLimit(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		// refusedAt is the first look-up answered 429; 0 means none is.
		refusedAt int
	}{
		{name: "default", refusedAt: models.DefaultGuessLimit + 1},
		{name: "flag 3", args: []string{"--guess-limit", "3"}, refusedAt: 4},
		{name: "flag 0 turns it off", args: []string{"--guess-limit", "0"}},
		{name: "env 0 turns it off", env: map[string]string{"COUPOND_GUESS_LIMIT": "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"COUPOND_DB": filepath.Join(t.TempDir(), "coupond.db")}
			maps.Copy(env, tt.env)
			token := mustRun(t, env, "token", "create", "--name", "guesser", "--scope", "read")
			base := startRun(t, env, tt.args...)
			for i := 1; i <= models.DefaultGuessLimit+1; i++ {
				req, err := http.NewRequestWithContext(t.Context(), "GET", fmt.Sprintf("%s/api/coupons/GUESS-%d/validation", base, i), nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("X-Auth-Token", token)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("look-up %d: %v", i, err)
				}
				res.Body.Close()
				want := http.StatusOK
				if tt.refusedAt != 0 && i >= tt.refusedAt {
					want = http.StatusTooManyRequests
				}
				if res.StatusCode != want {
					t.Fatalf("look-up %d of an unknown code: status %d, want %d", i, res.StatusCode, want)
				}
			}
		})
	}
}

func TestUserAndTokenCommands(t *testing.T) {
	env := map[string]string{"COUPOND_DB": filepath.Join(t.TempDir(), "coupond.db"), "COUPOND_PASSWORD": "from the environment"}
	if out := mustRun(t, env, "user", "create", "--email", "Ops@Example.com", "--role", "admin"); out != "created ops@example.com (admin)" {
		t.Errorf("user create said %q", out)
	}
	var out, errOut bytes.Buffer
	stdinEnv := map[string]string{"COUPOND_DB": env["COUPOND_DB"]}
	if err := run(t.Context(), []string{"user", "create", "--email", "two@example.com", "--role", "viewer"}, func(k string) string { return stdinEnv[k] }, strings.NewReader("piped password here\n"), &out, &errOut); err != nil {
		t.Errorf("password from stdin: %v", err)
	}
	if err := run(t.Context(), []string{"user", "create", "--email", "bad", "--role", "boss"}, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut); err == nil || !strings.Contains(err.Error(), "email") || !strings.Contains(err.Error(), "role") {
		t.Errorf("bad user: %v", err)
	}
	token := mustRun(t, env, "token", "create", "--name", "ci", "--scope", "read")
	if !strings.HasPrefix(token, "cpd_") || len(token) < 40 {
		t.Errorf("token create's last line = %q, want the token alone", token)
	}
	if err := run(t.Context(), []string{"token", "create", "--name", "x", "--scope", "all"}, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut); err == nil || !strings.Contains(err.Error(), "scope") {
		t.Errorf("bad scope: %v", err)
	}
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
		{name: "bad guess limit in env", args: []string{"serve"}, env: map[string]string{"COUPOND_GUESS_LIMIT": "-3"}, wantErr: "COUPOND_GUESS_LIMIT"},
		{name: "negative guess limit", args: []string{"serve", "--guess-limit", "-1"}, wantErr: "--guess-limit must be 0 or more"},
		{name: "bad guess window", args: []string{"serve", "--guess-window", "0s"}, wantErr: "--guess-window positive"},
		{name: "bad database url", args: []string{"serve", "--database-url", "mysql://x"}, wantErr: "postgres://"},
		{name: "stray argument", args: []string{"serve", "extra"}, wantErr: `unexpected argument "extra"`},
		{name: "bad currency", args: []string{"serve", "--currency", "EURO"}, wantErr: `--currency "EURO" (env COUPOND_CURRENCY): not an ISO 4217 currency code`},
		{name: "bad currency in env", args: []string{"serve"}, env: map[string]string{"COUPOND_CURRENCY": "ABC"}, wantErr: `--currency "ABC"`},
		{name: "bad time zone", args: []string{"serve", "--timezone", "Europe/Bonn"}, wantErr: `--timezone "Europe/Bonn" (env COUPOND_TIMEZONE): not an IANA time zone name`},
		{name: "bad time zone in env", args: []string{"serve"}, env: map[string]string{"COUPOND_TIMEZONE": "CEST+2"}, wantErr: `--timezone "CEST+2"`},
		{name: "machine's zone refused", args: []string{"serve", "--timezone", "Local"}, wantErr: `--timezone "Local"`},
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

// TestParseServeStoreTerms: the store's currency and zone default to USD
// and UTC, come from the environment, and a flag wins over it.
func TestParseServeStoreTerms(t *testing.T) {
	tests := []struct {
		name           string
		args           []string
		env            map[string]string
		currency, zone string
		decimals       int
	}{
		{name: "defaults", currency: "USD", zone: "UTC", decimals: 2},
		{name: "env", env: map[string]string{"COUPOND_CURRENCY": "jpy", "COUPOND_TIMEZONE": "Asia/Tokyo"}, currency: "JPY", zone: "Asia/Tokyo", decimals: 0},
		{name: "flags over env", args: []string{"--currency", "KWD", "--timezone", "Europe/Berlin"}, env: map[string]string{"COUPOND_CURRENCY": "JPY", "COUPOND_TIMEZONE": "Asia/Tokyo"},
			currency: "KWD", zone: "Europe/Berlin", decimals: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseServe(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if err != nil {
				t.Fatalf("parseServe: %v", err)
			}
			if got := cfg.terms; got.Currency() != tt.currency || got.Decimals() != tt.decimals || got.ZoneName() != tt.zone {
				t.Errorf("terms = %s (%d decimals) in %s, want %s (%d) in %s", got.Currency(), got.Decimals(), got.ZoneName(), tt.currency, tt.decimals, tt.zone)
			}
		})
	}
}
