package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coupond/coupond/models/storetest"
)

// The generation benchmarks run the real binary (COUPOND_BIN, which make
// bench builds as bin/coupond) as a process of its own, so that its
// resident memory is its own, on a fresh database each, and compare it in
// the same run with the sqlite3 command-line tool doing the same work.
// Run them with -benchtime 1x.

// serverProc is a coupond serve process and what was sampled of it.
type serverProc struct {
	base, token string
	cmd         *exec.Cmd
	walPath     string

	mu       sync.Mutex
	rssPeak  int64 // bytes, sampled
	walPeak  int64
	rssTrace []int64
	stop     chan struct{}
	sampled  sync.WaitGroup
}

// coupondBin is the binary under test.
func coupondBin(b *testing.B) string {
	b.Helper()
	bin := os.Getenv("COUPOND_BIN")
	if bin == "" {
		bin = "../../bin/coupond"
	}
	bin, err := filepath.Abs(bin)
	if err == nil {
		_, err = os.Stat(bin)
	}
	if err != nil {
		b.Fatalf("the benchmark runs the built binary: run make build (or make bench), or set COUPOND_BIN (%v)", err)
	}
	return bin
}

// startServer makes a token and starts serve on a free loopback port
// with env, sampling its memory and (SQLite) its WAL every 10 ms until
// the benchmark ends.
func startServer(b *testing.B, env map[string]string, walPath string) *serverProc {
	b.Helper()
	bin := coupondBin(b)
	environ := os.Environ()
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	out, err := (&exec.Cmd{Path: bin, Args: []string{bin, "token", "create", "--name", "bench"}, Env: environ}).Output()
	if err != nil {
		b.Fatalf("token create: %v", err)
	}
	lines := strings.Fields(strings.TrimSpace(string(out)))
	p := &serverProc{token: lines[len(lines)-1], walPath: walPath, stop: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p.base = "http://" + addr
	p.cmd = &exec.Cmd{Path: bin, Args: []string{bin, "serve", "--addr", addr}, Env: append(environ, "COUPOND_TOKEN_CONCURRENCY=64"), Stderr: io.Discard}
	if err := p.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		close(p.stop)
		p.sampled.Wait()
		_ = p.cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- p.cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = p.cmd.Process.Kill()
			b.Error("the server did not stop within 20 s of SIGINT")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := http.Get(p.base + "/readyz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("the server did not become ready: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.sampled.Go(p.sample)
	return p
}

func (p *serverProc) sample() {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		rss := procRSS(p.cmd.Process.Pid)
		var wal int64
		if p.walPath != "" {
			if st, err := os.Stat(p.walPath); err == nil {
				wal = st.Size()
			}
		}
		p.mu.Lock()
		p.rssPeak, p.walPeak = max(p.rssPeak, rss), max(p.walPeak, wal)
		p.rssTrace = append(p.rssTrace, rss)
		p.mu.Unlock()
	}
}

// peaks are the largest resident memory and WAL sampled so far, and the
// samples are forgotten, so that the next phase is measured on its own.
func (p *serverProc) peaks() (rss, wal int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rss, wal = p.rssPeak, p.walPeak
	p.rssPeak, p.walPeak, p.rssTrace = 0, 0, nil
	return rss, wal
}

// procRSS is the resident memory of process pid in bytes (Linux).
func procRSS(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func (p *serverProc) do(b *testing.B, method, path, body string) (int, []byte) {
	b.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, p.base+path, r)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", p.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		b.Fatal(err)
	}
	return res.StatusCode, out
}

// generate asks for a batch of n codes of 16 upper-case alphanumerics
// and waits until it is done, returning its id and the time from the
// request to done.
func (p *serverProc) generate(b *testing.B, n int, extra string) (int64, time.Duration) {
	b.Helper()
	start := time.Now()
	status, out := p.do(b, "POST", "/api/batches", fmt.Sprintf(`{"quantity":%d,"format":{"length":16}%s}`, n, extra))
	if status != http.StatusAccepted {
		b.Fatalf("POST /api/batches: %d %s", status, out)
	}
	var batch struct {
		ID        int64
		Status    string
		Generated int
		Error     string
	}
	if err := json.Unmarshal(out, &batch); err != nil {
		b.Fatal(err)
	}
	for batch.Status != "done" {
		if batch.Status == "failed" || batch.Status == "cancelled" {
			b.Fatalf("batch %d %s: %s", batch.ID, batch.Status, batch.Error)
		}
		time.Sleep(20 * time.Millisecond)
		_, out := p.do(b, "GET", fmt.Sprintf("/api/batches/%d", batch.ID), "")
		if err := json.Unmarshal(out, &batch); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	if batch.Generated != n {
		b.Fatalf("batch %d made %d codes, want %d", batch.ID, batch.Generated, n)
	}
	return batch.ID, elapsed
}

// benchCodes is how many codes a generation benchmark makes:
// COUPOND_BENCH_CODES, or def.
func benchCodes(b *testing.B, def int) int {
	if v := os.Getenv("COUPOND_BENCH_CODES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatalf("COUPOND_BENCH_CODES=%q: %v", v, err)
		}
		return n
	}
	return def
}

// BenchmarkGenerate1M makes 1,000,000 codes of 16 upper-case
// alphanumerics through POST /api/batches on a fresh SQLite database,
// from the request to done, and reports the server's peak resident
// memory and the WAL's peak; in the same run the sqlite3 tool imports a
// CSV of as many random codes into a fresh database of the same schema
// (into a staging table with .import, then into coupons with the same
// column values), and the ratio of the two times is reported. It then
// exports the batch's CSV over HTTP and compares it with sqlite3 -csv on
// the same query.
func BenchmarkGenerate1M(b *testing.B) {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		b.Fatal("the reference needs the sqlite3 command-line tool (apt-get install sqlite3)")
	}
	n := benchCodes(b, 1_000_000)
	for b.Loop() {
		dir := b.TempDir()
		db := filepath.Join(dir, "coupond.db")
		p := startServer(b, map[string]string{"COUPOND_DB": db}, db+"-wal")
		p.peaks()
		id, took := p.generate(b, n, "")
		rss, wal := p.peaks()

		ref := sqliteImport(b, dir, n)
		b.ReportMetric(took.Seconds(), "coupond-s")
		b.ReportMetric(ref.Seconds(), "sqlite3-import-s")
		b.ReportMetric(took.Seconds()/ref.Seconds(), "ratio")
		b.ReportMetric(float64(n)/took.Seconds(), "codes/s")
		b.ReportMetric(float64(rss)/(1<<20), "rss-peak-MB")
		b.ReportMetric(float64(wal)/(1<<20), "wal-peak-MB")

		csvTook, csvBytes := p.download(b, fmt.Sprintf("/api/batches/%d/codes.csv", id))
		csvRSS, _ := p.peaks()
		refTook, refBytes := sqliteCSV(b, db, id)
		b.ReportMetric(csvTook.Seconds(), "csv-s")
		b.ReportMetric(refTook.Seconds(), "sqlite3-csv-s")
		b.ReportMetric(csvTook.Seconds()/refTook.Seconds(), "csv-ratio")
		b.ReportMetric(float64(csvRSS)/(1<<20), "csv-rss-peak-MB")
		if csvBytes != refBytes {
			b.Logf("CSV sizes: coupond %d bytes, sqlite3 %d bytes", csvBytes, refBytes)
		}
	}
}

// BenchmarkGenerate10M makes 10,000,000 codes and reports the server's
// peak memory, to compare with BenchmarkGenerate1M's: it must not grow
// with the quantity.
func BenchmarkGenerate10M(b *testing.B) {
	n := benchCodes(b, 10_000_000)
	for b.Loop() {
		db := filepath.Join(b.TempDir(), "coupond.db")
		p := startServer(b, map[string]string{"COUPOND_DB": db}, db+"-wal")
		p.peaks()
		_, took := p.generate(b, n, "")
		rss, wal := p.peaks()
		b.ReportMetric(took.Seconds(), "coupond-s")
		b.ReportMetric(float64(n)/took.Seconds(), "codes/s")
		b.ReportMetric(float64(rss)/(1<<20), "rss-peak-MB")
		b.ReportMetric(float64(wal)/(1<<20), "wal-peak-MB")
	}
}

// BenchmarkGenerate1MPostgres makes 1,000,000 codes on PostgreSQL (the
// local cluster; COUPOND_TEST_POSTGRES), from the request to done.
func BenchmarkGenerate1MPostgres(b *testing.B) {
	n := benchCodes(b, 1_000_000)
	if _, err := exec.LookPath("psql"); err != nil {
		b.Fatal("the CSV reference needs psql (PostgreSQL's client)")
	}
	for b.Loop() {
		dsn := storetest.PostgresSchemaDSN(b)
		p := startServer(b, map[string]string{"DATABASE_URL": dsn}, "")
		p.peaks()
		id, took := p.generate(b, n, "")
		rss, _ := p.peaks()
		b.ReportMetric(took.Seconds(), "coupond-s")
		b.ReportMetric(float64(n)/took.Seconds(), "codes/s")
		b.ReportMetric(float64(rss)/(1<<20), "rss-peak-MB")

		csvTook, _ := p.download(b, fmt.Sprintf("/api/batches/%d/codes.csv", id))
		refTook := postgresCSV(b, dsn, id)
		b.ReportMetric(csvTook.Seconds(), "csv-s")
		b.ReportMetric(refTook.Seconds(), "psql-copy-csv-s")
		b.ReportMetric(csvTook.Seconds()/refTook.Seconds(), "csv-ratio")
	}
}

// libpqURL is dsn, which carries the test's schema as pgx's search_path
// parameter, for the libpq tools (psql, pgbench), which take it as a
// server option.
func libpqURL(b *testing.B, dsn string) *url.URL {
	b.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	schema := q.Get("search_path")
	q.Del("search_path")
	q.Set("options", "-csearch_path="+schema)
	u.RawQuery = q.Encode()
	return u
}

// postgresCSV times psql's \copy writing the batch's coupons with the
// export's 13 columns, in id order, to a file: the reference for the
// CSV on PostgreSQL.
func postgresCSV(b *testing.B, dsn string, batch int64) time.Duration {
	b.Helper()
	u := libpqURL(b, dsn)
	out := filepath.Join(b.TempDir(), "reference.csv")
	query := fmt.Sprintf(`\copy (SELECT c.code, CASE WHEN c.archived THEN 'archived' WHEN c.max_usage > 0 AND c.uses >= c.max_usage THEN 'used_up' ELSE 'no_active_promotion' END AS status, `+
		`c.uses, c.max_usage AS max_uses, c.max_usage_per_client AS max_uses_per_customer, c.utm_source, c.utm_campaign, `+
		`(SELECT string_agg(p.name, '; ') FROM promotions p WHERE p.status = 'active' AND (p.id = c.promotion_id OR lower(p.utm_source) = lower(c.utm_source) OR lower(p.utm_campaign) = lower(c.utm_campaign))) AS promotions, `+
		`'' AS discount, '' AS valid_from, c.expires_at AS valid_until, c.customer_id AS customer, c.created_at FROM coupons c WHERE c.batch_id = %d ORDER BY c.id) TO '%s' CSV HEADER`, batch, out)
	cmd := exec.Command("psql", u.String(), "-v", "ON_ERROR_STOP=1", "-q", "-c", query)
	start := time.Now()
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("psql \\copy: %v\n%s", err, msg)
	}
	return time.Since(start)
}

// BenchmarkRedeemDuringGeneration redeems at 8 concurrent clients, each
// its own codes, on SQLite while a batch of 1,000,000 codes is made, and
// reports the redemptions' latency; every redemption must succeed.
func BenchmarkRedeemDuringGeneration(b *testing.B) {
	n := benchCodes(b, 1_000_000)
	const clients = 8
	for b.Loop() {
		db := filepath.Join(b.TempDir(), "coupond.db")
		p := startServer(b, map[string]string{"COUPOND_DB": db}, db+"-wal")
		status, out := p.do(b, "POST", "/api/promotions", `{"name":"Redeemed","kind":"bulk","discountType":"percent","discountValue":5}`)
		if status != http.StatusCreated {
			b.Fatalf("promotion: %d %s", status, out)
		}
		var promo struct{ ID int64 }
		_ = json.Unmarshal(out, &promo)
		pool, _ := p.generate(b, 20_000, fmt.Sprintf(`,"promotionId":%d`, promo.ID))
		_, csv := p.do(b, "GET", fmt.Sprintf("/api/batches/%d/codes.csv", pool), "")
		var codes []string
		for _, line := range strings.Split(strings.TrimSpace(string(csv)), "\n")[1:] {
			codes = append(codes, strings.SplitN(line, ",", 2)[0])
		}
		api := newAPIClient(b, p.token, clients)
		var latencies []time.Duration
		var mu sync.Mutex
		var next atomic.Int64
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() {
				for ctx.Err() == nil {
					i := int(next.Add(1) - 1)
					if i >= len(codes) {
						return
					}
					t0 := time.Now()
					status, out, err := api.post(p.base+"/api/redemptions", fmt.Sprintf(`{"code":%q,"customerId":"c%d","orderId":"o%d","items":1,"orderAmount":1000}`, codes[i], i, i))
					d := time.Since(t0)
					if err != nil || status != http.StatusCreated {
						b.Errorf("redemption %d: %d %s %v", i, status, out, err)
						return
					}
					mu.Lock()
					latencies = append(latencies, d)
					mu.Unlock()
				}
			})
		}
		_, took := p.generate(b, n, "")
		stop()
		wg.Wait()
		slices.Sort(latencies)
		pct := func(q float64) float64 {
			return float64(latencies[min(len(latencies)-1, int(float64(len(latencies))*q))].Microseconds()) / 1000
		}
		b.ReportMetric(took.Seconds(), "batch-s")
		b.ReportMetric(float64(len(latencies)), "redemptions")
		b.ReportMetric(float64(len(latencies))/took.Seconds(), "redeemed/s")
		b.ReportMetric(pct(0.5), "p50-ms")
		b.ReportMetric(pct(0.99), "p99-ms")
		b.ReportMetric(float64(latencies[len(latencies)-1].Microseconds())/1000, "max-ms")
	}
}

// download reads path to its end and returns the time it took and its
// size.
func (p *serverProc) download(b *testing.B, path string) (time.Duration, int64) {
	b.Helper()
	req, _ := http.NewRequest("GET", p.base+path, nil)
	req.Header.Set("X-Auth-Token", p.token)
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	size, err := io.Copy(io.Discard, res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d %v", path, res.StatusCode, err)
	}
	return time.Since(start), size
}

// sqliteImport makes a fresh database of coupond's schema in dir, writes
// n random codes of 16 upper-case alphanumerics to a CSV, and times the
// sqlite3 tool importing them into coupons (WAL, synchronous NORMAL, as
// coupond runs): .import into a staging table, then one INSERT of the
// same columns coupond writes.
func sqliteImport(b *testing.B, dir string, n int) time.Duration {
	b.Helper()
	db := filepath.Join(dir, "reference.db")
	bin := coupondBin(b)
	if out, err := exec.Command(bin, "token", "create", "--db", db, "--name", "x").CombinedOutput(); err != nil {
		b.Fatalf("make the reference schema: %v %s", err, out)
	}
	csvPath := filepath.Join(dir, "codes.csv")
	f, err := os.Create(csvPath)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	buf := make([]byte, 16)
	line := make([]byte, 17)
	line[16] = '\n'
	for range n {
		for {
			if _, err := rand.Read(buf); err != nil {
				b.Fatal(err)
			}
			ok := true
			for i, c := range buf {
				if c >= 252 {
					ok = false
					break
				}
				line[i] = alphabet[int(c)%36]
			}
			if ok {
				break
			}
		}
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	script := fmt.Sprintf(`PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
CREATE TEMP TABLE staged (code text NOT NULL);
.import --csv %s staged
INSERT INTO coupons (code, archived, max_items_per_client, expiration_interval_per_use, max_usage, max_usage_per_client, uses, batch_id, created_at, updated_at)
SELECT code, 0, 0, 0, 1, 0, 0, 1, '2026-12-02 10:00:00.123456+00:00', '2026-12-02 10:00:00.123456+00:00' FROM staged;
`, csvPath)
	cmd := exec.Command("sqlite3", db)
	cmd.Stdin = strings.NewReader(script)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("sqlite3 import: %v %s", err, out)
	}
	took := time.Since(start)
	var count bytes.Buffer
	cmd = exec.Command("sqlite3", db, "SELECT count(*) FROM coupons")
	cmd.Stdout = &count
	if err := cmd.Run(); err != nil || strings.TrimSpace(count.String()) != strconv.Itoa(n) {
		b.Fatalf("the reference imported %s codes (%v), want %d", count.String(), err, n)
	}
	return took
}

// sqliteCSV times sqlite3 -csv writing the batch's coupons with the
// export's columns, in id order, to a file; it returns the time and the
// file's size.
func sqliteCSV(b *testing.B, db string, batch int64) (time.Duration, int64) {
	b.Helper()
	out := filepath.Join(filepath.Dir(db), "reference.csv")
	f, err := os.Create(out)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	// The same columns, the promotions each code reaches read per row as
	// coupond does (from the few active promotions), and the state judged
	// the plain way.
	q := fmt.Sprintf(`SELECT c.code, CASE WHEN c.archived THEN 'archived' WHEN c.max_usage > 0 AND c.uses >= c.max_usage THEN 'used_up' ELSE 'no_active_promotion' END AS status,
		c.uses, c.max_usage AS max_uses, c.max_usage_per_client AS max_uses_per_customer, c.utm_source, c.utm_campaign,
		(SELECT group_concat(p.name, '; ') FROM promotions p WHERE p.status = 'active' AND (p.id = c.promotion_id OR lower(p.utm_source) = lower(c.utm_source) OR lower(p.utm_campaign) = lower(c.utm_campaign))) AS promotions,
		'' AS discount, '' AS valid_from, c.expires_at AS valid_until, c.customer_id AS customer, c.created_at
		FROM coupons c WHERE c.batch_id = %d ORDER BY c.id`, batch)
	cmd := exec.Command("sqlite3", "-csv", "-header", db, q)
	cmd.Stdout = f
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("sqlite3 -csv: %v", err)
	}
	took := time.Since(start)
	st, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	return took, st.Size()
}
