package api_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/web"
	"github.com/coupond/coupond/web/webtest"
	"golang.org/x/crypto/bcrypt"
)

// A client that downloads a batch's CSV, reads the first 36 KB and then
// stops reading holds up no write: redemptions beside it answer at once,
// and the writer keeps resetting the WAL (here past 64 KiB).
func TestAStalledDownloadHoldsUpNoWrite(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "coupond.db")
	s, err := models.Open(t.Context(), models.Config{Path: path, WALCheckpointAt: 64 << 10, PasswordCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	h := webtest.New(t, s, web.Config{BodyLimit: "64K"})
	h.MustPromotion(models.PromotionInput{Status: models.PromotionActive, UTMSource: new("stall")})
	h.MustTaggedCoupon("STALL-1", "stall", "")
	wait := h.RunBatches()
	b := webtest.Decode[batchJSON](t, h.MustAPI(http.StatusAccepted, "POST", "/api/batches", `{"quantity":60000,"format":{"length":12}}`))
	if got := wait(b.ID); got.Status != models.BatchDone {
		t.Fatalf("batch = %+v", got)
	}

	conn, err := net.Dial("tcp", h.Srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A small receive buffer, so that the server's writes block soon.
	if err := conn.(*net.TCPConn).SetReadBuffer(4096); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /api/batches/%d/codes.csv HTTP/1.1\r\nHost: coupond\r\nX-Auth-Token: %s\r\n\r\n", b.ID, h.ReadToken)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("CSV download: %v %v", res, err)
	}
	if _, err := io.ReadFull(res.Body, make([]byte, 36<<10)); err != nil {
		t.Fatal(err)
	}
	// The client reads no more. Give the server time to fill the socket.
	time.Sleep(300 * time.Millisecond)

	for i := range 5 {
		start := time.Now()
		h.MustAPI(http.StatusCreated, "POST", "/api/redemptions", fmt.Sprintf(`{"code":"STALL-1","customerId":"c-%d","orderId":"o-%d","items":1}`, i, i))
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("redemption %d beside the stalled download took %v", i+1, took)
		}
	}
	// The writer resets the WAL once no read is in the way: the export may
	// still be reading a page into memory as a write ends (for longer
	// than the writer waits on a busy machine), so a few more writes are
	// allowed to find a moment; a snapshot held by the stalled download
	// would keep it from ever being reset.
	var size int64
	for i := range 20 {
		st, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		if size = st.Size(); size <= 128<<10 {
			break
		}
		time.Sleep(100 * time.Millisecond)
		h.MustAPI(http.StatusCreated, "POST", "/api/redemptions", fmt.Sprintf(`{"code":"STALL-1","customerId":"more-%d","orderId":"more-%d","items":1}`, i, i))
	}
	if size > 128<<10 {
		t.Errorf("the WAL is %d bytes beside the stalled download after 20 more writes: the writer could not reset it", size)
	}
	if !strings.Contains(h.MustAPI(http.StatusOK, "GET", "/api/batches/"+fmt.Sprint(b.ID), "").Body, `"status":"done"`) {
		t.Error("the batch is no longer done")
	}
}
