package models

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

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

// couponRow is a coupon's columns in the order scanCoupon reads
// them.
const couponRow = "id, code, utm_source, utm_campaign, archived, max_items_per_client, expiration_interval_per_use, max_usage, " +
	"max_usage_per_client, customer_id, uses, batch_id, promotion_id, grouping_key, expires_at, created_at, updated_at"

// scanCoupon reads the couponRow columns of one row; no row is
// gorm.ErrRecordNotFound, as for every other read.
func scanCoupon(row interface{ Scan(...any) error }) (Coupon, error) {
	var c Coupon
	var interval int64
	err := row.Scan(&c.ID, &c.Code, &c.UTMSource, &c.UTMCampaign, &c.Archived, &c.MaxItemsPerClient, &interval, &c.MaxUsage,
		&c.MaxUsagePerClient, &c.CustomerID, &c.Uses, &c.BatchID, &c.PromotionID, &c.GroupingKey, &c.ExpiresAt, &c.CreatedAt, &c.UpdatedAt)
	c.ExpirationIntervalPerUse = time.Duration(interval)
	if errors.Is(err, sql.ErrNoRows) {
		err = gorm.ErrRecordNotFound
	}
	return c, err
}

// promotionColumns are a promotion's columns in the order scanPromotion
// reads them.
const promotionColumns = "id, name, description, status, kind, discount_type, discount_value, discount_cap, applies_to, begins_at, ends_at, " +
	"max_usage, max_usage_per_client, utm_source, utm_campaign, uses, created_at, updated_at"

// scanPromotions reads the promotionColumns of every row of rows, closes
// them and returns the promotions in id order. (Sorted here: on SQLite an
// ORDER BY had the few rows of a checkout's read go through a sorter,
// which took three times the read.)
func scanPromotions(rows *sql.Rows) ([]Promotion, error) {
	defer rows.Close()
	var ps []Promotion
	for rows.Next() {
		var p Promotion
		err := rows.Scan(&p.ID, &p.Name, &p.Description, &p.Status, &p.Kind, &p.DiscountType, &p.DiscountValue, &p.DiscountCap, &p.AppliesTo,
			&p.BeginsAt, &p.EndsAt, &p.MaxUsage, &p.MaxUsagePerClient, &p.UTMSource, &p.UTMCampaign, &p.Uses, &p.CreatedAt, &p.UpdatedAt)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b Promotion) int { return cmp.Compare(a.ID, b.ID) })
	return ps, rows.Err()
}

// redemptionRow is a redemption's columns in the order scanRedemption
// reads them.
const redemptionRow = "id, coupon_id, code, customer_id, order_id, items, order_amount, discount, created_at, cancelled_at, utm_source, utm_campaign"

// scanRedemption reads the redemptionRow columns of one row; no row is
// gorm.ErrRecordNotFound.
func scanRedemption(row interface{ Scan(...any) error }) (Redemption, error) {
	var r Redemption
	err := row.Scan(&r.ID, &r.CouponID, &r.Code, &r.CustomerID, &r.OrderID, &r.Items, &r.OrderAmount, &r.Discount, &r.CreatedAt, &r.CancelledAt, &r.UTMSource, &r.UTMCampaign)
	if errors.Is(err, sql.ErrNoRows) {
		err = gorm.ErrRecordNotFound
	}
	return r, err
}
