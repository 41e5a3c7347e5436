SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# Coupon search needs SQLite's FTS5, which go-sqlite3 compiles in only
# under this tag; every go command the Makefile runs gets it.
export GOFLAGS := -tags=sqlite_fts5

.PHONY: build run test generate check-generated fmt-check vet staticcheck unit bench

## build: compile bin/coupond
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/coupond ./cmd/coupond

## run: build and serve on 127.0.0.1:8080 with ./coupond.db
run: build
	./bin/coupond serve

## generate: regenerate the templ components
generate:
	$(GO) tool templ generate

## test: generated files in sync, gofmt, vet, staticcheck, then every test
## under the race detector on SQLite and PostgreSQL and in Chromium
test: check-generated fmt-check vet staticcheck unit

check-generated:
	@before=$$(cat views/*_templ.go 2>/dev/null | sha256sum); \
	$(GO) tool templ generate >/dev/null; \
	after=$$(cat views/*_templ.go 2>/dev/null | sha256sum); \
	if [ "$$before" != "$$after" ] || [ -n "$$(git status --porcelain -- 'views/*_templ.go' 2>/dev/null | grep '^??')" ]; then \
		echo "generated *_templ.go files were out of date with the .templ sources: they are regenerated now; commit them"; exit 1; \
	fi

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) tool staticcheck ./...

unit:
	@source .ci/test-env && $(GO) test -race -count=1 ./...
	@# Allocation counts are only meaningful without the race detector.
	$(GO) test -count=1 -run 'Allocates' ./web/

## bench: Go benchmarks (figures go to BENCHMARKS.md): list pages over
## 1,000,000 coupons, searches anywhere in the code over 1,000,000 coupons
## on SQLite and PostgreSQL, the dashboard's reads over 1,000,000 redemptions, the full write load on a SQLite server, redemptions
## at 50 concurrent clients on SQLite and PostgreSQL side by side with the
## databases alone (a minimal Go + SQLite program and pgbench, which ships
## with PostgreSQL), then the generation
## engine through the built binary: 1,000,000 codes beside the sqlite3
## tool importing as many (and the CSV export beside sqlite3 -csv),
## redemptions while 1,000,000 codes are made, 10,000,000 codes, an
## import of 1,000,000 codes beside the generation of as many, and
## 1,000,000 on PostgreSQL (the local cluster when it can be started;
## skipped loudly otherwise)
bench: build
	@command -v sqlite3 >/dev/null || { [ "$$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null; } || { echo "bench needs the sqlite3 command-line tool (apt-get install sqlite3)"; exit 1; }
	$(GO) test -run '^$$' -bench ListCoupons1M -benchtime 200x ./models/
	@pg=$${COUPOND_TEST_POSTGRES:-$$(.ci/postgres 2>/dev/null)}; \
	COUPOND_TEST_POSTGRES="$$pg" $(GO) test -run '^$$' -bench SearchCoupons1M -benchtime 50x -timeout 30m ./models/
	$(GO) test -run '^$$' -bench DashboardReads1M -benchtime 5x ./models/
	$(GO) test -run '^$$' -bench HeavyWritesSQLite -benchtime 1x -timeout 30m ./cmd/coupond/
	@pg=$${COUPOND_TEST_POSTGRES:-$$(.ci/postgres 2>/dev/null)}; \
	COUPOND_TEST_POSTGRES="$$pg" $(GO) test -run '^$$' -bench '^BenchmarkCheckoutSideBySide$$|^BenchmarkRedemption$$|^BenchmarkRedemptionReferenceSQLite$$|^BenchmarkValidationBesideReadyz$$' -benchtime 1x -timeout 30m ./cmd/coupond/
	COUPOND_BIN=$(CURDIR)/bin/coupond $(GO) test -run '^$$' -bench '^BenchmarkGenerate1M$$|^BenchmarkRedeemDuringGeneration$$|^BenchmarkGenerate10M$$|^BenchmarkImport1M$$' -benchtime 1x -timeout 30m ./cmd/coupond/
	@pg=$${COUPOND_TEST_POSTGRES:-$$(.ci/postgres 2>/dev/null)}; \
	COUPOND_TEST_POSTGRES="$$pg" COUPOND_BIN=$(CURDIR)/bin/coupond $(GO) test -run '^$$' -bench '^BenchmarkGenerate1MPostgres$$|^BenchmarkImport1MPostgres$$' -benchtime 1x -timeout 30m ./cmd/coupond/
