package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coupond/coupond/models/storetest"
)

// writeLoad is a bounded load on one server: importers clients each post
// one multiple-coupons request of items literal codes, then generators
// post generate requests (quantity perGenerate) with inFlight at a time,
// while one reader pages the coupon list. Everything goes to 127.0.0.1.
type writeLoad struct {
	importers, items            int
	generates, perGenerate, par int
	// readEvery is the reader's pause between requests (5 ms when 0);
	// withReadyz makes every other request GET /readyz.
	readEvery  time.Duration
	withReadyz bool
}

// loadResult is what a load saw: statuses per kind of request, the read
// latencies, and the largest WAL seen (SQLite).
type loadResult struct {
	importStatus map[int]int
	genStatus    map[int]int
	readStatus   map[int]int
	reads        []time.Duration
	walPeak      int64
	elapsed      time.Duration
}

func (r loadResult) readPercentile(p float64) time.Duration {
	if len(r.reads) == 0 {
		return 0
	}
	s := slices.Clone(r.reads)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func post(client *http.Client, url, token, body string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, nil
}

// run drives the load against base and samples walPath (when not empty)
// every 10 ms.
func (l writeLoad) run(t testing.TB, base, token, walPath string) loadResult {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Minute}
	res := loadResult{importStatus: map[int]int{}, genStatus: map[int]int{}, readStatus: map[int]int{}}
	var mu sync.Mutex
	count := func(m map[int]int, status int, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			t.Errorf("request failed: %v", err)
			return
		}
		m[status]++
	}
	stop := make(chan struct{})
	var background sync.WaitGroup
	background.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			start := time.Now()
			path := "/api/rnb/pvt/coupon?limit=50"
			if l.withReadyz && i%2 == 1 {
				path = "/readyz"
			}
			req, _ := http.NewRequest(http.MethodGet, base+path, nil)
			req.Header.Set("X-Auth-Token", token)
			r, err := client.Do(req)
			if err == nil {
				_, _ = io.Copy(io.Discard, r.Body)
				r.Body.Close()
				mu.Lock()
				res.reads = append(res.reads, time.Since(start))
				mu.Unlock()
				count(res.readStatus, r.StatusCode, nil)
			} else {
				count(res.readStatus, 0, err)
			}
			time.Sleep(cmp.Or(l.readEvery, 5*time.Millisecond))
		}
	})
	if walPath != "" {
		background.Go(func() {
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				if st, err := os.Stat(walPath); err == nil {
					mu.Lock()
					res.walPeak = max(res.walPeak, st.Size())
					mu.Unlock()
				}
			}
		})
	}
	start := time.Now()
	var writers sync.WaitGroup
	for c := range l.importers {
		items := make([]map[string]any, l.items)
		for i := range items {
			items[i] = map[string]any{"quantity": 1, "couponConfiguration": map[string]any{"couponCode": fmt.Sprintf("imp%02d-%06d", c, i), "maxUsage": 1}}
		}
		body, err := json.Marshal(items)
		if err != nil {
			t.Fatal(err)
		}
		writers.Go(func() {
			status, err := post(client, base+"/api/rnb/pvt/multiple-coupons", token, string(body))
			count(res.importStatus, status, err)
		})
	}
	writers.Wait()
	slots := make(chan struct{}, l.par)
	for g := range l.generates {
		slots <- struct{}{}
		writers.Go(func() {
			defer func() { <-slots }()
			body := fmt.Sprintf(`{"couponCode":"gen%03d","maxUsage":1}`, g)
			status, err := post(client, fmt.Sprintf("%s/api/rnb/pvt/coupons?quantity=%d", base, l.perGenerate), token, body)
			count(res.genStatus, status, err)
		})
	}
	writers.Wait()
	res.elapsed = time.Since(start)
	close(stop)
	background.Wait()
	return res
}

// countCoupons counts every coupon through the API's unpaged list.
func countCoupons(t testing.TB, base, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/rnb/pvt/coupon", nil)
	req.Header.Set("X-Auth-Token", token)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var all []struct {
		CouponCode string `json:"couponCode"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &all); err != nil {
		t.Fatalf("list all: %v (%d bytes)", err, len(body))
	}
	return len(all)
}

// checkLoad fails t on any answer but 200 and on a row count other than
// what the load asked for.
func checkLoad(t testing.TB, l writeLoad, res loadResult, base, token string) {
	t.Helper()
	for kind, m := range map[string]map[int]int{"import": res.importStatus, "generate": res.genStatus, "read": res.readStatus} {
		for status, n := range m {
			if status != http.StatusOK {
				t.Errorf("%d %s requests answered %d", n, kind, status)
			}
		}
	}
	want := l.importers*l.items + l.generates*l.perGenerate
	if got := countCoupons(t, base, token); got != want {
		t.Errorf("%d coupons stored, want exactly %d", got, want)
	}
}

func startLoadServer(t testing.TB, env map[string]string) (base, token string) {
	t.Helper()
	// One token carries the writers and the reader: allow them all in
	// flight at once.
	env["COUPOND_TOKEN_CONCURRENCY"] = "32"
	token = mustRun(t, env, "token", "create", "--name", "load")
	return startRun(t, env), token
}

func TestConcurrentImportsAndGenerationNeverFail(t *testing.T) {
	small := writeLoad{importers: 10, items: 300, generates: 12, perGenerate: 50, par: 4}
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		db := filepath.Join(t.TempDir(), "coupond.db")
		base, token := startLoadServer(t, map[string]string{"COUPOND_DB": db})
		// The WAL's size is the benchmark's to report; the test checks
		// answers and rows.
		res := small.run(t, base, token, "")
		checkLoad(t, small, res, base, token)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		base, token := startLoadServer(t, map[string]string{"DATABASE_URL": storetest.PostgresSchemaDSN(t)})
		res := small.run(t, base, token, "")
		checkLoad(t, small, res, base, token)
	})
}

// TestTheWALStaysBoundedUnderWritesAndReads: 300 generate requests of
// 1,000 codes, 4 in flight, while a reader alternates a page of the list
// and GET /readyz every 50 ms: the WAL, sampled every 10 ms, stays under
// 64 MiB.
func TestTheWALStaysBoundedUnderWritesAndReads(t *testing.T) {
	t.Parallel()
	load := writeLoad{generates: 300, perGenerate: 1000, par: 4, readEvery: 50 * time.Millisecond, withReadyz: true}
	db := filepath.Join(t.TempDir(), "coupond.db")
	base, token := startLoadServer(t, map[string]string{"COUPOND_DB": db})
	res := load.run(t, base, token, db+"-wal")
	checkLoad(t, load, res, base, token)
	t.Logf("WAL peak %.1f MiB over %v, %d reads (p99 %v)", float64(res.walPeak)/(1<<20), res.elapsed.Round(time.Millisecond), len(res.reads), res.readPercentile(0.99))
	if res.walPeak >= 64<<20 {
		t.Errorf("the WAL reached %.1f MiB, want under 64 MiB", float64(res.walPeak)/(1<<20))
	}
}

// BenchmarkHeavyWritesSQLite runs the full-size load on a fresh SQLite
// server once per iteration and reports the WAL's peak and the list
// API's read latency under it. Run it with -benchtime 1x.
func BenchmarkHeavyWritesSQLite(b *testing.B) {
	full := writeLoad{importers: 10, items: 10_000, generates: 300, perGenerate: 1000, par: 4}
	for b.Loop() {
		db := filepath.Join(b.TempDir(), "coupond.db")
		base, token := startLoadServer(b, map[string]string{"COUPOND_DB": db})
		res := full.run(b, base, token, db+"-wal")
		checkLoad(b, full, res, base, token)
		b.ReportMetric(float64(res.walPeak)/(1<<20), "wal-peak-MB")
		b.ReportMetric(float64(res.readPercentile(0.5).Microseconds())/1000, "read-p50-ms")
		b.ReportMetric(float64(res.readPercentile(0.99).Microseconds())/1000, "read-p99-ms")
		b.ReportMetric(float64(len(res.reads)), "reads")
		b.ReportMetric(res.elapsed.Seconds(), "load-s")
		b.Logf("statuses: import %v generate %v read %v", res.importStatus, res.genStatus, res.readStatus)
	}
}
