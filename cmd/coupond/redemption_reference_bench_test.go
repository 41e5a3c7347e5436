package main

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
)

// BenchmarkRedemptionReferenceSQLite is what SQLite itself can do with a
// redemption's essential work, for the side by side with
// BenchmarkRedemption: a minimal Go program on mattn/go-sqlite3 (one
// writer connection, WAL, synchronous=NORMAL, the statements prepared
// once) where each of 50 goroutines, 5,000 redemptions in all over 500
// coupons, looks the coupon up, raises its counter under its limit,
// inserts the redemption and inserts an audit row. "one-per-commit" is one
// transaction per redemption; "grouped" lets up to 64 waiting redemptions
// share a commit, each in its own savepoint.
func BenchmarkRedemptionReferenceSQLite(b *testing.B) {
	for _, group := range []int{1, 64} {
		name := "one-per-commit"
		if group > 1 {
			name = "grouped"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				n, took := referenceRedemptions(b, group)
				b.ReportMetric(float64(n)/took.Seconds(), "redemptions/s")
			}
		})
	}
}

var referenceDriver atomic.Int64

// referenceRedemptions runs the reference load on a fresh database and
// returns how many redemptions it made and how long they took.
func referenceRedemptions(b *testing.B, group int) (int, time.Duration) {
	b.Helper()
	driver := fmt.Sprintf("sqlite3_reference_%d", referenceDriver.Add(1))
	sql.Register(driver, &sqlite3.SQLiteDriver{})
	path := filepath.Join(b.TempDir(), "reference.db")
	db, err := sql.Open(driver, "file:"+path+"?_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate&_busy_timeout=10000")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		"CREATE TABLE coupons (id integer PRIMARY KEY, code text NOT NULL, uses integer NOT NULL DEFAULT 0, max_usage integer NOT NULL)",
		"CREATE UNIQUE INDEX coupons_code ON coupons (lower(code))",
		"CREATE TABLE redemptions (id integer PRIMARY KEY, coupon_id integer NOT NULL, customer_id text NOT NULL, order_id text NOT NULL, items integer NOT NULL, created_at datetime NOT NULL)",
		"CREATE UNIQUE INDEX redemptions_order ON redemptions (coupon_id, order_id)",
		"CREATE TABLE audit_events (id integer PRIMARY KEY, at datetime NOT NULL, actor text NOT NULL, action text NOT NULL, entity text NOT NULL, entity_id text NOT NULL, summary text NOT NULL)",
	} {
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 500 {
		if _, err := db.Exec("INSERT INTO coupons (code, max_usage) VALUES (?, 10)", fmt.Sprintf("r-%05d", i)); err != nil {
			b.Fatal(err)
		}
	}
	look, _ := db.Prepare("SELECT id FROM coupons WHERE lower(code) = lower(?)")
	raise, _ := db.Prepare("UPDATE coupons SET uses = uses + 1 WHERE id = ? AND uses < max_usage")
	insert, _ := db.Prepare("INSERT INTO redemptions (coupon_id, customer_id, order_id, items, created_at) VALUES (?, ?, ?, 1, ?)")
	audit, _ := db.Prepare("INSERT INTO audit_events (at, actor, action, entity, entity_id, summary) VALUES (?, 'token:bench', 'redemption.create', 'redemption', ?, ?)")
	redeem := func(tx *sql.Tx, i int) error {
		var id int64
		if err := tx.Stmt(look).QueryRow(fmt.Sprintf("r-%05d", i%500)).Scan(&id); err != nil {
			return err
		}
		res, err := tx.Stmt(raise).Exec(id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // used up: refused
		}
		r, err := tx.Stmt(insert).Exec(id, fmt.Sprint("c", i), fmt.Sprint("o", i), time.Now().UTC())
		if err != nil {
			return err
		}
		rid, _ := r.LastInsertId()
		_, err = tx.Stmt(audit).Exec(time.Now().UTC(), fmt.Sprint(rid), fmt.Sprint("code r-", i%500))
		return err
	}
	// One committer takes the waiting redemptions, up to group at a
	// time, into one transaction.
	type request struct {
		i    int
		done chan error
	}
	queue := make(chan request, 64)
	go func() {
		for first := range queue {
			batch := []request{first}
		fill:
			for len(batch) < group {
				select {
				case r, ok := <-queue:
					if !ok {
						break fill
					}
					batch = append(batch, r)
				default:
					break fill
				}
			}
			tx, err := db.Begin()
			errs := make([]error, len(batch))
			for k, r := range batch {
				if err != nil {
					errs[k] = err
					continue
				}
				if group > 1 {
					_, _ = tx.Exec("SAVEPOINT s")
				}
				errs[k] = redeem(tx, r.i)
				if group > 1 {
					_, _ = tx.Exec("RELEASE s")
				}
			}
			if err == nil {
				err = tx.Commit()
			}
			for k, r := range batch {
				if errs[k] == nil {
					errs[k] = err
				}
				r.done <- errs[k]
			}
		}
	}()
	const total, clients = 5000, 50
	took := fromClients(total, clients, func(i int) bool {
		done := make(chan error, 1)
		queue <- request{i, done}
		if err := <-done; err != nil {
			b.Error(err)
			return false
		}
		return true
	})
	close(queue)
	return total, took
}
