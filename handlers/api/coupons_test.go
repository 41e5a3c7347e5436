package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/web/webtest"
)

type couponJSON struct {
	Code                     string     `json:"code"`
	State                    string     `json:"state"`
	UTMSource                *string    `json:"utmSource"`
	UTMCampaign              *string    `json:"utmCampaign"`
	Archived                 bool       `json:"archived"`
	MaxUsage                 int        `json:"maxUsage"`
	MaxUsagePerClient        int        `json:"maxUsagePerClient"`
	MaxItemsPerClient        int        `json:"maxItemsPerClient"`
	ExpirationIntervalPerUse string     `json:"expirationIntervalPerUse"`
	Uses                     int        `json:"uses"`
	CustomerID               *string    `json:"customerId"`
	BatchID                  *int64     `json:"batchId"`
	PromotionID              *int64     `json:"promotionId"`
	ExpiresAt                *time.Time `json:"expiresAt"`
	CreatedAt                time.Time  `json:"createdAt"`
}

type couponListJSON struct {
	Coupons []couponJSON `json:"coupons"`
	Next    string       `json:"next"`
}

// A coupon goes through its life on the native API alone: created with
// its limits, read in any case, changed field by field, archived and
// unarchived, each answer with the state the console would show.
func TestCouponsOverTheNativeAPI(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		h.MustPromotion(models.PromotionInput{Name: "Spring", Status: models.PromotionActive, UTMSource: new("spring")})
		c := webtest.Decode[couponJSON](t, h.MustAPI(http.StatusCreated, "POST", "/api/coupons",
			`{"code":"Spring-25","utmSource":"Spring","maxUsage":3,"maxUsagePerClient":1,"expirationIntervalPerUse":"1.00:00:00"}`))
		if c.Code != "Spring-25" || c.State != models.CouponActive || c.UTMSource == nil || *c.UTMSource != "Spring" || c.MaxUsage != 3 ||
			c.MaxUsagePerClient != 1 || c.ExpirationIntervalPerUse != "1.00:00:00" || c.Archived || c.Uses != 0 || c.CreatedAt.IsZero() {
			t.Errorf("created = %+v", c)
		}
		webtest.WantError(t, h.API("POST", "/api/coupons", `{"code":"SPRING-25"}`), http.StatusConflict, "duplicate_code")

		got := webtest.Decode[couponJSON](t, h.MustAPI(http.StatusOK, "GET", "/api/coupons/spring-25", ""))
		if got.Code != "Spring-25" || got.MaxUsage != 3 {
			t.Errorf("read in another case = %+v", got)
		}
		webtest.WantError(t, h.API("GET", "/api/coupons/NOPE", ""), http.StatusNotFound, "not_found")

		// A patch changes only what it names; "" removes a tag.
		p := webtest.Decode[couponJSON](t, h.MustAPI(http.StatusOK, "PATCH", "/api/coupons/SPRING-25", `{"maxUsage":10,"utmCampaign":"easter"}`))
		if p.MaxUsage != 10 || p.MaxUsagePerClient != 1 || p.ExpirationIntervalPerUse != "1.00:00:00" || p.UTMSource == nil || *p.UTMSource != "Spring" ||
			p.UTMCampaign == nil || *p.UTMCampaign != "easter" {
			t.Errorf("after a patch of maxUsage and utmCampaign = %+v", p)
		}
		p = webtest.Decode[couponJSON](t, h.MustAPI(http.StatusOK, "PATCH", "/api/coupons/SPRING-25", `{"utmSource":""}`))
		if p.UTMSource != nil || p.State != models.CouponNoActivePromotion || p.MaxUsage != 10 {
			t.Errorf("after removing the source tag = %+v", p)
		}
		if stored := h.MustCoupon("SPRING-25"); stored.UTMSource != nil || stored.MaxUsage != 10 || stored.UTMCampaign == nil {
			t.Errorf("stored after the patches = %+v", stored)
		}
		// Bad input names each field, and changes nothing.
		e := webtest.WantError(t, h.API("PATCH", "/api/coupons/SPRING-25", `{"maxUsage":-1,"expirationIntervalPerUse":"soon"}`), http.StatusUnprocessableEntity, "invalid",
			"maxUsage", "expirationIntervalPerUse")
		if len(e.Error.Fields) != 2 {
			t.Errorf("fields of the refusal = %v", e.Error.Fields)
		}
		webtest.WantError(t, h.API("PATCH", "/api/coupons/SPRING-25", `{"maxUsages":5}`), http.StatusUnprocessableEntity, "invalid", "maxUsages")
		webtest.WantError(t, h.API("PATCH", "/api/coupons/SPRING-25", `{"maxUsage":"5"}`), http.StatusUnprocessableEntity, "invalid", "maxUsage")
		webtest.WantError(t, h.API("POST", "/api/coupons", `{"code":"x y","maxUsage":-2,"colour":"red"}`), http.StatusUnprocessableEntity, "invalid", "colour")
		webtest.WantError(t, h.API("POST", "/api/coupons", `{"code":"x y","maxUsage":-2}`), http.StatusUnprocessableEntity, "invalid", "code", "maxUsage")
		webtest.WantError(t, h.API("PATCH", "/api/coupons/NOPE", `{"maxUsage":1}`), http.StatusNotFound, "not_found")
		if stored := h.MustCoupon("SPRING-25"); stored.MaxUsage != 10 || stored.ExpirationIntervalPerUse != 24*time.Hour {
			t.Errorf("a refused patch changed the coupon: %+v", stored)
		}
		if _, ok := h.Coupon("x y"); ok {
			t.Error("a refused create stored a coupon")
		}

		// A patch that changes nothing writes nothing.
		before := h.MustCoupon("SPRING-25")
		h.MustAPI(http.StatusOK, "PATCH", "/api/coupons/SPRING-25", `{"maxUsage":10}`)
		h.MustAPI(http.StatusOK, "PATCH", "/api/coupons/SPRING-25", `{}`)
		if after := h.MustCoupon("SPRING-25"); !after.UpdatedAt.Equal(before.UpdatedAt) {
			t.Errorf("a patch without a change moved updatedAt from %v to %v", before.UpdatedAt, after.UpdatedAt)
		}

		a := webtest.Decode[couponJSON](t, h.MustAPI(http.StatusOK, "POST", "/api/coupons/SPRING-25/archive", ""))
		if !a.Archived || a.State != models.CouponArchived {
			t.Errorf("archived = %+v", a)
		}
		u := webtest.Decode[couponJSON](t, h.MustAPI(http.StatusOK, "POST", "/api/coupons/SPRING-25/unarchive", ""))
		if u.Archived || u.State == models.CouponArchived {
			t.Errorf("unarchived = %+v", u)
		}
	})
}

// Two patches of different fields sent at once both land: the second is
// applied to what the first left, not to what it read before.
func TestConcurrentPatchesOfACouponBothLand(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		h.MustAPI(http.StatusCreated, "POST", "/api/coupons", `{"code":"BOTH"}`)
		for round := range 10 {
			var wg sync.WaitGroup
			wg.Go(func() {
				h.MustAPI(http.StatusOK, "PATCH", "/api/coupons/BOTH", `{"maxUsage":`+strconv.Itoa(round+1)+`}`)
			})
			wg.Go(func() {
				h.MustAPI(http.StatusOK, "PATCH", "/api/coupons/BOTH", `{"maxItemsPerClient":`+strconv.Itoa(round+1)+`}`)
			})
			wg.Wait()
			if c := h.MustCoupon("BOTH"); c.MaxUsage != round+1 || c.MaxItemsPerClient != round+1 {
				t.Fatalf("round %d: maxUsage %d, maxItemsPerClient %d: a patch was lost", round, c.MaxUsage, c.MaxItemsPerClient)
			}
		}
	})
}

// The list filters as the console and the CSV export do (a part of the
// code, the start of a tag, state, status), pages with after and limit,
// and names a bad filter.
func TestListingCouponsOverTheNativeAPI(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		h.MustPromotion(models.PromotionInput{Name: "Fall", Status: models.PromotionActive, UTMSource: new("fall")})
		for _, body := range []string{
			`{"code":"FALL-1","utmSource":"fall"}`, `{"code":"FALL-2","utmSource":"fall"}`, `{"code":"FALL-3","utmSource":"fall","archived":true}`,
			`{"code":"WINTER-1","utmSource":"winter"}`, `{"code":"OTHER","utmSource":"fall","utmCampaign":"leaves"}`,
		} {
			h.MustAPI(http.StatusCreated, "POST", "/api/coupons", body)
		}
		list := func(q url.Values) couponListJSON {
			t.Helper()
			return webtest.Decode[couponListJSON](t, h.MustAPI(http.StatusOK, "GET", "/api/coupons?"+q.Encode(), ""))
		}
		codes := func(l couponListJSON) []string {
			var out []string
			for _, c := range l.Coupons {
				out = append(out, c.Code)
			}
			return out
		}
		for _, tc := range []struct {
			q    url.Values
			want []string
		}{
			{url.Values{}, []string{"FALL-1", "FALL-2", "FALL-3", "OTHER", "WINTER-1"}},
			{url.Values{"q": {"all-"}}, []string{"FALL-1", "FALL-2", "FALL-3"}},
			{url.Values{"status": {"archived"}}, []string{"FALL-3"}},
			{url.Values{"utmSource": {"win"}}, []string{"WINTER-1"}},
			{url.Values{"utmSource": {"FALL"}, "state": {models.CouponActive}}, []string{"FALL-1", "FALL-2", "OTHER"}},
			{url.Values{"utmCampaign": {"leaves"}}, []string{"OTHER"}},
			{url.Values{"state": {models.CouponArchived}}, []string{"FALL-3"}},
			{url.Values{"state": {models.CouponNoActivePromotion}}, []string{"WINTER-1"}},
		} {
			if got := codes(list(tc.q)); !slices.Equal(got, tc.want) {
				t.Errorf("GET /api/coupons?%s = %v, want %v", tc.q.Encode(), got, tc.want)
			}
		}
		var paged []string
		q := url.Values{"limit": {"2"}}
		for page := 0; ; page++ {
			l := list(q)
			if len(l.Coupons) > 2 || page > 3 {
				t.Fatalf("page %d has %d coupons", page, len(l.Coupons))
			}
			paged = append(paged, codes(l)...)
			if l.Next == "" {
				break
			}
			q.Set("after", l.Next)
		}
		if want := []string{"FALL-1", "FALL-2", "FALL-3", "OTHER", "WINTER-1"}; !slices.Equal(paged, want) {
			t.Errorf("pages of 2 = %v, want %v", paged, want)
		}
		webtest.WantError(t, h.API("GET", "/api/coupons?state=sleeping&limit=x", ""), http.StatusUnprocessableEntity, "invalid", "state", "limit")
		webtest.WantError(t, h.API("GET", "/api/coupons?sort=colour", ""), http.StatusUnprocessableEntity, "invalid", "sort")
		webtest.WantError(t, h.API("GET", "/api/coupons?after=garbage", ""), http.StatusUnprocessableEntity, "invalid")
	})
}
