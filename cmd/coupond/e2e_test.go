package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/devices"
	"github.com/go-rod/rod/lib/launcher"
	"github.com/go-rod/rod/lib/launcher/flags"
	"github.com/go-rod/rod/lib/proto"
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
	// A laptop's window, 1280 px wide, unless a test sets another.
	l = l.Set("window-size", "1280,900")
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
	return b.DefaultDevice(devices.Clear).WithPanic(func(v any) { t.Fatalf("browser: %v", v) })
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
	followNav(p, "New coupon")
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
	follow(p, p.MustElement(`[data-testid="edit"]`))
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
	// No promotion listens to its tag yet, and the row says so.
	row.MustElement(`[data-testid="unarchive"]`).MustClick()
	p.MustElementR(`tr[data-code="Welcome-10"] [data-testid="status"]`, "^no active promotion$")

	// Search narrows the table without a page load.
	p.MustElement(`[data-testid="search"]`).MustInput("zzz")
	p.MustElement(`[data-testid="no-coupons"]`)
	if n := len(p.MustElements("#coupon-table")); n != 1 {
		t.Errorf("after a search the page has %d coupon tables, want the one replaced", n)
	}

	// Generate ten and download them. The batch runs in the background;
	// its page follows it until it is done and then lists the codes.
	p.MustNavigate(base + "/coupons/generate").MustWaitLoad()
	p.MustElement("#prefix").MustInput("XMAS")
	p.MustElement("#quantity").MustSelectAllText().MustInput("10")
	p.MustElementR(`[data-testid="sample"]`, `^XMAS-[0-9A-Z]{12}$`)
	p.MustElement(`[data-testid="generate"]`).MustClick()
	p.MustElementR(`#batch-progress [data-testid="batch-status"]`, "^done$")
	items := p.MustElement(`[data-testid="codes"]`).MustElements("li")
	shown := map[string]bool{}
	for _, li := range items {
		shown[li.MustText()] = true
	}
	if len(items) != 10 || len(shown) != 10 {
		t.Fatalf("batch page lists %d codes, %d different, want 10 different", len(items), len(shown))
	}
	rows := download(t, b, p.MustElement(`[data-testid="download-csv"]`))
	if len(rows) != 11 {
		t.Fatalf("CSV has %d rows, want a header and 10 codes: %v", len(rows), rows)
	}
	code := regexp.MustCompile(`^XMAS-[0-9A-Z]{12}$`)
	downloaded := map[string]bool{}
	for _, r := range rows[1:] {
		if !code.MatchString(r[0]) || downloaded[r[0]] {
			t.Errorf("CSV code %q is not XMAS- and 12 of [0-9A-Z], or comes twice", r[0])
		}
		downloaded[r[0]] = true
	}
	if d := cmp.Diff(shown, downloaded); d != "" {
		t.Errorf("codes on the page (-) and in the CSV (+) differ:\n%s", d)
	}

	// Search finds a code by a fragment from its middle, in lower case,
	// as the marketer types it.
	wanted := rows[4][0]
	p.MustNavigate(base + "/coupons").MustWaitLoad()
	p.MustElement(`[data-testid="search"]`).MustInput(strings.ToLower(wanted[7:13]))
	p.MustWait(`() => document.querySelectorAll("#coupon-table tr[data-code]").length === 1`)
	if got := p.MustElement(`#coupon-table tr[data-code]`).MustAttribute("data-code"); *got != wanted {
		t.Errorf("searching %q shows %s, want %s", strings.ToLower(wanted[7:13]), *got, wanted)
	}
	// The newest first, by the Created header, with the search cleared.
	p.MustElement(`[data-testid="search"]`).MustSelectAllText().MustInput("")
	p.MustWait(`() => document.querySelectorAll("#coupon-table tr[data-code]").length === 11`)
	p.MustElement(`[data-testid="sort-created"]`).MustClick()
	p.MustElement(`th[aria-sort="descending"] [data-testid="sort-created"]`)
	if first := p.MustElement(`#coupon-table tr[data-code]`).MustAttribute("data-code"); !code.MatchString(*first) {
		t.Errorf("newest first begins with %s, want a code of the batch made last", *first)
	}
	if !strings.Contains(p.MustInfo().URL, "sort=-created") {
		t.Errorf("the address does not keep the order: %s", p.MustInfo().URL)
	}
}

// download clicks el, a download link, and returns the CSV it fetched
// after checking the export's header row.
func download(t *testing.T, b *rod.Browser, el *rod.Element) [][]string {
	t.Helper()
	return downloadCSV(t, b, el, "code,status,uses,max_uses,max_uses_per_customer,utm_source,utm_campaign,promotions,discount,valid_from,valid_until,customer,created_at")
}

// downloadCSV clicks el, a download link, and returns the CSV it fetched
// after checking that its header row is header.
func downloadCSV(t *testing.T, b *rod.Browser, el *rod.Element, header string) [][]string {
	t.Helper()
	dir := t.TempDir()
	wait := b.WaitDownload(dir)
	el.MustClick()
	info := wait()
	data, err := os.ReadFile(filepath.Join(dir, info.GUID))
	if err != nil {
		t.Fatalf("read the download: %v", err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil {
		t.Fatalf("the download is not CSV: %v\n%s", err, data)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != header {
		t.Fatalf("the download's header is %.300v", rows)
	}
	return rows
}

// TestMarketerGeneratesABatch walks a generation as a marketer would:
// type a short format and watch the live preview show codes of it and
// warn that they are guessable, have the unconfirmed generation refused,
// lengthen the codes until the warning goes, generate 5,000, follow the
// batch's progress to done, and download its codes, which must be
// exactly those in the database.
func TestMarketerGeneratesABatch(t *testing.T) {
	b := newBrowser(t)
	dbPath := filepath.Join(t.TempDir(), "coupond.db")
	env := map[string]string{"COUPOND_DB": dbPath, "COUPOND_PASSWORD": "marketer password 1"}
	mustRun(t, env, "user", "create", "--email", "marketer@example.com", "--role", "editor")
	base, _ := startRunLog(t, env)

	p := signIn(b, base, "marketer@example.com", "marketer password 1", 30*time.Second)
	p.MustElement(`[data-testid="no-coupons"]`)
	followNav(p, "^Generate codes$")

	// A short format: the preview follows the typing.
	p.MustElement("#quantity").MustSelectAllText().MustInput("5000")
	p.MustElement("#prefix").MustInput("SPRING")
	p.MustElement("#charset").MustSelect("digits (0–9)")
	p.MustElement("#length").MustInput("4")
	p.MustElementR(`[data-testid="sample"]`, `^SPRING-[0-9]{4}$`)
	short := regexp.MustCompile(`^SPRING-[0-9]{4}$`)
	for _, s := range p.MustElements(`[data-testid="sample"]`) {
		if !short.MatchString(s.MustText()) {
			t.Errorf("sample %q is not SPRING- and 4 digits", s.MustText())
		}
	}
	if got := p.MustElement(`[data-testid="preview-keyspace"]`).MustText(); got != "10,000" {
		t.Errorf("keyspace shown %q, want 10,000", got)
	}
	if w := p.MustElement(`[data-testid="guess-warning"]`).MustText(); !strings.Contains(w, "guessable") || !strings.Contains(w, "1 in 2,") {
		t.Errorf("the warning reads %q", w)
	}

	// Not without the confirmation; the message is beside the box.
	p.MustElement(`[data-testid="generate"]`).MustClick()
	if msg := p.MustElement(`[data-testid="error-confirmGuessable"]`).MustText(); !strings.Contains(msg, "tick this box") {
		t.Errorf("the refusal reads %q", msg)
	}
	if v := p.MustElement("#prefix").MustProperty("value").String(); v != "SPRING" {
		t.Errorf("the prefix typed was lost on re-render: %q", v)
	}

	// Longer codes are safe: the warning goes.
	p.MustElement("#length").MustSelectAllText().MustInput("10")
	p.MustElementR(`[data-testid="sample"]`, `^SPRING-[0-9]{10}$`)
	if mustHave(t, p, `[data-testid="guess-warning"]`) || mustHave(t, p, "#confirmGuessable") {
		t.Error("codes of 10 digits are still called guessable")
	}
	if got := p.MustElement(`[data-testid="preview-odds"]`).MustText(); got != "1 in 2.0 million" {
		t.Errorf("odds shown %q, want 1 in 2.0 million", got)
	}
	// Refresh preview draws new samples in place; it generates nothing.
	before := p.MustElement(`[data-testid="samples"]`).MustText()
	p.MustElement(`[data-testid="refresh-preview"]`).MustClick()
	p.MustWait(`(before) => { const s = document.querySelector('[data-testid="samples"]'); return s !== null && s.innerText !== before }`, before)
	if u := p.MustInfo().URL; u != base+"/coupons/generate" {
		t.Errorf("Refresh preview led to %s", u)
	}

	// Generate, and follow the batch to done.
	p.MustElement(`[data-testid="generate"]`).MustClick()
	p.MustElementR(`#batch-progress [data-testid="batch-status"]`, "^done$")
	if u := p.MustInfo().URL; !regexp.MustCompile(`/batches/\d+$`).MatchString(u) {
		t.Errorf("generating led to %s, not the batch's page", u)
	}
	bar := p.MustElement(`[data-testid="batch-progress-bar"]`)
	if v, m := bar.MustProperty("value").Int(), bar.MustProperty("max").Int(); v != 5000 || m != 5000 {
		t.Errorf("progress bar at %d of %d, want 5000 of 5000", v, m)
	}
	if got := p.MustElement(`[data-testid="batch-made"]`).MustText(); got != "5,000 of 5,000 codes made (100 %)" {
		t.Errorf("count reads %q", got)
	}
	if p.MustElement("#batch-progress").MustAttribute("hx-trigger") != nil {
		t.Error("the finished batch's progress still polls")
	}
	if n := len(p.MustElement(`[data-testid="codes"]`).MustElements("li")); n != 1000 {
		t.Errorf("the page lists %d codes, want the first 1000", n)
	}

	// The CSV is the batch, row for row as the database has it.
	rows := download(t, b, p.MustElement(`[data-testid="download-csv"]`))
	db := storetest.Connect(t, models.Config{Path: dbPath})
	var stored []models.Coupon
	if err := db.Raw("SELECT code, archived, uses, max_usage, max_usage_per_client, customer_id, created_at FROM coupons WHERE batch_id = (SELECT max(id) FROM batches)").Scan(&stored).Error; err != nil {
		t.Fatal(err)
	}
	// Codes of no promotion and no tag: they reach no active promotion;
	// times in the store's zone (UTC here).
	want := map[string][]string{}
	for _, c := range stored {
		state, issued := "no_active_promotion", ""
		if c.Archived {
			state = "archived"
		}
		if c.CustomerID != nil {
			issued = *c.CustomerID
		}
		want[c.Code] = []string{c.Code, state, strconv.Itoa(c.Uses), strconv.Itoa(c.MaxUsage), strconv.Itoa(c.MaxUsagePerClient), "", "", "", "", "", "", issued,
			c.CreatedAt.UTC().Format("2006-01-02 15:04:05")}
	}
	got := map[string][]string{}
	for _, r := range rows[1:] {
		if !regexp.MustCompile(`^SPRING-[0-9]{10}$`).MatchString(r[0]) || got[r[0]] != nil {
			t.Errorf("CSV code %q is not SPRING- and 10 digits, or comes twice", r[0])
		}
		got[r[0]] = r
	}
	var batches int
	if err := db.Raw("SELECT count(*) FROM batches").Scan(&batches).Error; err != nil || batches != 1 {
		t.Errorf("the database has %d batches (%v), want the one generated", batches, err)
	}
	if len(stored) != 5000 || len(rows) != 5001 {
		t.Errorf("the database has %d codes and the CSV %d rows, want 5000 and a header with 5000", len(stored), len(rows))
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("the database (-) and the CSV (+) differ:\n%s", d)
	}
	if !slices.Equal(rows[0], []string{"code", "status", "uses", "max_uses", "max_uses_per_customer", "utm_source", "utm_campaign", "promotions", "discount", "valid_from", "valid_until", "customer", "created_at"}) {
		t.Errorf("the CSV's header is %v", rows[0])
	}
	for _, r := range rows[1:3] {
		if r[1] != "no_active_promotion" || r[2] != "0" || r[3] != "1" || r[11] != "" {
			t.Errorf("a new code's row is %v, want no active promotion, 0 uses of 1, nobody's", r)
		}
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

// TestMarketerHandsOutBirthdayCoupon walks the birthday workflow: a
// marketer makes a single-use code for one customer and copies it, checks
// that it works, the shop redeems it through the API, the check now says
// it is used up, and cancelling the redemption on the coupon's page makes
// it work again.
func TestMarketerHandsOutBirthdayCoupon(t *testing.T) {
	b := newBrowser(t)
	// The store counts in euros and lives in Berlin.
	env := map[string]string{"COUPOND_DB": filepath.Join(t.TempDir(), "coupond.db"), "COUPOND_PASSWORD": "marketer password 1",
		"COUPOND_CURRENCY": "EUR", "COUPOND_TIMEZONE": "Europe/Berlin"}
	mustRun(t, env, "user", "create", "--email", "marketer@example.com", "--role", "editor")
	token := mustRun(t, env, "token", "create", "--name", "shop")
	base := startRun(t, env)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}

	p := b.MustPage(base + "/login").Timeout(30 * time.Second)
	// The end date is typed as the marketer's clock reads it, in Berlin;
	// the form reads it in the store's zone, Berlin too.
	if err := (proto.EmulationSetTimezoneOverride{TimezoneID: "Europe/Berlin"}).Call(p); err != nil {
		t.Fatalf("set the browser's time zone: %v", err)
	}
	// Reading the clipboard back needs the permission and a focused page,
	// which a headless browser does not have by itself.
	perms := proto.BrowserGrantPermissions{Origin: base, Permissions: []proto.BrowserPermissionType{
		proto.BrowserPermissionTypeClipboardReadWrite, proto.BrowserPermissionTypeClipboardSanitizedWrite}}
	if err := perms.Call(b); err != nil {
		t.Fatalf("grant clipboard access: %v", err)
	}
	if err := (proto.EmulationSetFocusEmulationEnabled{Enabled: true}).Call(p); err != nil {
		t.Fatalf("emulate focus: %v", err)
	}
	p.MustElement("#email").MustInput("marketer@example.com")
	p.MustElement("#password").MustInput("marketer password 1")
	follow(p, p.MustElement(`[data-testid="login"]`))
	p.MustElement(`[data-testid="no-coupons"]`)

	// Make the code.
	followNav(p, "Single-use coupon")
	p.MustElement("#couponCode").MustInput("Birthday123")
	p.MustElement("#customerId").MustInput("alice")
	p.MustElement("#discountType").MustSelect("percentage off")
	p.MustElement("#discountValue").MustInput("15")
	p.MustElement("#endsAt").MustInputTime(time.Date(2099, 12, 31, 23, 59, 0, 0, berlin))
	p.MustElement(`[data-testid="create-single-use"]`).MustClick()

	field := p.MustElement(`[data-testid="single-use-code"]`)
	if v := field.MustProperty("value").String(); v != "Birthday123" {
		t.Errorf("the code to copy is %q", v)
	}
	if !field.MustProperty("readOnly").Bool() {
		t.Error("the code to copy must be read-only")
	}
	for sel, want := range map[string]string{
		`[data-testid="limit-total"]`:        "One use in total",
		`[data-testid="limit-per-customer"]`: "One use per customer",
		`[data-testid="limit-customer"]`:     "Only for customer alice",
	} {
		if got := p.MustElement(sel).MustText(); got != want {
			t.Errorf("limit %s reads %q, want %q", sel, got, want)
		}
	}
	promo := p.MustElement(`[data-testid="promotion"] a`)
	if !strings.HasPrefix(promo.MustProperty("href").String(), base+"/promotions/") || !strings.Contains(p.MustElement(`[data-testid="promotion"]`).MustText(), "15 %, until 2099-12-31 23:59:00") {
		t.Errorf("the promotion it activates reads %q", p.MustElement(`[data-testid="promotion"]`).MustText())
	}
	copyButton := p.MustElement(`[data-testid="copy"]`)
	copyButton.MustWaitVisible().MustClick()
	p.MustElementR(`[data-testid="copy"]`, "^Copied$")
	if got := p.MustEval(`() => navigator.clipboard.readText()`).String(); got != "Birthday123" {
		t.Errorf("the clipboard holds %q, want Birthday123", got)
	}

	// It works, for alice, with 15 % off 50.00 EUR.
	checkCode := func() *rod.Element {
		t.Helper()
		p.MustElement(`[data-testid="check"]`).MustClick()
		return p.MustElement(`[data-testid="check-result"]`)
	}
	followNav(p, "Check a code")
	p.MustElement("#couponCode").MustInput("birthday123")
	p.MustElement("#customerId").MustInput("alice")
	p.MustElement("#orderAmount").MustInput("50")
	if res := checkCode(); res.MustAttribute("data-valid") == nil || *res.MustAttribute("data-valid") != "true" {
		t.Fatalf("a fresh code checks as %q", res.MustText())
	}
	if got := p.MustElement(`[data-testid="discount"]`).MustText(); got != "Discount on an order of 50.00 EUR: 7.50 EUR." {
		t.Errorf("discount on 50.00 EUR reads %q, want 7.50 EUR", got)
	}
	if !strings.Contains(p.MustInfo().URL, "couponCode=birthday123") {
		t.Errorf("the check is not in the address bar: %s", p.MustInfo().URL)
	}

	// The shop redeems it.
	status, body := postJSON(t, base, token, "/api/redemptions", `{"code":"Birthday123","customerId":"alice","orderId":"order-1","items":1,"orderAmount":5000}`)
	if status != http.StatusCreated {
		t.Fatalf("redeem through the API: %d %s", status, body)
	}

	// Now it is used up; the result is swapped in place, with each reason in
	// words.
	p.MustElement(`[data-testid="check-result"]`).MustRemove()
	res := checkCode()
	if v := res.MustAttribute("data-valid"); v == nil || *v != "false" {
		t.Fatalf("a used code checks as %q", res.MustText())
	}
	usage := res.MustElement(`li[data-reason="USAGE_LIMIT"]`).MustText()
	if !strings.Contains(usage, "used as many times as it may be used in total") || !strings.Contains(usage, "USAGE_LIMIT") {
		t.Errorf("the usage reason reads %q", usage)
	}

	// The coupon's page lists the redemption; cancelling it frees the use.
	p.MustNavigate(base + "/coupons/Birthday123").MustWaitLoad()
	row := p.MustElement(`tr[data-testid="redemption"][data-order="order-1"]`)
	if got := row.MustText(); !strings.Contains(got, "alice") || !strings.Contains(got, "50.00 EUR") || !strings.Contains(got, "7.50 EUR") {
		t.Errorf("the redemption's row reads %q", got)
	}
	if got := strings.Join(strings.Fields(p.MustElement(`[data-testid="uses"]`).MustText()), " "); got != "1 of 1" {
		t.Errorf("uses read %q before the cancel, want 1 of 1", got)
	}
	// It asks first; keeping it changes nothing.
	row.MustElement(`[data-testid="cancel-redemption"]`).MustClick()
	dialog := p.MustElement(`dialog[data-testid="confirm-dialog"][open]`)
	if q := dialog.MustElement("h2").MustText(); q != "Cancel the redemption of Birthday123 for order order-1?" {
		t.Errorf("the dialog asks %q", q)
	}
	dialog.MustElement(`[data-testid="confirm-keep"]`).MustClick()
	p.MustWait(`() => !document.querySelector("dialog[open]")`)
	if got := strings.Join(strings.Fields(p.MustElement(`[data-testid="uses"]`).MustText()), " "); got != "1 of 1" || !mustHave(t, p, `[data-testid="cancel-redemption"]`) {
		t.Errorf("keeping it changed the page: uses %q", got)
	}
	row.MustElement(`[data-testid="cancel-redemption"]`).MustClick()
	p.MustElement(`dialog[data-testid="confirm-dialog"][open] [data-testid="confirm-do"]`).MustClick()
	p.MustElementR(`tr[data-order="order-1"] [data-testid="redemption-status"]`, "^cancelled$")
	p.MustElementR(`[data-testid="notice"]`, "order-1 is cancelled")
	p.MustElementR(`#coupon-status [data-testid="status"]`, "^active$")
	if mustHave(t, p, `[data-testid="cancel-redemption"]`) {
		t.Error("the cancelled redemption still offers a cancel")
	}
	p.MustElementR(`[data-testid="uses"]`, `^\s*0 of 1\s*$`)

	p.MustNavigate(base + "/check?couponCode=Birthday123&customerId=alice").MustWaitLoad()
	if v := p.MustElement(`[data-testid="check-result"]`).MustAttribute("data-valid"); v == nil || *v != "true" {
		t.Errorf("after the cancel the code checks as %q", p.MustElement(`[data-testid="check-result"]`).MustText())
	}
}

// signIn opens the sign-in page in a new tab of b, signs in as email and
// waits for the page it leads to; steps fail after timeout.
func signIn(b *rod.Browser, base, email, password string, timeout time.Duration) *rod.Page {
	p := b.MustPage(base + "/login").Timeout(timeout)
	p.MustElement("#email").MustInput(email)
	p.MustElement("#password").MustInput(password)
	follow(p, p.MustElement(`[data-testid="login"]`))
	return p
}

// followNav follows the navigation's link whose text matches re, opening
// the menu it is in first, as a person would.
func followNav(p *rod.Page, re string) {
	// A link in a closed menu has no text on screen to find it by: open
	// the menu whose link it is first.
	p.MustEval(`re => { for (const a of document.querySelectorAll("header nav details a")) {
		const menu = a.closest("details");
		if (new RegExp(re).test(a.textContent) && !menu.open) menu.querySelector("summary").click(); } }`, re)
	follow(p, p.MustElementR("header nav a", re))
}

// follow clicks el and waits until the page it leads to has loaded, so
// that the next step does not act on a page as it is being replaced.
func follow(p *rod.Page, el *rod.Element) {
	wait := p.WaitNavigation(proto.PageLifecycleEventNameLoad)
	el.MustClick()
	wait()
}

// postJSON sends body to the API with the token and returns the status and
// the answer.
func postJSON(t *testing.T, base, token, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "POST", base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Auth-Token", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return res.StatusCode, string(out)
}

// TestMarketerIssuesSeriesCodes walks the loyalty workflow: a marketer
// creates a coupon series in the form (fixing a mistake the server points
// out), issues a code of it to a customer by email, finds the code on the
// customer's page, the point of sale redeems it through the
// Capillary-style API, and the customer's page then shows it used up.
func TestMarketerIssuesSeriesCodes(t *testing.T) {
	b := newBrowser(t)
	env := map[string]string{"COUPOND_DB": filepath.Join(t.TempDir(), "coupond.db"), "COUPOND_PASSWORD": "marketer password 1"}
	mustRun(t, env, "user", "create", "--email", "marketer@example.com", "--role", "editor")
	token := mustRun(t, env, "token", "create", "--name", "pos")
	base := startRun(t, env)

	p := signIn(b, base, "marketer@example.com", "marketer password 1", 30*time.Second)
	p.MustElement(`[data-testid="no-coupons"]`)

	// Create the series, with a mistake first.
	followNav(p, "^Series$")
	p.MustElement(`[data-testid="no-series"]`)
	follow(p, p.MustElement(`[data-testid="new-series"]`))
	p.MustElement("#name").MustInput("Birthday club")
	p.MustElement("#discountCode").MustInput("BDAY15")
	p.MustElement("#discountValue").MustInput("15")
	p.MustElement("#expiry").MustSelect("a number of days after it is issued")
	p.MustElement("#expiryDays").MustInput("30")
	p.MustElement("#prefix").MustInput("BDAY")
	p.MustElement("#maxPerCustomer").MustSelectAllText().MustInput("one")
	p.MustElement(`[data-testid="save"]`).MustClick()
	if msg := p.MustElement(`[data-testid="error-maxPerCustomer"]`).MustText(); !strings.Contains(msg, "whole number") {
		t.Errorf("error next to max codes per customer = %q", msg)
	}
	if v := p.MustElement("#prefix").MustProperty("value").String(); v != "BDAY" {
		t.Errorf("the prefix typed was lost on re-render: %q", v)
	}
	p.MustElement("#maxPerCustomer").MustSelectAllText().MustInput("1")
	p.MustElement(`[data-testid="save"]`).MustClick()
	p.MustElementR(`[data-testid="series-name"]`, "^Birthday club$")
	if got := p.MustElement(`[data-testid="issued"]`).MustText(); got != "0 / unlimited" {
		t.Errorf("a new series reads issued %q", got)
	}
	if !regexp.MustCompile(`/series/\d+$`).MatchString(p.MustInfo().URL) {
		t.Errorf("creating led to %s, not the series' page", p.MustInfo().URL)
	}

	// Issue a code of it to a customer by email.
	follow(p, p.MustElement(`[data-testid="issue"]`))
	if boxes := p.MustElements(`input[name="series"]:checked`); len(boxes) != 1 {
		t.Fatalf("%d series ticked on the issue form, want the one it came from", len(boxes))
	}
	p.MustElement("#identifierType").MustSelect("email")
	p.MustElement("#identifier").MustInput("Grace@Example.com")
	p.MustElement(`[data-testid="issue-codes"]`).MustClick()
	code := p.MustElement(`[data-testid="issued-code"]`).MustText()
	if !regexp.MustCompile(`^BDAY-[0-9A-Z]{10}$`).MatchString(code) {
		t.Fatalf("issued code %q is not BDAY- and 10 of [0-9A-Z]", code)
	}

	// The customer's page lists it, ready to use.
	follow(p, p.MustElement(`[data-testid="issued-customer"]`))
	if got := p.MustElement(`[data-testid="identifier-email"]`).MustText(); got != "grace@example.com" {
		t.Errorf("the customer's email reads %q", got)
	}
	row := `tr[data-code="` + code + `"]`
	if got := p.MustElement(row + ` [data-testid="code-state"]`).MustText(); got != "available" {
		t.Errorf("the fresh code is %q", got)
	}
	if got := p.MustElement(row + ` [data-testid="code-from"]`).MustText(); got != "Birthday club" {
		t.Errorf("the code comes from %q", got)
	}

	// The point of sale redeems it; the customer's page shows it used up.
	status, body := postJSON(t, base, token, "/v2/coupon/redeem",
		`{"redemptionRequestList":[{"code":"`+code+`"}],"user":{"email":"grace@example.com"},"transactionNumber":"T1","billAmount":"100"}`)
	if status != http.StatusOK {
		t.Fatalf("redeem through the API: %d %s", status, body)
	}
	p.MustReload().MustWaitLoad()
	p.MustElementR(row+` [data-testid="code-state"]`, "^used up$")
	if got := p.MustElement(row + ` [data-testid="code-uses"]`).MustText(); got != "1 / 1" {
		t.Errorf("uses read %q, want 1 / 1", got)
	}

	// The series counts the code and its redemption.
	follow(p, p.MustElement(row+` [data-testid="code-from"] a`))
	if got := p.MustElement(`[data-testid="issued"]`).MustText(); got != "1 / unlimited" {
		t.Errorf("the series reads issued %q", got)
	}
	if got := p.MustElement(`[data-testid="redeemed"]`).MustText(); got != "1" {
		t.Errorf("the series reads redeemed %q", got)
	}
}

// TestMarketerReadsTheDashboard: the shop redeems a few codes through the
// API; the marketer opens the dashboard and reads today's figures in the
// store's currency and a chart with a point a day, follows the top
// promotion to its page and reads the discount it gave, and downloads
// the redemptions as CSV, which are those in the database.
func TestMarketerReadsTheDashboard(t *testing.T) {
	b := newBrowser(t)
	dbPath := filepath.Join(t.TempDir(), "coupond.db")
	env := map[string]string{"COUPOND_DB": dbPath, "COUPOND_PASSWORD": "marketer password 1", "COUPOND_CURRENCY": "EUR", "COUPOND_TIMEZONE": "Europe/Berlin"}
	mustRun(t, env, "user", "create", "--email", "marketer@example.com", "--role", "viewer")
	token := mustRun(t, env, "token", "create", "--name", "shop")
	base := startRun(t, env)
	if status, body := postJSON(t, base, token, "/api/promotions", `{"name":"Newsletter 10%","discountType":"percent","discountValue":10,"utmSource":"news"}`); status != http.StatusCreated {
		t.Fatalf("create the promotion: %d %s", status, body)
	}
	if status, body := postJSON(t, base, token, "/api/rnb/pvt/coupon", `{"couponCode":"NEWS1","utmSource":"news"}`); status != http.StatusCreated {
		t.Fatalf("create the coupon: %d %s", status, body)
	}
	for i, amount := range []int{5000, 3000, 2000} {
		body := fmt.Sprintf(`{"code":"NEWS1","customerId":"c%d","orderId":"order-%d","items":1,"orderAmount":%d}`, i, i, amount)
		if status, answer := postJSON(t, base, token, "/api/redemptions", body); status != http.StatusCreated {
			t.Fatalf("redeem %s: %d %s", body, status, answer)
		}
	}

	p := signIn(b, base, "marketer@example.com", "marketer password 1", 30*time.Second)
	followNav(p, "^Dashboard$")
	// Today: 10 % of 50.00, 30.00 and 20.00 EUR.
	today := p.MustElement(`[data-testid="period-Today"]`)
	var figures []string
	for _, el := range today.MustElements(`[data-testid="figure-value"]`) {
		figures = append(figures, el.MustText())
	}
	if want := []string{"3", "10.00 EUR", "100.00 EUR", "3"}; !slices.Equal(figures, want) {
		t.Errorf("today's figures %v, want %v", figures, want)
	}
	if n := len(p.MustElements(`[data-testid="chart-point"]`)); n != 30 {
		t.Errorf("the chart has %d days, want 30", n)
	}
	p.MustElement(`[data-chart][data-drawn="true"] canvas`)
	// The table of the numbers is folded under the drawn chart; its
	// last row is today.
	if got := p.MustElement(`tr[data-testid="chart-point"]:last-child td`).MustAttribute("data-value"); got == nil || *got != "3" {
		t.Errorf("today's point in the chart holds %v redemptions, want 3", got)
	}
	if p.MustElement(`[data-chart] details summary`).MustText() != "The numbers as a table" {
		t.Error("the chart's numbers are not offered as a table")
	}

	follow(p, p.MustElement(`[data-testid="top-promotion-redemptions"] a`))
	if got := p.MustElement(`[data-testid="result-Discount given"]`).MustText(); got != "10.00 EUR" {
		t.Errorf("the promotion's discount given reads %q, want 10.00 EUR", got)
	}

	followNav(p, "^Redemptions$")
	rows := downloadCSV(t, b, p.MustElement(`[data-testid="redemptions-csv"]`), "redeemed_at,code,customer_id,order_id,items,order_amount,discount,promotions,cancelled_at")
	db := storetest.Connect(t, models.Config{Path: dbPath})
	var stored []models.Redemption
	if err := db.Order("id DESC").Find(&stored).Error; err != nil {
		t.Fatal(err)
	}
	var want [][]string
	for _, r := range stored {
		want = append(want, []string{r.CreatedAt.UTC().Format(time.RFC3339), r.Code, r.CustomerID, r.OrderID, strconv.Itoa(r.Items),
			strconv.FormatInt(*r.OrderAmount, 10), strconv.FormatInt(*r.Discount, 10), "Newsletter 10%", ""})
	}
	if d := cmp.Diff(want, rows[1:]); d != "" || len(stored) != 3 {
		t.Errorf("the database (-) and the CSV (+) differ:\n%s", d)
	}
}
