package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coupond/coupond/models/storetest"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// metricsLine is the log line serve writes once the metrics listen.
var metricsLine = regexp.MustCompile(`msg="metrics serving" url=(http://[^\s"]+)`)

// scrape reads the metrics at url as metric families by name.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: %d\n%s", url, res.StatusCode, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse the metrics of %s: %v", url, err)
	}
	return fams
}

// metricValue is the sum of the series of name whose labels include
// labels: a counter's or a gauge's value, a histogram's count; found
// says whether there is any such series.
func metricValue(fams map[string]*dto.MetricFamily, name string, labels ...string) (sum float64, found bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
series:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue series
			}
		}
		found = true
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum, found
}

// value is metricValue's sum alone: 0 for a series not made yet.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	v, _ := metricValue(fams, name, labels...)
	return v
}

// TestMetricsCountExactlyTheTrafficServed drives a known sequence of
// validations, redemptions, reservations, a cancellation and a batch
// through the API of the real program and checks that every counter
// moved by exactly that traffic, on both databases.
func TestMetricsCountExactlyTheTrafficServed(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			env := map[string]string{"COUPOND_DB": filepath.Join(t.TempDir(), "coupond.db")}
			if engine == "postgres" {
				env = map[string]string{"DATABASE_URL": storetest.PostgresSchemaDSN(t)}
			}
			token := mustRun(t, env, "token", "create", "--name", "metrics")
			base, log := startRunLog(t, env, "--metrics-addr", "127.0.0.1:0")
			m := metricsLine.FindStringSubmatch(log())
			if m == nil {
				t.Fatalf("serve did not log where the metrics listen:\n%s", log())
			}
			metricsURL := m[1]
			api := newAPIClient(t, token, 2)
			get := func(path string) (int, []byte) {
				t.Helper()
				req, _ := http.NewRequest(http.MethodGet, base+path, nil)
				req.Header.Set("X-Auth-Token", token)
				res, err := api.http.Do(req)
				if err != nil {
					t.Fatalf("GET %s: %v", path, err)
				}
				defer res.Body.Close()
				body, _ := io.ReadAll(res.Body)
				return res.StatusCode, body
			}
			mustGet := func(path string, want int) []byte {
				t.Helper()
				status, body := get(path)
				if status != want {
					t.Fatalf("GET %s: %d, want %d\n%s", path, status, want, body)
				}
				return body
			}
			reasonsOf := func(body []byte) []string {
				t.Helper()
				var out struct {
					Error struct{ Reasons []string }
				}
				if err := json.Unmarshal(body, &out); err != nil || len(out.Error.Reasons) == 0 {
					t.Fatalf("a refusal without reasons: %v %s", err, body)
				}
				return out.Error.Reasons
			}

			api.mustPost(t, base+"/api/promotions", `{"name":"Metrics","discountType":"percent","discountValue":10,"utmSource":"metrics"}`, http.StatusCreated)
			api.mustPost(t, base+"/api/rnb/pvt/coupon", `{"couponCode":"ONCE","utmSource":"metrics","maxUsage":1}`, http.StatusCreated)
			api.mustPost(t, base+"/api/rnb/pvt/coupon", `{"couponCode":"FIVE","utmSource":"metrics","maxUsage":5}`, http.StatusCreated)
			before := scrape(t, metricsURL)

			// Validations: one valid, one unknown code, one malformed.
			mustGet("/api/coupons/ONCE/validation?customerId=ann&items=1", http.StatusOK)
			mustGet("/api/coupons/NOSUCH/validation?customerId=ann&items=1", http.StatusOK)
			mustGet("/api/coupons/ONCE/validation?customerId=ann&items=-1", http.StatusUnprocessableEntity)
			// Redemptions: two made, one asked again, one refused, one
			// malformed.
			api.mustPost(t, base+"/api/redemptions", `{"code":"ONCE","customerId":"ann","orderId":"o1","items":1}`, http.StatusCreated)
			api.mustPost(t, base+"/api/redemptions", `{"code":"ONCE","customerId":"ann","orderId":"o1","items":1}`, http.StatusOK)
			redeemRefusal := reasonsOf(api.mustPost(t, base+"/api/redemptions", `{"code":"ONCE","customerId":"bob","orderId":"o2","items":1}`, http.StatusConflict))
			var made struct{ ID int64 }
			if err := json.Unmarshal(api.mustPost(t, base+"/api/redemptions", `{"code":"FIVE","customerId":"bob","orderId":"o3","items":1}`, http.StatusCreated), &made); err != nil || made.ID == 0 {
				t.Fatalf("redemption without an id: %v", err)
			}
			api.mustPost(t, base+"/api/redemptions", `{"code":"FIVE","customerId":"bob","orderId":"o4","items":-1}`, http.StatusUnprocessableEntity)
			// A reservation held and one refused; the redemption cancelled.
			api.mustPost(t, base+"/api/reservations", `{"code":"FIVE","customerId":"cy","orderId":"o5","items":1}`, http.StatusCreated)
			reserveRefusal := reasonsOf(api.mustPost(t, base+"/api/reservations", `{"code":"ONCE","customerId":"cy","orderId":"o6","items":1}`, http.StatusConflict))
			api.mustPost(t, base+fmt.Sprintf("/api/redemptions/%d/cancel", made.ID), ``, http.StatusOK)
			// Three codes generated from a base code in the request, and a
			// batch of 25, run to its end by the batch runner.
			api.mustPost(t, base+"/api/rnb/pvt/multiple-coupons", `[{"quantity":3,"couponConfiguration":{"couponCode":"GEN","utmSource":"metrics"}}]`, http.StatusOK)
			var batch struct {
				ID     int64
				Status string
			}
			if err := json.Unmarshal(api.mustPost(t, base+"/api/batches", `{"quantity":25,"format":{"length":12}}`, http.StatusAccepted), &batch); err != nil {
				t.Fatal(err)
			}
			polls := 0
			for deadline := time.Now().Add(30 * time.Second); batch.Status != "done"; {
				if time.Now().After(deadline) {
					t.Fatalf("batch %d still %s after 30 s", batch.ID, batch.Status)
				}
				time.Sleep(20 * time.Millisecond)
				polls++
				if err := json.Unmarshal(mustGet(fmt.Sprintf("/api/batches/%d", batch.ID), http.StatusOK), &batch); err != nil {
					t.Fatal(err)
				}
			}
			// An import whose lines are all refused: done at once, and
			// counted apart from the batches of generated codes.
			req, _ := http.NewRequest(http.MethodPost, base+"/api/imports", strings.NewReader("code,maxUsage\nM-1,lots\n"))
			req.Header.Set("X-Auth-Token", token)
			req.Header.Set("Content-Type", "text/csv")
			if res, err := api.http.Do(req); err != nil || res.StatusCode != http.StatusAccepted {
				t.Fatalf("POST /api/imports: %v %v", res, err)
			} else {
				res.Body.Close()
			}
			after := scrape(t, metricsURL)

			type series struct {
				name   string
				labels []string
				want   float64
			}
			want := []series{
				{"coupond_validations_total", []string{"outcome", "valid"}, 1},
				{"coupond_validations_total", []string{"outcome", "refused"}, 1},
				{"coupond_validations_total", []string{"outcome", "invalid"}, 1},
				{"coupond_refusals_total", []string{"operation", "validation", "reason", "NOT_FOUND"}, 1},
				{"coupond_refusals_total", []string{"operation", "validation"}, 1},
				{"coupond_redemptions_total", []string{"outcome", "redeemed"}, 2},
				{"coupond_redemptions_total", []string{"outcome", "repeated"}, 1},
				{"coupond_redemptions_total", []string{"outcome", "refused"}, 1},
				{"coupond_redemptions_total", []string{"outcome", "invalid"}, 1},
				{"coupond_redemptions_total", []string{"outcome", "error"}, 0},
				{"coupond_refusals_total", []string{"operation", "redemption"}, float64(len(redeemRefusal))},
				{"coupond_reservations_total", []string{"outcome", "held"}, 1},
				{"coupond_reservations_total", []string{"outcome", "refused"}, 1},
				{"coupond_refusals_total", []string{"operation", "reservation"}, float64(len(reserveRefusal))},
				{"coupond_redemption_cancellations_total", nil, 1},
				{"coupond_codes_generated_total", nil, 28},
				{"coupond_batches", []string{"kind", "generate", "status", "done"}, 2}, // the base code's and the runner's
				{"coupond_batch_codes_pending", []string{"kind", "generate"}, 0},
				{"coupond_batches", []string{"kind", "import", "status", "done"}, 1},
				{"coupond_batch_codes_pending", []string{"kind", "import"}, 0},
				{"coupond_http_requests_total", []string{"route", "/api/coupons/:code/validation", "method", "GET", "status", "200"}, 2},
				{"coupond_http_requests_total", []string{"route", "/api/coupons/:code/validation", "method", "GET", "status", "422"}, 1},
				{"coupond_http_requests_total", []string{"route", "/api/redemptions", "method", "POST", "status", "201"}, 2},
				{"coupond_http_requests_total", []string{"route", "/api/redemptions", "method", "POST", "status", "200"}, 1},
				{"coupond_http_requests_total", []string{"route", "/api/redemptions", "method", "POST", "status", "409"}, 1},
				{"coupond_http_requests_total", []string{"route", "/api/redemptions", "method", "POST", "status", "422"}, 1},
				{"coupond_http_requests_total", []string{"route", "/api/reservations", "method", "POST"}, 2},
				{"coupond_http_requests_total", []string{"route", "/api/redemptions/:id/cancel", "method", "POST", "status", "200"}, 1},
				{"coupond_http_requests_total", []string{"route", "/api/batches", "method", "POST", "status", "202"}, 1},
				{"coupond_http_requests_total", []string{"route", "/api/batches/:id", "method", "GET", "status", "200"}, float64(polls)},
				{"coupond_http_request_duration_seconds", []string{"route", "/api/redemptions", "method", "POST"}, 5},
			}
			for _, r := range redeemRefusal {
				want = append(want, series{"coupond_refusals_total", []string{"operation", "redemption", "reason", r}, 1})
			}
			for _, r := range reserveRefusal {
				want = append(want, series{"coupond_refusals_total", []string{"operation", "reservation", "reason", r}, 1})
			}
			for _, w := range want {
				now, found := metricValue(after, w.name, w.labels...)
				if !found {
					t.Errorf("no series %s{%s}", w.name, strings.Join(w.labels, " "))
					continue
				}
				moved := now - value(before, w.name, w.labels...)
				if w.name == "coupond_batches" || w.name == "coupond_batch_codes_pending" {
					moved = now
				}
				if moved != w.want {
					t.Errorf("%s{%s} moved by %v, want %v", w.name, strings.Join(w.labels, " "), moved, w.want)
				}
			}
			// A path no route serves is counted under one label, never
			// under the path a client made up.
			get("/no/such/page/4711")
			after = scrape(t, metricsURL)
			if got := value(after, "coupond_http_requests_total", "route", "unmatched", "status", "404"); got != 1 {
				t.Errorf("unmatched 404s: %v, want 1", got)
			}
			for _, f := range []string{"go_goroutines", "process_resident_memory_bytes", "go_sql_open_connections"} {
				if after[f] == nil {
					t.Errorf("no %s among the metrics", f)
				}
			}
			if engine == "sqlite" {
				if value(after, "coupond_writer_wait_seconds")-value(before, "coupond_writer_wait_seconds") < 7 {
					t.Error("the writer's wait did not count the writes made")
				}
				if q, found := metricValue(after, "coupond_writer_queue"); !found || q != 0 {
					t.Errorf("writer queue %v (found %v) with nothing in flight, want 0", q, found)
				}
			}
		})
	}
}
