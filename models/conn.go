package models

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"

	"gorm.io/gorm"
)

// conn runs fixed SQL on the connection of a GORM transaction, through
// database/sql alone: the checkout's statements (validation, redemption,
// cancellation, reservation, the audit event) take it, because GORM's
// building and reflection cost several times what SQLite spends on the
// statement itself. The SQL is written with ? placeholders; on
// PostgreSQL they become $1, $2, … once per statement text. Both drivers
// keep a statement prepared per connection and text, so each text is
// prepared once.
type conn struct {
	ctx  context.Context
	pool gorm.ConnPool
	pg   bool
}

// conn is tx's connection.
func (s *Store) conn(tx *gorm.DB) conn {
	return conn{ctx: tx.Statement.Context, pool: tx.Statement.ConnPool, pg: s.dialect == DialectPostgres}
}

// numbered holds each statement text with its ? placeholders numbered for
// PostgreSQL.
var numbered sync.Map

// text is query as c's database takes it.
func (c conn) text(query string) string {
	if !c.pg {
		return query
	}
	if q, ok := numbered.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	numbered.Store(query, b.String())
	return b.String()
}

func (c conn) exec(query string, args ...any) (sql.Result, error) {
	return c.pool.ExecContext(c.ctx, c.text(query), args...)
}

// execOne runs query and reports whether it changed exactly one row.
func (c conn) execOne(query string, args ...any) (bool, error) {
	res, err := c.exec(query, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (c conn) query(query string, args ...any) (*sql.Rows, error) {
	return c.pool.QueryContext(c.ctx, c.text(query), args...)
}

func (c conn) queryRow(query string, args ...any) *sql.Row {
	return c.pool.QueryRowContext(c.ctx, c.text(query), args...)
}

// insert runs insert, an INSERT of one row into a table with an integer
// id, and returns the new row's id: from the driver on SQLite (where a
// RETURNING clause costs a dozen times the insert), from RETURNING on
// PostgreSQL.
func (c conn) insert(insert string, args ...any) (int64, error) {
	if c.pg {
		var id int64
		err := c.queryRow(insert+" RETURNING id", args...).Scan(&id)
		return id, err
	}
	res, err := c.exec(insert, args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// ids runs query, which selects one integer column, and returns the
// values.
func (c conn) ids(query string, args ...any) ([]int64, error) {
	rows, err := c.query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
