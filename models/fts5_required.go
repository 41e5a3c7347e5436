//go:build !sqlite_fts5 && !fts5

package models

// Coupon search needs SQLite's full-text engine (FTS5), which
// github.com/mattn/go-sqlite3 compiles in only under a build tag. Build
// and test with -tags sqlite_fts5 (the Makefile sets GOFLAGS to do so);
// without it the build stops here rather than at the first migration.
var _ = build_with_tags_sqlite_fts5
