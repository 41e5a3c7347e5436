package handlers_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
)

type vtexCoupon struct {
	UTMSource                *string `json:"utmSource"`
	UTMCampaign              *string `json:"utmCampaign"`
	CouponCode               string  `json:"couponCode"`
	IsArchived               bool    `json:"isArchived"`
	MaxItemsPerClient        int     `json:"maxItemsPerClient"`
	ExpirationIntervalPerUse string  `json:"expirationIntervalPerUse"`
	MaxUsage                 int     `json:"maxUsage"`
	GroupingKey              *string `json:"groupingKey"`
	LastModifiedUtc          string  `json:"lastModifiedUtc"`
}

// vtexTimestamp is VTEX's lastModifiedUtc: UTC with seven fractional
// digits, as in its published examples.
var vtexTimestamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$`)

func TestVTEXUpsertAndGet(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		r := h.api("POST", "/api/rnb/pvt/coupon", `{"utmSource":"news","utmCampaign":null,"couponCode":" Summer10 ","isArchived":false,"maxItemsPerClient":2,"expirationIntervalPerUse":"14.00:00:00","maxUsage":100}`)
		if r.status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		got := decode[map[string]any](t, r)
		// utmCampaign has no value, and VTEX types it as a string: it is
		// left out, never null; a coupon created on its own has no
		// groupingKey.
		wantKeys := []string{"couponCode", "expirationIntervalPerUse", "isArchived", "lastModifiedUtc", "maxItemsPerClient", "maxUsage", "utmSource"}
		keys := make([]string, 0, len(got))
		for k := range got {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, wantKeys) {
			t.Errorf("keys = %v, want VTEX's %v", keys, wantKeys)
		}
		c := decode[vtexCoupon](t, r)
		if c.CouponCode != "Summer10" || c.ExpirationIntervalPerUse != "14.00:00:00" || c.MaxUsage != 100 || c.UTMCampaign != nil || *c.UTMSource != "news" {
			t.Errorf("created = %+v", c)
		}
		if !vtexTimestamp.MatchString(c.LastModifiedUtc) {
			t.Errorf("lastModifiedUtc = %q, want VTEX's form 2021-11-10T14:24:39.3683694Z", c.LastModifiedUtc)
		}

		r = h.api("POST", "/api/rnb/pvt/coupon", `{"couponCode":"SUMMER10","maxUsage":5,"isArchived":true}`)
		if r.status != http.StatusOK {
			t.Fatalf("update: %d %s", r.status, r.body)
		}
		c = decode[vtexCoupon](t, r)
		if c.CouponCode != "Summer10" || c.MaxUsage != 5 || !c.IsArchived || c.UTMSource != nil || c.ExpirationIntervalPerUse != "00:00:00" {
			t.Errorf("updated = %+v, want the original code with the new configuration", c)
		}

		r = h.api("GET", "/api/rnb/pvt/coupon/summer10", "")
		if r.status != http.StatusOK || decode[vtexCoupon](t, r).CouponCode != "Summer10" {
			t.Fatalf("get: %d %s", r.status, r.body)
		}
		if strings.Contains(r.body, "null") {
			t.Errorf("a coupon with no UTM tags is sent with nulls: %s", r.body)
		}
		wantError(t, h.api("GET", "/api/rnb/pvt/coupon/nope", ""), http.StatusNotFound, "not_found")
	})
}

func TestVTEXBadInput(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		wantError(t, h.api("POST", "/api/rnb/pvt/coupon", `{"couponCode":`), http.StatusBadRequest, "bad_request")
		wantError(t, h.api("POST", "/api/rnb/pvt/coupon", ``), http.StatusBadRequest, "bad_request")
		wantError(t, h.api("POST", "/api/rnb/pvt/coupon", `[1]`), http.StatusBadRequest, "bad_request")
		wantError(t, h.api("POST", "/api/rnb/pvt/coupon", `{"couponCode":"x","maxUsage":"ten"}`), http.StatusUnprocessableEntity, "invalid", "maxUsage")
		wantError(t, h.api("POST", "/api/rnb/pvt/coupon", `{"couponCode":"bad code!","maxUsage":-1,"maxItemsPerClient":-1,"expirationIntervalPerUse":"forever"}`),
			http.StatusUnprocessableEntity, "invalid", "couponCode", "maxUsage", "maxItemsPerClient", "expirationIntervalPerUse")
		wantError(t, h.api("DELETE", "/api/rnb/pvt/coupon", ""), http.StatusMethodNotAllowed, "method_not_allowed")
		wantError(t, h.api("GET", "/api/rnb/pvt/nothing-here", ""), http.StatusNotFound, "not_found")
		big := `{"couponCode":"x","utmSource":"` + strings.Repeat("a", 70_000) + `"}`
		wantError(t, h.api("POST", "/api/rnb/pvt/coupon", big), http.StatusRequestEntityTooLarge, "body_too_large")
		if _, ok := h.coupon("x"); ok {
			t.Error("a refused request created coupon x")
		}
	})
}

var vtexGenerated = regexp.MustCompile(`^ctest-[a-z0-9]{15}$`)

func TestVTEXMultipleCoupons(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		r := h.api("POST", "/api/rnb/pvt/multiple-coupons", `[
			{"quantity":1,"couponConfiguration":{"couponCode":"single","maxUsage":1}},
			{"quantity":3,"couponConfiguration":{"couponCode":"ctest","utmCampaign":"xmas"}}]`)
		if r.status != http.StatusOK {
			t.Fatalf("status %d %s, want 200 as VTEX documents", r.status, r.body)
		}
		codes := decode[[]string](t, r)
		if len(codes) != 4 || codes[0] != "single" {
			t.Fatalf("codes = %v", codes)
		}
		if got := decode[vtexCoupon](t, h.api("GET", "/api/rnb/pvt/coupon/single", "")); got.GroupingKey != nil {
			t.Errorf("a coupon made with quantity 1 has groupingKey %q, want none", *got.GroupingKey)
		}
		for _, c := range codes[1:] {
			if !vtexGenerated.MatchString(c) {
				t.Errorf("generated code %q is not ctest- + 15 of [a-z0-9]", c)
			}
		}
		got := decode[vtexCoupon](t, h.api("GET", "/api/rnb/pvt/coupon/"+codes[2], ""))
		if got.UTMCampaign == nil || *got.UTMCampaign != "xmas" {
			t.Errorf("generated coupon lost its configuration: %+v", got)
		}
		if got.GroupingKey == nil || *got.GroupingKey != "ctest" {
			t.Errorf("generated coupon's groupingKey = %v, want the base code ctest", got.GroupingKey)
		}

		// One bad item: nothing is written and the error names the item.
		e := wantError(t, h.api("POST", "/api/rnb/pvt/multiple-coupons", `[
			{"quantity":2,"couponConfiguration":{"couponCode":"allornothing"}},
			{"quantity":1,"couponConfiguration":{"couponCode":"ok2","maxUsage":-3}}]`), http.StatusUnprocessableEntity, "invalid", "[1].couponConfiguration.maxUsage")
		if len(e.Error.Fields) != 1 {
			t.Errorf("fields = %v", e.Error.Fields)
		}
		wantError(t, h.api("POST", "/api/rnb/pvt/multiple-coupons", `[{"quantity":1,"couponConfiguration":{"couponCode":"x"}},{"quantity":"2","couponConfiguration":{}}]`),
			http.StatusUnprocessableEntity, "invalid", "[1].quantity")
		wantError(t, h.api("POST", "/api/rnb/pvt/multiple-coupons", `[{"quantity":1001,"couponConfiguration":{"couponCode":"x"}}]`),
			http.StatusUnprocessableEntity, "invalid", "[0].quantity")
		wantError(t, h.api("POST", "/api/rnb/pvt/multiple-coupons", `[{"quantity":2,"couponConfiguration":{"couponCode":"allornothing"}},{"quantity":1,"couponConfiguration":{"couponCode":"SINGLE"}}]`),
			http.StatusConflict, "duplicate_code", "[1].couponConfiguration.couponCode")
		list := decode[[]vtexCoupon](t, h.api("GET", "/api/rnb/pvt/coupon?q=allornothing", ""))
		if len(list) != 0 {
			t.Errorf("failed requests left %d coupons behind", len(list))
		}
	})
}

func TestVTEXMassiveGeneration(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		r := h.api("POST", "/api/rnb/pvt/coupons?quantity=5", `{"couponCode":"ctest","maxUsage":1}`)
		if r.status != http.StatusOK {
			t.Fatalf("status %d %s, want 200 as VTEX documents", r.status, r.body)
		}
		codes := decode[[]string](t, r)
		if len(codes) != 5 {
			t.Fatalf("codes = %v", codes)
		}
		if got := decode[vtexCoupon](t, h.api("GET", "/api/rnb/pvt/coupon/"+codes[4], "")); got.GroupingKey == nil || *got.GroupingKey != "ctest" {
			t.Errorf("massive generation's groupingKey = %v, want ctest", got.GroupingKey)
		}
		for _, c := range codes {
			if !vtexGenerated.MatchString(c) {
				t.Errorf("code %q is not ctest- + 15 of [a-z0-9]", c)
			}
		}
		wantError(t, h.api("POST", "/api/rnb/pvt/coupons", `{"couponCode":"ctest"}`), http.StatusUnprocessableEntity, "invalid", "quantity")
		wantError(t, h.api("POST", "/api/rnb/pvt/coupons?quantity=1001", `{"couponCode":"ctest"}`), http.StatusUnprocessableEntity, "invalid", "quantity")
		wantError(t, h.api("POST", "/api/rnb/pvt/coupons?quantity=abc", `{"couponCode":"ctest"}`), http.StatusUnprocessableEntity, "invalid", "quantity")
		wantError(t, h.api("POST", "/api/rnb/pvt/coupons?quantity=2", `{"couponCode":"`+strings.Repeat("x", 49)+`"}`), http.StatusUnprocessableEntity, "invalid", "couponCode")
		page, err := h.store.ListCoupons(t.Context(), models.CouponFilter{Prefix: "ctest"})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Coupons) != 5 {
			t.Errorf("%d ctest coupons after the refused requests, want the first 5", len(page.Coupons))
		}
	})
}

func TestVTEXListAndArchive(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		for i := range 5 {
			h.mustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", fmt.Sprintf(`{"couponCode":"L%d","utmSource":"src%d"}`, i, i%2))
		}
		// Archiving answers with the code as a JSON string.
		r := h.api("POST", "/api/rnb/pvt/archive/coupon/l1", "")
		if r.status != http.StatusOK || decode[string](t, r) != "L1" {
			t.Fatalf("archive: %d %s, want 200 \"L1\"", r.status, r.body)
		}
		wantError(t, h.api("POST", "/api/rnb/pvt/archive/coupon/nope", ""), http.StatusNotFound, "not_found")
		r = h.api("GET", "/api/rnb/pvt/archive/coupon/L1", "")
		if r.status != http.StatusOK || !decode[vtexCoupon](t, r).IsArchived {
			t.Fatalf("get archived L1: %d %s", r.status, r.body)
		}
		wantError(t, h.api("GET", "/api/rnb/pvt/archive/coupon/L0", ""), http.StatusNotFound, "not_found")
		wantError(t, h.api("GET", "/api/rnb/pvt/archive/coupon/nope", ""), http.StatusNotFound, "not_found")

		var seen []string
		next := "/api/rnb/pvt/coupon?limit=2"
		for range 4 {
			r := h.api("GET", next, "")
			if r.status != http.StatusOK {
				t.Fatalf("list: %d %s", r.status, r.body)
			}
			for _, c := range decode[[]vtexCoupon](t, r) {
				seen = append(seen, c.CouponCode)
			}
			link := r.header.Get("Link")
			if link == "" {
				if r.header.Get("X-Next-Cursor") != "" {
					t.Error("X-Next-Cursor without a Link")
				}
				break
			}
			next = strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
		}
		if strings.Join(seen, ",") != "L0,L1,L2,L3,L4" {
			t.Errorf("paged through %v", seen)
		}
		check := func(query, want string) {
			t.Helper()
			var got []string
			for _, c := range decode[[]vtexCoupon](t, h.api("GET", "/api/rnb/pvt/coupon?"+query, "")) {
				got = append(got, c.CouponCode)
			}
			if strings.Join(got, ",") != want {
				t.Errorf("?%s = %v, want %s", query, got, want)
			}
		}
		check("archived=true", "L1")
		check("archived=false&utmSource=src1", "L3")
		check("q=l", "L0,L1,L2,L3,L4")
		wantError(t, h.api("GET", "/api/rnb/pvt/coupon?archived=maybe", ""), http.StatusUnprocessableEntity, "invalid", "archived")
		wantError(t, h.api("GET", "/api/rnb/pvt/coupon?limit=0", ""), http.StatusUnprocessableEntity, "invalid", "limit")
		wantError(t, h.api("GET", "/api/rnb/pvt/coupon?limit=5000", ""), http.StatusUnprocessableEntity, "invalid", "limit")
		wantError(t, h.api("GET", "/api/rnb/pvt/coupon?after=***", ""), http.StatusUnprocessableEntity, "invalid", "after")

		r = h.api("POST", "/api/rnb/pvt/unarchive/coupon/L1", "")
		if r.status != http.StatusOK || decode[string](t, r) != "L1" {
			t.Fatalf("unarchive: %d %s, want 200 \"L1\"", r.status, r.body)
		}
		if got := decode[vtexCoupon](t, h.api("GET", "/api/rnb/pvt/coupon/L1", "")); got.IsArchived {
			t.Error("L1 is still archived after unarchive")
		}
		wantError(t, h.api("GET", "/api/rnb/pvt/archive/coupon/L1", ""), http.StatusNotFound, "not_found")
		if h.mustCoupon("L1").Archived {
			t.Error("the unarchived coupon is still archived in the store")
		}
	})
}

func TestVTEXActiveCap(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{MaxActiveCoupons: 2}, func(t *testing.T, h *harness) {
		h.mustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"a"}`)
		h.mustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"b"}`)
		e := wantError(t, h.api("POST", "/api/rnb/pvt/coupon", `{"couponCode":"c"}`), http.StatusConflict, "active_coupon_cap")
		if !strings.Contains(e.Error.Message, "cap of 2") || !strings.Contains(e.Error.Message, "2 are active") {
			t.Errorf("message %q must say the cap and how many are active", e.Error.Message)
		}
		if _, ok := h.coupon("c"); ok {
			t.Error("the coupon past the cap was stored")
		}
		// Updating an active coupon does not add one.
		if r := h.api("POST", "/api/rnb/pvt/coupon", `{"couponCode":"A","maxUsage":3}`); r.status != http.StatusOK {
			t.Errorf("update at the cap: %d %s", r.status, r.body)
		}
		if c := h.mustCoupon("a"); c.MaxUsage != 3 {
			t.Errorf("the update at the cap stored max usage %d, want 3", c.MaxUsage)
		}
	})
}

func TestVTEXListWithoutParametersReturnsEveryCoupon(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		// More coupons than one page of the store and than one chunk of
		// the stream, so the whole table crosses several reads.
		r := h.api("POST", "/api/rnb/pvt/multiple-coupons", `[
			{"quantity":1000,"couponConfiguration":{"couponCode":"bulk"}},
			{"quantity":1000,"couponConfiguration":{"couponCode":"more","utmSource":"feed"}},
			{"quantity":1,"couponConfiguration":{"couponCode":"solo"}}]`)
		if r.status != http.StatusOK {
			t.Fatalf("seed: %d %s", r.status, r.body)
		}
		want := decode[[]string](t, r)
		r = h.api("GET", "/api/rnb/pvt/coupon", "")
		if r.status != http.StatusOK || r.header.Get("Link") != "" {
			t.Fatalf("list all: %d, Link %q", r.status, r.header.Get("Link"))
		}
		all := decode[[]vtexCoupon](t, r)
		got := make([]string, len(all))
		for i, c := range all {
			got[i] = c.CouponCode
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("listed %d coupons, want all %d in code order", len(got), len(want))
		}
		filtered := decode[[]vtexCoupon](t, h.api("GET", "/api/rnb/pvt/coupon?utmSource=feed", ""))
		if len(filtered) != 1000 {
			t.Errorf("utmSource=feed without a limit: %d coupons, want all 1000", len(filtered))
		}
		if page := decode[[]vtexCoupon](t, h.api("GET", "/api/rnb/pvt/coupon?limit=10", "")); len(page) != 10 {
			t.Errorf("limit=10 gave %d coupons", len(page))
		}
		empty := h.api("GET", "/api/rnb/pvt/coupon?q=nothing", "")
		if empty.status != http.StatusOK || strings.TrimSpace(empty.body) != "[]" {
			t.Errorf("no match: %d %q, want []", empty.status, empty.body)
		}
	})
}

func TestVTEXCredentials(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		vtex := func(key, token string) map[string]string {
			return map[string]string{"X-VTEX-API-AppKey": key, "X-VTEX-API-AppToken": token}
		}
		r := h.apiWith(vtex("test-modify", h.token), "POST", "/api/rnb/pvt/coupon", `{"couponCode":"viaVTEX"}`)
		if r.status != http.StatusCreated {
			t.Fatalf("AppKey + AppToken of a modify token: %d %s", r.status, r.body)
		}
		if r := h.apiWith(vtex("test-read", h.readToken), "GET", "/api/rnb/pvt/coupon/viaVTEX", ""); r.status != http.StatusOK {
			t.Errorf("AppKey + AppToken of a read token, reading: %d %s", r.status, r.body)
		}
		wantError(t, h.apiWith(vtex("test-read", h.readToken), "POST", "/api/rnb/pvt/coupon", `{"couponCode":"nope"}`), http.StatusForbidden, "forbidden")
		wantError(t, h.apiWith(vtex("test-read", h.token), "GET", "/api/rnb/pvt/coupon/viaVTEX", ""), http.StatusUnauthorized, "unauthorized")
		wantError(t, h.apiWith(vtex("", h.token), "GET", "/api/rnb/pvt/coupon/viaVTEX", ""), http.StatusUnauthorized, "unauthorized")
		wantError(t, h.apiWith(vtex("test-modify", ""), "GET", "/api/rnb/pvt/coupon/viaVTEX", ""), http.StatusUnauthorized, "unauthorized")
		wantError(t, h.apiWith(vtex("test-modify", "cpd_not-a-real-token"), "GET", "/api/rnb/pvt/coupon/viaVTEX", ""), http.StatusUnauthorized, "unauthorized")
		if r := h.apiWith(map[string]string{"Authorization": "Bearer " + h.token}, "GET", "/api/rnb/pvt/coupon/viaVTEX", ""); r.status != http.StatusOK {
			t.Errorf("Authorization: Bearer: %d", r.status)
		}
	})
}

func TestVTEXUsageRouteIsItsOwn(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		h.mustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"test"}`)
		e := wantError(t, h.api("GET", "/api/rnb/pvt/coupon/usage/nope", ""), http.StatusNotFound, "not_found")
		if !strings.Contains(e.Error.Message, `"nope"`) || strings.Contains(e.Error.Message, "usage/") {
			t.Errorf("unknown code's usage: %q, want it to name the code alone", e.Error.Message)
		}
		if r := h.api("GET", "/api/rnb/pvt/coupon/usage/test", ""); r.status != http.StatusOK || !strings.Contains(r.body, `"couponCode":"test"`) {
			t.Errorf("usage of a known code: %d %s", r.status, r.body)
		}
	})
}
