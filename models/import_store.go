package models

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
)

// Importing. An import file becomes a batch of kind BatchImport in two
// steps. The upload reads the file a chunk of rows at a time into
// import_rows (each row already judged on its own: a bad field is its
// problem), under a lease named uploadOwner that keeps every runner off
// it, and only once the last row is in does the batch get its quantity
// and lose that lease: a runner then takes it like any batch. An upload
// that stops half way (the client went away, the server died) leaves a
// batch of quantity 0, which the upload deletes or, if it could not, the
// runner that finds it marks failed and empties: nothing of it is
// imported. The runner then takes the rows a chunk at a time, each chunk
// in one transaction under its lease: the codes that can be imported are
// inserted, those taken already (by another coupon, or an earlier line)
// are refused, and the progress is recorded, so a runner stopped at any
// point goes on from the last chunk committed, on any instance.

const (
	// uploadOwner holds an import's lease while its file is uploaded.
	uploadOwner = "(uploading)"
	// uploadLease is how long an upload's lease lasts past each chunk.
	uploadLease = 2 * time.Minute
	// importChunk is how many rows one transaction writes, in statements
	// of importStatement rows: sixteen values a row stays under SQLite's
	// 32,766 bound values.
	importChunk     = 2000
	importStatement = 2000
)

// ImportInput is a file of codes to import and its name, for people.
type ImportInput struct {
	File     io.Reader
	FileName string
	// Zone is the zone of the file's dates; nil means UTC.
	Zone *time.Location
}

// importRowColumns are import_rows' columns a row is written with.
const importRowColumns = "batch_id, line, code, max_usage, max_usage_per_client, utm_source, utm_campaign, promotion_id, customer_id, expires_at, problem"

// CreateImport reads in.File into a new import, which the batch runner
// then imports. It fails with a *ValidationError on FieldFile for a file
// with a bad header, no rows, more than MaxImportRows, or a line that is
// not CSV; nothing is kept then. A row with a bad field is no failure: it
// is reported with its line once the import has run.
func (s *Store) CreateImport(ctx context.Context, in ImportInput) (Batch, error) {
	ir, err := NewImportReader(in.File, in.Zone)
	if err != nil {
		return Batch{}, fmt.Errorf("import codes: %w", err)
	}
	name := strings.TrimSpace(in.FileName)
	if len([]rune(name)) > 200 {
		name = string([]rune(name)[:200])
	}
	now := s.now()
	b := Batch{Kind: BatchImport, FileName: name, Status: BatchPending, MaxUsage: DefaultImportMaxUsage,
		LeaseOwner: new(uploadOwner), LeaseUntil: new(now.Add(uploadLease)), CreatedBy: ActorFrom(ctx).String()}
	if err := s.write(ctx, func(tx *gorm.DB) error { return tx.Create(&b).Error }); err != nil {
		return Batch{}, fmt.Errorf("import codes: %w", translate(err))
	}
	rows, err := s.uploadRows(ctx, b.ID, ir)
	if err == nil && rows == 0 {
		err = Invalid(FieldFile, "has no rows under its header")
	}
	if err == nil {
		err = s.write(ctx, func(tx *gorm.DB) error {
			b.Quantity, b.LeaseOwner, b.LeaseUntil = rows, nil, nil
			res := tx.Model(&Batch{}).Where("id = ? AND status = ? AND lease_owner = ?", b.ID, BatchPending, uploadOwner).
				Updates(map[string]any{"quantity": rows, "lease_owner": nil, "lease_until": nil, "updated_at": s.now()})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected != 1 {
				return errors.New("the import was cancelled while its file was read")
			}
			summary := fmt.Sprintf("%d rows", rows)
			if name != "" {
				summary += " from " + name
			}
			return s.audit(ctx, tx, ActionImportCreate, EntityBatch, strconv.FormatInt(b.ID, 10), summary)
		})
	}
	if err != nil {
		s.dropImport(b.ID)
		return Batch{}, fmt.Errorf("import codes: %w", translate(err))
	}
	s.wakeRunner()
	return b, nil
}

// uploadRows writes every row ir reads into import_rows for batch, a
// chunk per transaction, renewing the upload's lease with each, and
// returns how many it wrote.
func (s *Store) uploadRows(ctx context.Context, batch int64, ir *ImportReader) (int, error) {
	rows := 0
	chunk := make([]ImportRow, 0, importChunk)
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		if s.dialect == DialectPostgres {
			// COPY: one round trip for the chunk, no bound values.
			err := s.pgTx(ctx, func(tx pgx.Tx) error {
				if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_rows"}, strings.Split(importRowColumns, ", "),
					pgx.CopyFromSlice(len(chunk), func(i int) ([]any, error) {
						r := chunk[i]
						return []any{batch, r.Line, r.Code, r.MaxUsage, r.MaxUsagePerClient, r.UTMSource, r.UTMCampaign, r.PromotionID, r.CustomerID, r.ValidUntil, r.Problem}, nil
					})); err != nil {
					return fmt.Errorf("keep the import's rows: %w", err)
				}
				_, err := tx.Exec(ctx, "UPDATE batches SET lease_until = $1 WHERE id = $2 AND lease_owner = $3", s.now().Add(uploadLease), batch, uploadOwner)
				return err
			})
			chunk = chunk[:0]
			return err
		}
		// In code order, for the index the runner reads them by; their
		// lines are all past the table's last, wherever they go.
		slices.SortFunc(chunk, func(a, b ImportRow) int { return strings.Compare(a.Code, b.Code) })
		err := s.writeBulk(ctx, func(tx *gorm.DB) error {
			if err := insertImportRows(s.conn(tx), batch, chunk); err != nil {
				return err
			}
			return tx.Model(&Batch{}).Where("id = ? AND lease_owner = ?", batch, uploadOwner).
				Update("lease_until", s.now().Add(uploadLease)).Error
		})
		chunk = chunk[:0]
		return err
	}
	for {
		row, err := ir.Next()
		if errors.Is(err, io.EOF) {
			return rows, flush()
		}
		if err != nil {
			return 0, err
		}
		if rows++; rows > MaxImportRows {
			return 0, Invalid(FieldFile, fmt.Sprintf("has more than %d rows; split it into several imports", MaxImportRows))
		}
		if chunk = append(chunk, row); len(chunk) == importChunk {
			if err := flush(); err != nil {
				return 0, err
			}
			s.settleWAL(ctx)
		}
	}
}

// insertImportRows writes rows of batch, importStatement to a statement.
func insertImportRows(c conn, batch int64, rows []ImportRow) error {
	for len(rows) > importStatement {
		if err := insertImportRows(c, batch, rows[:importStatement]); err != nil {
			return err
		}
		rows = rows[importStatement:]
	}
	var q strings.Builder
	q.WriteString("INSERT INTO import_rows (" + importRowColumns + ") VALUES ")
	args := make([]any, 0, 11*len(rows))
	for i, r := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, batch, r.Line, r.Code, r.MaxUsage, r.MaxUsagePerClient, r.UTMSource, r.UTMCampaign, r.PromotionID, r.CustomerID, r.ValidUntil, r.Problem)
	}
	if _, err := c.exec(q.String(), args...); err != nil {
		return fmt.Errorf("keep the import's rows: %w", err)
	}
	return nil
}

// dropImport deletes an import whose upload did not finish, with its
// rows, whatever the request's context says.
func (s *Store) dropImport(batch int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := s.write(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec("DELETE FROM import_rows WHERE batch_id = ?", batch).Error; err != nil {
			return err
		}
		return tx.Exec("DELETE FROM batches WHERE id = ? AND kind = ?", batch, BatchImport).Error
	})
	if err != nil {
		s.log.Error("delete an import whose upload did not finish", "batch", batch, "err", err)
	}
}

// runImport imports b's rows chunk by chunk while b is this runner's, and
// marks it failed on an error it cannot get past.
func (s *Store) runImport(ctx context.Context, b Batch, cfg RunnerConfig) {
	log := cfg.Logger.With("batch", b.ID, "kind", BatchImport)
	if b.Quantity == 0 {
		s.failBatch(b, cfg.Owner, errUploadUnfinished, log)
		s.clearImportRows(b.ID, log)
		return
	}
	log.Info("import running", "imported", b.Generated, "rejected", b.Rejected, "rows", b.Quantity)
	failures := 0
	for b.Generated+b.Rejected < b.Quantity {
		err := s.importChunk(ctx, &b, cfg)
		switch {
		case errors.Is(err, errLeaseLost):
			log.Info("import left to its new holder or cancelled", "imported", b.Generated)
			return
		case ctx.Err() != nil:
			s.releaseBatch(b, cfg.Owner, log)
			return
		case errors.Is(err, errImportRowsMissing):
			s.failBatch(b, cfg.Owner, err, log)
			return
		case err != nil:
			if failures++; failures == chunkAttempts {
				s.failBatch(b, cfg.Owner, err, log)
				return
			}
			log.Warn("import chunk failed; trying it again", "err", err, "attempt", failures)
			select {
			case <-ctx.Done():
			case <-time.After(time.Duration(failures) * 200 * time.Millisecond):
			}
			continue
		}
		failures = 0
		s.settleWAL(ctx)
	}
	log.Info("import done", "imported", b.Generated, "rejected", b.Rejected)
	s.clearImportedRows(ctx, b, log)
}

// clearImportedRows deletes the rows an import has imported, in runs of
// lines (the table's order) in transactions of their own, once it is
// done: deleting each chunk's rows as it went would touch a page per row,
// the rows being taken in the order of their codes. The refused rows stay
// for the report. A run left undone (the server stopped) leaves rows
// that nothing reads.
func (s *Store) clearImportedRows(ctx context.Context, b Batch, log *slog.Logger) {
	const run = 20_000
	for from := 0; from <= b.Quantity+1 && ctx.Err() == nil; from += run {
		err := s.writeBulk(ctx, func(tx *gorm.DB) error {
			return tx.Exec("DELETE FROM import_rows WHERE batch_id = ? AND line > ? AND line <= ? AND problem = ''", b.ID, from, from+run).Error
		})
		if err != nil {
			log.Warn("delete the imported rows of an import", "err", err)
			return
		}
		s.settleWAL(ctx)
	}
}

var (
	errUploadUnfinished  = errors.New("its file was not uploaded to the end (the client or the server stopped); nothing of it was imported: upload it again")
	errImportRowsMissing = errors.New("some of its rows are missing from the database; what was imported is kept")
)

// importWAL is the size of SQLite's WAL past which an import waits for
// it to be reset before its next chunk.
const importWAL = 32 << 20

// settleWAL waits, on SQLite, until the WAL is under importWAL again
// (Store.writer.settle).
func (s *Store) settleWAL(ctx context.Context) {
	if s.writer != nil {
		s.writer.settle(ctx, importWAL)
	}
}

// clearImportRows deletes the rows of an import that will not run.
func (s *Store) clearImportRows(batch int64, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.write(ctx, func(tx *gorm.DB) error {
		return tx.Exec("DELETE FROM import_rows WHERE batch_id = ?", batch).Error
	}); err != nil {
		log.Error("delete the rows of an import", "err", err)
	}
}

// importChunk imports the next chunk of b's rows in one transaction and
// records the progress, renewing the lease; it fails with errLeaseLost,
// rolling the chunk back, when b is no longer running under cfg.Owner.
// b changes only once the chunk has committed.
func (s *Store) importChunk(ctx context.Context, b *Batch, cfg RunnerConfig) error {
	after := *b
	err := s.writeBulk(ctx, func(tx *gorm.DB) error {
		after = *b
		c := s.conn(tx)
		rows, err := readImportRows(c, b.ID, b.ImportCursor, b.NextBucket, cmp.Or(cfg.Chunk, importChunk))
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return errImportRowsMissing
		}
		now := s.now()
		refused, err := s.judgeImportRows(tx, rows)
		if err != nil {
			return err
		}
		var take []int
		for i := range rows {
			if refused[i] == "" {
				take = append(take, i)
			}
		}
		room, err := s.importRoom(tx, len(take))
		if err != nil {
			return err
		}
		if len(take) > room {
			for _, i := range take[room:] {
				refused[i] = fmt.Sprintf("the store's cap of %d active coupons is reached; archive coupons, then import this row again", s.maxActive)
			}
			take = take[:room]
		}
		taken := make([]ImportRow, len(take))
		for j, i := range take {
			taken[j] = rows[i]
		}
		inserted, err := s.insertImported(tx, *b, taken, now)
		if err != nil {
			return err
		}
		imported := 0
		for i, r := range rows {
			switch {
			case refused[i] != "":
			case inserted[CodeKey(r.Code)]:
				imported++
				delete(inserted, CodeKey(r.Code))
				continue
			default:
				refused[i] = "a coupon with this code exists already (codes are compared ignoring case), or an earlier line of the file has it"
			}
			if _, err := c.exec("UPDATE import_rows SET problem = ? WHERE batch_id = ? AND line = ?", refused[i], b.ID, r.Line); err != nil {
				return fmt.Errorf("record a refused row: %w", err)
			}
		}
		last := rows[len(rows)-1]
		after.Generated += imported
		after.Rejected += len(rows) - imported
		after.ImportCursor, after.NextBucket = strings.ToLower(last.Code), last.Line
		owner, until := &cfg.Owner, new(now.Add(cfg.Lease))
		var finished *time.Time
		if after.Generated+after.Rejected >= b.Quantity {
			after.Status, finished, owner, until = BatchDone, &now, nil, nil
		}
		one, err := c.execOne("UPDATE batches SET generated = ?, rejected = ?, import_cursor = ?, next_bucket = ?, status = ?, finished_at = ?, lease_owner = ?, lease_until = ?, updated_at = ? WHERE id = ? AND status = ? AND lease_owner = ?",
			after.Generated, after.Rejected, after.ImportCursor, after.NextBucket, after.Status, finished, owner, until, now, b.ID, BatchRunning, cfg.Owner)
		switch {
		case err != nil:
			return fmt.Errorf("record progress: %w", err)
		case !one:
			return errLeaseLost
		}
		after.FinishedAt = finished
		return nil
	})
	if err != nil {
		return err
	}
	*b = after
	return nil
}

// readImportRows reads up to n rows of batch past the row of code key
// and line, in the order of their codes (case-folded, as the database
// folds them) and, for one code, of their lines.
func readImportRows(c conn, batch int64, key string, line, n int) ([]ImportRow, error) {
	rs, err := c.query("SELECT line, code, max_usage, max_usage_per_client, utm_source, utm_campaign, promotion_id, customer_id, expires_at, problem FROM import_rows"+
		// The first condition lets the index seek; the row value alone
		// would have it read the batch's rows from the start.
		" WHERE batch_id = ? AND lower(code) >= ? AND (lower(code), line) > (?, ?) ORDER BY lower(code), line LIMIT ?", batch, key, key, line, n)
	if err != nil {
		return nil, fmt.Errorf("read the import's rows: %w", err)
	}
	defer rs.Close()
	var rows []ImportRow
	for rs.Next() {
		var r ImportRow
		if err := rs.Scan(&r.Line, &r.Code, &r.MaxUsage, &r.MaxUsagePerClient, &r.UTMSource, &r.UTMCampaign, &r.PromotionID, &r.CustomerID, &r.ValidUntil, &r.Problem); err != nil {
			return nil, fmt.Errorf("read the import's rows: %w", err)
		}
		rows = append(rows, r)
	}
	return rows, rs.Err()
}

// judgeImportRows returns, for each of rows, why it cannot be imported:
// its problem from the upload, a code that the formats of generated
// codes would read as another (as a literal code is judged), or a
// promotion that is no bulk promotion. "" means it may be imported.
func (s *Store) judgeImportRows(tx *gorm.DB, rows []ImportRow) ([]string, error) {
	refused := make([]string, len(rows))
	fs, err := readLookupFormats(tx)
	if err != nil {
		return nil, err
	}
	promotions := map[int64]string{}
	for i, r := range rows {
		if r.Problem != "" {
			refused[i] = r.Problem
			continue
		}
		if key, m := readCode(fs, r.Code); m == BadCheck || key != CodeKey(r.Code) {
			refused[i] = "the code has the shape of generated codes, which would read it as another code, so it could never be redeemed; give it another length or prefix"
			continue
		}
		if r.PromotionID == nil {
			continue
		}
		why, seen := promotions[*r.PromotionID]
		if !seen {
			if err := checkBulkPromotion(tx, *r.PromotionID); err != nil {
				var verr *ValidationError
				if !errors.As(err, &verr) {
					return nil, err
				}
				why = verr.Message(FieldPromotionID)
			}
			promotions[*r.PromotionID] = why
		}
		refused[i] = why
	}
	return refused, nil
}

// importRoom is how many of n new active coupons the active-coupon cap
// lets in now.
func (s *Store) importRoom(tx *gorm.DB, n int) (int, error) {
	if s.maxActive <= 0 || n == 0 {
		return n, nil
	}
	err := s.checkActiveCap(tx, n)
	var capErr *ActiveCapError
	switch {
	case err == nil:
		return n, nil
	case errors.As(err, &capErr):
		return max(0, int(int64(s.maxActive)-capErr.Active)), nil
	}
	return 0, err
}

// insertImported inserts the coupons of rows, skipping codes taken, and
// returns the keys of the codes it inserted. The codes are b's (batch_id),
// indexed for search and counted among the usable coupons in the same
// transaction, as a generated batch's are.
func (s *Store) insertImported(tx *gorm.DB, b Batch, rows []ImportRow, now time.Time) (map[string]bool, error) {
	inserted := map[string]bool{}
	if len(rows) == 0 {
		return inserted, nil
	}
	c := s.conn(tx)
	var last int64
	if !c.pg {
		if err := c.queryRow("SELECT coalesce(max(id), 0) FROM coupons").Scan(&last); err != nil {
			return nil, fmt.Errorf("import codes: %w", err)
		}
	}
	// Each code's key among the usable coupons, written as the triggers
	// that keep them write it.
	day := "CASE WHEN expires_at IS NULL THEN -1 ELSE CAST(strftime('%s', expires_at) AS integer) / 86400 END"
	if c.pg {
		day = "CASE WHEN expires_at IS NULL THEN -1 ELSE floor(extract(epoch FROM expires_at) / 86400)::bigint END"
	}
	returning := " ON CONFLICT DO NOTHING RETURNING code, coalesce(promotion_id, 0), lower(coalesce(utm_source, '')), lower(coalesce(utm_campaign, '')), " + day
	type key struct {
		promotion        int64
		source, campaign string
		day              int64
	}
	counts := map[key]int64{}
	// The rows come in code order (readImportRows), which the indexes on
	// the code take a few pages at a time; of two rows with one code the
	// earlier line comes first, and wins.
	for part := range slices.Chunk(rows, importStatement) {
		var q strings.Builder
		q.WriteString("INSERT INTO coupons (" + couponColumns + ", customer_id, expires_at) VALUES ")
		args := make([]any, 0, 16*len(part))
		for i, r := range part {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, r.Code, r.UTMSource, r.UTMCampaign, false, 0, 0, r.MaxUsage, r.MaxUsagePerClient, 0, b.ID, r.PromotionID, nil, now, now, r.CustomerID, r.ValidUntil)
		}
		q.WriteString(returning)
		rs, err := c.query(q.String(), args...)
		if err != nil {
			return nil, fmt.Errorf("import codes: %w", err)
		}
		for rs.Next() {
			var code string
			var k key
			if err := rs.Scan(&code, &k.promotion, &k.source, &k.campaign, &k.day); err != nil {
				rs.Close()
				return nil, fmt.Errorf("import codes: %w", err)
			}
			inserted[CodeKey(code)] = true
			counts[k]++
		}
		if err := errors.Join(rs.Err(), rs.Close()); err != nil {
			return nil, fmt.Errorf("import codes: %w", err)
		}
	}
	if !c.pg {
		// The search index's trigger leaves batch codes out.
		if _, err := c.exec("INSERT INTO coupon_search (rowid, code) SELECT id, code FROM coupons WHERE id > ? AND batch_id = ?", last, b.ID); err != nil {
			return nil, fmt.Errorf("index the imported codes for search: %w", err)
		}
	}
	exec := func(q string, args ...any) (int64, error) {
		res, err := c.exec(q, args...)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	for k, n := range counts {
		if err := s.countCodes(exec, k.promotion, k.source, k.campaign, k.day, b.ID%8, n); err != nil {
			return nil, err
		}
	}
	return inserted, nil
}

// ImportProblem is a row an import refused: its line in the file, its
// code as written there, and why.
type ImportProblem struct {
	Line    int
	Code    string
	Problem string
}

// EachImportProblem calls fn with every row import id refused, in line
// order, reading a page at a time (no read is held open while fn runs).
// It fails with ErrNotFound for an id that is no import.
func (s *Store) EachImportProblem(ctx context.Context, id int64, fn func(ImportProblem) error) error {
	if _, err := s.Import(ctx, id); err != nil {
		return err
	}
	line := 0
	for {
		var page []ImportProblem
		err := s.db.WithContext(ctx).Raw("SELECT line, code, problem FROM import_rows WHERE batch_id = ? AND line > ? AND problem <> '' ORDER BY line LIMIT 1000", id, line).
			Scan(&page).Error
		if err != nil {
			return fmt.Errorf("read the refused rows of import %d: %w", id, err)
		}
		for _, p := range page {
			if err := fn(p); err != nil {
				return err
			}
			line = p.Line
		}
		if len(page) < 1000 {
			return nil
		}
	}
}

// Import returns the import with id. It fails with ErrNotFound, also for
// a batch of generated codes.
func (s *Store) Import(ctx context.Context, id int64) (Batch, error) {
	var b Batch
	err := s.db.WithContext(ctx).Where("id = ? AND kind = ?", id, BatchImport).Take(&b).Error
	if err != nil {
		return Batch{}, fmt.Errorf("get import %d: %w", id, notFound(err, "import", strconv.FormatInt(id, 10)))
	}
	return b, nil
}

// ImportPreview is what an import file would give, judged before
// anything is written: its first rows, how many rows it has, and the
// rows that would be refused (the first of them, and how many), for
// every reason but one: a code that an earlier line of the same file has
// is told when the import runs.
type ImportPreview struct {
	Rows         []ImportRow
	Total        int
	Problems     []ImportProblem
	ProblemCount int
}

// Preview bounds.
const (
	previewRows     = 10
	previewProblems = 100
)

// PreviewImport reads in's file as CreateImport would, in constant memory, and
// judges each row as the import would, against the coupons, formats and
// promotions there are now. It fails as CreateImport does for a file it
// cannot read; it writes nothing.
func (s *Store) PreviewImport(ctx context.Context, in ImportInput) (ImportPreview, error) {
	ir, err := NewImportReader(in.File, in.Zone)
	if err != nil {
		return ImportPreview{}, fmt.Errorf("preview import: %w", err)
	}
	db := s.db.WithContext(ctx)
	var p ImportPreview
	var pending []ImportRow
	settle := func() error {
		if len(pending) == 0 {
			return nil
		}
		refused, err := s.judgeImportRows(db, pending)
		if err != nil {
			return err
		}
		keys := make([]string, 0, len(pending))
		for i, r := range pending {
			if refused[i] == "" {
				keys = append(keys, CodeKey(r.Code))
			}
		}
		taken := map[string]bool{}
		if len(keys) > 0 {
			var found []string
			if err := db.Raw("SELECT lower(code) FROM coupons WHERE lower(code) IN ?", keys).Scan(&found).Error; err != nil {
				return fmt.Errorf("look the codes up: %w", err)
			}
			for _, k := range found {
				taken[k] = true
			}
		}
		for i, r := range pending {
			if refused[i] == "" && taken[CodeKey(r.Code)] {
				refused[i] = "a coupon with this code exists already (codes are compared ignoring case)"
			}
			r.Problem = refused[i]
			if len(p.Rows) < previewRows {
				p.Rows = append(p.Rows, r)
			}
			if r.Problem != "" {
				if p.ProblemCount++; len(p.Problems) < previewProblems {
					p.Problems = append(p.Problems, ImportProblem{Line: r.Line, Code: r.Code, Problem: r.Problem})
				}
			}
		}
		pending = pending[:0]
		return nil
	}
	for {
		row, err := ir.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return ImportPreview{}, fmt.Errorf("preview import: %w", err)
		}
		if p.Total++; p.Total > MaxImportRows {
			return ImportPreview{}, fmt.Errorf("preview import: %w", Invalid(FieldFile, fmt.Sprintf("has more than %d rows; split it into several imports", MaxImportRows)))
		}
		if pending = append(pending, row); len(pending) == 1000 {
			if err := settle(); err != nil {
				return ImportPreview{}, fmt.Errorf("preview import: %w", err)
			}
		}
	}
	if err := settle(); err != nil {
		return ImportPreview{}, fmt.Errorf("preview import: %w", err)
	}
	if p.Total == 0 {
		return ImportPreview{}, fmt.Errorf("preview import: %w", Invalid(FieldFile, "has no rows under its header"))
	}
	return p, nil
}
