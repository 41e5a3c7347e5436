package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
	"gorm.io/gorm"
)

// apiClient sends JSON with one token to any of the test's servers over
// kept-alive connections.
type apiClient struct {
	http  *http.Client
	token string
}

// newAPIClient returns a client that keeps up to conns connections per
// server, closed when the test ends.
func newAPIClient(tb testing.TB, token string, conns int) apiClient {
	tb.Helper()
	tr := &http.Transport{MaxIdleConns: 4 * conns, MaxIdleConnsPerHost: conns}
	tb.Cleanup(tr.CloseIdleConnections)
	return apiClient{http: &http.Client{Timeout: 30 * time.Second, Transport: tr}, token: token}
}

// post sends body to url and returns the status and the answer's body.
func (a apiClient) post(url, body string) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("X-Auth-Token", a.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := a.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	return res.StatusCode, out, err
}

// mustPost posts and fails unless the answer has status want.
func (a apiClient) mustPost(tb testing.TB, url, body string, want int) []byte {
	tb.Helper()
	status, out, err := a.post(url, body)
	if err != nil || status != want {
		tb.Fatalf("POST %s: %d %v, want %d\n%s", url, status, err, want, out)
	}
	return out
}

// refusal reads the reason codes of a 409 answer to POST /api/redemptions.
func refusal(body []byte) (code string, reasons []string) {
	var e struct {
		Error struct {
			Code    string   `json:"code"`
			Reasons []string `json:"reasons"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return "unreadable: " + err.Error(), nil
	}
	return e.Error.Code, e.Error.Reasons
}

// overRedemptions reads the database behind the servers and describes
// every limit that its live redemptions pass and every use counter that
// disagrees with them; nil when there is none.
func overRedemptions(tb testing.TB, db *gorm.DB) []string {
	tb.Helper()
	var problems []string
	var counters []struct {
		Kind     string
		Name     string
		Uses     int
		MaxUsage int
		Live     int
	}
	// PostgreSQL counts the uses of a promotion without a limit in the
	// totals, not in its row.
	uses := "p.uses"
	if db.Dialector.Name() == "postgres" {
		uses = `CASE WHEN p.max_usage > 0 OR p.max_usage_per_client > 0 THEN p.uses ELSE
			(SELECT coalesce(sum(t.redemptions), 0) FROM redemption_totals_daily t WHERE t.scope = 'promotion' AND t.scope_key = CAST(p.id AS text)) END`
	}
	err := db.Raw(`SELECT 'coupon' AS kind, c.code AS name, c.uses, c.max_usage,
			(SELECT count(*) FROM redemptions r WHERE r.coupon_id = c.id AND r.cancelled_at IS NULL) AS live
		FROM coupons c
		UNION ALL
		SELECT 'promotion', p.name, `+uses+`, p.max_usage,
			(SELECT count(*) FROM redemption_promotions rp WHERE rp.promotion_id = p.id AND rp.cancelled = ?)
		FROM promotions p`, false).Scan(&counters).Error
	if err != nil {
		tb.Fatalf("read use counters: %v", err)
	}
	for _, c := range counters {
		if c.Uses != c.Live {
			problems = append(problems, fmt.Sprintf("%s %s counts %d uses but has %d live redemptions", c.Kind, c.Name, c.Uses, c.Live))
		}
		if c.MaxUsage > 0 && c.Live > c.MaxUsage {
			problems = append(problems, fmt.Sprintf("%s %s has %d live redemptions, over its limit of %d", c.Kind, c.Name, c.Live, c.MaxUsage))
		}
	}
	var perCustomer []struct {
		Kind       string
		Name       string
		CustomerID string
		Live       int
		Max        int
	}
	// Coupons with a renewal interval are left out: their limit holds
	// within the interval only.
	err = db.Raw(`SELECT 'coupon' AS kind, c.code AS name, r.customer_id, count(*) AS live, c.max_usage_per_client AS max
		FROM redemptions r JOIN coupons c ON c.id = r.coupon_id
		WHERE r.cancelled_at IS NULL AND c.max_usage_per_client > 0 AND c.expiration_interval_per_use = 0
		GROUP BY c.code, r.customer_id, c.max_usage_per_client HAVING count(*) > c.max_usage_per_client
		UNION ALL
		SELECT 'promotion', p.name, rp.customer_id, count(*), p.max_usage_per_client
		FROM redemption_promotions rp JOIN promotions p ON p.id = rp.promotion_id
		WHERE rp.cancelled = ? AND p.max_usage_per_client > 0
		GROUP BY p.name, rp.customer_id, p.max_usage_per_client HAVING count(*) > p.max_usage_per_client`, false).Scan(&perCustomer).Error
	if err != nil {
		tb.Fatalf("read per-customer uses: %v", err)
	}
	for _, c := range perCustomer {
		problems = append(problems, fmt.Sprintf("%s %s has %d live redemptions by %s, over its limit of %d per customer", c.Kind, c.Name, c.Live, c.CustomerID, c.Max))
	}
	return problems
}

// TestRedemptionsOnTwoInstancesNeverPassALimit starts two servers on one
// PostgreSQL schema, as two instances behind a load balancer would run,
// and sends 100 redemptions of a coupon limited to 5 uses at once, half
// to each.
func TestRedemptionsOnTwoInstancesNeverPassALimit(t *testing.T) {
	t.Parallel()
	dsn := storetest.PostgresSchemaDSN(t)
	env := map[string]string{"DATABASE_URL": dsn, "COUPOND_TOKEN_CONCURRENCY": "100"}
	token := mustRun(t, env, "token", "create", "--name", "two-instances")
	bases := [2]string{startRun(t, env), startRun(t, env)}
	api := newAPIClient(t, token, 100)
	api.mustPost(t, bases[0]+"/api/promotions", `{"name":"Race","discountType":"percent","discountValue":10,"utmSource":"race"}`, http.StatusCreated)
	api.mustPost(t, bases[1]+"/api/rnb/pvt/coupon", `{"couponCode":"RACE5","utmSource":"race","maxUsage":5}`, http.StatusCreated)

	const n = 100
	statuses := make([]int, n)
	bodies := make([][]byte, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			body := fmt.Sprintf(`{"code":"race5","customerId":"cust-%d","orderId":"order-%d","items":1,"orderAmount":1000}`, i, i)
			status, out, err := api.post(bases[i%2]+"/api/redemptions", body)
			if err != nil {
				t.Errorf("redemption %d: %v", i, err)
			}
			statuses[i], bodies[i] = status, out
		})
	}
	close(start)
	wg.Wait()

	created, refused := [2]int{}, [2]int{}
	for i, status := range statuses {
		switch status {
		case http.StatusCreated:
			created[i%2]++
		case http.StatusConflict:
			if code, reasons := refusal(bodies[i]); code != "not_redeemable" || !slices.Equal(reasons, []string{models.ReasonUsageLimit}) {
				t.Errorf("redemption %d refused with %s %v, want not_redeemable [USAGE_LIMIT]", i, code, reasons)
			}
			refused[i%2]++
		default:
			t.Errorf("redemption %d answered %d: %s", i, status, bodies[i])
		}
	}
	t.Logf("201 per instance %v, 409 per instance %v", created, refused)
	if created[0]+created[1] != 5 || refused[0]+refused[1] != 95 {
		t.Fatalf("%v + %v created and %v + %v refused, want 5 and 95", created[0], created[1], refused[0], refused[1])
	}
	db := storetest.Connect(t, models.Config{DatabaseURL: dsn})
	var uses []int
	if err := db.Raw("SELECT uses FROM coupons WHERE lower(code) = ?", "race5").Scan(&uses).Error; err != nil || len(uses) != 1 || uses[0] != 5 {
		t.Fatalf("coupon uses %v (%v), want 5", uses, err)
	}
	if problems := overRedemptions(t, db); len(problems) > 0 {
		t.Fatalf("over-redeemed:\n%s", strings.Join(problems, "\n"))
	}
}

// redemptionLoad is one round of the redemption benchmark: coupons
// coupons with maxUsage uses each, all reaching an unlimited promotion
// and, when promoLimit is set, one limited to promoLimit uses, then
// requests redemptions by clients concurrent clients, each of a customer
// drawn by a seeded generator and of a coupon drawn too or, with inTurn,
// taken in turn. With reserveFirst each request is an order that holds a
// use (POST /api/reservations) and then redeems it.
type redemptionLoad struct {
	coupons, maxUsage, promoLimit int
	requests, clients, customers  int
	inTurn, reserveFirst          bool
}

// redemptionRound is what one round saw.
type redemptionRound struct {
	statuses  map[int]int
	latencies []time.Duration
	elapsed   time.Duration
}

func (r redemptionRound) percentile(p float64) time.Duration {
	s := slices.Clone(r.latencies)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// run sets up round's coupons and promotions, then sends the
// redemptions, timing only those.
func (l redemptionLoad) run(b *testing.B, api apiClient, base string, round int) redemptionRound {
	b.Helper()
	tag := fmt.Sprintf("bench-%d", round)
	api.mustPost(b, base+"/api/promotions", fmt.Sprintf(`{"name":"%s","discountType":"percent","discountValue":5,"utmSource":"%s"}`, tag, tag), http.StatusCreated)
	if l.promoLimit > 0 {
		api.mustPost(b, base+"/api/promotions", fmt.Sprintf(`{"name":"%s-limited","discountType":"fixed","discountValue":100,"maxUsage":%d,"utmSource":"%s"}`, tag, l.promoLimit, tag), http.StatusCreated)
	}
	var items bytes.Buffer
	items.WriteByte('[')
	for i := range l.coupons {
		if i > 0 {
			items.WriteByte(',')
		}
		fmt.Fprintf(&items, `{"quantity":1,"couponConfiguration":{"couponCode":"r%d-%05d","utmSource":"%s","maxUsage":%d}}`, round, i, tag, l.maxUsage)
	}
	items.WriteByte(']')
	api.mustPost(b, base+"/api/rnb/pvt/multiple-coupons", items.String(), http.StatusOK)

	rng := rand.New(rand.NewPCG(uint64(round), 2026))
	bodies := make([]string, l.requests)
	for i := range bodies {
		coupon := i % l.coupons
		if !l.inTurn {
			coupon = rng.IntN(l.coupons)
		}
		bodies[i] = fmt.Sprintf(`{"code":"r%d-%05d","customerId":"cust-%d","orderId":"r%d-order-%d","items":1,"orderAmount":5000`,
			round, coupon, rng.IntN(l.customers), round, i)
	}
	statuses := make([]int, l.requests)
	answers := make([][]byte, l.requests)
	latencies := make([]time.Duration, l.requests)
	elapsed := fromClients(l.requests, l.clients, func(i int) bool {
		t0 := time.Now()
		status, out, err := http.StatusCreated, []byte(nil), error(nil)
		if l.reserveFirst {
			status, out, err = api.post(base+"/api/reservations", bodies[i]+`,"ttl":"60s"}`)
		}
		if err == nil && status == http.StatusCreated {
			status, out, err = api.post(base+"/api/redemptions", bodies[i]+"}")
		}
		latencies[i] = time.Since(t0)
		if err != nil {
			b.Errorf("redemption %d: %v", i, err)
		}
		statuses[i] = status
		if status != http.StatusCreated {
			answers[i] = out
		}
		return true
	})
	res := redemptionRound{statuses: map[int]int{}, latencies: latencies, elapsed: elapsed}
	for i, status := range statuses {
		res.statuses[status]++
		switch status {
		case http.StatusCreated:
		case http.StatusConflict:
			// The unlimited promotion always applies, so only a coupon's
			// own limit can refuse.
			if code, reasons := refusal(answers[i]); code != "not_redeemable" || !slices.Equal(reasons, []string{models.ReasonUsageLimit}) {
				b.Errorf("redemption %d refused with %s %v, want not_redeemable [USAGE_LIMIT]", i, code, reasons)
			}
		default:
			b.Errorf("redemption %d answered %d: %s", i, status, answers[i])
		}
	}
	return res
}

// BenchmarkRedemption measures POST /api/redemptions on the real server
// over HTTP at 50 concurrent clients, on SQLite and on PostgreSQL: per
// round, 5,000 redemptions of 500 fresh coupons (at most 10 uses each, so
// that most succeed and the busiest coupons meet their limit) through an
// unlimited promotion and one limited to 2,000 uses. After each round it
// fails if any coupon or promotion was redeemed past a limit or if a use
// counter disagrees with the live redemptions. Run it with -benchtime 1x;
// the figures are the round's, setup excluded.
func BenchmarkRedemption(b *testing.B) {
	load := redemptionLoad{coupons: 500, maxUsage: 10, promoLimit: 2000, requests: 5000, clients: 50, customers: 2000}
	b.Run("sqlite", func(b *testing.B) {
		db := filepath.Join(b.TempDir(), "coupond.db")
		benchmarkRedemption(b, load, map[string]string{"COUPOND_DB": db}, models.Config{Path: db})
	})
	b.Run("postgres", func(b *testing.B) {
		dsn := storetest.PostgresSchemaDSN(b)
		benchmarkRedemption(b, load, map[string]string{"DATABASE_URL": dsn}, models.Config{DatabaseURL: dsn})
	})
}

func benchmarkRedemption(b *testing.B, load redemptionLoad, env map[string]string, cfg models.Config) {
	// One token carries every client: let them all be in flight.
	env["COUPOND_TOKEN_CONCURRENCY"] = fmt.Sprint(load.clients + 14)
	token := mustRun(b, env, "token", "create", "--name", "bench")
	base := startRun(b, env)
	api := newAPIClient(b, token, load.clients)
	db := storetest.Connect(b, cfg)
	round := 0
	for b.Loop() {
		round++
		res := load.run(b, api, base, round)
		if problems := overRedemptions(b, db); len(problems) > 0 {
			b.Fatalf("over-redeemed after round %d:\n%s", round, strings.Join(problems, "\n"))
		}
		var limited []int
		if err := db.Raw("SELECT uses FROM promotions WHERE name = ?", fmt.Sprintf("bench-%d-limited", round)).Scan(&limited).Error; err != nil || len(limited) != 1 {
			b.Fatalf("limited promotion: %v (%v)", limited, err)
		}
		if want := min(load.promoLimit, res.statuses[http.StatusCreated]); limited[0] != want {
			b.Fatalf("the limited promotion was applied %d times, want %d", limited[0], want)
		}
		b.ReportMetric(float64(res.statuses[http.StatusCreated])/res.elapsed.Seconds(), "redeemed/s")
		b.ReportMetric(float64(load.requests)/res.elapsed.Seconds(), "requests/s")
		b.ReportMetric(float64(res.percentile(0.5).Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(res.percentile(0.99).Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(res.statuses[http.StatusCreated]), "redeemed")
		b.ReportMetric(float64(res.statuses[http.StatusConflict]), "refused")
		b.Logf("round %d: statuses %v in %s", round, res.statuses, res.elapsed.Round(time.Millisecond))
	}
}

// fromClients runs fn(i) for every i from 0 to total-1 from clients
// goroutines, each taking the next i until none is left or fn returns
// false, and returns how long they took.
func fromClients(total, clients int, fn func(i int) bool) time.Duration {
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= total || !fn(i) {
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}
