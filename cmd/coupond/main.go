// Command coupond is the coupon and promotion service: an admin console
// and a JSON API in one binary, on SQLite by default or PostgreSQL.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/web"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
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
  coupond serve [flags]   serve the console and the API
  coupond version         print the version

Run "coupond serve -h" for the flags of serve.
`

// run is coupond's whole program: it reads the command and its flags
// (each with an environment fallback read through getenv) and runs it
// until ctx is cancelled.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stderr)
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
	dbPath           string
	databaseURL      string
	maxActiveCoupons int
	logFormat        string
	secureCookies    bool
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
	maxActive, err := envInt("COUPOND_MAX_ACTIVE_COUPONS")
	if err != nil {
		return cfg, err
	}
	fs.StringVar(&cfg.addr, "addr", envOr(getenv, "COUPOND_ADDR", "127.0.0.1:8080"), "listen address HOST:PORT (env COUPOND_ADDR)")
	fs.StringVar(&cfg.dbPath, "db", envOr(getenv, "COUPOND_DB", "coupond.db"), "SQLite database file (env COUPOND_DB)")
	fs.StringVar(&cfg.databaseURL, "database-url", getenv("DATABASE_URL"), "PostgreSQL URL postgres://…; overrides --db (env DATABASE_URL)")
	fs.IntVar(&cfg.maxActiveCoupons, "max-active-coupons", maxActive, "cap on active (non-archived) coupons, 0 = no cap (env COUPOND_MAX_ACTIVE_COUPONS)")
	fs.StringVar(&cfg.logFormat, "log-format", envOr(getenv, "COUPOND_LOG_FORMAT", "text"), "log format: text or json (env COUPOND_LOG_FORMAT)")
	fs.BoolVar(&cfg.secureCookies, "secure-cookies", getenv("COUPOND_SECURE_COOKIES") == "true", "mark cookies Secure, for serving behind TLS (env COUPOND_SECURE_COOKIES=true)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	if cfg.maxActiveCoupons < 0 {
		return cfg, errors.New("--max-active-coupons must be 0 or more")
	}
	if cfg.logFormat != "text" && cfg.logFormat != "json" {
		return cfg, fmt.Errorf("--log-format %q: must be text or json", cfg.logFormat)
	}
	return cfg, nil
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := parseServe(args, getenv, stderr)
	if err != nil {
		return err
	}
	var logger *slog.Logger
	if cfg.logFormat == "json" {
		logger = slog.New(slog.NewJSONHandler(stderr, nil))
	} else {
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	store, err := models.Open(ctx, models.Config{Path: cfg.dbPath, DatabaseURL: cfg.databaseURL, MaxActiveCoupons: cfg.maxActiveCoupons})
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	handler := web.NewServer(logger, web.Config{SecureCookies: cfg.secureCookies}, store)
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
	where := "SQLite file " + cfg.dbPath
	if store.Dialect() == models.DialectPostgres {
		where = "PostgreSQL"
	}
	logger.Info("coupond serving", "url", "http://"+ln.Addr().String(), "database", where, "version", version)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}
