package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
)

// TestMarketerImportsCodes walks an import as a marketer would: open
// Import codes from the menu, choose a file and read its preview (the
// lines it would refuse, with why) before anything is written, import
// it, follow the import to done, and download the refused lines, which
// must be exactly the bad ones, while the good ones are coupons.
func TestMarketerImportsCodes(t *testing.T) {
	b := newBrowser(t)
	dbPath := filepath.Join(t.TempDir(), "coupond.db")
	env := map[string]string{"COUPOND_DB": dbPath, "COUPOND_PASSWORD": "marketer password 1"}
	mustRun(t, env, "user", "create", "--email", "marketer@example.com", "--role", "editor")
	base, _ := startRunLog(t, env)

	var file strings.Builder
	file.WriteString("Coupon Code,Max Uses,UTM Source\n")
	for i := range 300 {
		switch {
		case i == 10:
			file.WriteString("BAD CODE,1,mail\n")
		case i == 20:
			file.WriteString("MOVED-0005,1,mail\n")
		case i == 30:
			file.WriteString("MOVED-0031,lots,mail\n")
		default:
			fmt.Fprintf(&file, "MOVED-%04d,%d,mail\n", i, 1+i%2)
		}
	}
	path := filepath.Join(t.TempDir(), "old-shop.csv")
	if err := os.WriteFile(path, []byte(file.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	p := signIn(b, base, "marketer@example.com", "marketer password 1", 60*time.Second)
	followNav(p, "^Import codes$")
	p.MustElement(`[data-testid="import-file"]`).MustSetFiles(path)
	summary := p.MustElement(`[data-testid="import-summary"]`).MustText()
	if !strings.Contains(summary, "298 of 300 lines can be imported") || !strings.Contains(summary, "2 would be refused") {
		t.Errorf("the preview says %q", summary)
	}
	problems := p.MustElement(`[data-testid="import-problems"]`).MustText()
	if !strings.Contains(problems, "Line 12, BAD CODE") || !strings.Contains(problems, "Line 32, MOVED-0031: Max Uses:") {
		t.Errorf("the preview's refused lines: %q", problems)
	}
	// Nothing is written before Import is pressed.
	s := storetest.Connect(t, models.Config{Path: dbPath})
	var coupons int64
	if err := s.Table("coupons").Count(&coupons).Error; err != nil || coupons != 0 {
		t.Fatalf("%d coupons after the preview (%v)", coupons, err)
	}

	// htmx sends the form and brings the import's page in its place.
	p.MustElement(`[data-testid="import-submit"]`).MustClick()
	p.MustElement(`[data-testid="import-progress"][data-status="done"]`)
	if got := p.MustElement(`[data-testid="import-imported"]`).MustText(); got != "297" {
		t.Errorf("imported shown %q, want 297", got)
	}
	if got := p.MustElement(`[data-testid="import-rejected"]`).MustText(); got != "3" {
		t.Errorf("refused shown %q, want 3", got)
	}
	rows := downloadCSV(t, b, p.MustElement(`[data-testid="import-errors"]`), "line,code,problem")
	var lines []string
	for _, r := range rows[1:] {
		lines = append(lines, r[0]+" "+r[1])
	}
	if want := "12 BAD CODE,22 MOVED-0005,32 MOVED-0031"; strings.Join(lines, ",") != want {
		t.Errorf("the refused lines downloaded: %v, want %s", lines, want)
	}
	if err := s.Table("coupons").Count(&coupons).Error; err != nil || coupons != 297 {
		t.Errorf("%d coupons after the import (%v), want 297", coupons, err)
	}
	var maxUsage int
	if err := s.Table("coupons").Select("max_usage").Where("code = ?", "MOVED-0001").Scan(&maxUsage).Error; err != nil || maxUsage != 2 {
		t.Errorf("MOVED-0001 has max_usage %d (%v), want 2 from its line", maxUsage, err)
	}

	// The import is found again later under Imports, with its file and
	// what became of its lines.
	followNav(p, "^Imports$")
	row := p.MustElement(`[data-testid="import-row"]`)
	if got := row.MustText(); !strings.Contains(got, "old-shop.csv") || !strings.Contains(got, "297 imported, 3 refused, of 300") {
		t.Errorf("the list of imports shows %q", got)
	}
	follow(p, row.MustElement("a"))
	p.MustElement(`[data-testid="import-progress"][data-status="done"]`)
}
