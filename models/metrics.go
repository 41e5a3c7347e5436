package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Outcomes of a validation, a redemption or a reservation, as the
// metrics count them: it passed (valid, redeemed, held), it repeated an
// earlier one of the same order (repeated), the coupon was refused
// (refused, with its reasons), the request was malformed (invalid), the
// client was guessing (throttled), the writer was too busy (busy), or
// something failed (error).
const (
	OutcomeValid     = "valid"
	OutcomeRedeemed  = "redeemed"
	OutcomeHeld      = "held"
	OutcomeRepeated  = "repeated"
	OutcomeRefused   = "refused"
	OutcomeInvalid   = "invalid"
	OutcomeThrottled = "throttled"
	OutcomeBusy      = "busy"
	OutcomeError     = "error"
)

// Operations an Observer hears the outcome of.
const (
	OperationValidation  = "validation"
	OperationRedemption  = "redemption"
	OperationReservation = "reservation"
)

// Observer hears what the store does, for metrics (Config.Observer). Its
// methods are called on the request's goroutine or the SQLite writer's,
// and must be quick and safe for concurrent use.
type Observer interface {
	// Attempt is one validation, redemption (one per code) or
	// reservation and its outcome; reasons are a refusal's.
	Attempt(operation, outcome string, reasons []string)
	// Cancelled is one redemption cancelled.
	Cancelled()
	// CodesGenerated is n codes made, in a batch or for a request that
	// waits for them.
	CodesGenerated(n int)
	// WriterWaited is how long a write waited for SQLite's writer before
	// it started; WriterGroup how many writes shared one transaction;
	// WriterBusy one write that gave up waiting (503).
	WriterWaited(d time.Duration)
	WriterGroup(writes int)
	WriterBusy()
}

// nobody is the Observer of a store that has none.
type nobody struct{}

func (nobody) Attempt(string, string, []string) {}
func (nobody) Cancelled()                       {}
func (nobody) CodesGenerated(int)               {}
func (nobody) WriterWaited(time.Duration)       {}
func (nobody) WriterGroup(int)                  {}
func (nobody) WriterBusy()                      {}

// outcomeOf is the outcome an error of Check, Redeem or Reserve counts
// as; a refusal is told apart by its caller.
func outcomeOf(err error) string {
	var verr *ValidationError
	var guess *TooManyGuessesError
	var busy *BusyError
	switch {
	case errors.As(err, &verr):
		return OutcomeInvalid
	case errors.As(err, &guess):
		return OutcomeThrottled
	case errors.As(err, &busy):
		return OutcomeBusy
	}
	return OutcomeError
}

// attempt tells the observer of one attempt of operation: passed (valid,
// redeemed or held) or repeated when err is nil and it has no reasons,
// refused when it has some (or err is a *NotRedeemableError), or the
// outcome err counts as.
func (s *Store) attempt(operation, passed string, repeated bool, reasons []string, err error) {
	var nr *NotRedeemableError
	if errors.As(err, &nr) {
		reasons, err = nr.Reasons, nil
	}
	switch {
	case err != nil:
		s.observer.Attempt(operation, outcomeOf(err), nil)
	case len(reasons) > 0:
		s.observer.Attempt(operation, OutcomeRefused, reasons)
	case repeated:
		s.observer.Attempt(operation, OutcomeRepeated, nil)
	default:
		s.observer.Attempt(operation, passed, nil)
	}
}

// WritesWaiting is how many writes wait for SQLite's one writer now;
// false on PostgreSQL, which has no such queue.
func (s *Store) WritesWaiting() (int64, bool) {
	if s.writer == nil {
		return 0, false
	}
	return s.writer.waiting.Load(), true
}

// Pools are the store's connection pools by name: "read" and "write" on
// SQLite, "main" on PostgreSQL.
func (s *Store) Pools() map[string]*sql.DB {
	pools := map[string]*sql.DB{}
	name := "main"
	if s.writer != nil {
		name = "read"
		if w, err := s.wdb.DB(); err == nil {
			pools["write"] = w
		}
	}
	if r, err := s.db.DB(); err == nil {
		pools[name] = r
	}
	return pools
}

// BatchKinds lists every kind of batch.
var BatchKinds = []string{BatchGenerate, BatchImport}

// BatchCounts is how many batches of each kind there are in each status
// (every one of BatchKinds and BatchStatuses, 0 for none), and how many
// rows the pending and running ones of each kind have still to do:
// codes to generate, or an import's lines to judge.
func (s *Store) BatchCounts(ctx context.Context) (counts map[[2]string]int64, pending map[string]int64, err error) {
	var rows []struct {
		Kind    string
		Status  string
		Batches int64
		Pending int64
	}
	err = s.db.WithContext(ctx).Model(&Batch{}).Select("kind, status, count(*) AS batches, coalesce(sum(quantity - generated - rejected), 0) AS pending").
		Group("kind, status").Scan(&rows).Error
	if err != nil {
		return nil, nil, fmt.Errorf("count batches: %w", err)
	}
	counts, pending = map[[2]string]int64{}, map[string]int64{}
	for _, kind := range BatchKinds {
		pending[kind] = 0
		for _, st := range BatchStatuses {
			counts[[2]string{kind, st}] = 0
		}
	}
	for _, r := range rows {
		counts[[2]string{r.Kind, r.Status}] = r.Batches
		if r.Status == BatchPending || r.Status == BatchRunning {
			pending[r.Kind] += r.Pending
		}
	}
	return counts, pending, nil
}
