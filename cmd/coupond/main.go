// Command coupond is the coupon and promotion service: an admin console
// and a JSON API in one binary, on SQLite by default or PostgreSQL.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/coupond/coupond/handlers"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "coupond:", err)
		}
		os.Exit(1)
	}
}

const usage = `coupond: self-hosted coupon and promotion service

Usage:
  coupond serve [flags]                                   serve the console and the API
  coupond user create --email E --role admin|editor|viewer [--password P]
                                                          add a console account
  coupond token create --name N --scope modify|read       make an API token (printed last)
  coupond version                                         print the version

Every command takes --db PATH or --database-url URL. Run "coupond serve -h"
for the flags of serve.
`

// run is coupond's whole program: it reads the command and its flags
// (each with an environment fallback read through getenv) and runs it
// until ctx is cancelled. stdin supplies a password when no other source
// does.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stderr)
	case "user":
		return userCommand(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "token":
		return tokenCommand(ctx, args[1:], getenv, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "coupond", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// serveConfig is everything serve reads from flags and environment.
type serveConfig struct {
	addr             string
	metricsAddr      string
	db               dbFlags
	maxActiveCoupons int
	logFormat        string
	secureCookies    bool
	trustProxy       bool
	sessionIdle      time.Duration
	sessionLifetime  time.Duration
	tokenConcurrency int
	writeWait        time.Duration
	batchLease       time.Duration
	guessLimit       int
	guessWindow      time.Duration
	terms            handlers.Terms
}

// dbFlags name the database every command opens.
type dbFlags struct {
	path        string
	databaseURL string
}

func (d *dbFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&d.path, "db", envOr(getenv, "COUPOND_DB", "coupond.db"), "SQLite database file (env COUPOND_DB)")
	fs.StringVar(&d.databaseURL, "database-url", getenv("DATABASE_URL"), "PostgreSQL URL postgres://…; overrides --db (env DATABASE_URL)")
}

// open opens the database named by the flags with the rules in cfg, and
// migrates it.
func (d dbFlags) open(ctx context.Context, cfg models.Config) (*models.Store, error) {
	cfg.Path, cfg.DatabaseURL = d.path, d.databaseURL
	store, err := models.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx); err != nil {
		store.Close()
		return nil, err
	}
	return store, nil
}

func parseServe(args []string, getenv func(string) string, stderr io.Writer) (serveConfig, error) {
	var cfg serveConfig
	fs := flag.NewFlagSet("coupond serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envInt := func(name string) (int, error) {
		v := getenv(name)
		if v == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%s=%q: must be a whole number, 0 or more", name, v)
		}
		return n, nil
	}
	envDuration := func(name, def string) (time.Duration, error) {
		v := envOr(getenv, name, def)
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("%s=%q: must be a duration like 30m or 12h", name, v)
		}
		return d, nil
	}
	guessLimit := models.DefaultGuessLimit
	if getenv("COUPOND_GUESS_LIMIT") != "" {
		n, err := envInt("COUPOND_GUESS_LIMIT")
		if err != nil {
			return cfg, err
		}
		guessLimit = n
	}
	guessWindow, err := envDuration("COUPOND_GUESS_WINDOW", models.DefaultGuessWindow.String())
	if err != nil {
		return cfg, err
	}
	maxActive, err := envInt("COUPOND_MAX_ACTIVE_COUPONS")
	if err != nil {
		return cfg, err
	}
	concurrency, err := envInt("COUPOND_TOKEN_CONCURRENCY")
	if err != nil {
		return cfg, err
	}
	if concurrency == 0 {
		concurrency = 10
	}
	idle, err := envDuration("COUPOND_SESSION_IDLE", "2h")
	if err != nil {
		return cfg, err
	}
	lifetime, err := envDuration("COUPOND_SESSION_LIFETIME", "12h")
	if err != nil {
		return cfg, err
	}
	writeWait, err := envDuration("COUPOND_WRITE_WAIT", models.DefaultWriteWait.String())
	if err != nil {
		return cfg, err
	}
	batchLease, err := envDuration("COUPOND_BATCH_LEASE", models.DefaultLease.String())
	if err != nil {
		return cfg, err
	}
	fs.StringVar(&cfg.addr, "addr", envOr(getenv, "COUPOND_ADDR", "127.0.0.1:8080"), "listen address HOST:PORT (env COUPOND_ADDR)")
	fs.StringVar(&cfg.metricsAddr, "metrics-addr", getenv("COUPOND_METRICS_ADDR"), "listen address HOST:PORT of the Prometheus metrics (GET /metrics), apart from the console and API; empty = off (env COUPOND_METRICS_ADDR)")
	cfg.db.register(fs, getenv)
	fs.IntVar(&cfg.maxActiveCoupons, "max-active-coupons", maxActive, "cap on active (non-archived) coupons, 0 = no cap (env COUPOND_MAX_ACTIVE_COUPONS)")
	fs.StringVar(&cfg.logFormat, "log-format", envOr(getenv, "COUPOND_LOG_FORMAT", "text"), "log format: text or json (env COUPOND_LOG_FORMAT)")
	fs.BoolVar(&cfg.secureCookies, "secure-cookies", getenv("COUPOND_SECURE_COOKIES") == "true", "mark cookies Secure and send HSTS, for serving behind TLS (env COUPOND_SECURE_COOKIES=true)")
	fs.BoolVar(&cfg.trustProxy, "trust-proxy", getenv("COUPOND_TRUST_PROXY") == "true", "take the client address from X-Forwarded-For (env COUPOND_TRUST_PROXY=true)")
	fs.DurationVar(&cfg.sessionIdle, "session-idle", idle, "end console sessions unused this long (env COUPOND_SESSION_IDLE)")
	fs.DurationVar(&cfg.sessionLifetime, "session-lifetime", lifetime, "end console sessions this long after sign-in (env COUPOND_SESSION_LIFETIME)")
	fs.IntVar(&cfg.tokenConcurrency, "token-concurrency", concurrency, "API requests one token may have in flight (env COUPOND_TOKEN_CONCURRENCY)")
	fs.DurationVar(&cfg.writeWait, "write-wait", writeWait, "on SQLite, how long a write may queue for the writer before the client gets 503 and Retry-After (env COUPOND_WRITE_WAIT)")
	fs.DurationVar(&cfg.batchLease, "batch-lease", batchLease, "how long a batch or import stays with the instance running it without news of it; once past, another instance (or this one, restarted after a crash) takes it over (env COUPOND_BATCH_LEASE)")
	fs.IntVar(&cfg.guessLimit, "guess-limit", guessLimit, "look-ups of unknown codes one client address or customer may make per --guess-window before all its look-ups get 429; 0 = no limit (env COUPOND_GUESS_LIMIT)")
	fs.DurationVar(&cfg.guessWindow, "guess-window", guessWindow, "the window --guess-limit counts in (env COUPOND_GUESS_WINDOW)")
	currencyCode := fs.String("currency", envOr(getenv, "COUPOND_CURRENCY", "USD"), "ISO 4217 code of the store's currency, in which the console shows and takes amounts (env COUPOND_CURRENCY)")
	zone := fs.String("timezone", envOr(getenv, "COUPOND_TIMEZONE", "UTC"), "IANA name of the store's time zone, such as Europe/Berlin, in which the console shows and takes times (env COUPOND_TIMEZONE)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	if cfg.maxActiveCoupons < 0 {
		return cfg, errors.New("--max-active-coupons must be 0 or more")
	}
	if cfg.tokenConcurrency < 1 {
		return cfg, errors.New("--token-concurrency must be 1 or more")
	}
	if cfg.writeWait <= 0 {
		return cfg, errors.New("--write-wait must be positive")
	}
	if cfg.batchLease < time.Second {
		return cfg, errors.New("--batch-lease must be at least 1s: every chunk of a batch renews it")
	}
	if cfg.guessLimit < 0 || cfg.guessWindow <= 0 {
		return cfg, errors.New("--guess-limit must be 0 or more and --guess-window positive")
	}
	if cfg.sessionIdle <= 0 || cfg.sessionLifetime <= 0 {
		return cfg, errors.New("--session-idle and --session-lifetime must be positive")
	}
	if cfg.logFormat != "text" && cfg.logFormat != "json" {
		return cfg, fmt.Errorf("--log-format %q: must be text or json", cfg.logFormat)
	}
	cfg.terms, err = handlers.NewTerms(*currencyCode, *zone)
	switch {
	case errors.Is(err, handlers.ErrUnknownCurrency):
		return cfg, fmt.Errorf("--currency %q (env COUPOND_CURRENCY): %w", *currencyCode, handlers.ErrUnknownCurrency)
	case errors.Is(err, handlers.ErrUnknownZone):
		return cfg, fmt.Errorf("--timezone %q (env COUPOND_TIMEZONE): %w", *zone, handlers.ErrUnknownZone)
	case err != nil:
		return cfg, err
	}
	return cfg, nil
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

// serveGCPercent is the collector's target of heap growth for serve
// when GOGC is not set: 200 served 12-20% more redemptions a second than
// Go's 100 (BENCHMARKS.md).
const serveGCPercent = 200

func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := parseServe(args, getenv, stderr)
	if err != nil {
		return err
	}
	// A request's garbage is short-lived and the live heap small, so the
	// collector may let the heap grow further between runs than Go's
	// default; GOGC, read by the runtime itself, still decides when set.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	var logger *slog.Logger
	if cfg.logFormat == "json" {
		logger = slog.New(slog.NewJSONHandler(stderr, nil))
	} else {
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	storeCfg := models.Config{MaxActiveCoupons: cfg.maxActiveCoupons, WriteWait: cfg.writeWait,
		GuessLimit: &cfg.guessLimit, GuessWindow: cfg.guessWindow, Logger: logger}
	var metrics *web.Metrics
	if cfg.metricsAddr != "" {
		metrics = web.NewMetrics()
		storeCfg.Observer = metrics
	}
	store, err := cfg.db.open(ctx, storeCfg)
	if err != nil {
		return err
	}
	defer store.Close()
	var registry *prometheus.Registry
	if metrics != nil {
		registry = prometheus.NewRegistry()
		registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		if err := metrics.Register(registry, store); err != nil {
			return fmt.Errorf("register the metrics: %w", err)
		}
	}
	handler := web.NewServer(logger, web.Config{
		SecureCookies:    cfg.secureCookies,
		TrustProxy:       cfg.trustProxy,
		SessionIdle:      cfg.sessionIdle,
		SessionLifetime:  cfg.sessionLifetime,
		TokenConcurrency: cfg.tokenConcurrency,
		Terms:            cfg.terms,
		Metrics:          registerer(registry),
	}, store)
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		// Long enough to stream a large CSV export.
		WriteTimeout: 10 * time.Minute,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	var metricsSrv *http.Server
	if registry != nil {
		mln, err := net.Listen("tcp", cfg.metricsAddr)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("listen on %s for metrics: %w", cfg.metricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{
			ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn), Registry: registry}))
		metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: time.Minute,
			ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
		go func() { _ = metricsSrv.Serve(mln) }()
		logger.Info("metrics serving", "url", "http://"+mln.Addr().String()+"/metrics")
		defer metricsSrv.Close()
	}
	where := "SQLite file " + cfg.db.path
	if store.Dialect() == models.DialectPostgres {
		where = "PostgreSQL"
	}
	base := "http://" + ln.Addr().String()
	logger.Info("coupond serving", "url", base, "database", where, "version", version,
		"currency", cfg.terms.Currency(), "timezone", cfg.terms.ZoneName())
	token, err := store.NewSetupToken(ctx)
	switch {
	case err == nil:
		logger.Warn("no accounts yet: open this one-time link to create the first admin", "url", base+"/setup?token="+token)
	case !errors.Is(err, models.ErrSetupDone):
		_ = ln.Close()
		return err
	}

	// The batch runner stops with the server: the chunk it is writing is
	// rolled back and its batch released, so that the next start (or
	// another instance) goes on from the last committed chunk.
	runCtx, stopRunner := context.WithCancel(context.Background())
	runnerDone := make(chan struct{})
	go func() {
		defer close(runnerDone)
		_ = store.RunBatches(runCtx, models.RunnerConfig{Owner: runnerName(), Lease: cfg.batchLease, Logger: logger.With("component", "batches")})
	}()
	defer func() {
		stopRunner()
		<-runnerDone
	}()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	stopRunner()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if metricsSrv != nil {
		if err := metricsSrv.Shutdown(shutdownCtx); err != nil {
			return fmt.Errorf("shut down the metrics: %w", err)
		}
	}
	return nil
}

// registerer is reg as web.Config takes it: nil, not a nil *Registry,
// when metrics are off.
func registerer(reg *prometheus.Registry) prometheus.Registerer {
	if reg == nil {
		return nil
	}
	return reg
}

// runnerName names this process in batch leases, for people reading the
// batches table: host, process id and a random part.
func runnerName() string {
	host, _ := os.Hostname()
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%x", host, os.Getpid(), b)
}
