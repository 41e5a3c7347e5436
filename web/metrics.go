package web

import (
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// unmatchedRoute labels the requests no route took (404s of unknown
// paths), so that a scanner's made-up paths do not each become a series.
const unmatchedRoute = "unmatched"

// httpMetrics counts every request in reg by route pattern (never the raw
// path), method and status, with its latency. It sits outside
// answerErrors, so that the status counted is the one the client got.
// routes reports whether a pattern is one of the server's routes.
func httpMetrics(reg prometheus.Registerer, routes func(string) bool) echo.MiddlewareFunc {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "coupond_http_requests_total",
		Help: "HTTP requests answered, by route pattern, method and status.",
	}, []string{"route", "method", "status"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "coupond_http_request_duration_seconds",
		Help:    "Time from a request's arrival to its answer, by route pattern and method.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"route", "method"})
	reg.MustRegister(requests, latency)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			route := c.Path()
			if !routes(route) {
				route = unmatchedRoute
			}
			method := c.Request().Method
			requests.WithLabelValues(route, method, strconv.Itoa(c.Response().Status)).Inc()
			latency.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
			return err
		}
	}
}
