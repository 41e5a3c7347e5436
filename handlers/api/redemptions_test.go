package api_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
	"github.com/coupond/coupond/web"
	"github.com/coupond/coupond/web/webtest"
	"golang.org/x/crypto/bcrypt"
)

// promotionJSON is a promotion as a client reads it.
type promotionJSON struct {
	ID                int64           `json:"id"`
	Name              string          `json:"name"`
	Description       string          `json:"description"`
	Status            string          `json:"status"`
	Kind              string          `json:"kind"`
	DiscountType      string          `json:"discountType"`
	DiscountValue     json.RawMessage `json:"discountValue"`
	DiscountCap       *int64          `json:"discountCap"`
	AppliesTo         string          `json:"appliesTo"`
	BeginsAt          *time.Time      `json:"beginsAt"`
	EndsAt            *time.Time      `json:"endsAt"`
	MaxUsage          int             `json:"maxUsage"`
	MaxUsagePerClient int             `json:"maxUsagePerClient"`
	UTMSource         *string         `json:"utmSource"`
	UTMCampaign       *string         `json:"utmCampaign"`
	Uses              int             `json:"uses"`
	CreatedAt         time.Time       `json:"createdAt"`
	UpdatedAt         time.Time       `json:"updatedAt"`
}

type appliedJSON struct {
	ID            int64           `json:"id"`
	Name          string          `json:"name"`
	DiscountType  string          `json:"discountType"`
	DiscountValue json.RawMessage `json:"discountValue"`
	DiscountCap   *int64          `json:"discountCap"`
	Discount      *int64          `json:"discount"`
}

type validationJSON struct {
	Valid      bool          `json:"valid"`
	Reasons    []string      `json:"reasons"`
	Promotions []appliedJSON `json:"promotions"`
	Discount   *int64        `json:"discount"`
}

type redemptionJSON struct {
	ID          int64         `json:"id"`
	Code        string        `json:"code"`
	CustomerID  string        `json:"customerId"`
	OrderID     string        `json:"orderId"`
	Items       int           `json:"items"`
	OrderAmount *int64        `json:"orderAmount"`
	Discount    *int64        `json:"discount"`
	Promotions  []appliedJSON `json:"promotions"`
	CreatedAt   time.Time     `json:"createdAt"`
	Cancelled   bool          `json:"cancelled"`
	CancelledAt *time.Time    `json:"cancelledAt"`
}

func TestPromotionAPI(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		r := h.MustAPI(http.StatusCreated, "POST", "/api/promotions", `{"name":" Spring sale ","discountType":"percent","discountValue":12.5,
			"discountCap":1500,"beginsAt":"2026-12-01T00:00:00Z","endsAt":"2026-12-31","maxUsage":100,"maxUsagePerClient":1,"utmSource":"Spring"}`)
		p := webtest.Decode[promotionJSON](t, r)
		if p.ID == 0 || p.Name != "Spring sale" || p.Status != "active" || p.Kind != "regular" || p.AppliesTo != "bill" ||
			string(p.DiscountValue) != "12.5" || *p.DiscountCap != 1500 || p.MaxUsage != 100 || p.MaxUsagePerClient != 1 ||
			*p.UTMSource != "Spring" || p.UTMCampaign != nil || p.Uses != 0 || p.CreatedAt.IsZero() {
			t.Fatalf("created = %+v", p)
		}
		if !p.BeginsAt.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) || !p.EndsAt.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("dates = %v – %v", p.BeginsAt, p.EndsAt)
		}
		if stored, err := h.Store.Promotion(t.Context(), p.ID); err != nil || stored.DiscountValue != 1250 {
			t.Errorf("stored value = %d (%v), want 1250 basis points", stored.DiscountValue, err)
		}

		got := webtest.Decode[promotionJSON](t, h.MustAPI(http.StatusOK, "GET", fmt.Sprintf("/api/promotions/%d", p.ID), ""))
		if got.ID != p.ID || string(got.DiscountValue) != "12.5" {
			t.Errorf("get = %+v", got)
		}
		webtest.WantError(t, h.API("GET", "/api/promotions/999999", ""), http.StatusNotFound, "not_found")
		webtest.WantError(t, h.API("GET", "/api/promotions/abc", ""), http.StatusNotFound, "not_found")

		upd := webtest.Decode[promotionJSON](t, h.MustAPI(http.StatusOK, "PUT", fmt.Sprintf("/api/promotions/%d", p.ID),
			`{"name":"Spring","discountType":"fixed","discountValue":500,"utmCampaign":"spring-2026","status":"inactive"}`))
		if upd.Name != "Spring" || upd.DiscountType != "fixed" || string(upd.DiscountValue) != "500" || upd.DiscountCap != nil ||
			upd.UTMSource != nil || *upd.UTMCampaign != "spring-2026" || upd.Status != "inactive" || upd.BeginsAt != nil || upd.MaxUsage != 0 {
			t.Errorf("PUT replaces every field: %+v", upd)
		}
		webtest.WantError(t, h.API("PUT", "/api/promotions/999999", `{"name":"x","discountType":"fixed","discountValue":1,"utmSource":"x"}`), http.StatusNotFound, "not_found")

		arch := webtest.Decode[promotionJSON](t, h.MustAPI(http.StatusOK, "POST", fmt.Sprintf("/api/promotions/%d/archive", p.ID), ""))
		if arch.Status != "archived" {
			t.Errorf("archived status = %q", arch.Status)
		}
		h.MustAPI(http.StatusOK, "POST", fmt.Sprintf("/api/promotions/%d/archive", p.ID), "")
	})
}

func TestPromotionAPIRefusesBadFieldsByName(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		for _, tc := range []struct {
			name, body string
			fields     []string
		}{
			{"dates out of order", `{"name":"a","discountType":"fixed","discountValue":100,"utmSource":"s","beginsAt":"2026-12-31","endsAt":"2026-12-01"}`, []string{"endsAt"}},
			{"percentage over 100", `{"name":"a","discountType":"percent","discountValue":100.01,"utmSource":"s"}`, []string{"discountValue"}},
			{"three decimals", `{"name":"a","discountType":"percent","discountValue":"12.345","utmSource":"s"}`, []string{"discountValue"}},
			{"regular without a tag", `{"name":"a","discountType":"percent","discountValue":10}`, []string{"utmSource"}},
			{"everything at once", `{"discountType":"half","status":"on","kind":"other","appliesTo":"items","maxUsage":-1,"maxUsagePerClient":-2,"discountCap":0,"beginsAt":"soon"}`,
				[]string{"name", "discountType", "status", "kind", "appliesTo", "maxUsage", "maxUsagePerClient", "discountCap", "beginsAt"}},
			{"value of the wrong type", `{"name":"a","discountType":"fixed","discountValue":true,"utmSource":"s"}`, []string{"discountValue"}},
			{"limit of the wrong type", `{"name":"a","discountType":"fixed","discountValue":1,"utmSource":"s","maxUsage":"ten"}`, []string{"maxUsage"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				webtest.WantError(t, h.API("POST", "/api/promotions", tc.body), http.StatusUnprocessableEntity, "invalid", tc.fields...)
			})
		}
		var n int64
		if page, err := h.Store.ListPromotions(t.Context(), models.PromotionFilter{}); err != nil || len(page.Promotions) != 0 {
			t.Fatalf("refused requests stored %d promotions (%v)", len(page.Promotions)+int(n), err)
		}
	})
}

func TestPromotionAPIListsWithFiltersAndPages(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		for i := range 5 {
			status := "active"
			if i%2 == 1 {
				status = "inactive"
			}
			h.MustAPI(http.StatusCreated, "POST", "/api/promotions",
				fmt.Sprintf(`{"name":"p%d","status":%q,"discountType":"fixed","discountValue":100,"utmSource":"src%d","utmCampaign":"Shared"}`, i, status, i%2))
		}
		type list struct {
			Promotions []promotionJSON `json:"promotions"`
			Next       string          `json:"next"`
		}
		names := func(l list) string {
			var out []string
			for _, p := range l.Promotions {
				out = append(out, p.Name)
			}
			return strings.Join(out, ",")
		}
		first := webtest.Decode[list](t, h.MustAPI(http.StatusOK, "GET", "/api/promotions?limit=2", ""))
		if names(first) != "p4,p3" || first.Next == "" {
			t.Fatalf("first page = %s next %q, want p4,p3 and a cursor", names(first), first.Next)
		}
		second := webtest.Decode[list](t, h.MustAPI(http.StatusOK, "GET", "/api/promotions?limit=2&after="+first.Next, ""))
		third := webtest.Decode[list](t, h.MustAPI(http.StatusOK, "GET", "/api/promotions?limit=2&after="+second.Next, ""))
		if names(second) != "p2,p1" || names(third) != "p0" || third.Next != "" {
			t.Fatalf("pages = %s / %s (next %q)", names(second), names(third), third.Next)
		}
		if got := names(webtest.Decode[list](t, h.MustAPI(http.StatusOK, "GET", "/api/promotions?status=inactive", ""))); got != "p3,p1" {
			t.Errorf("status=inactive: %s", got)
		}
		if got := names(webtest.Decode[list](t, h.MustAPI(http.StatusOK, "GET", "/api/promotions?utm=SRC0", ""))); got != "p4,p2,p0" {
			t.Errorf("utm=SRC0 (a source, other case): %s", got)
		}
		if got := names(webtest.Decode[list](t, h.MustAPI(http.StatusOK, "GET", "/api/promotions?utm=shared&kind=regular", ""))); got != "p4,p3,p2,p1,p0" {
			t.Errorf("utm=shared (a campaign): %s", got)
		}
		webtest.WantError(t, h.API("GET", "/api/promotions?status=live&limit=0x", ""), http.StatusUnprocessableEntity, "invalid", "limit")
		webtest.WantError(t, h.API("GET", "/api/promotions?status=live", ""), http.StatusUnprocessableEntity, "invalid", "status")
		webtest.WantError(t, h.API("GET", "/api/promotions?after=bogus", ""), http.StatusUnprocessableEntity, "invalid", "cursor")
	})
}

func TestSingleUseCouponAPI(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		r := h.MustAPI(http.StatusCreated, "POST", "/api/single-use-coupons",
			`{"code":"Birthday123","customerId":"cust-42","discountType":"percent","discountValue":20,"discountCap":2000,"endsAt":"2027-01-31T23:59:59Z"}`)
		var out struct {
			Coupon struct {
				Code              string  `json:"code"`
				UTMSource         *string `json:"utmSource"`
				MaxUsage          int     `json:"maxUsage"`
				MaxUsagePerClient int     `json:"maxUsagePerClient"`
				CustomerID        *string `json:"customerId"`
			} `json:"coupon"`
			Promotion promotionJSON `json:"promotion"`
		}
		if err := json.Unmarshal([]byte(r.Body), &out); err != nil {
			t.Fatal(err)
		}
		c, p := out.Coupon, out.Promotion
		if c.Code != "Birthday123" || c.MaxUsage != 1 || c.MaxUsagePerClient != 1 || *c.CustomerID != "cust-42" || c.UTMSource == nil {
			t.Fatalf("coupon = %+v", c)
		}
		if p.MaxUsage != 1 || p.MaxUsagePerClient != 1 || *p.UTMSource != *c.UTMSource || string(p.DiscountValue) != "20" || *p.DiscountCap != 2000 || p.EndsAt == nil {
			t.Fatalf("promotion = %+v", p)
		}

		v := webtest.Decode[validationJSON](t, h.MustAPI(http.StatusOK, "GET", "/api/coupons/birthday123/validation?customerId=someone-else", ""))
		if v.Valid || !slices.Equal(v.Reasons, []string{"NOT_FOR_CUSTOMER"}) {
			t.Errorf("another customer: %+v, want NOT_FOR_CUSTOMER", v)
		}
		v = webtest.Decode[validationJSON](t, h.MustAPI(http.StatusOK, "GET", "/api/coupons/birthday123/validation?customerId=cust-42&orderAmount=20000", ""))
		if !v.Valid || len(v.Promotions) != 1 || v.Promotions[0].ID != p.ID || *v.Discount != 2000 {
			t.Errorf("the customer: %+v, want valid with 2000 off (20%% of 20000 capped)", v)
		}

		e := webtest.WantError(t, h.API("POST", "/api/single-use-coupons", `{"code":"BIRTHDAY123","discountType":"fixed","discountValue":500}`), http.StatusConflict, "duplicate_code", "code")
		if !strings.Contains(e.Error.Message, "BIRTHDAY123") {
			t.Errorf("duplicate message %q does not name the code", e.Error.Message)
		}
		webtest.WantError(t, h.API("POST", "/api/single-use-coupons", `{"code":"bad code","customerId":"has space","discountType":"percent","discountValue":0,"endsAt":"2020-01-01"}`),
			http.StatusUnprocessableEntity, "invalid", "code", "customerId", "discountValue", "endsAt")
		page, err := h.Store.ListPromotions(t.Context(), models.PromotionFilter{})
		if err != nil || len(page.Promotions) != 1 {
			t.Fatalf("promotions after the refused requests = %d (%v), want only the first", len(page.Promotions), err)
		}
	})
}

func TestValidateAndRedeemAPI(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		h.MustAPI(http.StatusCreated, "POST", "/api/promotions", `{"name":"Ten off","discountType":"percent","discountValue":10,"utmCampaign":"news"}`)
		h.MustAPI(http.StatusCreated, "POST", "/api/promotions", `{"name":"Five flat","discountType":"fixed","discountValue":500,"utmSource":"mail"}`)
		h.MustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"NEWS2","utmSource":"MAIL","utmCampaign":"News","maxUsage":2}`)

		v := webtest.Decode[validationJSON](t, h.MustAPI(http.StatusOK, "GET", "/api/coupons/news2/validation?customerId=a&items=3&orderAmount=3000", ""))
		if !v.Valid || len(v.Reasons) != 0 || len(v.Promotions) != 2 || *v.Discount != 800 || *v.Promotions[0].Discount != 300 || *v.Promotions[1].Discount != 500 {
			t.Fatalf("validation = %+v, want valid with 300 + 500 off", v)
		}
		if r := h.MustAPI(http.StatusOK, "GET", "/api/coupons/news2/validation", ""); strings.Contains(r.Body, `"discount"`) {
			t.Errorf("without an amount the answer names no discount: %s", r.Body)
		}
		v = webtest.Decode[validationJSON](t, h.MustAPI(http.StatusOK, "GET", "/api/coupons/nope/validation", ""))
		if v.Valid || !slices.Equal(v.Reasons, []string{"NOT_FOUND"}) || v.Promotions == nil {
			t.Errorf("unknown code = %+v", v)
		}
		webtest.WantError(t, h.API("GET", "/api/coupons/news2/validation?items=many&orderAmount=-1", ""), http.StatusUnprocessableEntity, "invalid", "items")
		webtest.WantError(t, h.API("GET", "/api/coupons/news2/validation?orderAmount=-1", ""), http.StatusUnprocessableEntity, "invalid", "orderAmount")

		r := h.MustAPI(http.StatusCreated, "POST", "/api/redemptions", `{"code":"news2","customerId":"a","orderId":"o-1","items":3,"orderAmount":3000}`)
		red := webtest.Decode[redemptionJSON](t, r)
		if red.ID == 0 || red.Code != "NEWS2" || red.CustomerID != "a" || red.OrderID != "o-1" || red.Items != 3 || *red.Discount != 800 ||
			len(red.Promotions) != 2 || red.Cancelled || red.CreatedAt.IsZero() || red.Promotions[0].Name != "Ten off" {
			t.Fatalf("redemption = %+v", red)
		}
		again := webtest.Decode[redemptionJSON](t, h.MustAPI(http.StatusOK, "POST", "/api/redemptions", `{"code":"NEWS2","customerId":"a","orderId":"o-1","items":3}`))
		if again.ID != red.ID {
			t.Fatalf("retry answered %d, want the first redemption %d", again.ID, red.ID)
		}
		h.MustAPI(http.StatusCreated, "POST", "/api/redemptions", `{"code":"NEWS2","customerId":"b","orderId":"o-2","items":1}`)
		e := webtest.WantError(t, h.API("POST", "/api/redemptions", `{"code":"NEWS2","customerId":"c","orderId":"o-3","items":1}`), http.StatusConflict, "not_redeemable")
		if !slices.Equal(e.Error.Reasons, []string{"USAGE_LIMIT"}) {
			t.Fatalf("reasons = %v, want [USAGE_LIMIT]", e.Error.Reasons)
		}

		cancelled := webtest.Decode[redemptionJSON](t, h.MustAPI(http.StatusOK, "POST", fmt.Sprintf("/api/redemptions/%d/cancel", red.ID), ""))
		if !cancelled.Cancelled || cancelled.CancelledAt == nil {
			t.Fatalf("cancel = %+v", cancelled)
		}
		twice := webtest.Decode[redemptionJSON](t, h.MustAPI(http.StatusOK, "POST", fmt.Sprintf("/api/redemptions/%d/cancel", red.ID), ""))
		if !twice.CancelledAt.Equal(*cancelled.CancelledAt) {
			t.Errorf("cancelling twice moved the time: %v then %v", cancelled.CancelledAt, twice.CancelledAt)
		}
		got := webtest.Decode[redemptionJSON](t, h.MustAPI(http.StatusOK, "GET", fmt.Sprintf("/api/redemptions/%d", red.ID), ""))
		if !got.Cancelled || len(got.Promotions) != 2 {
			t.Errorf("get after cancel = %+v", got)
		}
		h.MustAPI(http.StatusCreated, "POST", "/api/redemptions", `{"code":"NEWS2","customerId":"c","orderId":"o-3","items":1}`)
		webtest.WantError(t, h.API("POST", "/api/redemptions/424242/cancel", ""), http.StatusNotFound, "not_found")
		webtest.WantError(t, h.API("GET", "/api/redemptions/x", ""), http.StatusNotFound, "not_found")

		webtest.WantError(t, h.API("POST", "/api/redemptions", `{}`), http.StatusUnprocessableEntity, "invalid", "code", "customerId", "orderId", "items")
		webtest.WantError(t, h.API("POST", "/api/redemptions", `{"code":"NEWS2","customerId":"a","orderId":"o","items":"two"}`), http.StatusUnprocessableEntity, "invalid", "items")
		webtest.WantError(t, h.API("POST", "/api/redemptions", `{"code":"NEWS2","customerId":"a","orderId":"o","items":1,"orderAmount":1.5}`), http.StatusUnprocessableEntity, "invalid", "orderAmount")
		e = webtest.WantError(t, h.API("POST", "/api/redemptions", `{"code":"NOPE","customerId":"a","orderId":"o","items":1}`), http.StatusConflict, "not_redeemable")
		if !slices.Equal(e.Error.Reasons, []string{"NOT_FOUND"}) {
			t.Errorf("unknown code reasons = %v", e.Error.Reasons)
		}
	})
}

func TestGuessingIsRefusedPerClientAndCustomer(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		clock := webtest.NewClock(webtest.Epoch)
		s := storetest.Open(t, dialect, models.Config{GuessLimit: new(3), GuessWindow: 10 * time.Minute, Now: clock.Now, PasswordCost: bcrypt.MinCost})
		h := webtest.New(t, s, web.Config{BodyLimit: "64K", TrustProxy: true})
		h.MustAPI(http.StatusCreated, "POST", "/api/promotions", `{"name":"p","discountType":"fixed","discountValue":100,"utmSource":"s"}`)
		h.MustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"REAL","utmSource":"s"}`)
		from := func(ip string) map[string]string {
			return map[string]string{"X-Auth-Token": h.Token, "X-Forwarded-For": ip}
		}
		for i := range 3 {
			r := h.APIWith(from("203.0.113.7"), "GET", fmt.Sprintf("/api/coupons/GUESS%d/validation", i), "")
			if r.Status != http.StatusOK {
				t.Fatalf("guess %d: %d %s", i, r.Status, r.Body)
			}
		}
		r := h.APIWith(from("203.0.113.7"), "GET", "/api/coupons/REAL/validation", "")
		webtest.WantError(t, r, http.StatusTooManyRequests, "too_many_guesses")
		if ra := r.Header.Get("Retry-After"); ra != "600" {
			t.Errorf("Retry-After = %q, want 600 (when the first guess leaves the window)", ra)
		}
		webtest.WantError(t, h.APIWith(from("203.0.113.7"), "POST", "/api/redemptions", `{"code":"REAL","customerId":"x","orderId":"o","items":1}`), http.StatusTooManyRequests, "too_many_guesses")
		if r := h.APIWith(from("198.51.100.1"), "GET", "/api/coupons/REAL/validation", ""); r.Status != http.StatusOK || !strings.Contains(r.Body, `"valid":true`) {
			t.Errorf("another client with a valid code: %d %s", r.Status, r.Body)
		}

		// One customer id guessing from many addresses is stopped too.
		for i := range 3 {
			body := fmt.Sprintf(`{"code":"WRONG%d","customerId":"mallory","orderId":"o%d","items":1}`, i, i)
			webtest.WantError(t, h.APIWith(from(fmt.Sprintf("192.0.2.%d", i+1)), "POST", "/api/redemptions", body), http.StatusConflict, "not_redeemable")
		}
		webtest.WantError(t, h.APIWith(from("192.0.2.99"), "POST", "/api/redemptions", `{"code":"REAL","customerId":"mallory","orderId":"o9","items":1}`), http.StatusTooManyRequests, "too_many_guesses")
		h.MustAPI(http.StatusCreated, "POST", "/api/redemptions", `{"code":"REAL","customerId":"honest","orderId":"o10","items":1}`)

		clock.Advance(10 * time.Minute)
		if r := h.APIWith(from("203.0.113.7"), "GET", "/api/coupons/REAL/validation", ""); r.Status != http.StatusOK {
			t.Errorf("after the window: %d %s", r.Status, r.Body)
		}
	})
}

func TestVTEXUsageReport(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		h.MustAPI(http.StatusCreated, "POST", "/api/promotions", `{"name":"p","discountType":"fixed","discountValue":100,"utmSource":"s"}`)
		h.MustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"Used","utmSource":"s"}`)
		h.MustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"Fresh","utmSource":"s"}`)
		h.MustAPI(http.StatusCreated, "POST", "/api/redemptions", `{"code":"used","customerId":"p-1","orderId":"1001-01","items":1}`)
		h.MustAPI(http.StatusCreated, "POST", "/api/redemptions", `{"code":"used","customerId":"p-1","orderId":"1002-01","items":1}`)
		gone := webtest.Decode[redemptionJSON](t, h.MustAPI(http.StatusCreated, "POST", "/api/redemptions", `{"code":"used","customerId":"p-2","orderId":"1003-01","items":1}`))
		h.MustAPI(http.StatusOK, "POST", fmt.Sprintf("/api/redemptions/%d/cancel", gone.ID), "")

		r := h.MustAPI(http.StatusOK, "GET", "/api/rnb/pvt/coupon/usage/USED", "")
		var u struct {
			HostName      string `json:"hostName"`
			CouponCode    string `json:"couponCode"`
			ProfileUsages map[string]struct {
				OrderUsage []struct {
					OrderID      string `json:"orderId"`
					UsageDateUtc string `json:"usageDateUtc"`
				} `json:"orderUsage"`
			} `json:"profileUsages"`
		}
		if err := json.Unmarshal([]byte(r.Body), &u); err != nil {
			t.Fatal(err)
		}
		if u.HostName != "127.0.0.1" || u.CouponCode != "Used" || len(u.ProfileUsages) != 1 {
			t.Fatalf("usage = %s, want host 127.0.0.1, code Used and only customer p-1 (p-2's order was cancelled)", r.Body)
		}
		orders := u.ProfileUsages["p-1"].OrderUsage
		first, err := h.Store.ListRedemptions(t.Context(), models.RedemptionFilter{CouponID: h.MustCoupon("Used").ID})
		if err != nil {
			t.Fatal(err)
		}
		want := first.Redemptions[len(first.Redemptions)-1].CreatedAt.Format("2006-01-02T15:04:05.0000000Z")
		if len(orders) != 2 || orders[0].OrderID != "1001-01" || orders[1].OrderID != "1002-01" || orders[0].UsageDateUtc != want {
			t.Fatalf("p-1's orders = %+v, want 1001-01 and 1002-01 at %s", orders, want)
		}
		if r := h.MustAPI(http.StatusOK, "GET", "/api/rnb/pvt/coupon/usage/fresh", ""); !strings.Contains(r.Body, `"profileUsages":{}`) {
			t.Errorf("an unused coupon: %s, want empty profileUsages", r.Body)
		}
		webtest.WantError(t, h.API("GET", "/api/rnb/pvt/coupon/usage/nope", ""), http.StatusNotFound, "not_found")
	})
}

func TestRedemptionListAPI(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		h.MustAPI(http.StatusCreated, "POST", "/api/promotions", `{"name":"Ten","discountType":"percent","discountValue":10,"utmSource":"news"}`)
		h.MustTaggedCoupon("NEWS1", "news", "")
		for i, customer := range []string{"c1", "c2", "c1"} {
			h.MustAPI(http.StatusCreated, "POST", "/api/redemptions", fmt.Sprintf(`{"code":"NEWS1","customerId":%q,"orderId":"o%d","items":1,"orderAmount":1000}`, customer, i+1))
		}
		type list struct {
			Redemptions []redemptionJSON `json:"redemptions"`
			Next        string           `json:"next"`
		}
		read := map[string]string{"X-Auth-Token": h.ReadToken}
		orders := func(l list) (out []string) {
			for _, r := range l.Redemptions {
				out = append(out, r.OrderID)
			}
			return out
		}

		first := webtest.Decode[list](t, h.APIWith(read, "GET", "/api/redemptions?limit=2", ""))
		if !slices.Equal(orders(first), []string{"o3", "o2"}) || first.Next == "" || first.Redemptions[0].Discount == nil || *first.Redemptions[0].Discount != 100 ||
			len(first.Redemptions[0].Promotions) != 1 {
			t.Fatalf("first page: %+v", first)
		}
		second := webtest.Decode[list](t, h.APIWith(read, "GET", "/api/redemptions?limit=2&after="+url.QueryEscape(first.Next), ""))
		if !slices.Equal(orders(second), []string{"o1"}) || second.Next != "" {
			t.Errorf("second page: %+v", second)
		}
		if got := orders(webtest.Decode[list](t, h.APIWith(read, "GET", "/api/redemptions?customerId=c1&code=news1", ""))); !slices.Equal(got, []string{"o3", "o1"}) {
			t.Errorf("one customer's: %v", got)
		}

		webtest.WantError(t, h.APIWith(read, "GET", "/api/redemptions?from=soon&status=maybe&limit=x&promotionId=x", ""), http.StatusUnprocessableEntity, "invalid",
			"from", "status", "limit", "promotionId")
		webtest.WantError(t, h.APIWith(read, "GET", "/api/redemptions?from=2026-12-02&to=2026-12-01", ""), http.StatusUnprocessableEntity, "invalid", "to")
		webtest.WantError(t, h.APIWith(read, "GET", "/api/redemptions.csv?to=never", ""), http.StatusUnprocessableEntity, "invalid", "to")

		r := h.APIWith(read, "GET", "/api/redemptions.csv?customerId=c2", "")
		rows, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
		if err != nil || r.Status != http.StatusOK || len(rows) != 2 || rows[1][3] != "o2" || rows[1][5] != "1000" || rows[1][6] != "100" || rows[1][7] != "Ten" {
			t.Errorf("CSV: %d %v %v", r.Status, rows, err)
		}
	})
}
