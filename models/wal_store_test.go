package models_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
)

// lockedBuffer is a log destination safe for the store's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// walStore opens a SQLite store whose writer resets the WAL after every
// write past 1 KiB, and returns it with its WAL's path and its log.
func walStore(t *testing.T) (*models.Store, string, *lockedBuffer) {
	t.Helper()
	log := &lockedBuffer{}
	path := filepath.Join(t.TempDir(), "coupond.db")
	s, err := models.Open(t.Context(), models.Config{Path: path, WALCheckpointAt: 1 << 10, Logger: slog.New(slog.NewTextHandler(log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s, path + "-wal", log
}

func walSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// A batch export whose client has stopped reading holds no snapshot: the
// writer still resets the WAL after each write.
func TestAStalledExportHoldsNoSnapshot(t *testing.T) {
	t.Parallel()
	s, wal, _ := walStore(t)
	b, err := s.CreateBatch(t.Context(), mustBatchSpec(t, models.BatchInput{Quantity: 12_000, Format: models.FormatInput{Length: 12}}))
	if err != nil {
		t.Fatal(err)
	}
	stop := runner(t, s, models.RunnerConfig{Chunk: 4_000, Poll: time.Hour})
	waitBatch(t, s, b.ID, "done", isDone)
	stop()

	stalled, release := make(chan struct{}), make(chan struct{})
	exported := make(chan error, 1)
	go func() {
		n := 0
		exported <- s.EachBatchCoupon(context.Background(), b.ID, func(models.Coupon) error {
			if n++; n == 10 {
				close(stalled)
				<-release
			}
			return nil
		})
	}()
	<-stalled
	for i := range 3 {
		start := time.Now()
		mustCreateCoupon(t, s, "WHILE-STALLED-"+string(rune('A'+i)))
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("a write beside the stalled export took %v", took)
		}
		if n := walSize(t, wal); n != 0 {
			t.Errorf("after write %d beside the stalled export the WAL is %d bytes, want it reset to 0", i+1, n)
		}
	}
	close(release)
	if err := <-exported; err != nil {
		t.Fatal(err)
	}
}

// A reader that holds a snapshot and does not finish holds up no write:
// the writer waits for it no more than a moment to reset the WAL, and
// says so in the log while it lasts.
func TestAReaderThatDoesNotFinishHoldsUpNoWrite(t *testing.T) {
	t.Parallel()
	s, wal, log := walStore(t)
	mustCreateCoupon(t, s, "FIRST")
	db := storetest.Connect(t, models.Config{Path: strings.TrimSuffix(wal, "-wal")})
	tx := db.Begin()
	var n int64
	if err := tx.Raw("SELECT count(*) FROM coupons").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	deadline := time.Now().Add(1500 * time.Millisecond)
	for i := 0; time.Now().Before(deadline); i++ {
		start := time.Now()
		mustCreateCoupon(t, s, "BESIDE-A-READER-"+string(rune('A'+i%26))+strings.Repeat("X", i/26))
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("a write beside an open read took %v", took)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if walSize(t, wal) == 0 {
		t.Error("the WAL was reset while a reader held a snapshot of it")
	}
	if !strings.Contains(log.String(), "readers keep the WAL from being reset") {
		t.Errorf("a WAL kept from being reset for over a second is not logged: %q", log.String())
	}
	tx.Rollback()
	mustCreateCoupon(t, s, "AFTER-THE-READER")
	if n := walSize(t, wal); n != 0 {
		t.Errorf("once the reader is gone the WAL is %d bytes, want it reset", n)
	}
	if !strings.Contains(log.String(), "the WAL is reset again") {
		t.Errorf("the end of it is not logged: %q", log.String())
	}
}
