package main

import (
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/launcher"
	"github.com/go-rod/rod/lib/launcher/flags"
	"github.com/google/go-cmp/cmp"
)

// newBrowser starts the system Chromium headless for one test. Without
// Chromium the test is skipped, or fails when CI is set.
func newBrowser(t *testing.T) *rod.Browser {
	t.Helper()
	bin := os.Getenv("COUPOND_CHROMIUM")
	if bin == "" {
		bin, _ = exec.LookPath("chromium")
	}
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("Chromium is not installed: CI must run the browser tests (make test installs Debian's chromium)")
		}
		t.Skip("SKIPPED: browser test needs Chromium (set COUPOND_CHROMIUM or install Debian's chromium; make test does it as root)")
	}
	l := launcher.New().Bin(bin).Headless(true).NoSandbox(true).Leakless(false).UserDataDir(t.TempDir())
	for _, f := range []flags.Flag{"disable-gpu", "disable-quic", "no-first-run", "disable-background-networking", "disable-component-update", "disable-sync", "disable-dev-shm-usage"} {
		l = l.Set(f)
	}
	u, err := l.Launch()
	if err != nil {
		t.Fatalf("launch %s: %v", bin, err)
	}
	t.Cleanup(l.Kill)
	b := rod.New().ControlURL(u)
	if err := b.Connect(); err != nil {
		t.Fatalf("connect to Chromium: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close Chromium: %v", err)
		}
	})
	return b.WithPanic(func(v any) { t.Fatalf("browser: %v", v) })
}

// mustHave reports whether the page has an element matching sel now,
// without waiting; it fails the test when the page cannot be queried.
func mustHave(t *testing.T, p *rod.Page, sel string) bool {
	t.Helper()
	has, _, err := p.Has(sel)
	if err != nil {
		t.Fatalf("look for %s: %v", sel, err)
	}
	return has
}

// TestMarketerManagesCoupons walks the console as a newcomer and then a
// marketer would: create the first admin through the setup link the
// server logs, sign in again, create a coupon (fixing a mistake the server
// points out), edit it, archive it, then generate ten coupons and download
// them as CSV.
func TestMarketerManagesCoupons(t *testing.T) {
	b := newBrowser(t)
	base, log := startRunLog(t, map[string]string{"COUPOND_DB": filepath.Join(t.TempDir(), "coupond.db")})
	link := setupURL(t, log())
	if link == "" {
		t.Fatalf("no setup link in the log:\n%s", log())
	}
	p := b.MustPage(base).Timeout(20 * time.Second)
	p.MustWaitLoad()
	if got := p.MustInfo().URL; !strings.HasPrefix(got, base+"/login") {
		t.Fatalf("an anonymous visit led to %s, want the login page", got)
	}
	p.MustNavigate(link).MustWaitLoad()
	p.MustElement("#email").MustInput("marketer@example.com")
	p.MustElement("#password").MustInput("a long enough password")
	p.MustElement("#passwordConfirm").MustInput("a long enough password")
	p.MustElement(`[data-testid="setup"]`).MustClick()
	p.MustElement(`[data-testid="no-coupons"]`)
	p.MustElement(`[data-testid="logout"]`).MustClick()
	p.MustElement(`[data-testid="login"]`)
	p.MustElement("#email").MustInput("marketer@example.com")
	p.MustElement("#password").MustInput("a long enough password")
	p.MustElement(`[data-testid="login"]`).MustClick()
	p.MustElement(`[data-testid="no-coupons"]`)
	if got := p.MustElement(`[data-testid="account"]`).MustText(); got != "marketer@example.com" {
		t.Errorf("signed in as %q", got)
	}

	// Create, with a mistake first.
	p.MustElementR("nav a", "New coupon").MustClick()
	p.MustElement("#couponCode").MustInput("Welcome-10")
	p.MustElement("#maxUsage").MustSelectAllText().MustInput("ten")
	p.MustElement(`[data-testid="save"]`).MustClick()
	msg := p.MustElement(`[data-testid="error-maxUsage"]`).MustText()
	if !strings.Contains(msg, "whole number") {
		t.Errorf("error next to maxUsage = %q", msg)
	}
	if v := p.MustElement("#couponCode").MustProperty("value").String(); v != "Welcome-10" {
		t.Errorf("the code typed was lost on re-render: %q", v)
	}
	p.MustElement("#maxUsage").MustSelectAllText().MustInput("5")
	p.MustElement(`[data-testid="save"]`).MustClick()
	p.MustElementR(`[data-testid="coupon-code"]`, "^Welcome-10$")
	if got := p.MustElement(`[data-testid="maxUsage"]`).MustText(); got != "5" {
		t.Errorf("max uses shown = %q, want 5", got)
	}

	// Edit.
	p.MustElement(`[data-testid="edit"]`).MustClick()
	if ro := p.MustElement("#couponCode").MustProperty("readOnly").Bool(); !ro {
		t.Error("the code must be read-only when editing")
	}
	p.MustElement("#utmSource").MustInput("newsletter")
	p.MustElement("#expirationIntervalPerUse").MustSelectAllText().MustInput("14.00:00:00")
	p.MustElement(`[data-testid="save"]`).MustClick()
	p.MustElementR(`[data-testid="utmSource"]`, "^newsletter$")
	if got := p.MustElement(`[data-testid="expirationIntervalPerUse"]`).MustText(); got != "14.00:00:00" {
		t.Errorf("interval shown = %q", got)
	}

	// Archive from the coupon's page; the status swaps in place.
	p.MustElement(`[data-testid="archive"]`).MustClick()
	p.MustElementR(`#coupon-status [data-testid="status"]`, "^archived$")
	p.MustElement(`[data-testid="unarchive"]`)

	// The list shows it archived; unarchive from its row.
	p.MustNavigate(base + "/coupons").MustWaitLoad()
	row := p.MustElementR("tr", "Welcome-10")
	if got := row.MustElement(`[data-testid="status"]`).MustText(); got != "archived" {
		t.Errorf("row status = %q", got)
	}
	row.MustElement(`[data-testid="unarchive"]`).MustClick()
	p.MustElementR(`tr[data-code="Welcome-10"] [data-testid="status"]`, "^active$")

	// Search narrows the table without a page load.
	p.MustElement(`[data-testid="search"]`).MustInput("zzz")
	p.MustElement(`[data-testid="no-coupons"]`)
	if n := len(p.MustElements("#coupon-table")); n != 1 {
		t.Errorf("after a search the page has %d coupon tables, want the one replaced", n)
	}

	// Generate ten and download them.
	p.MustNavigate(base + "/coupons/generate").MustWaitLoad()
	p.MustElement("#couponCode").MustInput("XMAS")
	p.MustElement("#quantity").MustSelectAllText().MustInput("10")
	p.MustElement(`[data-testid="generate"]`).MustClick()
	items := p.MustElement(`[data-testid="codes"]`).MustElements("li")
	shown := map[string]bool{}
	for _, li := range items {
		shown[li.MustText()] = true
	}
	if len(items) != 10 || len(shown) != 10 {
		t.Fatalf("batch page lists %d codes, %d different, want 10 different", len(items), len(shown))
	}
	dir := t.TempDir()
	wait := b.WaitDownload(dir)
	p.MustElement(`[data-testid="download-csv"]`).MustClick()
	info := wait()
	data, err := os.ReadFile(filepath.Join(dir, info.GUID))
	if err != nil {
		t.Fatalf("read the download: %v", err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil {
		t.Fatalf("the download is not CSV: %v\n%s", err, data)
	}
	if len(rows) != 11 || rows[0][0] != "couponCode" {
		t.Fatalf("CSV has %d rows, want a header and 10 codes:\n%s", len(rows), data)
	}
	code := regexp.MustCompile(`^XMAS-[a-z0-9]{15}$`)
	downloaded := map[string]bool{}
	for _, r := range rows[1:] {
		if !code.MatchString(r[0]) || downloaded[r[0]] {
			t.Errorf("CSV code %q is not XMAS- and 15 of [a-z0-9], or comes twice", r[0])
		}
		downloaded[r[0]] = true
	}
	if d := cmp.Diff(shown, downloaded); d != "" {
		t.Errorf("codes on the page (-) and in the CSV (+) differ:\n%s", d)
	}
}

// TestViewerSeesNoWriteControls signs in as a viewer made with the
// command line and checks that no page offers a change, and that a write
// page reached by its address is refused.
func TestViewerSeesNoWriteControls(t *testing.T) {
	b := newBrowser(t)
	env := map[string]string{"COUPOND_DB": filepath.Join(t.TempDir(), "coupond.db"), "COUPOND_PASSWORD": "viewer password 1"}
	mustRun(t, env, "user", "create", "--email", "viewer@example.com", "--role", "viewer")
	token := mustRun(t, env, "token", "create", "--name", "seed")
	base := startRun(t, env)
	postCoupon(t, base, token, "READONLY")

	p := b.MustPage(base + "/login").Timeout(20 * time.Second)
	p.MustElement("#email").MustInput("viewer@example.com")
	p.MustElement("#password").MustInput("viewer password 1")
	p.MustElement(`[data-testid="login"]`).MustClick()
	p.MustElementR("td.code a", "READONLY")
	for _, sel := range []string{`[data-testid="archive"]`, `[data-testid="unarchive"]`, `a[href="/coupons/new"]`, `a[href="/coupons/generate"]`, `a[href$="/edit"]`, `a[href="/users"]`, `a[href="/tokens"]`} {
		if mustHave(t, p, sel) {
			t.Errorf("the coupon list shows a viewer %s", sel)
		}
	}
	p.MustElementR("td.code a", "READONLY").MustClick()
	p.MustElementR(`[data-testid="coupon-code"]`, "^READONLY$")
	for _, sel := range []string{`[data-testid="archive"]`, `[data-testid="edit"]`} {
		if mustHave(t, p, sel) {
			t.Errorf("the coupon page shows a viewer %s", sel)
		}
	}
	p.MustNavigate(base + "/coupons/new").MustWaitLoad()
	if msg := p.MustElement(`[data-testid="error-page"]`).MustText(); !strings.Contains(msg, "viewer") {
		t.Errorf("the refusal does not say why: %q", msg)
	}
}
