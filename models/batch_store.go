package models

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// lockBatchShapes serialises the keyspace check of new batches across
// PostgreSQL instances.
const lockBatchShapes int64 = 0x636f75706f6e66

// CreateBatch records a pending batch for the runner to make. Before
// anything is written it checks that the promotion (when given) is an
// active bulk promotion, that the format's keyspace can hold the codes of
// its shape already made or promised plus these, and the active coupon
// cap. It fails with *ValidationError, ErrNotFound for an unknown
// promotion and *ActiveCapError.
func (s *Store) CreateBatch(ctx context.Context, spec BatchSpec) (Batch, error) {
	if err := s.checkNewFormat(ctx, spec.Format); err != nil {
		return Batch{}, fmt.Errorf("create batch: %w", err)
	}
	var b Batch
	err := s.write(ctx, func(tx *gorm.DB) error {
		var err error
		b, err = s.insertBatch(ctx, tx, spec, BatchPending)
		return err
	})
	if err != nil {
		return Batch{}, fmt.Errorf("create batch: %w", translate(err))
	}
	s.forgetFormats()
	s.wakeRunner()
	return b, nil
}

// checkNewFormat fails with a *ValidationError on FieldFormat when f reads
// codes by more than their case (a check character, the unambiguous set)
// and existing coupons of its length, not made by a format of its shape,
// would then no longer be found.
func (s *Store) checkNewFormat(ctx context.Context, f Format) error {
	if !f.readsCarefully() {
		return nil
	}
	rows, err := s.db.WithContext(ctx).Raw("SELECT code FROM coupons WHERE length(code) = ? AND (batch_id IS NULL OR batch_id NOT IN (SELECT id FROM batches WHERE shape = ?))",
		f.CodeLength(), f.Shape()).Rows()
	if err != nil {
		return fmt.Errorf("read coupons of the format's length: %w", err)
	}
	defer rows.Close()
	var lost []string
	n := 0
	for rows.Next() {
		var code string
		if err := rows.Scan(&code); err != nil {
			return fmt.Errorf("read coupons of the format's length: %w", err)
		}
		if canon, m := f.Canonical(code); m == BadCheck || m == Matches && CodeKey(canon) != CodeKey(code) {
			if n++; len(lost) < 3 {
				lost = append(lost, code)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read coupons of the format's length: %w", err)
	}
	switch {
	case n == 1:
		return Invalid(FieldFormat, fmt.Sprintf("an existing coupon (%s) has this format's shape, and reading codes by it would no longer find it; add a prefix or change the length", lost[0]))
	case n > 1:
		return Invalid(FieldFormat, fmt.Sprintf("%s existing coupons (such as %s) have this format's shape, and reading codes by it would no longer find them; add a prefix or change the length", thousands(n), strings.Join(lost, ", ")))
	}
	return nil
}

// insertBatch checks spec inside tx and inserts its batch with status.
func (s *Store) insertBatch(ctx context.Context, tx *gorm.DB, spec BatchSpec, status string) (Batch, error) {
	if spec.PromotionID != nil {
		if err := checkBulkPromotion(tx, *spec.PromotionID); err != nil {
			return Batch{}, err
		}
	}
	archived := spec.Coupon.Archived != nil && *spec.Coupon.Archived
	// The cap's lock before the shapes' one, in the order every other
	// write that takes both takes them (a request for several coupons
	// checks the cap before it makes their batches), so that two such
	// writes cannot deadlock.
	if !archived && s.maxActive > 0 {
		if err := s.lock(tx, lockActiveCap); err != nil {
			return Batch{}, err
		}
	}
	if err := s.lock(tx, lockBatchShapes); err != nil {
		return Batch{}, err
	}
	shape := spec.Format.Shape()
	counts, err := shapeCodes(tx, shape)
	if err != nil {
		return Batch{}, err
	}
	existing := counts[shape]
	if err := spec.Format.CheckCapacity(int64(spec.Quantity), existing); err != nil {
		return Batch{}, err
	}
	if !archived {
		var promised int64
		err := tx.Model(&Batch{}).Where("status IN ?", []string{BatchPending, BatchRunning}).
			Select("COALESCE(SUM(quantity - generated - rejected), 0)").Scan(&promised).Error
		if err != nil {
			return Batch{}, fmt.Errorf("count promised codes: %w", err)
		}
		if err := s.checkActiveCap(tx, spec.Quantity+int(promised)); err != nil {
			return Batch{}, err
		}
	}
	format, err := json.Marshal(spec.Format.Input())
	if err != nil {
		return Batch{}, fmt.Errorf("encode format: %w", err)
	}
	c := spec.Coupon
	b := Batch{
		PromotionID:              spec.PromotionID,
		BaseCode:                 spec.Format.Input().Prefix,
		Format:                   string(format),
		Shape:                    shape,
		Quantity:                 spec.Quantity,
		Status:                   status,
		Archived:                 archived,
		MaxUsage:                 c.MaxUsage,
		MaxItemsPerClient:        c.MaxItemsPerClient,
		ExpirationIntervalPerUse: c.ExpirationIntervalPerUse,
		UTMSource:                c.UTMSource,
		UTMCampaign:              c.UTMCampaign,
		CreatedBy:                ActorFrom(ctx).String(),
	}
	if status == BatchPending {
		// Only the runner takes buckets; a batch made at once does not.
		var order [8]byte
		if _, err := io.ReadFull(s.rand, order[:]); err != nil {
			return Batch{}, fmt.Errorf("draw the bucket order: %w", err)
		}
		b.BucketOrder = int64(binary.BigEndian.Uint64(order[:]) >> 1)
	}
	if c.MaxUsagePerClient != nil {
		b.MaxUsagePerClient = *c.MaxUsagePerClient
	}
	if err := tx.Create(&b).Error; err != nil {
		return Batch{}, fmt.Errorf("insert batch: %w", err)
	}
	summary := fmt.Sprintf("%d codes of %s", b.Quantity, shape)
	if b.PromotionID != nil {
		summary += fmt.Sprintf(" for promotion %d", *b.PromotionID)
	}
	return b, s.audit(ctx, tx, ActionBatchGenerate, EntityBatch, strconv.FormatInt(b.ID, 10), summary)
}

// shapeCodes counts, for each of shapes, the codes its batches have made
// or are still to make.
func shapeCodes(q *gorm.DB, shapes ...string) (map[string]int64, error) {
	var rows []struct {
		Shape string
		Codes int64
	}
	err := q.Model(&Batch{}).Where("shape IN ?", shapes).Group("shape").
		Select("shape, COALESCE(SUM(CASE WHEN status IN (?, ?) THEN quantity ELSE generated END), 0) AS codes", BatchPending, BatchRunning).
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("count codes of shape: %w", err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.Shape] = r.Codes
	}
	return out, nil
}

// ShapeCodes counts the codes made or promised by the batches of each of
// shapes, for telling how guessable their codes are.
func (s *Store) ShapeCodes(ctx context.Context, shapes ...string) (map[string]int64, error) {
	return shapeCodes(s.db.WithContext(ctx), shapes...)
}

// BatchPreview is what a batch of spec would make, told before anything
// is written.
type BatchPreview struct {
	// Samples are codes of the format, made for show: they are not kept
	// and may be taken already.
	Samples []string
	Format  Format
	// Existing is the codes of the format's shape that batches have made
	// or are still to make.
	Existing int64
	// GuessProbability is the chance that one random guess of the shape
	// hits a code once the batch exists.
	GuessProbability float64
	// Problem says why the batch would be refused (a *ValidationError
	// on the quantity), or is nil.
	Problem error
}

// previewSamples is how many sample codes a preview shows.
const previewSamples = 5

// PreviewBatch tells what a batch of spec would make, writing nothing. It
// fails only when the database cannot be read.
func (s *Store) PreviewBatch(ctx context.Context, spec BatchSpec) (BatchPreview, error) {
	shape := spec.Format.Shape()
	counts, err := s.ShapeCodes(ctx, shape)
	if err != nil {
		return BatchPreview{}, fmt.Errorf("preview batch: %w", err)
	}
	p := BatchPreview{Format: spec.Format, Existing: counts[shape]}
	p.GuessProbability = spec.Format.GuessProbability(p.Existing + int64(spec.Quantity))
	p.Problem = spec.Format.CheckCapacity(int64(spec.Quantity), p.Existing)
	gen := spec.Format.Generator(s.rand)
	for range previewSamples {
		code, err := gen.Append(nil)
		if err != nil {
			return BatchPreview{}, fmt.Errorf("preview batch: %w", err)
		}
		p.Samples = append(p.Samples, string(code))
	}
	return p, nil
}

// checkBulkPromotion fails unless promotion id exists, is a bulk
// promotion and is not archived.
func checkBulkPromotion(tx *gorm.DB, id int64) error {
	var p Promotion
	if err := tx.Take(&p, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return Invalid(FieldPromotionID, fmt.Sprintf("no promotion has id %d", id))
		}
		return fmt.Errorf("read promotion %d: %w", id, err)
	}
	switch {
	case p.Kind != KindBulk:
		return Invalid(FieldPromotionID, fmt.Sprintf("promotion %d is a %s promotion; generated codes belong to a bulk promotion", id, p.Kind))
	case p.Status == PromotionArchived:
		return Invalid(FieldPromotionID, fmt.Sprintf("promotion %d is archived", id))
	}
	return nil
}

// BatchFilter selects and pages batches, newest first.
type BatchFilter struct {
	// Kind is BatchGenerate (the default) or BatchImport.
	Kind string
	// Status matches exactly when not empty.
	Status string
	// PromotionID selects the batches of one promotion when set.
	PromotionID *int64
	// After is the cursor of the previous page's Next.
	After string
	// Limit is the page size: 0 means DefaultListLimit.
	Limit int
}

// BatchPage is one page of batches and the cursor of the next ("" on the
// last page).
type BatchPage struct {
	Batches []Batch
	Next    string
}

// ListBatches returns one page of the batches f selects, newest first. It
// fails with a *ValidationError for a bad limit, status or cursor.
func (s *Store) ListBatches(ctx context.Context, f BatchFilter) (BatchPage, error) {
	var verr ValidationError
	limit := pageLimit(f.Limit, &verr)
	after := idCursor(f.After, &verr)
	if f.Status != "" && !validBatchStatus(f.Status) {
		verr.Add(FieldStatus, "must be one of pending, running, done, failed, cancelled")
	}
	if err := verr.Err(); err != nil {
		return BatchPage{}, fmt.Errorf("list batches: %w", err)
	}
	q := s.db.WithContext(ctx).Model(&Batch{}).Where("kind = ?", cmp.Or(f.Kind, BatchGenerate))
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.PromotionID != nil {
		q = q.Where("promotion_id = ?", *f.PromotionID)
	}
	if after > 0 {
		q = q.Where("id < ?", after)
	}
	var bs []Batch
	if err := q.Order("id DESC").Limit(limit + 1).Find(&bs).Error; err != nil {
		return BatchPage{}, fmt.Errorf("list batches: %w", err)
	}
	page := BatchPage{Batches: bs}
	if len(bs) > limit {
		page.Batches = bs[:limit]
		page.Next = nextIDCursor(bs[limit-1].ID)
	}
	return page, nil
}

func validBatchStatus(s string) bool {
	for _, st := range BatchStatuses {
		if s == st {
			return true
		}
	}
	return false
}

// CancelBatch stops a pending or running batch; the codes it made stay.
// Cancelling a cancelled batch changes nothing. It fails with ErrNotFound,
// and with *BatchFinishedError for a batch that is done or failed.
func (s *Store) CancelBatch(ctx context.Context, id int64) (Batch, error) {
	var b Batch
	err := s.write(ctx, func(tx *gorm.DB) error {
		if err := s.forUpdate(tx).Take(&b, id).Error; err != nil {
			return err
		}
		switch b.Status {
		case BatchCancelled:
			return nil
		case BatchDone, BatchFailed:
			return &BatchFinishedError{ID: id, Status: b.Status}
		}
		now := s.now()
		b.Status, b.FinishedAt, b.LeaseOwner, b.LeaseUntil = BatchCancelled, &now, nil, nil
		if err := tx.Model(&b).Select("status", "finished_at", "lease_owner", "lease_until", "updated_at").Updates(&b).Error; err != nil {
			return err
		}
		// An import's rows still to do go; the refused ones stay for
		// its report.
		if b.Kind == BatchImport {
			if err := tx.Exec("DELETE FROM import_chunks WHERE batch_id = ?", id).Error; err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, ActionBatchCancel, EntityBatch, strconv.FormatInt(id, 10),
			fmt.Sprintf("cancelled with %d of %d codes made", b.Generated, b.Quantity))
	})
	if err != nil {
		return Batch{}, fmt.Errorf("cancel batch %d: %w", id, notFound(err, "batch", strconv.FormatInt(id, 10)))
	}
	return b, nil
}

// wakeRunner tells this process's runner that a batch is waiting, so it
// need not wait for its next poll.
func (s *Store) wakeRunner() {
	select {
	case s.batchWake <- struct{}{}:
	default:
	}
}

// exportChunk is how many rows one query of an export reads: each is a
// short read of its own, so that a long export never pins an old snapshot
// (which would keep SQLite from resetting its WAL).
const exportChunk = 5000

// EachBatchCoupon calls fn with every coupon of batch id in id order, in
// chunks, so memory does not grow with the batch; a batch that does not
// exist has none (callers that must tell read Batch first). It stops at
// fn's first error and returns it.
func (s *Store) EachBatchCoupon(ctx context.Context, id int64, fn func(Coupon) error) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	created, expires := "created_at", "expires_at"
	if s.dialect == DialectSQLite {
		// As text: the driver's own parsing of every time costs more
		// than the rest of the row.
		created, expires = "CAST(created_at AS TEXT)", "CAST(expires_at AS TEXT)"
	}
	q := "SELECT id, code, archived, uses, max_usage, max_usage_per_client, expiration_interval_per_use, customer_id, utm_source, utm_campaign, promotion_id, " +
		expires + ", " + created + " FROM coupons WHERE batch_id = $1 AND id > $2 ORDER BY id LIMIT $3"
	var after int64
	for {
		page, err := s.exportPage(ctx, sqlDB, q, []any{id, after, exportChunk})
		if err != nil {
			return err
		}
		// The page's read is over before fn writes a row: a client that
		// stops reading holds no snapshot (which would keep the writer
		// from resetting the WAL) while its download waits.
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < exportChunk {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// exportPage runs one page's query and returns its rows, closing the read
// before it returns.
func (s *Store) exportPage(ctx context.Context, db *sql.DB, q string, args []any) ([]Coupon, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read coupons: %w", err)
	}
	defer rows.Close()
	var page []Coupon
	var uses, maxUsage, perClient, interval int64
	var customer, source, campaign sql.NullString
	var promotion sql.NullInt64
	var expires, created any
	readTime := func(v any) (time.Time, error) {
		switch v := v.(type) {
		case time.Time:
			return v, nil
		case string:
			return parseSQLiteTime(v)
		}
		return time.Time{}, fmt.Errorf("a time is a %T", v)
	}
	optional := func(v sql.NullString) *string {
		if !v.Valid {
			return nil
		}
		return &v.String
	}
	for rows.Next() {
		var r Coupon
		if err := rows.Scan(&r.ID, &r.Code, &r.Archived, &uses, &maxUsage, &perClient, &interval, &customer, &source, &campaign, &promotion, &expires, &created); err != nil {
			return nil, fmt.Errorf("read coupons: %w", err)
		}
		r.Uses, r.MaxUsage, r.MaxUsagePerClient, r.ExpirationIntervalPerUse = int(uses), int(maxUsage), int(perClient), time.Duration(interval)
		r.CustomerID, r.UTMSource, r.UTMCampaign = optional(customer), optional(source), optional(campaign)
		if promotion.Valid {
			r.PromotionID = new(promotion.Int64)
		}
		if expires != nil {
			at, err := readTime(expires)
			if err != nil {
				return nil, fmt.Errorf("read coupons: expires_at: %w", err)
			}
			r.ExpiresAt = &at
		}
		if r.CreatedAt, err = readTime(created); err != nil {
			return nil, fmt.Errorf("read coupons: created_at: %w", err)
		}
		page = append(page, r)
	}
	return page, rows.Err()
}

// parseSQLiteTime reads a time as the SQLite driver writes it,
// "2006-01-02 15:04:05.999999999-07:00"; times the store writes are in
// UTC, which is read without the general parser.
func parseSQLiteTime(v string) (time.Time, error) {
	num := func(s string) int {
		n := 0
		for i := range len(s) {
			n = n*10 + int(s[i]-'0')
		}
		return n
	}
	if len(v) >= 25 && strings.HasSuffix(v, "+00:00") && v[4] == '-' && v[10] == ' ' {
		frac, digits := 0, 0
		if rest := v[19 : len(v)-6]; rest != "" && rest[0] == '.' {
			frac, digits = num(rest[1:]), len(rest)-1
		}
		for ; digits < 9; digits++ {
			frac *= 10
		}
		return time.Date(num(v[0:4]), time.Month(num(v[5:7])), num(v[8:10]), num(v[11:13]), num(v[14:16]), num(v[17:19]), frac, time.UTC), nil
	}
	t, err := time.Parse("2006-01-02 15:04:05.999999999-07:00", v)
	if err != nil {
		return time.Time{}, fmt.Errorf("read time %q: %w", v, err)
	}
	return t, nil
}
