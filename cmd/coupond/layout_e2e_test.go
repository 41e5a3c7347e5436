package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEveryPageFitsAPhoneAndTheMenuOnOneLine walks every console page an
// admin can reach: at 390 px wide none scrolls sideways (a table scrolls
// inside its own box), the Menu button opens the navigation and its
// links lead on; at 1280 px the navigation is one line.
func TestEveryPageFitsAPhoneAndTheMenuOnOneLine(t *testing.T) {
	b := newBrowser(t)
	env := map[string]string{"COUPOND_DB": filepath.Join(t.TempDir(), "coupond.db"), "COUPOND_PASSWORD": "admin password 12", "COUPOND_CURRENCY": "EUR", "COUPOND_TIMEZONE": "Europe/Berlin"}
	mustRun(t, env, "user", "create", "--email", "admin@example.com", "--role", "admin")
	token := mustRun(t, env, "token", "create", "--name", "shop")
	base := startRun(t, env)
	for _, call := range [][2]string{
		{"/api/promotions", `{"name":"Newsletter ten percent for everybody who reads it","discountType":"percent","discountValue":10,"utmSource":"newsletter-with-a-rather-long-source-name"}`},
		{"/api/rnb/pvt/coupon", `{"couponCode":"A-VERY-LONG-COUPON-CODE-THAT-GOES-ON-AND-ON-1234567890","utmSource":"newsletter-with-a-rather-long-source-name"}`},
		{"/api/redemptions", `{"code":"A-VERY-LONG-COUPON-CODE-THAT-GOES-ON-AND-ON-1234567890","customerId":"customer-with-a-long-identifier@example.com","orderId":"order-0000000001","items":1,"orderAmount":12345}`},
		{"/api/batches", `{"quantity":20,"format":{"prefix":"NEWS-","length":10},"utmSource":"newsletter-with-a-rather-long-source-name"}`},
	} {
		if status, body := postJSON(t, base, token, call[0], call[1]); status >= 300 {
			t.Fatalf("%s: %d %s", call[0], status, body)
		}
	}
	req, err := http.NewRequestWithContext(t.Context(), "POST", base+"/v2/coupon/series", strings.NewReader(`{"CouponSeriesV2":{"description":"Welcome series","discountCode":"WELCOME","discountType":"ABS","discountValue":5,"validTillDate":"2027-05-08T23:59:59+01:00"}}`))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("shop", token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("create a series: %v %v", err, res)
	}
	res.Body.Close()

	req, err = http.NewRequestWithContext(t.Context(), "POST", base+"/api/imports?name=codes-from-the-old-shop-with-a-long-name.csv",
		strings.NewReader("code,maxUsage,utmSource\nOLD-SHOP-CODE-0001,1,newsletter-with-a-rather-long-source-name\nOLD SHOP,1,\n"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("Content-Type", "text/csv")
	if res, err = http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("import a file: %v %v", err, res)
	}
	res.Body.Close()

	p := b.MustPage(base + "/login").Timeout(60 * time.Second)
	p.MustSetViewport(390, 844, 1, true)
	p.MustElement("#email").MustInput("admin@example.com")
	p.MustElement("#password").MustInput("admin password 12")
	follow(p, p.MustElement(`[data-testid="login"]`))

	code := "/coupons/A-VERY-LONG-COUPON-CODE-THAT-GOES-ON-AND-ON-1234567890"
	pages := []string{"/", "/coupons", "/coupons/new", "/coupons/generate", code, code + "/edit", "/batches", "/batches/1",
		"/imports", "/imports/new", "/imports/2", "/promotions", "/promotions/new", "/promotions/1", "/promotions/1/edit", "/promotions/1/archive", "/single-use", "/check",
		"/series", "/series/new", "/series/2", "/series/2/edit", "/issue", "/customers", "/redemptions", "/redemptions/1/cancel",
		"/audit", "/users", "/tokens", "/tokens/1/revoke", "/account"}
	for _, path := range pages {
		p.MustNavigate(base + path).MustWaitLoad()
		if title := p.MustInfo().Title; strings.Contains(title, "Not found") || strings.Contains(title, "went wrong") {
			t.Errorf("%s: %q", path, title)
		}
		wide := p.MustEval(`() => document.documentElement.scrollWidth`).Int()
		if wide > 390 {
			culprit := p.MustEval(`() => { const w = document.documentElement.clientWidth; for (const el of document.querySelectorAll("main *")) { const r = el.getBoundingClientRect(); if (r.right > w + 1 && !el.closest(".table-wrap")) return el.outerHTML.slice(0, 160); } return ""; }`).String()
			t.Errorf("%s is %d px wide at 390: %s", path, wide, culprit)
		}
	}

	// The menu at phone width: hidden, then shown, and its links lead on.
	p.MustNavigate(base + "/coupons").MustWaitLoad()
	if vis := p.MustElementR("header nav a", "^Redemptions$").MustVisible(); vis {
		t.Error("the navigation's links show at phone width before the Menu is opened")
	}
	p.MustElement(`[data-testid="menu"]`).MustClick()
	follow(p, p.MustElementR("header nav a", "^Redemptions$"))
	if got := p.MustInfo().URL; got != base+"/redemptions" {
		t.Errorf("the menu's Redemptions led to %s", got)
	}

	// One line at 1280 px.
	p.MustSetViewport(1280, 900, 1, false)
	p.MustNavigate(base + "/coupons").MustWaitLoad()
	tops := p.MustEval(`() => Array.from(document.querySelectorAll("header nav > ul > li, header nav ul.nav-links > li")).map(li => Math.round(li.getBoundingClientRect().top))`).Arr()
	// Items of one line differ in height (a menu's button, a link), so
	// their tops differ by a few pixels; a second line starts a line
	// lower.
	lo, hi := tops[0].Int(), tops[0].Int()
	for _, top := range tops {
		lo, hi = min(lo, top.Int()), max(hi, top.Int())
	}
	if hi-lo > 20 {
		t.Errorf("at 1280 px the navigation takes more than one line (tops %v)", tops)
	}
	// Whatever a table's cell holds stays inside it (a progress bar and
	// its figures once ran over the next column).
	for _, path := range []string{"/batches", "/imports", "/coupons", "/redemptions", "/series", "/tokens"} {
		p.MustNavigate(base + path).MustWaitLoad()
		spill := p.MustEval(`() => { for (const td of document.querySelectorAll(".table-wrap td")) { const edge = td.getBoundingClientRect().right; for (const el of td.querySelectorAll("*")) { if (el.getBoundingClientRect().right > edge + 1) return el.outerHTML.slice(0, 160); } } return ""; }`).String()
		if spill != "" {
			t.Errorf("%s at 1280 px: %s runs out of its cell", path, spill)
		}
	}
	// A skip link leads past the navigation, for the keyboard.
	if href := p.MustElement(".skip-link").MustAttribute("href"); href == nil || *href != "#main" || !p.MustHas("main#main") {
		t.Error("no skip link to the content")
	}
	// Each row's actions name their row for screen readers.
	p.MustNavigate(base + "/tokens").MustWaitLoad()
	if label := p.MustElement(`[data-testid="revoke"]`).MustAttribute("aria-label"); label == nil || *label != "Revoke token shop" {
		t.Errorf("the Revoke button is labelled %v", label)
	}
}

// TestGenerateSaysWhichPromotionTheCodesReach: tagging a batch with a
// source an unrelated sale listens to shows that sale, live, before
// Generate is pressed, and Generate then needs the tick.
func TestGenerateSaysWhichPromotionTheCodesReach(t *testing.T) {
	b := newBrowser(t)
	env := map[string]string{"COUPOND_DB": filepath.Join(t.TempDir(), "coupond.db"), "COUPOND_PASSWORD": "marketer password 1"}
	mustRun(t, env, "user", "create", "--email", "marketer@example.com", "--role", "editor")
	token := mustRun(t, env, "token", "create", "--name", "shop")
	base := startRun(t, env)
	if status, body := postJSON(t, base, token, "/api/promotions", `{"name":"Spring Sale 15%","discountType":"percent","discountValue":15,"utmSource":"newsletter"}`); status != http.StatusCreated {
		t.Fatalf("create the promotion: %d %s", status, body)
	}
	p := signIn(b, base, "marketer@example.com", "marketer password 1", 30*time.Second)
	followNav(p, "^Generate codes$")
	p.MustElement(`[data-testid="reach-none"]`)
	p.MustElement("#quantity").MustSelectAllText().MustInput("100000")
	p.MustElement("#utmSource").MustInput("newsletter")
	item := p.MustElement(`[data-testid="reach-item"]`)
	if got := item.MustText(); !strings.Contains(got, "Spring Sale 15%") || !strings.Contains(got, "15 %") || !strings.Contains(got, "not chosen") {
		t.Errorf("before Generate the form says %q", got)
	}
	p.MustElement(`[data-testid="generate"]`).MustClick()
	p.MustElementR(`[data-testid="error-confirmReach"]`, "Spring Sale 15%")
	p.MustElement(`[data-testid="confirm-reach"]`).MustClick()
	p.MustElement(`[data-testid="generate"]`).MustClick()
	p.MustElementR(`[data-testid="notice"]`, "100,000 codes are being made")
}

// TestEachConfirmationAsksInADialog: every action that cannot be undone
// opens its question in a dialog; keeping it changes nothing, confirming
// it does it and says so.
func TestEachConfirmationAsksInADialog(t *testing.T) {
	b := newBrowser(t)
	env := map[string]string{"COUPOND_DB": filepath.Join(t.TempDir(), "coupond.db"), "COUPOND_PASSWORD": "admin password 12"}
	mustRun(t, env, "user", "create", "--email", "admin@example.com", "--role", "admin")
	mustRun(t, env, "user", "create", "--email", "helper@example.com", "--role", "viewer")
	token := mustRun(t, env, "token", "create", "--name", "shop")
	base := startRun(t, env)
	if status, body := postJSON(t, base, token, "/api/promotions", `{"name":"Spring","discountType":"percent","discountValue":10,"utmSource":"spring"}`); status != http.StatusCreated {
		t.Fatalf("create the promotion: %d %s", status, body)
	}
	p := signIn(b, base, "admin@example.com", "admin password 12", 60*time.Second)

	cases := []struct {
		page, button, question, notice string
		done                           func() bool
	}{
		{"/promotions/1", `#promotion-status [data-testid="archive"]`, "Archive promotion Spring?", "Promotion Spring archived",
			func() bool { return mustHave(t, p, `#promotion-status [data-testid="unarchive"]`) }},
		{"/tokens", `[data-testid="revoke"]`, "Revoke token shop?", "Token shop revoked",
			func() bool { return !mustHave(t, p, `[data-testid="revoke"]`) }},
		{"/users", `[data-testid="disable"]`, "Disable helper@example.com?", "disabled",
			func() bool { return mustHave(t, p, `[data-testid="enable"]`) }},
	}
	for _, tc := range cases {
		p.MustNavigate(base + tc.page).MustWaitLoad()
		p.MustElement(tc.button).MustClick()
		dialog := p.MustElement(`dialog[data-testid="confirm-dialog"][open]`)
		if q := dialog.MustElement("h2").MustText(); q != tc.question {
			t.Errorf("%s: the dialog asks %q, want %q", tc.page, q, tc.question)
		}
		dialog.MustElement(`[data-testid="confirm-keep"]`).MustClick()
		p.MustWait(`() => !document.querySelector("dialog[open]")`)
		p.MustReload().MustWaitLoad()
		if tc.done() {
			t.Fatalf("%s: keeping it did it", tc.page)
		}
		p.MustElement(tc.button).MustClick()
		p.MustElement(`dialog[data-testid="confirm-dialog"][open] [data-testid="confirm-do"]`).MustClick()
		p.MustElementR(`[data-testid="notice"]`, tc.notice)
		if !tc.done() {
			t.Errorf("%s: confirming did not do it", tc.page)
		}
	}
}
