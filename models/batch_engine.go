package models

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The engine makes a batch's codes chunk by chunk. Each chunk is sorted
// by its unique key (random keys into a B-tree otherwise thrash SQLite's
// page cache) and inserted so that a code already taken is skipped rather
// than failing the chunk; the shortfall is made up by the next chunk. A
// chunk and the batch's progress commit together, so after a crash the
// batch's count is exactly the codes it owns, and the next runner goes on
// from there. Between chunks the SQLite writer is free for other writes.
//
// On PostgreSQL a chunk is copied (COPY) into a temporary table and moved
// into coupons with ON CONFLICT DO NOTHING. A batch is held by a lease
// that every chunk renews; a chunk commits only while its runner still
// holds the lease, so a batch taken over by another instance, or
// cancelled, never gets a code from a runner that no longer owns it.

// Runner defaults.
const (
	DefaultLease = 30 * time.Second
	DefaultPoll  = 2 * time.Second
	DefaultChunk = 10_000
)

// barrenChunks is how many chunks in a row may insert nothing before a
// batch fails: its format's codes are taken by coupons that the keyspace
// check could not count (codes of another shape that overlap it).
const barrenChunks = 20

// chunkFailures counts the chunks of a batch that failed in a row.
type chunkFailures int

// again reports whether a chunk that failed with err is to be tried
// again, after waiting a little longer each time (or until ctx ends);
// false once chunkAttempts have failed in a row.
func (f *chunkFailures) again(ctx context.Context, err error, log *slog.Logger) bool {
	if *f++; *f == chunkAttempts {
		return false
	}
	log.Warn("chunk failed; trying it again", "err", err, "attempt", int(*f))
	select {
	case <-ctx.Done():
	case <-time.After(time.Duration(*f) * 200 * time.Millisecond):
	}
	return true
}

// chunkAttempts is how many times a chunk that failed for a reason other
// than a lost lease is tried before the batch fails.
const chunkAttempts = 5

// idempotencySweep is how often the runner deletes expired idempotency
// keys.
const idempotencySweep = 10 * time.Minute

// errLeaseLost ends a chunk whose batch is no longer this runner's: it
// was cancelled, or another instance took it over.
var errLeaseLost = errors.New("batch no longer held by this runner")

var errKeyspaceTaken = errors.New("nearly every code of the format is already taken by other coupons; choose a longer format")

// GenerateCodes makes every code of spec at once, in one transaction
// (all or nothing), in a batch that ends done, and returns the batch and
// its coupons. It is for requests that wait for their codes (at most
// MaxGenerateQuantity). It fails as CreateBatch does.
func (s *Store) GenerateCodes(ctx context.Context, spec BatchSpec) (Batch, []Coupon, error) {
	if err := s.checkNewFormat(ctx, spec.Format); err != nil {
		return Batch{}, nil, fmt.Errorf("generate codes: %w", err)
	}
	var b Batch
	var cs []Coupon
	err := s.retryWrite(ctx, func(tx *gorm.DB) error {
		var err error
		b, cs, err = s.generateTx(ctx, tx, spec)
		return err
	})
	if err != nil {
		return Batch{}, nil, fmt.Errorf("generate codes: %w", translate(err))
	}
	s.observer.CodesGenerated(len(cs))
	s.forgetFormats()
	return b, cs, nil
}

// generateTx makes a done batch of spec's codes inside tx and returns it
// with its coupons in id order.
func (s *Store) generateTx(ctx context.Context, tx *gorm.DB, spec BatchSpec) (Batch, []Coupon, error) {
	b, err := s.insertBatch(ctx, tx, spec, BatchRunning)
	if err != nil {
		return Batch{}, nil, err
	}
	gen := spec.Format.Generator(s.rand)
	now := s.now()
	for barren := 0; b.Generated < b.Quantity; {
		fs, err := s.lookupFormats(tx)
		if err != nil {
			return Batch{}, nil, err
		}
		codes, err := makeChunk(gen, b.Quantity-b.Generated, spec.Format.CodeLength(), fs)
		if err != nil {
			return Batch{}, nil, err
		}
		n, err := s.insertCodesTx(ctx, tx, b, codes, now)
		if err != nil {
			return Batch{}, nil, err
		}
		if n == 0 {
			if barren++; barren == barrenChunks {
				return Batch{}, nil, Invalid(FieldFormat, errKeyspaceTaken.Error())
			}
		}
		if err := s.countBatchCodes(func(q string, args ...any) (int64, error) {
			res := tx.Exec(q, args...)
			return res.RowsAffected, res.Error
		}, b, n); err != nil {
			return Batch{}, nil, err
		}
		b.Generated += int(n)
	}
	b.Status, b.StartedAt, b.FinishedAt = BatchDone, &now, &now
	if err := tx.Model(&b).Select("generated", "status", "started_at", "finished_at", "updated_at").Updates(&b).Error; err != nil {
		return Batch{}, nil, err
	}
	var cs []Coupon
	return b, cs, tx.Where("batch_id = ?", b.ID).Order("id").Find(&cs).Error
}

// makeChunk generates n codes of gen's format, as cutChunk leaves them.
func makeChunk(gen *Generator, n, size int, formats []Format) ([]string, error) {
	buf := make([]byte, 0, n*size)
	for range n {
		var err error
		if buf, err = gen.Append(buf); err != nil {
			return nil, err
		}
	}
	return cutChunk(buf, size, formats), nil
}

// cutChunk cuts buf into codes of length size, sorted and without
// repeats. Codes the console keeps for its own pages are left out, and
// so are codes that one of formats would read as another code or as
// mistyped: they could never be found.
func cutChunk(buf []byte, size int, formats []Format) []string {
	// One string holds the chunk; the codes are slices of it. A format
	// writes its codes in one case, so byte order is the index's order
	// and equal bytes are the only equal keys.
	all := string(buf)
	codes := make([]string, 0, len(all)/size)
	for i := 0; i < len(all); i += size {
		c := all[i : i+size]
		if size <= 8 && reservedCodes[CodeKey(c)] {
			continue
		}
		if len(formats) > 0 {
			if key, m := readCode(formats, c); m == BadCheck || key != CodeKey(c) {
				continue
			}
		}
		codes = append(codes, c)
	}
	slices.Sort(codes)
	return slices.Compact(codes)
}

// couponColumns are the columns a generated code's row sets, in the order
// of batchValues.
const couponColumns = "code, utm_source, utm_campaign, archived, max_items_per_client, expiration_interval_per_use, max_usage, max_usage_per_client, uses, batch_id, promotion_id, grouping_key, created_at, updated_at"

// batchValues are the values every code of b gets, after the code.
func batchValues(b Batch, now time.Time) []any {
	var grouping *string
	if b.BaseCode != "" {
		grouping = &b.BaseCode
	}
	return []any{b.UTMSource, b.UTMCampaign, b.Archived, b.MaxItemsPerClient, int64(b.ExpirationIntervalPerUse), b.MaxUsage, b.MaxUsagePerClient, 0, b.ID, b.PromotionID, grouping, now, now}
}

// insertCodesTx inserts codes for b inside a GORM transaction, skipping
// codes that are taken, and returns how many it inserted.
func (s *Store) insertCodesTx(ctx context.Context, tx *gorm.DB, b Batch, codes []string, now time.Time) (int64, error) {
	consts := batchValues(b, now)
	if s.dialect == DialectPostgres {
		// Codes are letters, digits, '-' and '_', so quotes around each
		// element are all the array literal needs (unquoted, a code
		// spelled NULL would be a null).
		q := "INSERT INTO coupons (" + couponColumns + ") SELECT c, " + pgConsts(2) + " FROM unnest($1::text[]) AS c ON CONFLICT DO NOTHING"
		res := tx.Exec(q, append([]any{`{"` + strings.Join(codes, `","`) + `"}`}, consts...)...)
		return res.RowsAffected, res.Error
	}
	return insertSQLite(ctx, tx.Statement.ConnPool, consts, codes)
}

// insertSQLite inserts codes, all of one length, with INSERT OR IGNORE,
// indexes them for search and returns how many it inserted. The codes travel as one string that
// the statement cuts apart, so a chunk costs one bound value rather than
// one per code (each bound value is a cgo call), and the values every
// code shares are bound once.
func insertSQLite(ctx context.Context, conn gorm.ConnPool, consts []any, codes []string) (int64, error) {
	if len(codes) == 0 {
		return 0, nil
	}
	size := len(codes[0])
	// A blob, not text: substr counts a text's characters from its start
	// on every call, but cuts a blob at once.
	all := make([]byte, 0, len(codes)*size)
	for _, c := range codes {
		all = append(all, c...)
	}
	// The codes this statement inserts are the ones past the highest id
	// now: the writer is alone in its transaction.
	var last int64
	if err := conn.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM coupons").Scan(&last); err != nil {
		return 0, fmt.Errorf("insert codes: %w", err)
	}
	args := append([]any{all, len(codes), size}, consts...)
	res, err := conn.ExecContext(ctx, sqliteInsert(len(consts)), args...)
	if err != nil {
		return 0, fmt.Errorf("insert codes: %w", err)
	}
	// The search index's trigger leaves batch codes out; one statement
	// indexes the chunk instead.
	if _, err := conn.ExecContext(ctx, "INSERT INTO coupon_search (rowid, code) SELECT id, code FROM coupons WHERE id > ?", last); err != nil {
		return 0, fmt.Errorf("index codes for search: %w", err)
	}
	return res.RowsAffected()
}

// sqliteInsert is the INSERT of ?2 codes of ?3 characters each, written
// one after another in ?1, each with the nconst shared values from ?4 on.
func sqliteInsert(nconst int) string {
	var b strings.Builder
	b.WriteString("WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n + 1 < ?2) ")
	b.WriteString("INSERT OR IGNORE INTO coupons (" + couponColumns + ") SELECT CAST(substr(?1, n * ?3 + 1, ?3) AS TEXT)")
	for i := range nconst {
		b.WriteString(", ?" + strconv.Itoa(4+i))
	}
	b.WriteString(" FROM i")
	return b.String()
}

// RunnerConfig tunes a batch runner.
type RunnerConfig struct {
	// Owner names this instance in leases; empty means a random name.
	Owner string
	// Lease is how long a batch stays this runner's without a renewal;
	// another instance takes it over after that. 0 means DefaultLease.
	Lease time.Duration
	// Poll is how often the runner looks for batches no instance holds.
	// 0 means DefaultPoll.
	Poll time.Duration
	// Chunk is how many codes one write transaction inserts. 0 lets the
	// runner choose: starting at DefaultChunk, it sizes SQLite's chunks by
	// how long they take to commit.
	Chunk int
	// Logger receives the runner's progress and failures; nil discards.
	Logger *slog.Logger
}

func (cfg *RunnerConfig) defaults() {
	if cfg.Owner == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		cfg.Owner = hex.EncodeToString(b)
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
}

// RunBatches makes the codes of pending batches, and of running batches
// whose lease has expired, one batch at a time, until ctx ends; between
// batches it deletes expired idempotency keys. When ctx ends it returns
// after rolling back the chunk in progress, releasing its lease so that
// the next runner resumes the batch at once. On SQLite, which one process
// serves, a batch still leased when the runner starts is taken over at
// once: its runner died with the process. It returns nil when ctx ends.
func (s *Store) RunBatches(ctx context.Context, cfg RunnerConfig) error {
	cfg.defaults()
	started := s.now()
	poll := time.NewTicker(cfg.Poll)
	defer poll.Stop()
	var swept time.Time
	for {
		if now := s.now(); now.Sub(swept) >= idempotencySweep {
			if err := s.sweepIdempotencyKeys(ctx); err != nil && ctx.Err() == nil {
				cfg.Logger.Error("delete expired idempotency keys", "err", err)
			}
			swept = now
		}
		b, ok, err := s.claimBatch(ctx, cfg.Owner, cfg.Lease, started)
		switch {
		case ok && ctx.Err() != nil:
			// The claim committed as the runner stopped (a write the
			// writer has taken runs to its end; a commit may land as the
			// context ends): the lease goes back at once, so that another
			// instance, or the next start, goes on with the batch.
			s.releaseBatch(b, cfg.Owner, cfg.Logger.With("batch", b.ID))
			return nil
		case ctx.Err() != nil:
			return nil
		case err != nil:
			cfg.Logger.Error("claim batch", "err", err)
		case ok:
			s.runBatch(ctx, b, cfg)
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.batchWake:
		case <-poll.C:
		}
	}
}

// claimBatch takes the oldest batch that is pending, or running under an
// expired lease, for owner until lease from now. On SQLite it also takes
// a batch whose lease was last renewed before started.
func (s *Store) claimBatch(ctx context.Context, owner string, lease time.Duration, started time.Time) (Batch, bool, error) {
	var b Batch
	var ok bool
	err := s.write(ctx, func(tx *gorm.DB) error {
		now := s.now()
		q := tx.Where("status IN ?", []string{BatchPending, BatchRunning}).Order("id").Limit(1)
		if s.dialect == DialectPostgres {
			q = q.Where("lease_until IS NULL OR lease_until < ?", now).Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		} else {
			q = q.Where("lease_until IS NULL OR lease_until < ? OR (lease_owner <> ? AND updated_at < ?)", now, owner, started)
		}
		err := q.Find(&b).Error
		if err != nil || b.ID == 0 {
			return err
		}
		until := now.Add(lease)
		if b.StartedAt == nil {
			b.StartedAt = &now
		}
		b.Status, b.LeaseOwner, b.LeaseUntil = BatchRunning, &owner, &until
		ok = true
		return tx.Model(&b).Select("status", "lease_owner", "lease_until", "started_at", "updated_at").Updates(&b).Error
	})
	if err != nil {
		return Batch{}, false, fmt.Errorf("claim batch: %w", err)
	}
	return b, ok, nil
}

// runBatch makes b's remaining codes chunk by chunk while b is this
// runner's, and marks it failed on an error it cannot get past. The next
// chunk is generated and sorted while the last one is written.
func (s *Store) runBatch(ctx context.Context, b Batch, cfg RunnerConfig) {
	if b.Kind == BatchImport {
		s.runImport(ctx, b, cfg)
		return
	}
	log := cfg.Logger.With("batch", b.ID)
	log.Info("batch running", "generated", b.Generated, "quantity", b.Quantity)
	f, err := b.FormatInput().Compile()
	if err != nil {
		s.failBatch(b, cfg.Owner, fmt.Errorf("its format is not valid: %w", err), log)
		return
	}
	maker := s.startChunkMaker(ctx, f, b)
	defer maker.stop()
	size := s.newChunkSizer(cfg.Chunk)
	maker.request(size.next(), b.Quantity-b.Generated)
	barren := 0
	var failures chunkFailures
	var c chunk
	for b.Generated < b.Quantity {
		if c.codes == nil {
			if c, err = maker.result(ctx); err != nil {
				if ctx.Err() != nil {
					s.releaseBatch(b, cfg.Owner, log)
				} else {
					s.failBatch(b, cfg.Owner, err, log)
				}
				return
			}
			// Ask for what is left after this chunk, should every code
			// of it be new; a shortfall is asked for after the commit.
			maker.request(size.next(), b.Quantity-b.Generated-len(c.codes))
		}
		began := time.Now()
		n, err := s.commitChunk(ctx, &b, c, cfg)
		switch {
		case errors.Is(err, errLeaseLost):
			log.Info("batch left to its new holder or cancelled", "generated", b.Generated)
			return
		case ctx.Err() != nil:
			s.releaseBatch(b, cfg.Owner, log)
			return
		case err != nil:
			if !failures.again(ctx, err, log) {
				s.failBatch(b, cfg.Owner, err, log)
				return
			}
			continue
		}
		size.observe(len(c.codes), time.Since(began))
		c, failures = chunk{}, 0
		if n > 0 {
			barren = 0
		} else if barren++; barren == barrenChunks {
			s.failBatch(b, cfg.Owner, errKeyspaceTaken, log)
			return
		}
		if !maker.pending && b.Generated < b.Quantity {
			maker.request(size.next(), b.Quantity-b.Generated)
		}
	}
	log.Info("batch done", "generated", b.Generated)
}

// A batch's codes are made in the order of the index they go into: the
// codes are split into buckets by their first random characters (see
// Format.Buckets), how many codes fall in each bucket is drawn as it
// would fall for independent codes, and each chunk takes the next
// buckets. A chunk then touches one stretch of the index, not pages all
// over it, so a large batch costs about what one sorted insert would.
// The batch records the next bucket with its count, so a runner that
// takes it over spreads what is left over the buckets still to come.

// bucketTarget is about how many codes a bucket holds on average.
const bucketTarget = 256

// maxBuckets bounds the buckets of a batch (their counts are in memory).
const maxBuckets = 1 << 16

// chunk is a chunk of codes and the bucket that the batch goes on from
// once it has committed.
type chunk struct {
	codes []string
	next  int
}

// chunkPlan deals a batch's codes out to chunks, bucket by bucket.
type chunkPlan struct {
	gen *Generator
	f   Format
	// buckets is the number of buckets and k the random characters that
	// tell them apart; counts[i] is the codes still to make in bucket i
	// from cursor on, planned their sum.
	buckets, k int
	counts     []int32
	cursor     int
	planned    int
	// order maps a position in the plan to the bucket made there.
	order func(int) int
}

// bucketPermutation is the order, drawn from seed, in which a batch takes
// its n buckets: one after another from a random one on, wrapping round,
// so that each chunk writes one stretch of the index (taking them in a
// scattered order was measured twice as slow), and a batch stopped half
// way is not always in the first half of the keyspace.
func bucketPermutation(seed int64, n int) func(int) int {
	c := int(uint64(seed) % uint64(max(n, 1)))
	return func(i int) int { return (i + c) % n }
}

// newChunkPlan spreads what b has left to make over the buckets from its
// NextBucket on.
func newChunkPlan(gen *Generator, f Format, b Batch) (*chunkPlan, error) {
	p := &chunkPlan{gen: gen, f: f, cursor: b.NextBucket}
	p.buckets, p.k = f.Buckets(min(maxBuckets, max(1, b.Quantity/bucketTarget)))
	p.order = bucketPermutation(b.BucketOrder, p.buckets)
	if p.buckets <= 1 || p.cursor >= p.buckets {
		p.cursor = p.buckets
		return p, nil
	}
	p.counts = make([]int32, p.buckets)
	left := p.buckets - p.cursor
	for range b.Quantity - b.Generated {
		i, err := gen.Bucket(left)
		if err != nil {
			return nil, err
		}
		p.counts[p.cursor+i]++
	}
	p.planned = b.Quantity - b.Generated
	return p, nil
}

// next makes the next chunk: whole buckets until it holds about size
// codes, plus what want (the codes still needed) asks beyond the plan,
// spread over the chunk's buckets; past the last bucket, want codes
// anywhere, at most size. Codes are sorted, without repeats and without
// codes the formats could not find again (see makeChunk).
func (p *chunkPlan) next(size, want int, formats []Format) (chunk, error) {
	var buf []byte
	code := p.f.CodeLength()
	if p.cursor >= p.buckets {
		n := min(size, want)
		buf = make([]byte, 0, n*code)
		for range n {
			var err error
			if buf, err = p.gen.Append(buf); err != nil {
				return chunk{}, err
			}
		}
		return chunk{codes: cutChunk(buf, code, formats), next: p.cursor}, nil
	}
	start, taken := p.cursor, 0
	for p.cursor < p.buckets && (taken == 0 || taken+int(p.counts[p.cursor]) <= size) {
		taken += int(p.counts[p.cursor])
		p.cursor++
	}
	extra := max(0, want-p.planned)
	p.planned -= taken
	buf = make([]byte, 0, (taken+extra)*code)
	for i := start; i < p.cursor; i++ {
		for range p.counts[i] {
			var err error
			if buf, err = p.gen.AppendInBucket(buf, p.order(i), p.k); err != nil {
				return chunk{}, err
			}
		}
	}
	for range extra {
		i, err := p.gen.Bucket(p.cursor - start)
		if err == nil {
			buf, err = p.gen.AppendInBucket(buf, p.order(start+i), p.k)
		}
		if err != nil {
			return chunk{}, err
		}
	}
	return chunk{codes: cutChunk(buf, code, formats), next: p.cursor}, nil
}

// chunkMaker makes a batch's chunks on a goroutine of its own, one
// request at a time.
type chunkMaker struct {
	req     chan [2]int
	res     chan chunkResult
	pending bool
}

type chunkResult struct {
	chunk
	err error
}

func (s *Store) startChunkMaker(ctx context.Context, f Format, b Batch) *chunkMaker {
	m := &chunkMaker{req: make(chan [2]int, 1), res: make(chan chunkResult, 1)}
	go func() {
		plan, err := newChunkPlan(f.Generator(s.rand), f, b)
		for r := range m.req {
			if err != nil {
				m.res <- chunkResult{err: err}
				continue
			}
			fs, err := s.chunkFormats(ctx)
			var c chunk
			if err == nil {
				c, err = plan.next(r[0], r[1], fs)
			}
			m.res <- chunkResult{c, err}
		}
	}()
	return m
}

// chunkFormats reads the formats a chunk is checked against, trying a
// few times before it gives up: a batch should not fail for one failed
// read of a small table.
func (s *Store) chunkFormats(ctx context.Context) ([]Format, error) {
	var err error
	for attempt := 1; attempt <= chunkAttempts; attempt++ {
		var fs []Format
		if fs, err = s.lookupFormats(s.db.WithContext(ctx)); err == nil {
			return fs, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
		}
	}
	return nil, err
}

// request asks for a chunk of about size codes toward want codes still
// needed; want ≤ 0 asks for none.
func (m *chunkMaker) request(size, want int) {
	if want > 0 && !m.pending {
		m.pending = true
		m.req <- [2]int{size, want}
	}
}

// result waits for the chunk asked for; it fails when ctx ends first.
func (m *chunkMaker) result(ctx context.Context) (chunk, error) {
	select {
	case r := <-m.res:
		m.pending = false
		return r.chunk, r.err
	case <-ctx.Done():
		return chunk{}, ctx.Err()
	}
}

// stop ends the maker once it has made what it was asked for.
func (m *chunkMaker) stop() { close(m.req) }

// Chunk sizes on SQLite: a chunk holds the one writer while it commits,
// so its size follows how long the last chunk took, aiming at
// chunkTarget: a redemption waits behind at most one chunk (at 150 ms
// its p99 was 241 ms during a batch, at 75 ms 105 ms, for the same speed
// of generation). On
// PostgreSQL, where nothing waits for a chunk, chunks are pgChunk codes.
const (
	chunkTarget = 75 * time.Millisecond
	minChunk    = 2_000
	maxChunk    = 100_000
	pgChunk     = 50_000
)

// chunkSizer picks the size of the next chunk.
type chunkSizer struct {
	size  int
	fixed bool
}

// newChunkSizer keeps to fixed codes a chunk when it is set.
func (s *Store) newChunkSizer(fixed int) *chunkSizer {
	switch {
	case fixed > 0:
		return &chunkSizer{size: fixed, fixed: true}
	case s.writer == nil:
		return &chunkSizer{size: pgChunk, fixed: true}
	}
	return &chunkSizer{size: DefaultChunk}
}

func (z *chunkSizer) next() int { return z.size }

// observe learns from a chunk of codes that took took to commit. The
// size moves halfway (geometrically) to the one that would have taken
// chunkTarget, so one slow commit does not swing it.
func (z *chunkSizer) observe(codes int, took time.Duration) {
	if z.fixed || took <= 0 || codes < minChunk {
		return
	}
	ideal := float64(codes) * float64(chunkTarget) / float64(took)
	z.size = min(maxChunk, max(minChunk, int(math.Sqrt(float64(z.size)*ideal))))
}

// commitChunk inserts codes for b and records the progress in one
// transaction, renewing the lease; it fails with errLeaseLost, rolling
// the chunk back, when b is no longer running under cfg.Owner.
func (s *Store) commitChunk(ctx context.Context, b *Batch, c chunk, cfg RunnerConfig) (int64, error) {
	codes := c.codes
	now := s.now()
	var n int64
	// after is b once the chunk has committed; b itself changes only
	// then, so that a commit that fails leaves it as the database has it.
	after := *b
	progress := func(exec func(q string, args ...any) (int64, error)) error {
		after = *b
		after.Generated += int(n)
		after.NextBucket = c.next
		owner, until := &cfg.Owner, new(now.Add(cfg.Lease))
		if after.Generated >= b.Quantity {
			after.Status, after.FinishedAt, owner, until = BatchDone, &now, nil, nil
		}
		rows, err := exec("UPDATE batches SET generated = ?, next_bucket = ?, status = ?, finished_at = ?, lease_owner = ?, lease_until = ?, updated_at = ? WHERE id = ? AND status = ? AND lease_owner = ?",
			after.Generated, after.NextBucket, after.Status, after.FinishedAt, owner, until, now, b.ID, BatchRunning, cfg.Owner)
		if err != nil {
			return fmt.Errorf("record progress: %w", err)
		}
		if rows == 0 {
			return errLeaseLost
		}
		return s.countBatchCodes(exec, *b, n)
	}
	var err error
	if s.dialect == DialectPostgres {
		err = s.pgTx(ctx, func(tx pgx.Tx) error {
			var err error
			if n, err = copyCodes(ctx, tx, *b, codes, now); err != nil {
				return err
			}
			// The trigram index of the codes takes new entries into a
			// pending list that every search reads in full until it is
			// merged; merging each chunk's at once costs no more than
			// letting them pile up, and keeps searches fast.
			if _, err := tx.Exec(ctx, "SELECT gin_clean_pending_list('idx_coupons_code_trgm'::regclass)"); err != nil {
				return fmt.Errorf("merge the codes into the search index: %w", err)
			}
			return progress(func(q string, args ...any) (int64, error) {
				tag, err := tx.Exec(ctx, pgPlaceholders(q), args...)
				return tag.RowsAffected(), err
			})
		})
	} else {
		err = s.writeBulk(ctx, func(tx *gorm.DB) error {
			var err error
			// The write's own context: a chunk the writer has taken runs
			// to its end (see runSaved).
			if n, err = insertSQLite(tx.Statement.Context, tx.Statement.ConnPool, batchValues(*b, now), codes); err != nil {
				return err
			}
			return progress(func(q string, args ...any) (int64, error) {
				res := tx.Exec(q, args...)
				return res.RowsAffected, res.Error
			})
		})
	}
	if err != nil {
		return 0, err
	}
	s.observer.CodesGenerated(int(n))
	*b = after
	return n, nil
}

// pgTx runs fn in a transaction on one pgx connection of the pool, for
// what database/sql cannot do (COPY).
func (s *Store) pgTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	sqlDB, err := s.wdb.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("postgres connection is a %T, not pgx", dc)
		}
		return pgx.BeginFunc(ctx, sc.Conn(), fn)
	})
}

// copyCodes copies codes into coupons and returns how many it inserted.
// COPY is the fast way in, but fails on any code already taken, so it
// runs under a savepoint; when it fails on a taken code the codes go
// through a temporary table instead, into coupons with ON CONFLICT DO
// NOTHING.
func copyCodes(ctx context.Context, tx pgx.Tx, b Batch, codes []string, now time.Time) (int64, error) {
	consts := batchValues(b, now)
	sp, err := tx.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("savepoint: %w", err)
	}
	row := make([]any, 1+len(consts))
	copy(row[1:], consts)
	n, err := sp.CopyFrom(ctx, pgx.Identifier{"coupons"}, strings.Split(couponColumns, ", "),
		pgx.CopyFromSlice(len(codes), func(i int) ([]any, error) { row[0] = codes[i]; return row, nil }))
	if err == nil {
		return n, sp.Commit(ctx)
	}
	if rerr := sp.Rollback(ctx); rerr != nil {
		return 0, fmt.Errorf("roll back to savepoint: %w", rerr)
	}
	if _, dup := uniqueViolation(err); !dup {
		return 0, fmt.Errorf("copy codes: %w", err)
	}
	if _, err := tx.Exec(ctx, "CREATE TEMP TABLE IF NOT EXISTS batch_codes (code text NOT NULL) ON COMMIT DELETE ROWS"); err != nil {
		return 0, fmt.Errorf("create code table: %w", err)
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"batch_codes"}, []string{"code"},
		pgx.CopyFromSlice(len(codes), func(i int) ([]any, error) { return []any{codes[i]}, nil }))
	if err != nil {
		return 0, fmt.Errorf("copy codes: %w", err)
	}
	q := "INSERT INTO coupons (" + couponColumns + ") SELECT code, " + pgConsts(1) + " FROM batch_codes ON CONFLICT DO NOTHING"
	tag, err := tx.Exec(ctx, q, consts...)
	if err != nil {
		return 0, fmt.Errorf("insert codes: %w", err)
	}
	return tag.RowsAffected(), nil
}

// pgTypes are the PostgreSQL types of batchValues, which the SELECT of an
// INSERT … SELECT must state: parameters there have no column to take a
// type from.
var pgTypes = []string{"text", "text", "boolean", "bigint", "bigint", "bigint", "bigint", "bigint", "bigint", "bigint", "text", "timestamptz", "timestamptz"}

// pgConsts is the typed parameters of batchValues from $first on.
func pgConsts(first int) string {
	parts := make([]string, len(pgTypes))
	for i, t := range pgTypes {
		parts[i] = "$" + strconv.Itoa(first+i) + "::" + t
	}
	return strings.Join(parts, ", ")
}

// pgPlaceholders numbers the ? placeholders of q as $1, $2, ….
func pgPlaceholders(q string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// releaseBatch gives b's lease up so that the next runner, here or
// elsewhere, resumes it at once. It runs as the runner stops, so it does
// not use the runner's ended context.
func (s *Store) releaseBatch(b Batch, owner string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.write(ctx, func(tx *gorm.DB) error {
		return tx.Model(&Batch{}).Where("id = ? AND lease_owner = ?", b.ID, owner).
			Updates(map[string]any{"lease_owner": nil, "lease_until": nil, "updated_at": s.now()}).Error
	})
	if err != nil {
		log.Error("release batch", "err", err)
		return
	}
	log.Info("batch paused", "generated", b.Generated, "quantity", b.Quantity)
}

// failBatch marks b failed with cause's message, keeping its codes (and
// an import's refused rows, for its report; its rows still to do go). It
// runs whether or not the runner is stopping.
func (s *Store) failBatch(b Batch, owner string, cause error, log *slog.Logger) {
	log.Error("batch failed", "err", cause, "generated", b.Generated)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.write(ctx, func(tx *gorm.DB) error {
		now := s.now()
		res := tx.Model(&Batch{}).Where("id = ? AND lease_owner = ? AND status = ?", b.ID, owner, BatchRunning).
			Updates(map[string]any{"status": BatchFailed, "error": failureText(cause), "finished_at": now, "lease_owner": nil, "lease_until": nil, "updated_at": now})
		if res.Error != nil || res.RowsAffected == 0 || b.Kind != BatchImport {
			return res.Error
		}
		return tx.Exec("DELETE FROM import_chunks WHERE batch_id = ?", b.ID).Error
	})
	if err != nil {
		log.Error("mark batch failed", "err", err)
	}
}

// failureText is what a failed batch tells its users: the domain's own
// messages as they are, anything else (a database error) without its
// internals.
func failureText(err error) string {
	var verr *ValidationError
	switch {
	case errors.Is(err, errKeyspaceTaken), errors.Is(err, errUploadUnfinished), errors.Is(err, errImportRowsMissing):
		return err.Error()
	case errors.As(err, &verr):
		return verr.Summary()
	}
	return "the database refused the codes several times in a row; the codes made so far are kept (see the server log for the cause)"
}
