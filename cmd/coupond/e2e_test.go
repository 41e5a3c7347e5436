package main

import (
	"encoding/csv"
	"io"
	"net/http"
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
	follow(p, p.MustElementR("nav a", "New coupon"))
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

// TestMarketerHandsOutBirthdayCoupon walks the birthday workflow: a
// marketer makes a single-use code for one customer and copies it, checks
// that it works, the shop redeems it through the API, the check now says
// it is used up, and cancelling the redemption on the coupon's page makes
// it work again.
func TestMarketerHandsOutBirthdayCoupon(t *testing.T) {
	b := newBrowser(t)
	env := map[string]string{"COUPOND_DB": filepath.Join(t.TempDir(), "coupond.db"), "COUPOND_PASSWORD": "marketer password 1"}
	mustRun(t, env, "user", "create", "--email", "marketer@example.com", "--role", "editor")
	token := mustRun(t, env, "token", "create", "--name", "shop")
	base := startRun(t, env)

	p := b.MustPage(base + "/login").Timeout(30 * time.Second)
	// The end date is typed in the browser's zone; the form reads it as UTC.
	if err := (proto.EmulationSetTimezoneOverride{TimezoneID: "UTC"}).Call(p); err != nil {
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
	follow(p, p.MustElementR("nav a", "Single-use coupon"))
	p.MustElement("#couponCode").MustInput("Birthday123")
	p.MustElement("#customerId").MustInput("alice")
	p.MustElement("#discountType").MustSelect("percentage off")
	p.MustElement("#discountValue").MustInput("15")
	p.MustElement("#endsAt").MustInputTime(time.Date(2099, 12, 31, 23, 59, 0, 0, time.UTC))
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
	if !strings.HasPrefix(promo.MustProperty("href").String(), base+"/promotions/") || !strings.Contains(p.MustElement(`[data-testid="promotion"]`).MustText(), "15 %, until 2099-12-31 23:59:00 UTC") {
		t.Errorf("the promotion it activates reads %q", p.MustElement(`[data-testid="promotion"]`).MustText())
	}
	copyButton := p.MustElement(`[data-testid="copy"]`)
	copyButton.MustWaitVisible().MustClick()
	p.MustElementR(`[data-testid="copy"]`, "^Copied$")
	if got := p.MustEval(`() => navigator.clipboard.readText()`).String(); got != "Birthday123" {
		t.Errorf("the clipboard holds %q, want Birthday123", got)
	}

	// It works, for alice, with 15 % off 50.00.
	checkCode := func() *rod.Element {
		t.Helper()
		p.MustElement(`[data-testid="check"]`).MustClick()
		return p.MustElement(`[data-testid="check-result"]`)
	}
	follow(p, p.MustElementR("nav a", "Check a code"))
	p.MustElement("#couponCode").MustInput("birthday123")
	p.MustElement("#customerId").MustInput("alice")
	p.MustElement("#orderAmount").MustInput("5000")
	if res := checkCode(); res.MustAttribute("data-valid") == nil || *res.MustAttribute("data-valid") != "true" {
		t.Fatalf("a fresh code checks as %q", res.MustText())
	}
	if got := p.MustElement(`[data-testid="discount"]`).MustText(); !strings.Contains(got, "750") {
		t.Errorf("discount on 5000 reads %q, want 750", got)
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
	if got := row.MustText(); !strings.Contains(got, "alice") || !strings.Contains(got, "5000") || !strings.Contains(got, "750") {
		t.Errorf("the redemption's row reads %q", got)
	}
	if got := strings.Join(strings.Fields(p.MustElement(`[data-testid="uses"]`).MustText()), " "); got != "1 of 1" {
		t.Errorf("uses read %q before the cancel, want 1 of 1", got)
	}
	row.MustElement(`[data-testid="cancel-redemption"]`).MustClick()
	p.MustElementR(`tr[data-order="order-1"] [data-testid="redemption-status"]`, "^cancelled$")
	if mustHave(t, p, `[data-testid="cancel-redemption"]`) {
		t.Error("the cancelled redemption still offers a cancel")
	}
	p.MustElementR(`[data-testid="uses"]`, `^\s*0 of 1\s*$`)

	p.MustNavigate(base + "/check?couponCode=Birthday123&customerId=alice").MustWaitLoad()
	if v := p.MustElement(`[data-testid="check-result"]`).MustAttribute("data-valid"); v == nil || *v != "true" {
		t.Errorf("after the cancel the code checks as %q", p.MustElement(`[data-testid="check-result"]`).MustText())
	}
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
