package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/coupond/coupond/web/webtest"
	"github.com/google/go-cmp/cmp"
)

const noActiveMarker = `data-testid="no-active-promotion"`

func TestConsoleMaxUsesPerCustomer(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		if r := h.Do("GET", "/coupons/new", nil, nil); !strings.Contains(r.Body, `id="maxUsagePerClient"`) {
			t.Fatalf("the new coupon form has no max uses per customer: %d", r.Status)
		}
		r := h.Post("/coupons", url.Values{"couponCode": {"PerCustomer"}, "maxUsagePerClient": {"-1"}}, nil)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `data-testid="error-maxUsagePerClient"`) {
			t.Fatalf("a negative max uses per customer: %d, or no message beside the field", r.Status)
		}
		r = h.Post("/coupons", url.Values{"couponCode": {"PerCustomer"}, "maxUsagePerClient": {"twice"}}, nil)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "whole number") || !strings.Contains(r.Body, `value="twice"`) {
			t.Fatalf("a word for max uses per customer: %d", r.Status)
		}
		if _, ok := h.Coupon("PerCustomer"); ok {
			t.Fatal("a refused form created the coupon")
		}
		r = h.Post("/coupons", url.Values{"couponCode": {"PerCustomer"}, "maxUsagePerClient": {"2"}}, nil)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		if c := h.MustCoupon("PerCustomer"); c.MaxUsagePerClient != 2 {
			t.Fatalf("stored max uses per customer = %d, want 2", c.MaxUsagePerClient)
		}
		if page := h.Do("GET", "/coupons/PerCustomer", nil, nil); !strings.Contains(page.Body, `data-testid="maxUsagePerClient">2<`) {
			t.Error("the coupon page does not show max uses per customer 2")
		}
		if edit := h.Do("GET", "/coupons/PerCustomer/edit", nil, nil); !regexp.MustCompile(`id="maxUsagePerClient"[^>]*value="2"`).MatchString(edit.Body) {
			t.Error("the edit form does not show max uses per customer 2")
		}
		if r := h.Post("/coupons/PerCustomer", url.Values{"maxUsagePerClient": {"5"}}, nil); r.Status != http.StatusSeeOther {
			t.Fatalf("edit: %d", r.Status)
		}
		if c := h.MustCoupon("PerCustomer"); c.MaxUsagePerClient != 5 {
			t.Errorf("after the edit max uses per customer = %d, want 5", c.MaxUsagePerClient)
		}
		// Generated coupons take the limit too.
		wait := h.RunBatches()
		r = h.Post("/coupons/generate", url.Values{"prefix": {"GENPC"}, "length": {"12"}, "quantity": {"2"}, "maxUsage": {"1"}, "maxUsagePerClient": {"3"}}, nil)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("generate: %d %.300s", r.Status, r.Body)
		}
		id, err := strconv.ParseInt(strings.TrimPrefix(r.Header.Get("Location"), "/batches/"), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		wait(id)
		page, err := h.Store.ListCoupons(t.Context(), models.CouponFilter{Prefix: "GENPC"})
		if err != nil || len(page.Coupons) != 2 || page.Coupons[0].MaxUsagePerClient != 3 {
			t.Errorf("generated coupons: %+v %v, want two with max uses per customer 3", page.Coupons, err)
		}
	})
}

// couponRows returns the table rows of a coupon list by code.
func couponRows(body string) map[string]string {
	rows := map[string]string{}
	for _, m := range regexp.MustCompile(`(?s)<tr id="coupon-row-\d+" data-code="([^"]+)">.*?</tr>`).FindAllStringSubmatch(body, -1) {
		rows[m[1]] = m[0]
	}
	return rows
}

// rowState is the state a coupon row's badge names, "" without a badge.
func rowState(row string) string {
	m := regexp.MustCompile(`data-testid="status" data-state="([^"]*)"`).FindStringSubmatch(row)
	if m == nil {
		return ""
	}
	return m[1]
}

// The list, its fragments and each coupon's page say what a checkout
// would make of the coupon now, and why; the list filters by it.
func TestConsoleShowsEachCouponsState(t *testing.T) {
	t.Parallel()
	webtest.ForEachDBAtEpoch(t, func(t *testing.T, h *webtest.Harness) {
		ctx := t.Context()
		spring, paused, old, soon := "spring", "paused", "old", "soon"
		capped := int64(500)
		live := h.MustPromotion(models.PromotionInput{Name: "Spring sale", DiscountType: models.DiscountPercent, DiscountValue: "12.5", DiscountCap: &capped, UTMSource: &spring})
		ended := h.MustPromotion(models.PromotionInput{Name: "Old sale", DiscountType: models.DiscountFixed, DiscountValue: "300", EndsAt: "2020-01-31T12:00:00Z", UTMCampaign: &old, UTMSource: &spring})
		h.MustPromotion(models.PromotionInput{Name: "Paused sale", Status: models.PromotionInactive, DiscountType: models.DiscountFixed, DiscountValue: "100", UTMSource: &paused})
		h.MustPromotion(models.PromotionInput{Name: "Winter sale", DiscountType: models.DiscountFixed, DiscountValue: "100", UTMSource: &soon, BeginsAt: "2026-12-01T00:00:00Z"})
		for _, spec := range []models.CouponSpec{
			{Code: "LIVE1", UTMSource: &spring},
			{Code: "ENDED1", UTMCampaign: &old},
			{Code: "PAUSED1", UTMSource: &paused},
			{Code: "SOON1", UTMSource: &soon},
			{Code: "BARE1"},
			{Code: "ALICE1", UTMSource: &spring, MaxUsage: 2, CustomerID: new("alice")},
		} {
			if _, err := h.Store.CreateCoupon(ctx, spec); err != nil {
				t.Fatal(err)
			}
		}
		h.MustRedeem("ALICE1", "alice", "order-1", 1, nil)
		h.MustRedeem("ALICE1", "alice", "order-2", 1, nil)

		want := map[string]string{"LIVE1": "active", "ENDED1": "expired", "PAUSED1": "no_active_promotion", "SOON1": "not_started",
			"BARE1": "no_active_promotion", "ALICE1": "used_up"}
		list := h.Do("GET", "/coupons", nil, nil).Body
		rows := couponRows(list)
		for code, state := range want {
			if got := rowState(rows[code]); got != state {
				t.Errorf("%s is %q in the list, want %q", code, got, state)
			}
		}
		if !strings.Contains(rows["ALICE1"], `data-testid="uses">2 of 2<`) {
			t.Errorf("ALICE1's row does not show its uses, 2 of 2: %s", rows["ALICE1"])
		}
		if !regexp.MustCompile(`data-testid="promotions">\s*<a href="` + views.PromotionURL(live.ID) + `">Spring sale</a>\s*,\s*<a href="` + views.PromotionURL(ended.ID) + `">Old sale</a>`).MatchString(rows["LIVE1"]) {
			t.Errorf("LIVE1's row does not name the two promotions it reaches: %s", rows["LIVE1"])
		}
		if !strings.Contains(rows["BARE1"], `data-testid="promotions"><span class="muted">none</span>`) {
			t.Errorf("BARE1's row does not say it reaches no promotion: %s", rows["BARE1"])
		}
		// The filter by state, as a page and as the table's fragment.
		for state, codes := range map[string][]string{"no_active_promotion": {"BARE1", "PAUSED1"}, "used_up": {"ALICE1"}, "not_started": {"SOON1"}, "expired": {"ENDED1"}} {
			r := h.Do("GET", "/coupons?state="+state, nil, webtest.HTMX(views.CouponTableID))
			got := couponRows(r.Body)
			if len(got) != len(codes) {
				t.Errorf("state=%s lists %d coupons, want %v", state, len(got), codes)
			}
			for _, code := range codes {
				if rowState(got[code]) != state {
					t.Errorf("state=%s does not list %s", state, code)
				}
			}
		}
		if r := h.Do("GET", "/coupons?state=gone", nil, nil); r.Status != http.StatusOK || !strings.Contains(r.Body, `There is no state &#34;gone&#34;`) || len(couponRows(r.Body)) != len(want) {
			t.Errorf("an unknown state must list every coupon and say so: %d", r.Status)
		}
		// A row archived in place comes back with its new state.
		r := h.Post("/coupons/LIVE1/archive", nil, webtest.HTMX(views.CouponRowID(h.MustCoupon("LIVE1").ID)))
		if r.Status != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(r.Body), `<tr id="coupon-row-`) || rowState(r.Body) != "archived" {
			t.Errorf("the swapped row of LIVE1 must come back archived: %d %.300s", r.Status, r.Body)
		}
		r = h.Post("/coupons/LIVE1/unarchive", nil, webtest.HTMX(views.CouponStatusID))
		if r.Status != http.StatusOK || rowState(r.Body) != "active" {
			t.Errorf("the status block of LIVE1 must come back active: %d %.300s", r.Status, r.Body)
		}

		// Each coupon's page: the state, why, and the promotions its tags
		// reach, live or not.
		for code, why := range map[string]string{
			"LIVE1":   "Customers can redeem it now.",
			"ENDED1":  "Every promotion it reaches has ended.",
			"PAUSED1": "reach no active promotion",
			"SOON1":   "It gives a discount from 2026-12-01 00:00:00, when Winter sale begins.",
			"BARE1":   "It has no UTM source or campaign",
			"ALICE1":  "All 2 of its uses are taken; cancelling a redemption frees one.",
		} {
			page := h.Do("GET", "/coupons/"+code, nil, nil).Body
			status := regexp.MustCompile(`(?s)<footer id="coupon-status".*?</footer>`).FindString(page)
			if rowState(status) != want[code] || !strings.Contains(status, why) {
				t.Errorf("%s's page says %q, want the state %q and %q", code, status, want[code], why)
			}
		}
		page := h.Do("GET", "/coupons/LIVE1", nil, nil).Body
		got := pagePromotions(t, page)
		wantPs := []shownPromotion{
			{Link: views.PromotionURL(live.ID), Name: "Spring sale", Discount: "12.5 %, at most 5.00 USD", Status: "active", Live: "live now"},
			{Link: views.PromotionURL(ended.ID), Name: "Old sale", Discount: "3.00 USD off", Status: "active", Live: "not live: ended 2020-01-31 12:00:00"},
		}
		if d := cmp.Diff(wantPs, got); d != "" {
			t.Errorf("promotions on LIVE1's page (-want +got):\n%s", d)
		}
		if !regexp.MustCompile(`data-testid="customerId">\s*any customer\s*</dd>`).MatchString(page) {
			t.Error("LIVE1's page does not say any customer may use it")
		}
		page = h.Do("GET", "/coupons/PAUSED1", nil, nil).Body
		if ps := pagePromotions(t, page); !strings.Contains(page, noActiveMarker) || len(ps) != 1 || ps[0].Live != "not live: it is inactive" {
			t.Errorf("PAUSED1's page: marked %v, promotions %+v", strings.Contains(page, noActiveMarker), ps)
		}
		page = h.Do("GET", "/coupons/BARE1", nil, nil).Body
		if !strings.Contains(page, noActiveMarker) || !strings.Contains(page, `data-testid="no-promotions"`) {
			t.Error("BARE1's page must be marked and say it reaches no promotion")
		}
		page = h.Do("GET", "/coupons/ALICE1", nil, nil).Body
		if !regexp.MustCompile(`data-testid="customerId">\s*<code>alice</code> only`).MatchString(page) {
			t.Error("ALICE1's page does not name its customer")
		}
		if !regexp.MustCompile(`data-testid="uses">\s*2 of 2\s*</dd>`).MatchString(page) {
			t.Error("ALICE1's page does not show 2 uses of 2")
		}
	})
}

// shownPromotion is a promotion as a coupon's page lists it.
type shownPromotion struct{ Link, Name, Discount, Status, Live string }

// pagePromotions reads the promotions table of a coupon's page.
func pagePromotions(t *testing.T, body string) []shownPromotion {
	t.Helper()
	var out []shownPromotion
	row := regexp.MustCompile(`(?s)<tr data-testid="promotion"[^>]*>\s*<td><a href="([^"]+)">([^<]*)</a></td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*<td data-testid="live">(.*?)</td>`)
	for _, m := range row.FindAllStringSubmatch(body, -1) {
		out = append(out, shownPromotion{Link: m[1], Name: m[2], Discount: m[3], Status: m[4], Live: strings.Join(strings.Fields(m[5]), " ")})
	}
	return out
}

// redemptionRows returns the ids and orders of the redemption rows of a
// page, in order.
func redemptionRows(body string) (ids []string, orders []string) {
	for _, m := range regexp.MustCompile(`<tr id="redemption-row-(\d+)" data-testid="redemption" data-order="([^"]*)">`).FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
		orders = append(orders, m[2])
	}
	return ids, orders
}

func TestConsoleRedemptionsCancel(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		tag := "bday"
		h.MustPromotion(models.PromotionInput{Name: "Ten off", DiscountType: models.DiscountPercent, DiscountValue: "10", UTMSource: &tag})
		if _, err := h.Store.CreateCoupon(t.Context(), models.CouponSpec{Code: "ONCE", UTMSource: &tag, MaxUsage: 1}); err != nil {
			t.Fatal(err)
		}
		red := h.MustRedeem("ONCE", "cust-7", "order-77", 3, new(int64(2000)))
		if v := h.Verdict("ONCE", ""); v.Valid || !cmp.Equal(v.Reasons, []string{models.ReasonUsageLimit}) {
			t.Fatalf("after one use ONCE is %+v, want refused for its usage limit", v)
		}
		rowID := views.RedemptionRowID(red.ID)
		rowOf := func(body string) string {
			return regexp.MustCompile(`(?s)<tr id="` + rowID + `".*?</tr>`).FindString(body)
		}

		page := h.Do("GET", "/coupons/ONCE", nil, nil).Body
		row := rowOf(page)
		for _, want := range []string{"<code>cust-7</code>", "<code>order-77</code>", "<td>3</td>", "<td>20.00 USD</td>", "<td>2.00 USD</td>", ">counts<", `data-testid="cancel-redemption"`} {
			if !strings.Contains(row, want) {
				t.Errorf("the redemption's row lacks %s: %s", want, row)
			}
		}

		// A viewer sees the redemption but cannot cancel it.
		viewer := h.Login(webtest.ViewerEmail)
		vpage := h.DoWith(viewer, "GET", "/coupons/ONCE", nil, nil).Body
		if rowOf(vpage) == "" || strings.Contains(vpage, `data-testid="cancel-redemption"`) {
			t.Error("a viewer must see the redemption without a cancel button")
		}
		form := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"}
		if r := h.DoWith(viewer, "POST", views.RedemptionCancelURL(red.ID), strings.NewReader(""), form); r.Status != http.StatusForbidden {
			t.Errorf("a viewer's cancel: %d, want 403", r.Status)
		}
		if r, err := h.Store.Redemption(t.Context(), red.ID); err != nil || !r.Live() {
			t.Fatalf("after a viewer's refused cancel the redemption is %+v (%v)", r, err)
		}

		// htmx: the row is swapped, the uses follow out of band, and the
		// code works again.
		r := h.Post(views.RedemptionCancelURL(red.ID), nil, webtest.HTMX(rowID))
		if r.Status != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(r.Body), `<tr id="`+rowID+`"`) {
			t.Fatalf("htmx cancel: %d %.300s", r.Status, r.Body)
		}
		if !strings.Contains(rowOf(r.Body), ">cancelled<") || strings.Contains(r.Body, `data-testid="cancel-redemption"`) {
			t.Errorf("the swapped row must say cancelled and offer no cancel: %s", r.Body)
		}
		if !regexp.MustCompile(`<dd id="coupon-uses" data-testid="uses" hx-swap-oob="true">\s*0 of 1\s*</dd>`).MatchString(r.Body) {
			t.Errorf("the cancel does not update the uses to 0 of 1 out of band: %s", r.Body)
		}
		if got, err := h.Store.Redemption(t.Context(), red.ID); err != nil || got.Live() {
			t.Fatalf("after the cancel the redemption is %+v (%v)", got, err)
		}
		if v := h.Verdict("ONCE", ""); !v.Valid {
			t.Errorf("after the cancel ONCE is %+v, want valid", v)
		}

		// Plain, and a second time: back to the coupon, nothing changes.
		r = h.Post(views.RedemptionCancelURL(red.ID), nil, nil)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/coupons/ONCE" {
			t.Fatalf("plain second cancel: %d to %q", r.Status, r.Header.Get("Location"))
		}
		if c := h.MustCoupon("ONCE"); c.Uses != 0 {
			t.Errorf("cancelling twice left uses at %d, want 0", c.Uses)
		}
		if row := rowOf(h.Do("GET", "/coupons/ONCE", nil, nil).Body); !strings.Contains(row, ">cancelled<") || strings.Contains(row, "cancel-redemption") {
			t.Errorf("the page shows the cancelled redemption as %s", row)
		}
		for _, id := range []string{"999999", "abc"} {
			if r := h.Post("/redemptions/"+id+"/cancel", nil, nil); r.Status != http.StatusNotFound {
				t.Errorf("cancel redemption %s: %d, want 404", id, r.Status)
			}
		}

		// A plain cancel of a live redemption cancels it too.
		again := h.MustRedeem("ONCE", "cust-8", "order-88", 1, nil)
		if r := h.Post(views.RedemptionCancelURL(again.ID), nil, nil); r.Status != http.StatusSeeOther {
			t.Fatalf("plain cancel: %d", r.Status)
		}
		if v := h.Verdict("ONCE", ""); !v.Valid {
			t.Errorf("after the plain cancel ONCE is %+v, want valid", v)
		}
		// htmx aimed elsewhere than the row loads the coupon's page.
		r = h.Post(views.RedemptionCancelURL(again.ID), nil, webtest.HTMX("somewhere"))
		if r.Status != http.StatusNoContent || r.Header.Get("HX-Location") != "/coupons/ONCE" {
			t.Errorf("htmx cancel aimed elsewhere: %d HX-Location %q", r.Status, r.Header.Get("HX-Location"))
		}
	})
}

func TestConsoleRedemptionsPaged(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		tag := "many"
		h.MustPromotion(models.PromotionInput{Name: "Many", DiscountType: models.DiscountFixed, DiscountValue: "100", UTMCampaign: &tag})
		if _, err := h.Store.CreateCoupon(t.Context(), models.CouponSpec{Code: "MANY", UTMCampaign: &tag}); err != nil {
			t.Fatal(err)
		}
		var orders []string
		for i := range 21 {
			orders = append(orders, fmt.Sprintf("o-%02d", i))
			h.MustRedeem("MANY", "c", orders[i], 1, nil)
		}
		page := h.Do("GET", "/coupons/MANY", nil, nil).Body
		_, first := redemptionRows(page)
		if len(first) != 20 || first[0] != "o-20" || first[19] != "o-01" {
			t.Fatalf("the first page lists %v, want o-20 down to o-01", first)
		}
		next := regexp.MustCompile(`href="(/coupons/MANY\?after=[^"]+)"[^>]*data-testid="older-redemptions"`).FindStringSubmatch(page)
		if next == nil {
			t.Fatal("no link to older redemptions")
		}
		r := h.Do("GET", strings.ReplaceAll(next[1], "&amp;", "&"), nil, webtest.HTMX(views.CouponRedemptionsID))
		if r.Status != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(r.Body), `<section id="`+views.CouponRedemptionsID+`"`) {
			t.Fatalf("older redemptions for htmx: %d %.200s", r.Status, r.Body)
		}
		if _, older := redemptionRows(r.Body); !cmp.Equal(older, []string{"o-00"}) || strings.Contains(r.Body, "older-redemptions") {
			t.Errorf("the second page lists %v, want only o-00 and no further link", older)
		}
		if !strings.Contains(r.Body, `href="/coupons/MANY" hx-get="/coupons/MANY"`) {
			t.Error("the second page has no link back to the newest redemptions")
		}
		stale := h.Do("GET", "/coupons/MANY?after=***", nil, nil)
		if _, rows := redemptionRows(stale.Body); stale.Status != http.StatusOK || len(rows) != 20 || !strings.Contains(stale.Body, "not valid any more") {
			t.Errorf("a stale cursor: %d with %d rows, want the newest with a note", stale.Status, len(rows))
		}
	})
}

// A coupon's page lists the uses checkouts hold, and says when none is.
func TestCouponPageShowsItsHeldUses(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		h.MustPromotion(models.PromotionInput{Status: models.PromotionActive, UTMSource: new("held")})
		h.MustTaggedCoupon("HELD-1", "held", "")
		if r := h.Do("GET", "/coupons/HELD-1", nil, nil); !strings.Contains(r.Body, "No checkout is holding a use of this code now.") {
			t.Errorf("a coupon without holds: %d %.300s", r.Status, r.Body)
		}
		for i, amount := range []string{"4990", "12000"} {
			h.MustAPI(http.StatusCreated, "POST", "/api/reservations", fmt.Sprintf(`{"code":"HELD-1","customerId":"cust-%d","orderId":"order-%d","items":%d,"orderAmount":%s,"ttl":"10m"}`, i, i, i+1, amount))
		}
		r := h.Do("GET", "/coupons/HELD-1", nil, nil)
		rows := regexp.MustCompile(`(?s)<tr data-testid="hold">(.*?)</tr>`).FindAllStringSubmatch(r.Body, -1)
		if len(rows) != 2 || !strings.Contains(rows[0][1], "order-0") || !strings.Contains(rows[0][1], "cust-0") || !strings.Contains(rows[1][1], "120.00") ||
			!strings.Contains(r.Body, "2 uses are held for orders being paid for") {
			t.Errorf("held uses on the coupon's page: %q", rows)
		}
	})
}
