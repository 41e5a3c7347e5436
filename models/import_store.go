package models

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Importing. An import file becomes a batch of kind BatchImport in two
// steps. The upload reads the file, judging each row on its own: a row
// with a bad field goes to import_rows with its problem, for the report;
// the good rows are sorted by code (import_sort.go) and kept in
// import_chunks, a blob of importChunk rows each. All this happens under
// a lease named uploadOwner that keeps every runner off the import, and
// only once the last chunk is in does the batch get its quantity and
// lose that lease: a runner then takes it like any batch. An upload that
// stops half way (the client went away, the server died) leaves a batch
// of quantity 0, which the upload deletes or, if it could not, the runner
// that finds it marks failed and empties: nothing of it is imported. The
// runner then takes the sorted rows a chunk at a time, each chunk in one
// transaction under its lease: the codes that can be imported are
// inserted, those taken already (by another coupon, or an earlier line)
// are refused into import_rows, and the progress is recorded, so a
// runner stopped at any point goes on from the last chunk committed, on
// any instance.

const (
	// uploadOwner holds an import's lease while its file is uploaded.
	uploadOwner = "(uploading)"
	// uploadLease is how long an upload's lease lasts past each chunk.
	uploadLease = 2 * time.Minute
	// importChunk is how many rows a stored chunk holds and one
	// transaction of the runner imports; on PostgreSQL in statements of
	// importStatement rows (sixteen values a row), as the refused rows
	// are kept (eleven values a row): SQLite takes at most 32,766 bound
	// values, PostgreSQL 65,535.
	importChunk     = 8000
	importStatement = 2000
	// uploadChunks is how many chunks one transaction of the upload
	// stores.
	uploadChunks = 4
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
	rows, bad, err := s.uploadRows(ctx, b.ID, ir)
	if err == nil && rows == 0 {
		err = Invalid(FieldFile, "has no rows under its header")
	}
	if err == nil {
		err = s.write(ctx, func(tx *gorm.DB) error {
			now := s.now()
			b.Quantity, b.Rejected, b.LeaseOwner, b.LeaseUntil = rows, bad, nil, nil
			set := map[string]any{"quantity": rows, "rejected": bad, "lease_owner": nil, "lease_until": nil, "updated_at": now}
			if bad == rows {
				// Nothing to import: the import is done already.
				b.Status, b.FinishedAt = BatchDone, &now
				set["status"], set["finished_at"], set["started_at"] = BatchDone, now, now
			}
			res := tx.Model(&Batch{}).Where("id = ? AND status = ? AND lease_owner = ?", b.ID, BatchPending, uploadOwner).
				Updates(set)
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

// uploadRows reads every row of ir into import for batch: the rows with
// a problem into import_rows, the others sorted by code into
// import_chunks, a few chunks per transaction, renewing the upload's
// lease as it goes. It returns how many rows it read and how many of
// them had a problem.
func (s *Store) uploadRows(ctx context.Context, batch int64, ir *ImportReader) (rows, bad int, err error) {
	renewed := s.now()
	renew := func(tx *gorm.DB) error {
		renewed = s.now()
		return tx.Model(&Batch{}).Where("id = ? AND lease_owner = ?", batch, uploadOwner).
			Update("lease_until", renewed.Add(uploadLease)).Error
	}
	// Reading a long file may take a while with nothing to store.
	keep := func() error {
		if s.now().Sub(renewed) < uploadLease/4 {
			return nil
		}
		return s.write(ctx, renew)
	}
	var refused []ImportRow
	storeRefused := func() error {
		if len(refused) == 0 {
			return nil
		}
		err := s.writeBulk(ctx, func(tx *gorm.DB) error {
			if err := insertImportRows(s.conn(tx), batch, refused); err != nil {
				return err
			}
			return renew(tx)
		})
		refused = refused[:0]
		return err
	}
	sorter := &importSorter{run: cmp.Or(s.importRun, sortRun)}
	defer sorter.close()
	for {
		row, err := ir.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, 0, err
		}
		if rows++; rows > MaxImportRows {
			return 0, 0, Invalid(FieldFile, fmt.Sprintf("has more than %d rows; split it into several imports", MaxImportRows))
		}
		if row.Problem != "" {
			bad++
			if refused = append(refused, row); len(refused) == importChunk {
				if err := storeRefused(); err != nil {
					return 0, 0, err
				}
			}
			continue
		}
		if err := sorter.add(row); err != nil {
			return 0, 0, err
		}
		if rows%importChunk == 0 {
			if err := keep(); err != nil {
				return 0, 0, err
			}
		}
	}
	if err := storeRefused(); err != nil {
		return 0, 0, err
	}
	// The sorted rows, a chunk at a time.
	type chunk struct {
		first int
		data  []byte
	}
	var chunks []chunk
	storeChunks := func() error {
		if len(chunks) == 0 {
			return nil
		}
		var q strings.Builder
		q.WriteString("INSERT INTO import_chunks (batch_id, first, data) VALUES ")
		args := make([]any, 0, 3*len(chunks))
		for i, c := range chunks {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?)")
			args = append(args, batch, c.first, c.data)
		}
		err := s.writeBulk(ctx, func(tx *gorm.DB) error {
			if _, err := s.conn(tx).exec(q.String(), args...); err != nil {
				return fmt.Errorf("keep the import's rows: %w", err)
			}
			return renew(tx)
		})
		chunks = chunks[:0]
		s.settleWAL(ctx)
		return err
	}
	sorted := 0
	var data []byte
	err = sorter.each(func(r *ImportRow) error {
		var err error
		if data, err = appendImportRow(data, r); err != nil {
			return err
		}
		if sorted++; sorted%importChunk == 0 {
			chunks = append(chunks, chunk{first: sorted - importChunk, data: data})
			data = nil
			if len(chunks) == uploadChunks {
				return storeChunks()
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	if len(data) > 0 {
		chunks = append(chunks, chunk{first: sorted - sorted%importChunk, data: data})
	}
	if err := storeChunks(); err != nil {
		return 0, 0, err
	}
	return rows, bad, nil
}

// insertImportRows writes rows of batch, with their problems, to
// import_rows, importStatement to a statement.
func insertImportRows(c conn, batch int64, rows []ImportRow) error {
	for part := range slices.Chunk(rows, importStatement) {
		var q strings.Builder
		q.WriteString("INSERT INTO import_rows (" + importRowColumns + ") VALUES ")
		args := make([]any, 0, 11*len(part))
		for i, r := range part {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, batch, r.Line, r.Code, r.MaxUsage, r.MaxUsagePerClient, r.UTMSource, r.UTMCampaign, r.PromotionID, r.CustomerID, r.ValidUntil, r.Problem)
		}
		if _, err := c.exec(q.String(), args...); err != nil {
			return fmt.Errorf("keep the import's rows: %w", err)
		}
	}
	return nil
}

// dropImport deletes an import whose upload did not finish, with its
// rows, whatever the request's context says.
func (s *Store) dropImport(batch int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := s.write(ctx, func(tx *gorm.DB) error {
		if err := deleteImportRows(tx, batch); err != nil {
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
	var failures chunkFailures
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
			if !failures.again(ctx, err, log) {
				s.failBatch(b, cfg.Owner, err, log)
				return
			}
			continue
		}
		failures = 0
		s.settleWAL(ctx)
	}
	log.Info("import done", "imported", b.Generated, "rejected", b.Rejected)
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
	if err := s.write(ctx, func(tx *gorm.DB) error { return deleteImportRows(tx, batch) }); err != nil {
		log.Error("delete the rows of an import", "err", err)
	}
}

// deleteImportRows deletes every row of import batch, refused or to do.
func deleteImportRows(tx *gorm.DB, batch int64) error {
	if err := tx.Exec("DELETE FROM import_chunks WHERE batch_id = ?", batch).Error; err != nil {
		return err
	}
	return tx.Exec("DELETE FROM import_rows WHERE batch_id = ?", batch).Error
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
		// NextBucket rows of the sorted file are done; the chunk that
		// holds the next one starts at first.
		var first int
		var data []byte
		err := c.queryRow("SELECT first, data FROM import_chunks WHERE batch_id = ? AND first <= ? ORDER BY first DESC LIMIT 1", b.ID, b.NextBucket).
			Scan(&first, &data)
		if errors.Is(err, sql.ErrNoRows) {
			// Cancelled (which deletes the rows to do) or taken over:
			// not this runner's any more; else the rows are gone.
			var mine int
			if err := c.queryRow("SELECT count(*) FROM batches WHERE id = ? AND status = ? AND lease_owner = ?", b.ID, BatchRunning, cfg.Owner).Scan(&mine); err != nil {
				return fmt.Errorf("read the import's rows: %w", err)
			}
			if mine == 0 {
				return errLeaseLost
			}
			return errImportRowsMissing
		}
		if err != nil {
			return fmt.Errorf("read the import's rows: %w", err)
		}
		all, err := readImportRows(data)
		if err != nil {
			return fmt.Errorf("read the import's rows: %w", err)
		}
		if b.NextBucket-first >= len(all) {
			return errImportRowsMissing
		}
		rows := all[b.NextBucket-first:]
		rows = rows[:min(len(rows), cmp.Or(cfg.Chunk, importChunk))]
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
		ok, err := s.insertImported(tx, *b, taken, now)
		if err != nil {
			return err
		}
		inserted := make([]bool, len(rows))
		for j, i := range take {
			inserted[i] = ok[j]
		}
		var problems []ImportRow
		for i, r := range rows {
			switch {
			case refused[i] != "":
			case inserted[i]:
				continue
			default:
				refused[i] = "a coupon with this code exists already (codes are compared ignoring case), or an earlier line of the file has it"
			}
			r.Problem = refused[i]
			problems = append(problems, r)
		}
		if err := insertImportRows(c, b.ID, problems); err != nil {
			return fmt.Errorf("record the refused rows: %w", err)
		}
		if b.NextBucket+len(rows) == first+len(all) {
			if _, err := c.exec("DELETE FROM import_chunks WHERE batch_id = ? AND first = ?", b.ID, first); err != nil {
				return fmt.Errorf("delete an imported chunk: %w", err)
			}
		}
		after.Generated += len(rows) - len(problems)
		after.Rejected += len(problems)
		after.NextBucket += len(rows)
		owner, until := &cfg.Owner, new(now.Add(cfg.Lease))
		var finished *time.Time
		if after.Generated+after.Rejected >= b.Quantity {
			after.Status, finished, owner, until = BatchDone, &now, nil, nil
		}
		// From where this runner believes the import stands: a commit
		// that failed as far as it knew but was made would otherwise
		// have the chunk judged twice.
		one, err := c.execOne("UPDATE batches SET generated = ?, rejected = ?, next_bucket = ?, status = ?, finished_at = ?, lease_owner = ?, lease_until = ?, updated_at = ? WHERE id = ? AND status = ? AND lease_owner = ? AND next_bucket = ?",
			after.Generated, after.Rejected, after.NextBucket, after.Status, finished, owner, until, now, b.ID, BatchRunning, cfg.Owner, b.NextBucket)
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

// insertImported inserts the coupons of rows, which come in code order
// (the indexes on the code then take them a few pages at a time),
// skipping codes taken, and reports for each row whether its coupon was
// inserted; of two rows with one code the earlier line, which comes
// first, is the one inserted. The codes are b's (batch_id), indexed for
// search and counted among the usable coupons in the same transaction,
// as a generated batch's are.
func (s *Store) insertImported(tx *gorm.DB, b Batch, rows []ImportRow, now time.Time) ([]bool, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	c := s.conn(tx)
	var counts map[importCount]int64
	var inserted []bool
	var err error
	if c.pg {
		inserted, counts, err = insertImportedPostgres(c, b, rows, now)
	} else {
		inserted, counts, err = insertImportedSQLite(c, b, rows, now)
	}
	if err != nil {
		return nil, err
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

// importCount is the key of imported codes among the usable coupons
// (countCodes folds the tags' case).
type importCount struct {
	promotion        int64
	source, campaign string
	day              int64
}

// importReturning has an insert of imported codes return each code
// inserted and its importCount, computed as the triggers that keep the
// counts compute it.
func importReturning(pg bool) string {
	day := "CASE WHEN expires_at IS NULL THEN -1 ELSE CAST(strftime('%s', expires_at) AS integer) / 86400 END"
	if pg {
		day = "CASE WHEN expires_at IS NULL THEN -1 ELSE floor(extract(epoch FROM expires_at) / 86400)::bigint END"
	}
	return " ON CONFLICT DO NOTHING RETURNING code, coalesce(promotion_id, 0), coalesce(utm_source, ''), coalesce(utm_campaign, ''), " + day
}

// returned reads what an insert with importReturning returned into
// counts and keys (how many coupons of each code key were inserted).
func returned(rs *sql.Rows, err error, keys map[string]int, counts map[importCount]int64) error {
	if err != nil {
		return fmt.Errorf("import codes: %w", err)
	}
	for rs.Next() {
		var code string
		var k importCount
		if err := rs.Scan(&code, &k.promotion, &k.source, &k.campaign, &k.day); err != nil {
			rs.Close()
			return fmt.Errorf("import codes: %w", err)
		}
		keys[CodeKey(code)]++
		counts[k]++
	}
	if err := errors.Join(rs.Err(), rs.Close()); err != nil {
		return fmt.Errorf("import codes: %w", err)
	}
	return nil
}

// insertedRows tells, for each of rows, whether its coupon was inserted,
// keys being the code keys inserted (the first row of a key takes it).
func insertedRows(rows []ImportRow, keys map[string]int) []bool {
	inserted := make([]bool, len(rows))
	for i, r := range rows {
		k := CodeKey(r.Code)
		if keys[k] > 0 {
			inserted[i] = true
			keys[k]--
		}
	}
	return inserted
}

// insertImportedPostgres inserts rows in statements of importStatement
// rows.
func insertImportedPostgres(c conn, b Batch, rows []ImportRow, now time.Time) ([]bool, map[importCount]int64, error) {
	keys, counts := map[string]int{}, map[importCount]int64{}
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
		q.WriteString(importReturning(true))
		rs, err := c.query(q.String(), args...)
		if err := returned(rs, err, keys, counts); err != nil {
			return nil, nil, err
		}
	}
	return insertedRows(rows, keys), counts, nil
}

// Inserting imported codes on SQLite. The rows travel as JSON, which
// the statement takes apart: one bound value rather than sixteen a row
// (each bound value is a cgo call). Most files give many rows the same
// values but the code (the same uses, tags, no customer): the codes of
// those rows travel as a JSON array of strings and the values they share
// are bound once (importShared), without RETURNING: SQLite reads these
// at half the cost of an array per row (importRows), which is the way
// for a chunk whose rows share too little.
const (
	importShared = "INSERT INTO coupons (" + couponColumns + ", customer_id, expires_at)" +
		" SELECT value, ?4, ?5, false, 0, 0, ?6, ?7, 0, ?2, ?8, NULL, ?3, ?3, ?9, ?10" +
		// The WHERE lets the parser take the ON CONFLICT that follows.
		" FROM json_each(?1) WHERE true ON CONFLICT DO NOTHING"
	importRows = "INSERT INTO coupons (" + couponColumns + ", customer_id, expires_at)" +
		" SELECT value ->> 0, value ->> 1, value ->> 2, false, 0, 0, value ->> 3, value ->> 4, 0, ?2, value ->> 5, NULL, ?3, ?3, value ->> 6, value ->> 7" +
		" FROM json_each(?1) WHERE true"
	// importGroups is how many sets of shared values a chunk may have
	// for importShared.
	importGroups = 8
)

// importShares is a set of values rows share but their codes.
type importShares struct {
	source, campaign, customer, until *string
	uses, perCustomer                 int
	promotion                         *int64
}

func (a importShares) same(b importShares) bool {
	return a.uses == b.uses && a.perCustomer == b.perCustomer && equalPtr(a.source, b.source) && equalPtr(a.campaign, b.campaign) &&
		equalPtr(a.customer, b.customer) && equalPtr(a.until, b.until) && equalPtr(a.promotion, b.promotion)
}

// equalPtr reports whether a and b are both absent or both the same
// value.
func equalPtr[T comparable](a, b *T) bool {
	return a == b || a != nil && b != nil && *a == *b
}

// sqliteTime is how the SQLite driver writes a time.
const sqliteTime = "2006-01-02 15:04:05.999999999-07:00"

// insertImportedSQLite inserts rows with importShared, a statement for
// each set of values rows share, or all with importRows when they share
// too little, and indexes them for search.
func insertImportedSQLite(c conn, b Batch, rows []ImportRow, now time.Time) ([]bool, map[importCount]int64, error) {
	var last int64
	if err := c.queryRow("SELECT coalesce(max(id), 0) FROM coupons").Scan(&last); err != nil {
		return nil, nil, fmt.Errorf("import codes: %w", err)
	}
	type group struct {
		importShares
		rows  []int
		codes []string
	}
	var groups []*group
	for i, r := range rows {
		// Of two rows with one code, the earlier line (which comes
		// first) is the one imported, whatever statement inserts first.
		if i > 0 && compareFolded(rows[i-1].Code, r.Code) == 0 {
			continue
		}
		var until *string
		if r.ValidUntil != nil {
			until = new(r.ValidUntil.Format(sqliteTime))
		}
		v := importShares{r.UTMSource, r.UTMCampaign, r.CustomerID, until, r.MaxUsage, r.MaxUsagePerClient, r.PromotionID}
		var g *group
		for _, h := range groups {
			if h.same(v) {
				g = h
				break
			}
		}
		if g == nil {
			if len(groups) == importGroups {
				groups = nil
				break
			}
			g = &group{importShares: v}
			groups = append(groups, g)
		}
		g.rows = append(g.rows, i)
		g.codes = append(g.codes, r.Code)
	}
	var inserted []bool
	counts := map[importCount]int64{}
	if groups == nil {
		all := make([][8]any, len(rows))
		for i, r := range rows {
			var until *string
			if r.ValidUntil != nil {
				until = new(r.ValidUntil.Format(sqliteTime))
			}
			all[i] = [8]any{r.Code, r.UTMSource, r.UTMCampaign, r.MaxUsage, r.MaxUsagePerClient, r.PromotionID, r.CustomerID, until}
		}
		data, err := json.Marshal(all)
		if err != nil {
			return nil, nil, fmt.Errorf("import codes: %w", err)
		}
		keys := map[string]int{}
		rs, err := c.query(importRows+importReturning(false), string(data), b.ID, now)
		if err := returned(rs, err, keys, counts); err != nil {
			return nil, nil, err
		}
		inserted = insertedRows(rows, keys)
	} else {
		inserted = make([]bool, len(rows))
		for _, g := range groups {
			data, err := json.Marshal(g.codes)
			if err != nil {
				return nil, nil, fmt.Errorf("import codes: %w", err)
			}
			var before int64
			if err := c.queryRow("SELECT coalesce(max(id), 0) FROM coupons").Scan(&before); err != nil {
				return nil, nil, fmt.Errorf("import codes: %w", err)
			}
			res, err := c.exec(importShared, string(data), b.ID, now, g.source, g.campaign, g.uses, g.perCustomer, g.promotion, g.customer, g.until)
			if err != nil {
				return nil, nil, fmt.Errorf("import codes: %w", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return nil, nil, fmt.Errorf("import codes: %w", err)
			}
			if n == 0 {
				continue
			}
			// The group's codes share their key among the usable
			// coupons; its day as the triggers compute it.
			k := importCount{promotion: valueOr(g.promotion, 0), source: valueOr(g.source, ""), campaign: valueOr(g.campaign, ""), day: -1}
			if g.until != nil {
				if err := c.queryRow("SELECT CAST(strftime('%s', ?) AS integer) / 86400", *g.until).Scan(&k.day); err != nil {
					return nil, nil, fmt.Errorf("import codes: %w", err)
				}
			}
			counts[k] += n
			if int(n) == len(g.rows) {
				for _, i := range g.rows {
					inserted[i] = true
				}
				continue
			}
			// Some codes were taken: which were inserted.
			keys := map[string]int{}
			found, err := c.query("SELECT code FROM coupons WHERE id > ?", before)
			if err != nil {
				return nil, nil, fmt.Errorf("import codes: %w", err)
			}
			for found.Next() {
				var code string
				if err := found.Scan(&code); err != nil {
					found.Close()
					return nil, nil, fmt.Errorf("import codes: %w", err)
				}
				keys[CodeKey(code)]++
			}
			if err := errors.Join(found.Err(), found.Close()); err != nil {
				return nil, nil, fmt.Errorf("import codes: %w", err)
			}
			for _, i := range g.rows {
				inserted[i] = keys[CodeKey(rows[i].Code)] > 0
			}
		}
	}
	// The search index's trigger leaves batch codes out.
	if _, err := c.exec("INSERT INTO coupon_search (rowid, code) SELECT id, code FROM coupons WHERE id > ? AND batch_id = ?", last, b.ID); err != nil {
		return nil, nil, fmt.Errorf("index the imported codes for search: %w", err)
	}
	return inserted, counts, nil
}

// valueOr is *p, or or when p is nil.
func valueOr[T any](p *T, or T) T {
	if p == nil {
		return or
	}
	return *p
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
