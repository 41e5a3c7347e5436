package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
)

// TestMain lets a test run this program as a process of its own: the
// test binary itself, run with COUPOND_TEST_MAIN=1, is coupond (so a
// test can kill it outright, as a power cut would).
func TestMain(m *testing.M) {
	if os.Getenv("COUPOND_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// coupondProcess is coupond serve, run as a process of its own with env,
// its log kept in log.
type coupondProcess struct {
	base string
	cmd  *exec.Cmd
	log  *syncBuffer
}

// startProcess starts coupond serve as a process on a free loopback port
// and returns once /readyz answers 200; the process is killed when the
// test ends, if it still runs.
func startProcess(t *testing.T, env map[string]string) *coupondProcess {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &coupondProcess{base: "http://" + addr, log: newSyncBuffer()}
	p.cmd = exec.Command(os.Args[0], "serve", "--addr", addr)
	p.cmd.Env = append(os.Environ(), "COUPOND_TEST_MAIN=1")
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(p.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-exited:
			t.Fatalf("coupond exited before it was ready; log:\n%s", p.log.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("coupond was not ready within 30 s (%v); log:\n%s", err, p.log.String())
		}
	}
}

// importState is what GET /api/imports/{id} says of an import.
type importState struct {
	ID       int64
	Status   string
	Rows     int
	Imported int
	Rejected int
	Error    string
}

func getImport(t *testing.T, base, token string, id int64) importState {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", fmt.Sprintf("%s/api/imports/%d", base, id), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st importState
	if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&st) != nil {
		t.Fatalf("GET /api/imports/%d: %d", id, res.StatusCode)
	}
	return st
}

// A server killed outright (SIGKILL) while it imports a file leaves the
// import running under its lease; the server started again takes it over
// once the lease has run out and finishes it: every good row is a coupon
// exactly once, and the refused rows are exactly the bad ones, each once.
func TestAnImportSurvivesTheServerKilledMidWay(t *testing.T) {
	t.Parallel()
	const n = 120_000
	var file strings.Builder
	file.WriteString("code,maxUsage,utmSource\n")
	bad := 0
	for i := range n {
		if i%1000 == 999 {
			fmt.Fprintf(&file, "KILL-%06d,many,mail\n", i)
			bad++
			continue
		}
		// In no order, as a shop's file is.
		fmt.Fprintf(&file, "KILL-%06d,1,mail\n", (i*7919)%n)
	}
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		env := map[string]string{"COUPOND_BATCH_LEASE": "2s"}
		if dialect == models.DialectPostgres {
			env["DATABASE_URL"] = storetest.PostgresSchemaDSN(t)
		} else {
			env["COUPOND_DB"] = filepath.Join(t.TempDir(), "coupond.db")
		}
		token := mustRun(t, env, "token", "create", "--name", "migration")
		first := startProcess(t, env)

		req, err := http.NewRequestWithContext(t.Context(), "POST", first.base+"/api/imports?name=old-shop.csv", strings.NewReader(file.String()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Auth-Token", token)
		req.Header.Set("Content-Type", "text/csv")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var imp importState
		if res.StatusCode != http.StatusAccepted || json.Unmarshal(body, &imp) != nil {
			t.Fatalf("POST /api/imports: %d %s", res.StatusCode, body)
		}

		// Killed once some rows are imported, well before the end.
		for {
			st := getImport(t, first.base, token, imp.ID)
			if st.Imported > 0 {
				if st.Status == "done" || st.Imported+st.Rejected >= n {
					t.Fatalf("the import ended (%+v) before the server could be killed", st)
				}
				t.Logf("killing the server at %+v", st)
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := first.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}

		killedAt := time.Now()

		second := startProcess(t, env)
		var st importState
		for {
			if st = getImport(t, second.base, token, imp.ID); st.Status == "done" || st.Status == "failed" {
				break
			}
			if time.Since(killedAt) > 2*time.Minute {
				t.Fatalf("the import did not finish within 2 minutes of the restart: %+v", st)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if st.Status != "done" || st.Rows != n || st.Imported != n-bad || st.Rejected != bad {
			t.Fatalf("after the restart: %+v; want done, %d imported, %d refused", st, n-bad, bad)
		}

		s := storetest.Connect(t, models.Config{Path: env["COUPOND_DB"], DatabaseURL: env["DATABASE_URL"]})
		var coupons int64
		if err := s.Table("coupons").Count(&coupons).Error; err != nil || coupons != int64(n-bad) {
			t.Errorf("%d coupons (%v), want %d", coupons, err, n-bad)
		}
		var refused []string
		if err := s.Table("import_rows").Where("batch_id = ?", imp.ID).Order("line").Pluck("code", &refused).Error; err != nil {
			t.Fatal(err)
		}
		if len(refused) != bad {
			t.Errorf("%d refused rows kept, want the %d bad ones", len(refused), bad)
		}
		for i, code := range refused {
			if want := fmt.Sprintf("KILL-%06d", 999+1000*i); code != want {
				t.Errorf("refused row %d is %s, want %s", i, code, want)
				break
			}
		}
	})
}
