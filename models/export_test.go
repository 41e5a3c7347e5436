package models

import (
	"context"
	"io"
	"time"

	"gorm.io/gorm"
)

// HoldWriter takes SQLite's writer until the returned function is called.
func (s *Store) HoldWriter(ctx context.Context) (func(), error) {
	select {
	case s.writer.slot <- struct{}{}:
		return s.writer.release, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// SetCheckpointAt changes the WAL size past which the writer checkpoints.
func (s *Store) SetCheckpointAt(n int64) { s.writer.checkpointAt = n }

// ExecRead runs a statement on the read pool.
func (s *Store) ExecRead(ctx context.Context, query string, args ...any) error {
	return s.db.WithContext(ctx).Exec(query, args...).Error
}

// ExecWrite runs a statement in a write transaction and translates its
// error as the store does.
func (s *Store) ExecWrite(ctx context.Context, query string, args ...any) error {
	return translate(s.write(ctx, func(tx *gorm.DB) error { return tx.Exec(query, args...).Error }))
}

// DummyHash is the hash a sign-in with an unknown email is checked
// against.
func (s *Store) DummyHash() []byte { return s.dummyHash() }

// SchemaVersion is the number of the last migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.db.WithContext(ctx).Raw("SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied").Scan(&v).Error
	return v, err
}

// MigrateTo applies the migrations the database lacks up to version.
func (s *Store) MigrateTo(ctx context.Context, version int64) error { return s.migrate(ctx, version) }

// OnMigrateLockWait makes Migrate call f when it finds the SQLite
// migration lock held by someone else and starts waiting for it.
func (s *Store) OnMigrateLockWait(f func()) { s.migrateLockWaiting = f }

// CountSessions returns how many sessions are stored, expired or not.
func (s *Store) CountSessions(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Table("sessions").Count(&n).Error
	return n, err
}

// Write runs fn as the store runs a write.
func (s *Store) Write(ctx context.Context, fn func(tx *gorm.DB) error) error { return s.write(ctx, fn) }

// SharedWrites is how many writes have shared a transaction with an
// earlier write of their group (SQLite).
func (s *Store) SharedWrites() int64 { return s.writer.shared.Load() }

// QueuedWrites is how many writes wait in SQLite's writer queue.
func (s *Store) QueuedWrites() int { return len(s.writer.queue) }

// WriteBulk runs fn as the store runs a write of many rows.
func (s *Store) WriteBulk(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.writeBulk(ctx, fn)
}

// StartUpload reads file into a new import as CreateImport does, but
// stops before the upload's last step, as a server that died mid-upload
// leaves it; it returns the import's id.
func (s *Store) StartUpload(ctx context.Context, file io.Reader) (int64, error) {
	ir, err := NewImportReader(file, nil)
	if err != nil {
		return 0, err
	}
	now := s.now()
	b := Batch{Kind: BatchImport, Status: BatchPending, LeaseOwner: new(uploadOwner), LeaseUntil: new(now.Add(uploadLease))}
	if err := s.write(ctx, func(tx *gorm.DB) error { return tx.Create(&b).Error }); err != nil {
		return 0, err
	}
	_, _, err = s.uploadRows(ctx, b.ID, ir)
	return b.ID, err
}

// ExpireUpload sets the lease of import id's upload to end at at.
func (s *Store) ExpireUpload(ctx context.Context, id int64, at time.Time) error {
	return s.write(ctx, func(tx *gorm.DB) error {
		return tx.Model(&Batch{}).Where("id = ?", id).Update("lease_until", at).Error
	})
}

// SortImportsBy has s's uploads sort run rows in memory at once, so that
// a small file takes the path of a large one (temporary runs, merged).
func (s *Store) SortImportsBy(run int) { s.importRun = run }

// ImportChunksLeft is how many stored chunks of import id's rows wait.
func (s *Store) ImportChunksLeft(ctx context.Context, id int64) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Raw("SELECT count(*) FROM import_chunks WHERE batch_id = ?", id).Scan(&n).Error
	return n, err
}

// BreakImportChunks overwrites the stored rows of import id with bytes
// that are no rows, as a damaged database would have them.
func (s *Store) BreakImportChunks(ctx context.Context, id int64) error {
	return s.write(ctx, func(tx *gorm.DB) error {
		return tx.Exec("UPDATE import_chunks SET data = ? WHERE batch_id = ?", []byte{0xff, 0xff}, id).Error
	})
}
