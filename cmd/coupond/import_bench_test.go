package main

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coupond/coupond/models/storetest"
)

// importCSV writes a file of n distinct codes of 16 upper-case
// alphanumerics, each with a use limit and a source tag, as a shop
// moving its codes would send, and returns its path.
func importCSV(b *testing.B, dir string, n int) string {
	b.Helper()
	path := filepath.Join(dir, "codes.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "code,maxUsage,utmSource")
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	seen := make(map[[16]byte]bool, n)
	var buf [16]byte
	for len(seen) < n {
		if _, err := rand.Read(buf[:]); err != nil {
			b.Fatal(err)
		}
		for i := range buf {
			buf[i] = alphabet[int(buf[i])%len(alphabet)]
		}
		if seen[buf] {
			continue
		}
		seen[buf] = true
		fmt.Fprintf(w, "%s,1,migrated\n", buf[:])
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// importFile sends the file at path to POST /api/imports and waits until
// the import is done, returning the time from the request to done and
// to its answer (the file uploaded, sorted and stored).
func (p *serverProc) importFile(b *testing.B, path string, n int) (took, uploaded time.Duration) {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	req, err := http.NewRequest(http.MethodPost, p.base+"/api/imports?name=codes.csv", f)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", p.token)
	req.Header.Set("Content-Type", "text/csv")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	uploaded = time.Since(start)
	if res.StatusCode != http.StatusAccepted {
		b.Fatalf("POST /api/imports: %d %s", res.StatusCode, out)
	}
	var imp struct {
		ID       int64
		Status   string
		Imported int
		Rejected int
		Error    string
	}
	if err := json.Unmarshal(out, &imp); err != nil {
		b.Fatal(err)
	}
	for imp.Status != "done" {
		if imp.Status == "failed" || imp.Status == "cancelled" {
			b.Fatalf("import %d %s: %s", imp.ID, imp.Status, imp.Error)
		}
		time.Sleep(20 * time.Millisecond)
		_, out := p.do(b, "GET", fmt.Sprintf("/api/imports/%d", imp.ID), "")
		if err := json.Unmarshal(out, &imp); err != nil {
			b.Fatal(err)
		}
	}
	took = time.Since(start)
	if imp.Imported != n || imp.Rejected != 0 {
		b.Fatalf("import %d: %d imported, %d refused; want %d, 0", imp.ID, imp.Imported, imp.Rejected, n)
	}
	return took, uploaded
}

// BenchmarkImport1M imports 1,000,000 codes through POST /api/imports
// into a fresh SQLite database, from the request (the file's upload
// included) to done, and in the same run has the generation engine make
// as many into another fresh database: the target is at most 1.5 times
// the generation's time, with the server's resident memory under 150 MB
// and the WAL under 64 MiB throughout.
func BenchmarkImport1M(b *testing.B) {
	n := benchCodes(b, 1_000_000)
	for b.Loop() {
		dir := b.TempDir()
		file := importCSV(b, dir, n)

		genDB := filepath.Join(dir, "generate.db")
		gen := startServer(b, map[string]string{"COUPOND_DB": genDB}, genDB+"-wal")
		gen.peaks()
		_, genTook := gen.generate(b, n, "")

		db := filepath.Join(dir, "import.db")
		p := startServer(b, map[string]string{"COUPOND_DB": db}, db+"-wal")
		p.peaks()
		took, uploaded := p.importFile(b, file, n)
		rss, wal := p.peaks()

		b.ReportMetric(took.Seconds(), "import-s")
		b.ReportMetric(uploaded.Seconds(), "upload-s")
		b.ReportMetric(genTook.Seconds(), "generate-s")
		b.ReportMetric(took.Seconds()/genTook.Seconds(), "ratio")
		b.ReportMetric(float64(n)/took.Seconds(), "rows/s")
		b.ReportMetric(float64(rss)/(1<<20), "rss-peak-MB")
		b.ReportMetric(float64(wal)/(1<<20), "wal-peak-MB")
		b.Logf("%d rows imported in %s (uploaded in %s), generated in %s (%.2f×); memory peak %.0f MB, WAL peak %.1f MiB",
			n, took.Round(time.Millisecond), uploaded.Round(time.Millisecond), genTook.Round(time.Millisecond), took.Seconds()/genTook.Seconds(), float64(rss)/(1<<20), float64(wal)/(1<<20))
		if rss >= 150<<20 {
			b.Errorf("the server's memory peaked at %.0f MB, past 150 MB", float64(rss)/(1<<20))
		}
		if wal >= 64<<20 {
			b.Errorf("the WAL peaked at %.1f MiB, past 64 MiB", float64(wal)/(1<<20))
		}
	}
}

// BenchmarkImport1MPostgres is BenchmarkImport1M on the local PostgreSQL
// cluster: the import and, in the same run, the generation engine, each
// into a fresh schema. No target is set for it; the figures show what a
// deployment on PostgreSQL can expect.
func BenchmarkImport1MPostgres(b *testing.B) {
	n := benchCodes(b, 1_000_000)
	for b.Loop() {
		file := importCSV(b, b.TempDir(), n)

		gen := startServer(b, map[string]string{"DATABASE_URL": storetest.PostgresSchemaDSN(b)}, "")
		_, genTook := gen.generate(b, n, "")

		p := startServer(b, map[string]string{"DATABASE_URL": storetest.PostgresSchemaDSN(b)}, "")
		p.peaks()
		took, uploaded := p.importFile(b, file, n)
		rss, _ := p.peaks()

		b.ReportMetric(took.Seconds(), "import-s")
		b.ReportMetric(uploaded.Seconds(), "upload-s")
		b.ReportMetric(genTook.Seconds(), "generate-s")
		b.ReportMetric(took.Seconds()/genTook.Seconds(), "ratio")
		b.ReportMetric(float64(rss)/(1<<20), "rss-peak-MB")
		b.Logf("%d rows imported in %s (uploaded in %s), generated in %s (%.2f×); memory peak %.0f MB",
			n, took.Round(time.Millisecond), uploaded.Round(time.Millisecond), genTook.Round(time.Millisecond), took.Seconds()/genTook.Seconds(), float64(rss)/(1<<20))
	}
}
