package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// BenchmarkValidationBesideReadyz measures, side by side on one SQLite
// server, GET /api/coupons/{code}/validation (500 coupons reaching one
// promotion, a customer and an order amount each time) and GET /readyz
// (routing, middleware and one database ping), each 10,000 requests from
// 50 clients over kept-alive connections on 127.0.0.1, and reports both
// rates and their ratio.
func BenchmarkValidationBesideReadyz(b *testing.B) {
	for b.Loop() {
		// A fresh server each time: the set-up makes its coupons.
		db := filepath.Join(b.TempDir(), "coupond.db")
		env := map[string]string{"COUPOND_DB": db, "COUPOND_TOKEN_CONCURRENCY": "64"}
		token := mustRun(b, env, "token", "create", "--name", "bench")
		base := startRun(b, env)
		api := newAPIClient(b, token, 50)
		v := validationBesideReadyz(b, api, base)
		b.ReportMetric(v.ready, "readyz/s")
		b.ReportMetric(v.valid, "validations/s")
		b.ReportMetric(v.valid/v.ready, "ratio")
		b.Logf("slowest: readyz %v, validation %v", v.readyWorst, v.validWorst)
	}
}

// validationRates is what validationBesideReadyz measured: requests per
// second and the slowest answer of each path.
type validationRates struct {
	ready, valid           float64
	readyWorst, validWorst time.Duration
}

// validationBesideReadyz sets up 500 coupons reaching one promotion on
// the server at base, then sends 10,000 GET /readyz and 10,000
// validations, each from 50 clients.
func validationBesideReadyz(b *testing.B, api apiClient, base string) validationRates {
	b.Helper()
	api.mustPost(b, base+"/api/promotions", `{"name":"v","discountType":"percent","discountValue":10,"utmSource":"v"}`, http.StatusCreated)
	var items bytes.Buffer
	items.WriteByte('[')
	for i := range 500 {
		if i > 0 {
			items.WriteByte(',')
		}
		fmt.Fprintf(&items, `{"quantity":1,"couponConfiguration":{"couponCode":"v-%03d","utmSource":"v","maxUsage":10}}`, i)
	}
	items.WriteByte(']')
	api.mustPost(b, base+"/api/rnb/pvt/multiple-coupons", items.String(), http.StatusOK)
	rate := func(path func(i int) string) (float64, time.Duration) {
		const total, clients = 10_000, 50
		var mu sync.Mutex
		var worst time.Duration
		took := fromClients(total, clients, func(i int) bool {
			req, _ := http.NewRequest(http.MethodGet, base+path(i), nil)
			req.Header.Set("X-Auth-Token", api.token)
			t0 := time.Now()
			res, err := api.http.Do(req)
			if err != nil {
				b.Error(err)
				return false
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Errorf("GET %s: %d", path(i), res.StatusCode)
				return false
			}
			mu.Lock()
			worst = max(worst, time.Since(t0))
			mu.Unlock()
			return true
		})
		return total / took.Seconds(), worst
	}
	var v validationRates
	v.ready, v.readyWorst = rate(func(int) string { return "/readyz" })
	v.valid, v.validWorst = rate(func(i int) string {
		return fmt.Sprintf("/api/coupons/v-%03d/validation?customerId=c%d&items=1&orderAmount=5000", i%500, i)
	})
	return v
}
