package models

import (
	"context"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// audit writes one event inside tx, attributed to the actor of ctx.
func (s *Store) audit(ctx context.Context, tx *gorm.DB, action, entity, entityID, summary string) error {
	_, err := s.conn(tx).exec("INSERT INTO audit_events (at, actor, action, entity, entity_id, summary) VALUES (?, ?, ?, ?, ?, ?)",
		s.now(), ActorFrom(ctx).String(), action, entity, entityID, truncate(summary, 2000))
	if err != nil {
		return fmt.Errorf("write audit event %s: %w", action, err)
	}
	return nil
}

// truncate shortens s to at most n bytes on a character boundary, marking
// the cut with "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// AuditFilter selects audit events, newest first.
type AuditFilter struct {
	Actor  string
	Action string
	Entity string
	// From and To bound the time of the event (To exclusive); zero means
	// unbounded, and so does a To at or past the end of 9999-12-31, the
	// last day a date names. A From there matches nothing.
	From, To time.Time
	// Before is the cursor of the previous page's Next.
	Before string
	Limit  int
}

// endOfDates is the end of 9999-12-31, the last day a four-digit year
// names. No event is that late, and a time past it must not reach SQLite,
// which compares times as text and so puts year 10000 before year 2000.
var endOfDates = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)

// AuditPage is one page of events and the cursor of the next (older) page.
type AuditPage struct {
	Events []AuditEvent
	Next   string
}

// ListAudit returns a page of audit events, newest first, by keyset
// pagination on the event id. It fails with a *ValidationError for a bad
// cursor or limit.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) (AuditPage, error) {
	var verr ValidationError
	limit := pageLimit(f.Limit, &verr)
	var before int64
	if f.Before != "" {
		n, err := strconv.ParseInt(f.Before, 10, 64)
		if err != nil || n < 1 {
			verr.Add(FieldCursor, "is not a cursor this server handed out; start again without it")
		}
		before = n
	}
	if err := verr.Err(); err != nil {
		return AuditPage{}, fmt.Errorf("list audit events: %w", err)
	}
	if !f.From.Before(endOfDates) {
		return AuditPage{}, nil
	}
	q := s.db.WithContext(ctx).Model(&AuditEvent{})
	if f.Actor != "" {
		q = q.Where("actor = ?", f.Actor)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.Entity != "" {
		q = q.Where("entity = ?", f.Entity)
	}
	if !f.From.IsZero() {
		q = q.Where("at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() && f.To.Before(endOfDates) {
		q = q.Where("at < ?", f.To.UTC())
	}
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	var evs []AuditEvent
	if err := q.Order("id DESC").Limit(limit + 1).Find(&evs).Error; err != nil {
		return AuditPage{}, fmt.Errorf("list audit events: %w", err)
	}
	page := AuditPage{Events: evs}
	if len(evs) > limit {
		page.Events = evs[:limit]
		page.Next = strconv.FormatInt(evs[limit-1].ID, 10)
	}
	return page, nil
}
