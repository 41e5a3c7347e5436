package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
)

// BenchmarkCheckoutSideBySide runs, in one run, what SQLite and
// PostgreSQL do with a redemption's essential work and what coupond does
// over HTTP, and prints the ratios:
//
//   - the SQLite reference (BenchmarkRedemptionReferenceSQLite's program,
//     one transaction per redemption) beside coupond's redemptions on
//     SQLite, and beside orders that hold a use (POST /api/reservations)
//     and then redeem it;
//   - pgbench running the same four statements (look the coupon up, raise
//     its counter, insert the redemption, insert an audit row) beside
//     coupond's redemptions on PostgreSQL;
//   - validations beside GET /readyz on the same SQLite server.
//
// Each coupond load is 5,000 requests (orders) from 50 clients over 500
// coupons of 10 uses, taken in turn, reaching one promotion without a
// limit. After each it fails on an over-redemption or a use counter that
// disagrees with the live redemptions, and it samples SQLite's WAL every
// 100 ms, failing past 64 MiB. Run it with -benchtime 1x.
func BenchmarkCheckoutSideBySide(b *testing.B) {
	pgbench := pgbenchPath(b)
	for b.Loop() {
		refN, refTook := referenceRedemptions(b, 1)
		reference := float64(refN) / refTook.Seconds()
		pgTPS := pgbenchReference(b, pgbench)

		load := redemptionLoad{coupons: 500, maxUsage: 10, requests: 5000, clients: 50, customers: 2000, inTurn: true}
		path := filepath.Join(b.TempDir(), "coupond.db")
		sqliteEnv := map[string]string{"COUPOND_DB": path, "COUPOND_TOKEN_CONCURRENCY": "64"}
		token := mustRun(b, sqliteEnv, "token", "create", "--name", "bench")
		base := startRun(b, sqliteEnv)
		api := newAPIClient(b, token, load.clients)
		wal := sampleWAL(path + "-wal")
		redeemed := load.run(b, api, base, 1)
		load.reserveFirst = true
		ordered := load.run(b, api, base, 2)
		v := validationBesideReadyz(b, api, base)
		ceiling := refusedBeforeTheStore(b, api, base)
		walPeak := wal()
		checkCounters(b, models.Config{Path: path})

		dsn := storetest.PostgresSchemaDSN(b)
		pgEnv := map[string]string{"DATABASE_URL": dsn, "COUPOND_TOKEN_CONCURRENCY": "64"}
		pgToken := mustRun(b, pgEnv, "token", "create", "--name", "bench")
		pgBase := startRun(b, pgEnv)
		load.reserveFirst = false
		pgRedeemed := load.run(b, newAPIClient(b, pgToken, load.clients), pgBase, 1)
		checkCounters(b, models.Config{DatabaseURL: dsn})

		rate := func(r redemptionRound) float64 { return float64(r.statuses[http.StatusCreated]) / r.elapsed.Seconds() }
		rows := []struct {
			what            string
			coupond, versus float64
			p99             time.Duration
			target          string
		}{
			{"redemption, SQLite (per s)", rate(redeemed), reference, redeemed.percentile(0.99), "≥ 1.0, p99 < 50 ms"},
			{"redemption, PostgreSQL (per s)", rate(pgRedeemed), pgTPS, pgRedeemed.percentile(0.99), "≥ 0.6, p99 < 100 ms"},
			{"validation beside GET /readyz (per s)", v.valid, v.ready, 0, "≥ 0.6"},
			{"reservation then redemption, SQLite (orders per s)", rate(ordered), reference, ordered.percentile(0.99), "≥ 0.5"},
		}
		var out strings.Builder
		fmt.Fprintf(&out, "\n| path | coupond | reference | ratio | p99 | target |\n|---|---|---|---|---|---|\n")
		for _, r := range rows {
			p99 := "–"
			if r.p99 > 0 {
				p99 = fmt.Sprintf("%.0f ms", float64(r.p99.Microseconds())/1000)
			}
			fmt.Fprintf(&out, "| %s | %.0f | %.0f | %.2f× | %s | %s |\n", r.what, r.coupond, r.versus, r.coupond/r.versus, p99, r.target)
		}
		fmt.Fprintf(&out, "HTTP alone: %.0f redemption requests a second refused before the store (items 0: routing, token, JSON in and out); ", ceiling)
		fmt.Fprintf(&out, "SQLite reference: %d redemptions in %s, one transaction each; pgbench: %.0f tps; WAL peak %.1f MiB; no over-redemption, counters equal live redemptions",
			refN, refTook.Round(time.Millisecond), pgTPS, float64(walPeak)/(1<<20))
		b.Log(out.String())
		b.ReportMetric(rate(redeemed)/reference, "sqlite-ratio")
		b.ReportMetric(rate(pgRedeemed)/pgTPS, "postgres-ratio")
		b.ReportMetric(v.valid/v.ready, "validation-ratio")
		b.ReportMetric(rate(ordered)/reference, "reserve+redeem-ratio")
		b.ReportMetric(ceiling/reference, "http-alone-ratio")
		if walPeak >= 64<<20 {
			b.Errorf("the WAL reached %.1f MiB, past 64 MiB", float64(walPeak)/(1<<20))
		}
	}
}

// refusedBeforeTheStore sends 5,000 redemptions that the API refuses
// before any database work (0 items) from 50 clients to the server at
// base, and returns how many it answered a second: what HTTP, the token
// and JSON cost a checkout alone.
func refusedBeforeTheStore(b *testing.B, api apiClient, base string) float64 {
	b.Helper()
	const total, clients = 5000, 50
	took := fromClients(total, clients, func(i int) bool {
		status, out, err := api.post(base+"/api/redemptions", fmt.Sprintf(`{"code":"r1-%05d","customerId":"cust-%d","orderId":"x-%d","items":0,"orderAmount":5000}`, i%500, i, i))
		if err != nil || status != http.StatusUnprocessableEntity {
			b.Errorf("redemption of 0 items answered %d %v: %s", status, err, out)
			return false
		}
		return true
	})
	return total / took.Seconds()
}

// checkCounters fails b on an over-redemption or a use counter that
// disagrees with the live redemptions in the database cfg names.
func checkCounters(b *testing.B, cfg models.Config) {
	b.Helper()
	if problems := overRedemptions(b, storetest.Connect(b, cfg)); len(problems) > 0 {
		b.Fatalf("over-redeemed:\n%s", strings.Join(problems, "\n"))
	}
}

// sampleWAL samples the size of the WAL file at path every 100 ms until
// the returned function is called, which returns the largest size seen.
func sampleWAL(path string) func() int64 {
	var peak atomic.Int64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if st, err := os.Stat(path); err == nil && st.Size() > peak.Load() {
				peak.Store(st.Size())
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		return peak.Load()
	}
}

// pgbenchPath finds pgbench: on the PATH, or beside the PostgreSQL
// cluster that ships on the machine.
func pgbenchPath(b *testing.B) string {
	b.Helper()
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p
	}
	if ps, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench"); len(ps) > 0 {
		return ps[len(ps)-1]
	}
	b.Fatal("pgbench is missing: it ships with PostgreSQL (postgresql-contrib or postgresql-client)")
	return ""
}

// pgbenchScript is the reference's four statements in one transaction;
// the coupons have uses enough never to run out, as the SQLite
// reference's do. (pgbench would read ":bench" in a literal as a
// variable, so the actor is written without the colon.)
const pgbenchScript = `\set c random(0, 499)
\set o random(1, 1000000000000)
BEGIN;
SELECT id AS cid FROM coupons WHERE lower(code) = lower('r-' || lpad(:c::text, 5, '0')) \gset
UPDATE coupons SET uses = uses + 1 WHERE id = :cid AND uses < max_usage;
INSERT INTO redemptions (coupon_id, customer_id, order_id, items, created_at) VALUES (:cid, 'c' || :o::text, 'o' || :o::text, 1, now()) RETURNING id AS rid \gset
INSERT INTO audit_events (at, actor, action, entity, entity_id, summary) VALUES (now(), 'token bench', 'redemption.create', 'redemption', :rid::text, 'code r-' || :c::text);
END;
`

// pgbenchReference runs pgbenchScript 5,000 times from 50 clients on a
// fresh schema of the test database and returns its transactions per
// second.
func pgbenchReference(b *testing.B, pgbench string) float64 {
	b.Helper()
	dsn := storetest.PostgresSchemaDSN(b)
	db := storetest.Connect(b, models.Config{DatabaseURL: dsn})
	for _, q := range []string{
		"CREATE TABLE coupons (id bigserial PRIMARY KEY, code text NOT NULL, uses integer NOT NULL DEFAULT 0, max_usage integer NOT NULL)",
		"CREATE UNIQUE INDEX coupons_code ON coupons (lower(code))",
		"CREATE TABLE redemptions (id bigserial PRIMARY KEY, coupon_id bigint NOT NULL REFERENCES coupons, customer_id text NOT NULL, order_id text NOT NULL, items integer NOT NULL, created_at timestamptz NOT NULL)",
		"CREATE UNIQUE INDEX redemptions_order ON redemptions (coupon_id, order_id)",
		"CREATE TABLE audit_events (id bigserial PRIMARY KEY, at timestamptz NOT NULL, actor text NOT NULL, action text NOT NULL, entity text NOT NULL, entity_id text NOT NULL, summary text NOT NULL)",
		"INSERT INTO coupons (code, max_usage) SELECT 'r-' || lpad(i::text, 5, '0'), 1000000 FROM generate_series(0, 499) AS i",
	} {
		if err := db.Exec(q).Error; err != nil {
			b.Fatal(err)
		}
	}
	u := libpqURL(b, dsn)
	script := filepath.Join(b.TempDir(), "redemption.sql")
	if err := os.WriteFile(script, []byte(pgbenchScript), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.CommandContext(b.Context(), pgbench, "-n", "-M", "prepared", "-c", "50", "-j", "2", "-t", "100", "-f", script, u.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("pgbench: %v\n%s", err, out)
	}
	tps := regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`).FindSubmatch(out)
	if tps == nil {
		b.Fatalf("pgbench printed no rate:\n%s", out)
	}
	failed := regexp.MustCompile(`number of failed transactions: ([1-9][0-9]*)`).FindSubmatch(out)
	if failed != nil {
		b.Fatalf("pgbench transactions failed:\n%s", out)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "latency average") {
			b.Logf("pgbench %s", sc.Text())
		}
	}
	n, err := strconv.ParseFloat(string(tps[1]), 64)
	if err != nil {
		b.Fatal(err)
	}
	return n
}
