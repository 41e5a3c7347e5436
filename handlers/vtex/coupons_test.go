package vtex_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/web/webtest"
)

type couponJSON struct {
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

// timestamp is VTEX's lastModifiedUtc: UTC with seven fractional
// digits, as in its published examples.
var timestamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$`)

func TestVTEXUpsertAndGet(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		r := h.API("POST", "/api/rnb/pvt/coupon", `{"utmSource":"news","utmCampaign":null,"couponCode":" Summer10 ","isArchived":false,"maxItemsPerClient":2,"expirationIntervalPerUse":"14.00:00:00","maxUsage":100}`)
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		got := webtest.Decode[map[string]any](t, r)
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
		c := webtest.Decode[couponJSON](t, r)
		if c.CouponCode != "Summer10" || c.ExpirationIntervalPerUse != "14.00:00:00" || c.MaxUsage != 100 || c.UTMCampaign != nil || *c.UTMSource != "news" {
			t.Errorf("created = %+v", c)
		}
		if !timestamp.MatchString(c.LastModifiedUtc) {
			t.Errorf("lastModifiedUtc = %q, want VTEX's form 2021-11-10T14:24:39.3683694Z", c.LastModifiedUtc)
		}

		r = h.API("POST", "/api/rnb/pvt/coupon", `{"couponCode":"SUMMER10","maxUsage":5,"isArchived":true}`)
		if r.Status != http.StatusOK {
			t.Fatalf("update: %d %s", r.Status, r.Body)
		}
		c = webtest.Decode[couponJSON](t, r)
		if c.CouponCode != "Summer10" || c.MaxUsage != 5 || !c.IsArchived || c.UTMSource != nil || c.ExpirationIntervalPerUse != "00:00:00" {
			t.Errorf("updated = %+v, want the original code with the new configuration", c)
		}

		r = h.API("GET", "/api/rnb/pvt/coupon/summer10", "")
		if r.Status != http.StatusOK || webtest.Decode[couponJSON](t, r).CouponCode != "Summer10" {
			t.Fatalf("get: %d %s", r.Status, r.Body)
		}
		if strings.Contains(r.Body, "null") {
			t.Errorf("a coupon with no UTM tags is sent with nulls: %s", r.Body)
		}
		webtest.WantError(t, h.API("GET", "/api/rnb/pvt/coupon/nope", ""), http.StatusNotFound, "not_found")
	})
}

func TestVTEXBadInput(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		webtest.WantError(t, h.API("POST", "/api/rnb/pvt/coupon", `{"couponCode":`), http.StatusBadRequest, "bad_request")
		webtest.WantError(t, h.API("POST", "/api/rnb/pvt/coupon", ``), http.StatusBadRequest, "bad_request")
		webtest.WantError(t, h.API("POST", "/api/rnb/pvt/coupon", `[1]`), http.StatusBadRequest, "bad_request")
		webtest.WantError(t, h.API("POST", "/api/rnb/pvt/coupon", `{"couponCode":"x","maxUsage":"ten"}`), http.StatusUnprocessableEntity, "invalid", "maxUsage")
		webtest.WantError(t, h.API("POST", "/api/rnb/pvt/coupon", `{"couponCode":"bad code!","maxUsage":-1,"maxItemsPerClient":-1,"expirationIntervalPerUse":"forever"}`),
			http.StatusUnprocessableEntity, "invalid", "couponCode", "maxUsage", "maxItemsPerClient", "expirationIntervalPerUse")
		webtest.WantError(t, h.API("DELETE", "/api/rnb/pvt/coupon", ""), http.StatusMethodNotAllowed, "method_not_allowed")
		webtest.WantError(t, h.API("GET", "/api/rnb/pvt/nothing-here", ""), http.StatusNotFound, "not_found")
		big := `{"couponCode":"x","utmSource":"` + strings.Repeat("a", 70_000) + `"}`
		webtest.WantError(t, h.API("POST", "/api/rnb/pvt/coupon", big), http.StatusRequestEntityTooLarge, "body_too_large")
		if _, ok := h.Coupon("x"); ok {
			t.Error("a refused request created coupon x")
		}
	})
}

var generatedCode = regexp.MustCompile(`^ctest-[a-z0-9]{15}$`)

func TestVTEXMultipleCoupons(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		r := h.API("POST", "/api/rnb/pvt/multiple-coupons", `[
			{"quantity":1,"couponConfiguration":{"couponCode":"single","maxUsage":1}},
			{"quantity":3,"couponConfiguration":{"couponCode":"ctest","utmCampaign":"xmas"}}]`)
		if r.Status != http.StatusOK {
			t.Fatalf("status %d %s, want 200 as VTEX documents", r.Status, r.Body)
		}
		codes := webtest.Decode[[]string](t, r)
		if len(codes) != 4 || codes[0] != "single" {
			t.Fatalf("codes = %v", codes)
		}
		if got := webtest.Decode[couponJSON](t, h.API("GET", "/api/rnb/pvt/coupon/single", "")); got.GroupingKey != nil {
			t.Errorf("a coupon made with quantity 1 has groupingKey %q, want none", *got.GroupingKey)
		}
		for _, c := range codes[1:] {
			if !generatedCode.MatchString(c) {
				t.Errorf("generated code %q is not ctest- + 15 of [a-z0-9]", c)
			}
		}
		got := webtest.Decode[couponJSON](t, h.API("GET", "/api/rnb/pvt/coupon/"+codes[2], ""))
		if got.UTMCampaign == nil || *got.UTMCampaign != "xmas" {
			t.Errorf("generated coupon lost its configuration: %+v", got)
		}
		if got.GroupingKey == nil || *got.GroupingKey != "ctest" {
			t.Errorf("generated coupon's groupingKey = %v, want the base code ctest", got.GroupingKey)
		}

		// One bad item: nothing is written and the error names the item.
		e := webtest.WantError(t, h.API("POST", "/api/rnb/pvt/multiple-coupons", `[
			{"quantity":2,"couponConfiguration":{"couponCode":"allornothing"}},
			{"quantity":1,"couponConfiguration":{"couponCode":"ok2","maxUsage":-3}}]`), http.StatusUnprocessableEntity, "invalid", "[1].couponConfiguration.maxUsage")
		if len(e.Error.Fields) != 1 {
			t.Errorf("fields = %v", e.Error.Fields)
		}
		webtest.WantError(t, h.API("POST", "/api/rnb/pvt/multiple-coupons", `[{"quantity":1,"couponConfiguration":{"couponCode":"x"}},{"quantity":"2","couponConfiguration":{}}]`),
			http.StatusUnprocessableEntity, "invalid", "[1].quantity")
		webtest.WantError(t, h.API("POST", "/api/rnb/pvt/multiple-coupons", `[{"quantity":1001,"couponConfiguration":{"couponCode":"x"}}]`),
			http.StatusUnprocessableEntity, "invalid", "[0].quantity")
		webtest.WantError(t, h.API("POST", "/api/rnb/pvt/multiple-coupons", `[{"quantity":2,"couponConfiguration":{"couponCode":"allornothing"}},{"quantity":1,"couponConfiguration":{"couponCode":"SINGLE"}}]`),
			http.StatusConflict, "duplicate_code", "[1].couponConfiguration.couponCode")
		list := webtest.Decode[[]couponJSON](t, h.API("GET", "/api/rnb/pvt/coupon?q=allornothing", ""))
		if len(list) != 0 {
			t.Errorf("failed requests left %d coupons behind", len(list))
		}
	})
}

func TestVTEXMassiveGeneration(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		r := h.API("POST", "/api/rnb/pvt/coupons?quantity=5", `{"couponCode":"ctest","maxUsage":1}`)
		if r.Status != http.StatusOK {
			t.Fatalf("status %d %s, want 200 as VTEX documents", r.Status, r.Body)
		}
		codes := webtest.Decode[[]string](t, r)
		if len(codes) != 5 {
			t.Fatalf("codes = %v", codes)
		}
		if got := webtest.Decode[couponJSON](t, h.API("GET", "/api/rnb/pvt/coupon/"+codes[4], "")); got.GroupingKey == nil || *got.GroupingKey != "ctest" {
			t.Errorf("massive generation's groupingKey = %v, want ctest", got.GroupingKey)
		}
		for _, c := range codes {
			if !generatedCode.MatchString(c) {
				t.Errorf("code %q is not ctest- + 15 of [a-z0-9]", c)
			}
		}
		webtest.WantError(t, h.API("POST", "/api/rnb/pvt/coupons", `{"couponCode":"ctest"}`), http.StatusUnprocessableEntity, "invalid", "quantity")
		webtest.WantError(t, h.API("POST", "/api/rnb/pvt/coupons?quantity=1001", `{"couponCode":"ctest"}`), http.StatusUnprocessableEntity, "invalid", "quantity")
		webtest.WantError(t, h.API("POST", "/api/rnb/pvt/coupons?quantity=abc", `{"couponCode":"ctest"}`), http.StatusUnprocessableEntity, "invalid", "quantity")
		webtest.WantError(t, h.API("POST", "/api/rnb/pvt/coupons?quantity=2", `{"couponCode":"`+strings.Repeat("x", 49)+`"}`), http.StatusUnprocessableEntity, "invalid", "couponCode")
		page, err := h.Store.ListCoupons(t.Context(), models.CouponFilter{Prefix: "ctest"})
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
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		for i := range 5 {
			h.MustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", fmt.Sprintf(`{"couponCode":"L%d","utmSource":"src%d"}`, i, i%2))
		}
		// Archiving answers with the code as a JSON string.
		r := h.API("POST", "/api/rnb/pvt/archive/coupon/l1", "")
		if r.Status != http.StatusOK || webtest.Decode[string](t, r) != "L1" {
			t.Fatalf("archive: %d %s, want 200 \"L1\"", r.Status, r.Body)
		}
		webtest.WantError(t, h.API("POST", "/api/rnb/pvt/archive/coupon/nope", ""), http.StatusNotFound, "not_found")
		r = h.API("GET", "/api/rnb/pvt/archive/coupon/L1", "")
		if r.Status != http.StatusOK || !webtest.Decode[couponJSON](t, r).IsArchived {
			t.Fatalf("get archived L1: %d %s", r.Status, r.Body)
		}
		webtest.WantError(t, h.API("GET", "/api/rnb/pvt/archive/coupon/L0", ""), http.StatusNotFound, "not_found")
		webtest.WantError(t, h.API("GET", "/api/rnb/pvt/archive/coupon/nope", ""), http.StatusNotFound, "not_found")

		var seen []string
		next := "/api/rnb/pvt/coupon?limit=2"
		for range 4 {
			r := h.API("GET", next, "")
			if r.Status != http.StatusOK {
				t.Fatalf("list: %d %s", r.Status, r.Body)
			}
			for _, c := range webtest.Decode[[]couponJSON](t, r) {
				seen = append(seen, c.CouponCode)
			}
			link := r.Header.Get("Link")
			if link == "" {
				if r.Header.Get("X-Next-Cursor") != "" {
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
			for _, c := range webtest.Decode[[]couponJSON](t, h.API("GET", "/api/rnb/pvt/coupon?"+query, "")) {
				got = append(got, c.CouponCode)
			}
			if strings.Join(got, ",") != want {
				t.Errorf("?%s = %v, want %s", query, got, want)
			}
		}
		check("archived=true", "L1")
		check("archived=false&utmSource=src1", "L3")
		check("q=l", "L0,L1,L2,L3,L4")
		webtest.WantError(t, h.API("GET", "/api/rnb/pvt/coupon?archived=maybe", ""), http.StatusUnprocessableEntity, "invalid", "archived")
		webtest.WantError(t, h.API("GET", "/api/rnb/pvt/coupon?limit=0", ""), http.StatusUnprocessableEntity, "invalid", "limit")
		webtest.WantError(t, h.API("GET", "/api/rnb/pvt/coupon?limit=5000", ""), http.StatusUnprocessableEntity, "invalid", "limit")
		webtest.WantError(t, h.API("GET", "/api/rnb/pvt/coupon?after=***", ""), http.StatusUnprocessableEntity, "invalid", "after")

		r = h.API("POST", "/api/rnb/pvt/unarchive/coupon/L1", "")
		if r.Status != http.StatusOK || webtest.Decode[string](t, r) != "L1" {
			t.Fatalf("unarchive: %d %s, want 200 \"L1\"", r.Status, r.Body)
		}
		if got := webtest.Decode[couponJSON](t, h.API("GET", "/api/rnb/pvt/coupon/L1", "")); got.IsArchived {
			t.Error("L1 is still archived after unarchive")
		}
		webtest.WantError(t, h.API("GET", "/api/rnb/pvt/archive/coupon/L1", ""), http.StatusNotFound, "not_found")
		if h.MustCoupon("L1").Archived {
			t.Error("the unarchived coupon is still archived in the store")
		}
	})
}

func TestVTEXActiveCap(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{MaxActiveCoupons: 2}, func(t *testing.T, h *webtest.Harness) {
		h.MustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"a"}`)
		h.MustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"b"}`)
		e := webtest.WantError(t, h.API("POST", "/api/rnb/pvt/coupon", `{"couponCode":"c"}`), http.StatusConflict, "active_coupon_cap")
		if !strings.Contains(e.Error.Message, "cap of 2") || !strings.Contains(e.Error.Message, "2 are active") {
			t.Errorf("message %q must say the cap and how many are active", e.Error.Message)
		}
		if _, ok := h.Coupon("c"); ok {
			t.Error("the coupon past the cap was stored")
		}
		// Updating an active coupon does not add one.
		if r := h.API("POST", "/api/rnb/pvt/coupon", `{"couponCode":"A","maxUsage":3}`); r.Status != http.StatusOK {
			t.Errorf("update at the cap: %d %s", r.Status, r.Body)
		}
		if c := h.MustCoupon("a"); c.MaxUsage != 3 {
			t.Errorf("the update at the cap stored max usage %d, want 3", c.MaxUsage)
		}
	})
}

func TestVTEXListWithoutParametersReturnsEveryCoupon(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		// More coupons than one page of the store and than one chunk of
		// the stream, so the whole table crosses several reads.
		r := h.API("POST", "/api/rnb/pvt/multiple-coupons", `[
			{"quantity":1000,"couponConfiguration":{"couponCode":"bulk"}},
			{"quantity":1000,"couponConfiguration":{"couponCode":"more","utmSource":"feed"}},
			{"quantity":1,"couponConfiguration":{"couponCode":"solo"}}]`)
		if r.Status != http.StatusOK {
			t.Fatalf("seed: %d %s", r.Status, r.Body)
		}
		want := webtest.Decode[[]string](t, r)
		r = h.API("GET", "/api/rnb/pvt/coupon", "")
		if r.Status != http.StatusOK || r.Header.Get("Link") != "" {
			t.Fatalf("list all: %d, Link %q", r.Status, r.Header.Get("Link"))
		}
		all := webtest.Decode[[]couponJSON](t, r)
		got := make([]string, len(all))
		for i, c := range all {
			got[i] = c.CouponCode
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("listed %d coupons, want all %d in code order", len(got), len(want))
		}
		filtered := webtest.Decode[[]couponJSON](t, h.API("GET", "/api/rnb/pvt/coupon?utmSource=feed", ""))
		if len(filtered) != 1000 {
			t.Errorf("utmSource=feed without a limit: %d coupons, want all 1000", len(filtered))
		}
		if page := webtest.Decode[[]couponJSON](t, h.API("GET", "/api/rnb/pvt/coupon?limit=10", "")); len(page) != 10 {
			t.Errorf("limit=10 gave %d coupons", len(page))
		}
		empty := h.API("GET", "/api/rnb/pvt/coupon?q=nothing", "")
		if empty.Status != http.StatusOK || strings.TrimSpace(empty.Body) != "[]" {
			t.Errorf("no match: %d %q, want []", empty.Status, empty.Body)
		}
	})
}

func TestVTEXCredentials(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		vtex := func(key, token string) map[string]string {
			return map[string]string{"X-VTEX-API-AppKey": key, "X-VTEX-API-AppToken": token}
		}
		r := h.APIWith(vtex("test-modify", h.Token), "POST", "/api/rnb/pvt/coupon", `{"couponCode":"viaVTEX"}`)
		if r.Status != http.StatusCreated {
			t.Fatalf("AppKey + AppToken of a modify token: %d %s", r.Status, r.Body)
		}
		if r := h.APIWith(vtex("test-read", h.ReadToken), "GET", "/api/rnb/pvt/coupon/viaVTEX", ""); r.Status != http.StatusOK {
			t.Errorf("AppKey + AppToken of a read token, reading: %d %s", r.Status, r.Body)
		}
		webtest.WantError(t, h.APIWith(vtex("test-read", h.ReadToken), "POST", "/api/rnb/pvt/coupon", `{"couponCode":"nope"}`), http.StatusForbidden, "forbidden")
		webtest.WantError(t, h.APIWith(vtex("test-read", h.Token), "GET", "/api/rnb/pvt/coupon/viaVTEX", ""), http.StatusUnauthorized, "unauthorized")
		webtest.WantError(t, h.APIWith(vtex("", h.Token), "GET", "/api/rnb/pvt/coupon/viaVTEX", ""), http.StatusUnauthorized, "unauthorized")
		webtest.WantError(t, h.APIWith(vtex("test-modify", ""), "GET", "/api/rnb/pvt/coupon/viaVTEX", ""), http.StatusUnauthorized, "unauthorized")
		webtest.WantError(t, h.APIWith(vtex("test-modify", "cpd_not-a-real-token"), "GET", "/api/rnb/pvt/coupon/viaVTEX", ""), http.StatusUnauthorized, "unauthorized")
		if r := h.APIWith(map[string]string{"Authorization": "Bearer " + h.Token}, "GET", "/api/rnb/pvt/coupon/viaVTEX", ""); r.Status != http.StatusOK {
			t.Errorf("Authorization: Bearer: %d", r.Status)
		}
	})
}

func TestVTEXUsageRouteIsItsOwn(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		h.MustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"test"}`)
		e := webtest.WantError(t, h.API("GET", "/api/rnb/pvt/coupon/usage/nope", ""), http.StatusNotFound, "not_found")
		if !strings.Contains(e.Error.Message, `"nope"`) || strings.Contains(e.Error.Message, "usage/") {
			t.Errorf("unknown code's usage: %q, want it to name the code alone", e.Error.Message)
		}
		if r := h.API("GET", "/api/rnb/pvt/coupon/usage/test", ""); r.Status != http.StatusOK || !strings.Contains(r.Body, `"couponCode":"test"`) {
			t.Errorf("usage of a known code: %d %s", r.Status, r.Body)
		}
	})
}
