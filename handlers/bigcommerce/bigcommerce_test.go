package bigcommerce_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/web/webtest"
)

// The BigCommerce-style API under /api/v3, as its clients use it. What
// the tests hold it to, in our words:
//
//   - success bodies are {"data": …, "meta": …} with snake_case names;
//   - a promotion is created as a COUPON promotion of coupon_type SINGLE
//     (the default) or BULK and read back in the saved shape, with every
//     member a saved coupon promotion must have;
//   - codegen makes 1 to 250 codes of a BULK promotion at once, each its
//     prefix, delimiter, random upper-case letters and digits, delimiter
//     and suffix, and answers with the batch's settings and codes;
//   - a field out of range is a 422 whose errors list names it; malformed
//     JSON a 400 with status, title, type and detail; a token without
//     the modify scope a 403, and codegen on a promotion that is not BULK
//     a 405, both with status, title and error; the numeric status is a
//     number in the 422 list and a string in the other shapes, as the
//     published schemas type them;
//   - the codes of a promotion page by opaque cursors in id order: a page
//     links to the next page unless it is empty, and to the previous one
//     unless it is empty or the first; only a page asked for without a
//     cursor carries the deprecated offset block;
//   - deleting codes by id:in deletes those never redeemed and keeps the
//     others, answering 422 with a message per kept index and the counts.

// errorList is the 422 and 404 body.
type errorList struct {
	Errors []errorItem `json:"errors"`
	Meta   *struct {
		Total   int `json:"total"`
		Success int `json:"success"`
		Failed  int `json:"failed"`
	} `json:"meta"`
}

type errorItem struct {
	Status json.RawMessage   `json:"status"`
	Title  string            `json:"title"`
	Type   string            `json:"type"`
	Detail string            `json:"detail"`
	Errors map[string]string `json:"errors"`
}

// wantList checks a list-shaped error answer: the status, a numeric
// status in each element, and one element whose title names field (the
// title starts with it; "" takes any).
func wantList(t *testing.T, r webtest.Response, status int, field string) errorList {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want JSON", ct)
	}
	e := webtest.Decode[errorList](t, r)
	if len(e.Errors) == 0 {
		t.Fatalf("no errors in %s", r.Body)
	}
	for _, el := range e.Errors {
		if string(el.Status) != fmt.Sprint(status) {
			t.Errorf("element status = %s, want the number %d", el.Status, status)
		}
		if field == "" && el.Title != "" || strings.HasPrefix(el.Title, field+": ") && len(el.Title) > len(field)+10 {
			return e
		}
	}
	t.Fatalf("no error names %q with a message: %s", field, r.Body)
	return e
}

// wantRefusal checks a 400, 401, 403 or 405 answer: status as a string
// and the members of its shape.
func wantRefusal(t *testing.T, r webtest.Response, status int, members ...string) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body %s", r.Status, status, r.Body)
	}
	got := webtest.Decode[map[string]any](t, r)
	if got["status"] != fmt.Sprint(status) {
		t.Errorf("status member = %#v, want the string %q", got["status"], fmt.Sprint(status))
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range got {
			if !yield(k) {
				return
			}
		}
	})
	want := slices.Sorted(slices.Values(append([]string{"status", "title"}, members...)))
	if !slices.Equal(keys, want) {
		t.Errorf("members = %v, want %v: %s", keys, want, r.Body)
	}
	for _, k := range keys {
		if s, ok := got[k].(string); !ok || s == "" {
			t.Errorf("%s = %#v, want a non-empty string", k, got[k])
		}
	}
	return got
}

// createPromotion creates a promotion through the API and returns its id.
func createPromotion(t *testing.T, h *webtest.Harness, body string) int64 {
	t.Helper()
	r := h.MustAPI(http.StatusCreated, "POST", "/api/v3/promotions", body)
	var out struct {
		Data struct {
			ID int64 `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(r.Body), &out); err != nil || out.Data.ID == 0 {
		t.Fatalf("create promotion: %v %s", err, r.Body)
	}
	return out.Data.ID
}

const bulkPromotion = `{"name":"Spring bulk","redemption_type":"COUPON","coupon_type":"BULK","status":"ENABLED",
	"rules":[{"action":{"cart_value":{"discount":{"percentage_amount":"10"}}}}]}`

type codegenAnswer struct {
	Data struct {
		Created            string `json:"created"`
		MaxUses            int    `json:"max_uses"`
		MaxUsesPerCustomer int    `json:"max_uses_per_customer"`
		BatchSize          int    `json:"batch_size"`
		Codes              []struct {
			Code string `json:"code"`
		} `json:"codes"`
	} `json:"data"`
}

// generate generates codes and returns them.
func generate(t *testing.T, h *webtest.Harness, id int64, body string) []string {
	t.Helper()
	r := h.MustAPI(http.StatusCreated, "POST", fmt.Sprintf("/api/v3/promotions/%d/codegen", id), body)
	var codes []string
	for _, c := range webtest.Decode[codegenAnswer](t, r).Data.Codes {
		codes = append(codes, c.Code)
	}
	return codes
}

// storedCodes returns the codes promotion id owns, in id order.
func storedCodes(t *testing.T, h *webtest.Harness, id int64) []models.Coupon {
	t.Helper()
	page, err := h.Store.PromotionCodes(t.Context(), models.PromotionCodeFilter{PromotionID: id, Limit: models.MaxCodePageLimit})
	if err != nil {
		t.Fatal(err)
	}
	return page.Coupons
}

func TestBigCommerceCreateAndGetPromotion(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		r := h.MustAPI(http.StatusCreated, "POST", "/api/v3/promotions", `{"name":" Spring ","display_name":"10 % off","redemption_type":"COUPON",
			"coupon_type":"BULK","status":"ENABLED","max_uses":100,"start_date":"2026-12-01T01:00:00+01:00","end_date":"2026-12-31T23:00:00-01:00",
			"channels":[],"customer":{"group_ids":[]},"currency_code":"*","notifications":[],
			"rules":[{"action":{"cart_value":{"discount":{"percentage_amount":"12.5"},"maximum_allowed_discount_amount":"15"}},"apply_once":true}]}`)
		got := webtest.Decode[map[string]any](t, r)
		if meta, ok := got["meta"].(map[string]any); !ok || len(meta) != 0 {
			t.Errorf("meta = %#v, want {}", got["meta"])
		}
		data, _ := got["data"].(map[string]any)
		// Every member a saved coupon promotion requires, with its JSON
		// type: numbers (float64), strings, booleans, arrays, objects.
		want := map[string]any{
			"id": 0.0, "name": "", "channels": []any{}, "created_from": "", "customer": map[string]any{}, "rules": []any{},
			"notifications": []any{}, "stop": false, "currency_code": "", "redemption_type": "", "current_uses": 0.0,
			"start_date": "", "status": "", "can_be_used_with_other_promotions": false, "coupon_overrides_other_promotions": false,
			"coupon_type": "",
		}
		for k, v := range want {
			if fmt.Sprintf("%T", data[k]) != fmt.Sprintf("%T", v) {
				t.Errorf("data.%s = %#v, want a %T", k, data[k], v)
			}
		}
		for k, v := range map[string]any{"name": "Spring", "display_name": "10 % off", "redemption_type": "COUPON", "coupon_type": "BULK",
			"status": "ENABLED", "created_from": "api", "currency_code": "*", "stop": false, "can_be_used_with_other_promotions": true,
			"coupon_overrides_other_promotions": false, "current_uses": 0.0, "max_uses": 100.0,
			"start_date": "2026-12-01T00:00:00+00:00", "end_date": "2027-01-01T00:00:00+00:00"} {
			if data[k] != v {
				t.Errorf("data.%s = %#v, want %#v", k, data[k], v)
			}
		}
		if len(data["channels"].([]any)) != 0 || len(data["customer"].(map[string]any)) != 0 || len(data["notifications"].([]any)) != 0 {
			t.Errorf("channels, customer, notifications = %v %v %v, want empty", data["channels"], data["customer"], data["notifications"])
		}
		rules, _ := json.Marshal(data["rules"])
		if string(rules) != `[{"action":{"cart_value":{"discount":{"percentage_amount":"12.5"},"maximum_allowed_discount_amount":"15.00"}},"apply_once":true,"stop":false}]` {
			t.Errorf("rules = %s", rules)
		}
		id := int64(data["id"].(float64))
		p, err := h.Store.Promotion(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if p.Kind != models.KindBulk || p.Status != models.PromotionActive || p.DiscountType != models.DiscountPercent || p.DiscountValue != 1250 ||
			p.DiscountCap == nil || *p.DiscountCap != 1500 || p.MaxUsage != 100 || p.Description != "10 % off" {
			t.Errorf("stored = %+v, want a bulk promotion of 1250 basis points capped at 1500 minor units", p)
		}

		again := h.MustAPI(http.StatusOK, "GET", fmt.Sprintf("/api/v3/promotions/%d", id), "")
		if again.Body != r.Body {
			t.Errorf("GET answers\n%s\nbut POST answered\n%s", again.Body, r.Body)
		}
		// A read token may read.
		if r := h.APIWith(map[string]string{"X-Auth-Token": h.ReadToken}, "GET", fmt.Sprintf("/api/v3/promotions/%d", id), ""); r.Status != http.StatusOK {
			t.Errorf("read token: %d", r.Status)
		}
		wantList(t, h.API("GET", "/api/v3/promotions/999999", ""), http.StatusNotFound, "")
		wantList(t, h.API("GET", "/api/v3/promotions/abc", ""), http.StatusNotFound, "")

		// It is a promotion like any other: the console shows it.
		if page := h.Do("GET", fmt.Sprintf("/promotions/%d", id), nil, nil); page.Status != http.StatusOK || !strings.Contains(page.Body, "Spring") {
			t.Errorf("console page: %d", page.Status)
		}

		// SINGLE by default, a fixed amount in money, DISABLED.
		single := webtest.Decode[struct {
			Data struct {
				ID         int64           `json:"id"`
				CouponType string          `json:"coupon_type"`
				Status     string          `json:"status"`
				Rules      json.RawMessage `json:"rules"`
				EndDate    *string         `json:"end_date"`
				StartDate  string          `json:"start_date"`
			} `json:"data"`
		}](t, h.MustAPI(http.StatusCreated, "POST", "/api/v3/promotions", `{"name":"Five off","redemption_type":"COUPON","status":"DISABLED",
			"rules":[{"action":{"cart_value":{"discount":{"fixed_amount":"12.9500"}}}}]}`)).Data
		if single.CouponType != "SINGLE" || single.Status != "DISABLED" || single.EndDate != nil || single.StartDate == "" ||
			string(single.Rules) != `[{"action":{"cart_value":{"discount":{"fixed_amount":"12.95"},"maximum_allowed_discount_amount":null}},"apply_once":true,"stop":false}]` {
			t.Errorf("single = %+v %s", single, single.Rules)
		}
		sp, err := h.Store.Promotion(t.Context(), single.ID)
		if err != nil {
			t.Fatal(err)
		}
		// BigCommerce clients write four decimals; zeros past two change
		// nothing.
		if sp.Kind != models.KindRegular || sp.Status != models.PromotionInactive || sp.DiscountType != models.DiscountFixed || sp.DiscountValue != 1295 ||
			sp.UTMSource == nil || !strings.HasPrefix(*sp.UTMSource, "bigcommerce-") {
			t.Errorf("stored single = %+v, want a regular promotion of 1295 minor units with a UTM source of its own", sp)
		}
	})
}

func TestBigCommerceCreatePromotionRefusals(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		rule := `"rules":[{"action":{"cart_value":{"discount":{"percentage_amount":"10"}}}}]`
		for _, tc := range []struct {
			name, body, field string
		}{
			{"automatic", `{"name":"a","redemption_type":"AUTOMATIC",` + rule + `}`, "redemption_type"},
			{"no redemption type", `{"name":"a",` + rule + `}`, "redemption_type"},
			{"unknown coupon type", `{"name":"a","redemption_type":"COUPON","coupon_type":"MANY",` + rule + `}`, "coupon_type"},
			{"unknown status", `{"name":"a","redemption_type":"COUPON","status":"INVALID",` + rule + `}`, "status"},
			{"no name", `{"redemption_type":"COUPON",` + rule + `}`, "name"},
			{"no rules", `{"name":"a","redemption_type":"COUPON"}`, "rules"},
			{"two rules", `{"name":"a","redemption_type":"COUPON","rules":[{"action":{"cart_value":{"discount":{"percentage_amount":"10"}}}},{"action":{"cart_value":{"discount":{"percentage_amount":"5"}}}}]}`, "rules"},
			{"a condition", `{"name":"a","redemption_type":"COUPON","rules":[{"condition":{"cart":{"minimum_spend":"50"}},"action":{"cart_value":{"discount":{"percentage_amount":"10"}}}}]}`, "rules[0].condition"},
			{"another action", `{"name":"a","redemption_type":"COUPON","rules":[{"action":{"shipping":{"free_shipping":true}}}]}`, "rules[0].action"},
			{"both amounts", `{"name":"a","redemption_type":"COUPON","rules":[{"action":{"cart_value":{"discount":{"percentage_amount":"10","fixed_amount":"5"}}}}]}`, "rules[0].action.cart_value.discount"},
			{"percentage over 100", `{"name":"a","redemption_type":"COUPON","rules":[{"action":{"cart_value":{"discount":{"percentage_amount":"100.5"}}}}]}`, "rules[0].action.cart_value.discount"},
			{"three decimals of money", `{"name":"a","redemption_type":"COUPON","rules":[{"action":{"cart_value":{"discount":{"fixed_amount":"12.951"}}}}]}`, "rules[0].action.cart_value.discount"},
			{"zero money", `{"name":"a","redemption_type":"COUPON","rules":[{"action":{"cart_value":{"discount":{"fixed_amount":"0.00"}}}}]}`, "rules[0].action.cart_value.discount"},
			{"bad cap", `{"name":"a","redemption_type":"COUPON","rules":[{"action":{"cart_value":{"discount":{"percentage_amount":"10"},"maximum_allowed_discount_amount":"-1"}}}]}`, "rules[0].action.cart_value.maximum_allowed_discount_amount"},
			{"max_uses as a string", `{"name":"a","redemption_type":"COUPON","max_uses":"5",` + rule + `}`, "max_uses"},
			{"dates out of order", `{"name":"a","redemption_type":"COUPON","start_date":"2026-12-31T00:00:00+00:00","end_date":"2026-12-01T00:00:00+00:00",` + rule + `}`, "end_date"},
			{"a channel", `{"name":"a","redemption_type":"COUPON","channels":[{"id":1}],` + rule + `}`, "channels"},
			{"a customer group", `{"name":"a","redemption_type":"COUPON","customer":{"group_ids":[2]},` + rule + `}`, "customer"},
			{"a currency", `{"name":"a","redemption_type":"COUPON","currency_code":"USD",` + rule + `}`, "currency_code"},
			{"exclusive", `{"name":"a","redemption_type":"COUPON","can_be_used_with_other_promotions":false,` + rule + `}`, "can_be_used_with_other_promotions"},
			{"a code with it", `{"name":"a","redemption_type":"COUPON","codes":{"code":"X1"},` + rule + `}`, "codes"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := wantList(t, h.API("POST", "/api/v3/promotions", tc.body), http.StatusUnprocessableEntity, tc.field)
				if tc.name == "automatic" && !strings.Contains(e.Errors[0].Title, "AUTOMATIC promotions are not supported") {
					t.Errorf("title = %q, want it to say AUTOMATIC promotions are not supported", e.Errors[0].Title)
				}
			})
		}
		if page, err := h.Store.ListPromotions(t.Context(), models.PromotionFilter{}); err != nil || len(page.Promotions) != 0 {
			t.Errorf("refused requests stored %d promotions (%v)", len(page.Promotions), err)
		}
		wantRefusal(t, h.API("POST", "/api/v3/promotions", `{"name":`), http.StatusBadRequest, "type", "detail")
		wantRefusal(t, h.APIWith(map[string]string{"X-Auth-Token": h.ReadToken}, "POST", "/api/v3/promotions", `{"name":"a"}`), http.StatusForbidden, "error")
	})
}

func TestBigCommerceCodegenRefusesFieldsOutOfRange(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		id := createPromotion(t, h, bulkPromotion)
		path := fmt.Sprintf("/api/v3/promotions/%d/codegen", id)
		for _, tc := range []struct {
			name, body, field, says string
		}{
			{"batch_size missing", `{}`, "batch_size", "required"},
			{"batch_size a string", `{"batch_size":"5"}`, "batch_size", `not "5"`},
			{"batch_size a fraction", `{"batch_size":5.5}`, "batch_size", "not 5.5"},
			{"batch_size 0", `{"batch_size":0}`, "batch_size", "250"},
			{"batch_size 251", `{"batch_size":251}`, "batch_size", "250"},
			{"max_uses -1", `{"batch_size":1,"max_uses":-1}`, "max_uses", "100000"},
			{"max_uses 100001", `{"batch_size":1,"max_uses":100001}`, "max_uses", "100000"},
			{"max_uses a string", `{"batch_size":1,"max_uses":"1"}`, "max_uses", `not "1"`},
			{"max_uses_per_customer -1", `{"batch_size":1,"max_uses_per_customer":-1}`, "max_uses_per_customer", "100000"},
			{"max_uses_per_customer 100001", `{"batch_size":1,"max_uses_per_customer":100001}`, "max_uses_per_customer", "100000"},
			{"prefix in lower case", `{"batch_size":1,"prefix":"pre"}`, "prefix", "capital"},
			{"prefix of 21", `{"batch_size":1,"prefix":"` + strings.Repeat("P", 21) + `"}`, "prefix", "20"},
			{"suffix in lower case", `{"batch_size":1,"suffix":"Post"}`, "suffix", "capital"},
			{"suffix of 21", `{"batch_size":1,"suffix":"` + strings.Repeat("S", 21) + `"}`, "suffix", "20"},
			{"delimiter a dot", `{"batch_size":1,"prefix":"P","delimiter":"."}`, "delimiter", `"_"`},
			{"delimiter of two", `{"batch_size":1,"prefix":"P","delimiter":"__"}`, "delimiter", `"_"`},
			{"exclude a lower-case letter", `{"batch_size":1,"exclude_characters":["A","b"]}`, "exclude_characters", `"b"`},
			{"exclude two characters", `{"batch_size":1,"exclude_characters":["AB"]}`, "exclude_characters", `"AB"`},
			{"exclude a symbol", `{"batch_size":1,"exclude_characters":["$"]}`, "exclude_characters", `"$"`},
			{"code_length 5", `{"batch_size":1,"code_length":5}`, "code_length", "between 6 and 16"},
			{"code_length 17", `{"batch_size":1,"code_length":17}`, "code_length", "between 6 and 16"},
			{"whole code of 51", `{"batch_size":1,"code_length":16,"prefix":"` + strings.Repeat("P", 20) + `","suffix":"SSSSSSSSSSSSS","delimiter":"-"}`, "code_length", "51 characters"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := wantList(t, h.API("POST", path, tc.body), http.StatusUnprocessableEntity, tc.field)
				if !slices.ContainsFunc(e.Errors, func(el errorItem) bool {
					return strings.HasPrefix(el.Title, tc.field+": ") && strings.Contains(el.Title, tc.says)
				}) {
					t.Errorf("no title of %s says %q: %+v", tc.field, tc.says, e.Errors)
				}
			})
		}
		// The longest whole code is allowed: 20 + 1 + 16 + 1 + 12.
		codes := generate(t, h, id, `{"batch_size":1,"code_length":16,"prefix":"`+strings.Repeat("P", 20)+`","suffix":"SSSSSSSSSSSS","delimiter":"-"}`)
		if len(codes) != 1 || len(codes[0]) != 50 {
			t.Errorf("codes = %q, want one of 50 characters", codes)
		}
		if n := len(storedCodes(t, h, id)); n != 1 {
			t.Errorf("the promotion owns %d codes, want only the one allowed", n)
		}

		wantRefusal(t, h.API("POST", path, `{"batch_size":`), http.StatusBadRequest, "type", "detail")
		wantRefusal(t, h.API("POST", path, `[1]`), http.StatusBadRequest, "type", "detail")
	})
}

func TestBigCommerceCodegenRefusesPromotionAndCaller(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		single := createPromotion(t, h, `{"name":"One code","redemption_type":"COUPON","rules":[{"action":{"cart_value":{"discount":{"percentage_amount":"10"}}}}]}`)
		bulk := createPromotion(t, h, bulkPromotion)
		got := wantRefusal(t, h.API("POST", fmt.Sprintf("/api/v3/promotions/%d/codegen", single), `{"batch_size":2}`), http.StatusMethodNotAllowed, "error")
		if title := got["title"].(string); !strings.Contains(title, "bulk") || !strings.Contains(title, fmt.Sprint(single)) {
			t.Errorf("405 title = %q, want it to say codes are made for bulk promotions only", title)
		}
		wantList(t, h.API("POST", "/api/v3/promotions/999999/codegen", `{"batch_size":2}`), http.StatusNotFound, "")
		codegen := fmt.Sprintf("/api/v3/promotions/%d/codegen", bulk)
		wantRefusal(t, h.APIWith(map[string]string{"X-Auth-Token": h.ReadToken}, "POST", codegen, `{"batch_size":2}`), http.StatusForbidden, "error")
		wantRefusal(t, h.APIWith(nil, "POST", codegen, `{"batch_size":2}`), http.StatusUnauthorized, "error")
		wantRefusal(t, h.API("PUT", codegen, `{"batch_size":2}`), http.StatusMethodNotAllowed, "error")
		if n := len(storedCodes(t, h, bulk)); n != 0 {
			t.Errorf("refused requests made %d codes", n)
		}
	})
}

func TestBigCommerceCodegen(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		id := createPromotion(t, h, bulkPromotion)
		path := fmt.Sprintf("/api/v3/promotions/%d/codegen", id)
		r := h.MustAPI(http.StatusCreated, "POST", path, `{"batch_size":5,"max_uses":10,"max_uses_per_customer":2,"prefix":"PRE","suffix":"POST",
			"delimiter":"_","exclude_characters":["G","H","I","J","K","L","M","N","O","P","Q","R","S","T","U","V","W","X","Y","Z"],"code_length":10}`)

		// The exact names and JSON types of the answer.
		var raw struct {
			Data map[string]json.RawMessage `json:"data"`
			Meta map[string]json.RawMessage `json:"meta"`
		}
		if err := json.Unmarshal([]byte(r.Body), &raw); err != nil {
			t.Fatal(err)
		}
		if raw.Meta == nil || len(raw.Meta) != 0 {
			t.Errorf("meta = %v, want {}", raw.Meta)
		}
		names := slices.Sorted(func(yield func(string) bool) {
			for k := range raw.Data {
				if !yield(k) {
					return
				}
			}
		})
		if want := []string{"batch_size", "codes", "created", "max_uses", "max_uses_per_customer"}; !slices.Equal(names, want) {
			t.Errorf("data members = %v, want %v", names, want)
		}
		for name, want := range map[string]string{"batch_size": "5", "max_uses": "10", "max_uses_per_customer": "2"} {
			if string(raw.Data[name]) != want {
				t.Errorf("data.%s = %s, want the number %s", name, raw.Data[name], want)
			}
		}
		var created string
		if err := json.Unmarshal(raw.Data["created"], &created); err != nil {
			t.Errorf("created = %s, want a string: %v", raw.Data["created"], err)
		} else if _, err := time.Parse(time.RFC3339, created); err != nil {
			t.Errorf("created = %q is not RFC 3339: %v", created, err)
		}
		var codes []map[string]json.RawMessage
		if err := json.Unmarshal(raw.Data["codes"], &codes); err != nil || len(codes) != 5 {
			t.Fatalf("codes = %s (%v), want 5 objects", raw.Data["codes"], err)
		}
		// Twenty letters are excluded: the random part is hexadecimal.
		shape := regexp.MustCompile(`^PRE_[0-9A-F]{10}_POST$`)
		for _, c := range codes {
			var code string
			if len(c) != 1 || json.Unmarshal(c["code"], &code) != nil {
				t.Fatalf("code element = %v, want {\"code\": \"…\"}", c)
			}
			if !shape.MatchString(code) {
				t.Errorf("code %q is not PRE_ + 10 of 0–9 and A–F (G–Z excluded) + _POST", code)
			}
		}

		// The codes belong to the promotion, with the uses asked for, and
		// their batch shows on the console.
		stored := storedCodes(t, h, id)
		if len(stored) != 5 {
			t.Fatalf("the promotion owns %d codes, want 5", len(stored))
		}
		for _, c := range stored {
			if c.PromotionID == nil || *c.PromotionID != id || c.MaxUsage != 10 || c.MaxUsagePerClient != 2 || c.BatchID == nil {
				t.Errorf("stored code = %+v", c)
			}
		}
		batches, err := h.Store.ListBatches(t.Context(), models.BatchFilter{PromotionID: &id})
		if err != nil || len(batches.Batches) != 1 || batches.Batches[0].Status != models.BatchDone || batches.Batches[0].Generated != 5 {
			t.Fatalf("batches of the promotion = %+v (%v), want one done batch of 5", batches.Batches, err)
		}
		if page := h.Do("GET", fmt.Sprintf("/batches/%d", batches.Batches[0].ID), nil, nil); page.Status != http.StatusOK {
			t.Errorf("console batch page: %d", page.Status)
		}

		// Without options: 16 random characters, one use each, one per
		// customer.
		plain := webtest.Decode[codegenAnswer](t, h.MustAPI(http.StatusCreated, "POST", path, `{"batch_size":3,"delimiter":"-"}`)).Data
		if plain.MaxUses != 1 || plain.MaxUsesPerCustomer != 1 || plain.BatchSize != 3 || len(plain.Codes) != 3 {
			t.Errorf("defaults = %+v", plain)
		}
		for _, c := range plain.Codes {
			if !regexp.MustCompile(`^[A-Z0-9]{16}$`).MatchString(c.Code) {
				t.Errorf("code %q is not 16 upper-case letters and digits (a delimiter goes only next to a prefix or suffix)", c.Code)
			}
		}
		// 0 is unlimited.
		unlimited := webtest.Decode[codegenAnswer](t, h.MustAPI(http.StatusCreated, "POST", path, `{"batch_size":1,"max_uses":0,"max_uses_per_customer":0,"suffix":"X","delimiter":"-"}`)).Data
		if unlimited.MaxUses != 0 || unlimited.MaxUsesPerCustomer != 0 || !regexp.MustCompile(`^[A-Z0-9]{16}-X$`).MatchString(unlimited.Codes[0].Code) {
			t.Errorf("unlimited = %+v", unlimited)
		}
	})
}

func TestBigCommerceCodegenIdempotencyKey(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		id := createPromotion(t, h, bulkPromotion)
		path := fmt.Sprintf("/api/v3/promotions/%d/codegen", id)
		auth := map[string]string{"X-Auth-Token": h.Token, "Idempotency-Key": "gen-1"}
		first := h.APIWith(auth, "POST", path, `{"batch_size":4}`)
		if first.Status != http.StatusCreated {
			t.Fatalf("first: %d %s", first.Status, first.Body)
		}
		again := h.APIWith(auth, "POST", path, `{"batch_size":4}`)
		if again.Status != http.StatusCreated || again.Body != first.Body || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay: %d %q replayed=%q, want the first answer again", again.Status, again.Body, again.Header.Get("Idempotent-Replayed"))
		}
		if n := len(storedCodes(t, h, id)); n != 4 {
			t.Errorf("the promotion owns %d codes after the replay, want the first 4", n)
		}
		wantList(t, h.APIWith(auth, "POST", path, `{"batch_size":5}`), http.StatusUnprocessableEntity, "")
		if n := len(storedCodes(t, h, id)); n != 4 {
			t.Errorf("the promotion owns %d codes after a reused key, want 4", n)
		}
	})
}

type codesPage struct {
	Data []struct {
		ID                 int64  `json:"id"`
		Code               string `json:"code"`
		CurrentUses        int    `json:"current_uses"`
		MaxUses            int    `json:"max_uses"`
		MaxUsesPerCustomer int    `json:"max_uses_per_customer"`
		Created            string `json:"created"`
	} `json:"data"`
	Meta struct {
		CursorPagination *struct {
			Count       int    `json:"count"`
			PerPage     int    `json:"per_page"`
			StartCursor string `json:"start_cursor"`
			EndCursor   string `json:"end_cursor"`
			Links       struct {
				Previous *string `json:"previous"`
				Next     *string `json:"next"`
			} `json:"links"`
		} `json:"cursor_pagination"`
		Pagination *struct {
			Total       int `json:"total"`
			Count       int `json:"count"`
			PerPage     int `json:"per_page"`
			CurrentPage int `json:"current_page"`
			TotalPages  int `json:"total_pages"`
			Links       struct {
				Previous *string `json:"previous"`
				Current  *string `json:"current"`
				Next     *string `json:"next"`
			} `json:"links"`
		} `json:"pagination"`
	} `json:"meta"`
}

func TestBigCommerceCodesPageByCursor(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		id := createPromotion(t, h, bulkPromotion)
		generated := generate(t, h, id, `{"batch_size":7,"max_uses":3,"max_uses_per_customer":2}`)
		other := createPromotion(t, h, bulkPromotion)
		generate(t, h, other, `{"batch_size":2}`)
		base := fmt.Sprintf("/api/v3/promotions/%d/codes", id)
		get := func(query string) codesPage {
			t.Helper()
			return webtest.Decode[codesPage](t, h.MustAPI(http.StatusOK, "GET", base+query, ""))
		}

		// Forwards, from the first page to the empty one after the last.
		first := get("?limit=3")
		if p := first.Meta.Pagination; p == nil || p.Total != 7 || p.Count != 3 || p.PerPage != 3 || p.CurrentPage != 1 || p.TotalPages != 3 ||
			p.Links.Current == nil || p.Links.Next == nil || p.Links.Previous != nil {
			t.Errorf("deprecated block of the first page = %+v", p)
		}
		var seen []string
		var ids []int64
		page, pages := first, 0
		var last codesPage
		for {
			cp := page.Meta.CursorPagination
			if cp == nil {
				t.Fatal("no cursor_pagination")
			}
			if len(page.Data) == 0 {
				if cp.Count != 0 || cp.Links.Next != nil || cp.Links.Previous != nil || cp.StartCursor != "" || cp.EndCursor != "" {
					t.Errorf("empty page = %+v, want no cursors and no links", cp)
				}
				break
			}
			if pages++; pages > 5 {
				t.Fatal("the walk does not end")
			}
			if pages > 1 && page.Meta.Pagination != nil {
				t.Errorf("page %d asked for with a cursor carries the deprecated pagination block", pages)
			}
			if cp.Count != len(page.Data) || cp.PerPage != 3 || cp.StartCursor == "" || cp.EndCursor == "" || cp.Links.Next == nil {
				t.Errorf("page %d: %+v, want its count, cursors and a next link", pages, cp)
			}
			if (cp.Links.Previous != nil) != (pages > 1) {
				t.Errorf("page %d: previous link %v, want one on every page but the first", pages, cp.Links.Previous)
			}
			for _, c := range page.Data {
				seen, ids = append(seen, c.Code), append(ids, c.ID)
				if c.MaxUses != 3 || c.MaxUsesPerCustomer != 2 || c.CurrentUses != 0 {
					t.Errorf("code %+v, want the uses it was generated with", c)
				}
				if _, err := time.Parse(time.RFC3339, c.Created); err != nil {
					t.Errorf("created %q: %v", c.Created, err)
				}
			}
			last = page
			page = get(*cp.Links.Next)
		}
		if pages != 3 || !slices.Equal(seen, generated) || !slices.IsSorted(ids) {
			t.Fatalf("forwards over %d pages: %v (ids %v), want the 7 codes in id order %v", pages, seen, ids, generated)
		}

		// Backwards from the last page to the first.
		var back []string
		page, pages = last, 0
		for {
			back = append(slices.Clone(codesOf(page)), back...)
			cp := page.Meta.CursorPagination
			if pages++; pages > 5 {
				t.Fatal("the walk back does not end")
			}
			if cp.Links.Previous == nil {
				break
			}
			if !strings.Contains(*cp.Links.Previous, "before=") {
				t.Errorf("previous link %q does not page backwards", *cp.Links.Previous)
			}
			page = get(*cp.Links.Previous)
			if page.Meta.Pagination != nil {
				t.Error("a page asked for with before carries the deprecated pagination block")
			}
		}
		if pages != 3 || !slices.Equal(back, generated) {
			t.Errorf("backwards over %d pages: %v, want %v", pages, back, generated)
		}

		// One code by its code, ignoring case.
		one := get("?code=" + url.QueryEscape(strings.ToLower(generated[4])))
		if len(one.Data) != 1 || one.Data[0].Code != generated[4] || one.Meta.Pagination == nil || one.Meta.Pagination.Total != 1 {
			t.Errorf("by code: %+v", one)
		}
		if none := get("?code=NOPE"); len(none.Data) != 0 || none.Meta.Pagination.Total != 0 {
			t.Errorf("unknown code: %+v", none)
		}
		if all := get(""); len(all.Data) != 7 || all.Meta.CursorPagination.PerPage != 50 {
			t.Errorf("default page: %d codes, per_page %d", len(all.Data), all.Meta.CursorPagination.PerPage)
		}

		cursor := first.Meta.CursorPagination.EndCursor
		wantList(t, h.API("GET", base+"?after="+cursor+"&before="+cursor, ""), http.StatusUnprocessableEntity, "before")
		wantList(t, h.API("GET", base+"?after=not-a-cursor", ""), http.StatusUnprocessableEntity, "after")
		wantList(t, h.API("GET", base+"?limit=0", ""), http.StatusUnprocessableEntity, "limit")
		wantList(t, h.API("GET", base+"?limit=251", ""), http.StatusUnprocessableEntity, "limit")
		wantList(t, h.API("GET", base+"?page=2", ""), http.StatusUnprocessableEntity, "page")
		wantList(t, h.API("GET", "/api/v3/promotions/999999/codes", ""), http.StatusNotFound, "")
	})
}

func codesOf(p codesPage) []string {
	out := make([]string, len(p.Data))
	for i, c := range p.Data {
		out[i] = c.Code
	}
	return out
}

func TestBigCommerceDeleteCodesKeepsRedeemedOnes(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		id := createPromotion(t, h, bulkPromotion)
		codes := generate(t, h, id, `{"batch_size":5}`)
		h.MustAPI(http.StatusCreated, "POST", "/api/redemptions", fmt.Sprintf(`{"code":%q,"customerId":"c1","orderId":"o-1","items":1}`, codes[1]))
		// A cancelled redemption is history too.
		r := webtest.Decode[struct {
			ID int64 `json:"id"`
		}](t, h.MustAPI(http.StatusCreated, "POST", "/api/redemptions", fmt.Sprintf(`{"code":%q,"customerId":"c2","orderId":"o-2","items":1}`, codes[3])))
		h.MustAPI(http.StatusOK, "POST", fmt.Sprintf("/api/redemptions/%d/cancel", r.ID), "")
		stored := storedCodes(t, h, id)
		other := createPromotion(t, h, bulkPromotion)
		strange := generate(t, h, other, `{"batch_size":1}`)
		strangeID := h.MustCoupon(strange[0]).ID

		path := fmt.Sprintf("/api/v3/promotions/%d/codes?id:in=%d,%d,%d,999999,%d", id, stored[0].ID, stored[1].ID, stored[2].ID, strangeID) + fmt.Sprintf(",%d", stored[3].ID)
		e := wantList(t, h.API("DELETE", path, ""), http.StatusUnprocessableEntity, "")
		if m := e.Meta; m == nil || m.Total != 6 || m.Success != 2 || m.Failed != 4 {
			t.Errorf("meta = %+v, want 6 in total, 2 deleted, 4 kept", e.Meta)
		}
		el := e.Errors[0]
		if el.Type == "" || el.Title == "" {
			t.Errorf("element = %+v, want a title and a type", el)
		}
		wantKeys := []string{"1.code", "3.id", "4.id", "5.code"}
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range el.Errors {
				if !yield(k) {
					return
				}
			}
		})
		if !slices.Equal(keys, wantKeys) {
			t.Errorf("per-item errors = %v, want %v", el.Errors, wantKeys)
		}
		if !strings.Contains(el.Errors["1.code"], codes[1]) || !strings.Contains(el.Errors["1.code"], "redeemed") {
			t.Errorf("1.code = %q, want it to name the redeemed code", el.Errors["1.code"])
		}
		left := storedCodes(t, h, id)
		var leftCodes []string
		for _, c := range left {
			leftCodes = append(leftCodes, c.Code)
		}
		if want := []string{codes[1], codes[3], codes[4]}; !slices.Equal(leftCodes, want) {
			t.Errorf("codes left = %v, want the redeemed %s and %s and the untouched %s", leftCodes, codes[1], codes[3], codes[4])
		}
		if _, ok := h.Coupon(strange[0]); !ok {
			t.Error("a code of another promotion was deleted")
		}
		audit, err := h.Store.ListAudit(t.Context(), models.AuditFilter{Action: models.ActionCouponDelete})
		if err != nil {
			t.Fatal(err)
		}
		var deleted []string
		for _, ev := range audit.Events {
			deleted = append(deleted, ev.EntityID)
		}
		slices.Sort(deleted)
		if want := slices.Sorted(slices.Values([]string{codes[0], codes[2]})); !slices.Equal(deleted, want) {
			t.Errorf("audit events of deletions name %v, want %v", deleted, want)
		}

		// Every code deletable: 204, nothing in the body.
		if r := h.API("DELETE", fmt.Sprintf("/api/v3/promotions/%d/codes?id:in=%d", id, left[2].ID), ""); r.Status != http.StatusNoContent || r.Body != "" {
			t.Errorf("delete of an unused code: %d %q, want 204", r.Status, r.Body)
		}

		// id:in missing or malformed: refused as a whole, counts all 0.
		for _, q := range []string{"", "?id:in=", "?id:in=1,x", "?id:in=-3", "?id:in=" + strings.Repeat("1,", 250) + "1", "?code=ABC"} {
			e := wantList(t, h.API("DELETE", fmt.Sprintf("/api/v3/promotions/%d/codes%s", id, q), ""), http.StatusUnprocessableEntity, "")
			if e.Meta == nil || *e.Meta != (struct {
				Total   int `json:"total"`
				Success int `json:"success"`
				Failed  int `json:"failed"`
			}{}) || e.Errors[0].Type == "" {
				t.Errorf("%q: meta %+v, type %q, want zeros and a type", q, e.Meta, e.Errors[0].Type)
			}
			// BigCommerce's title for a missing id:in, word for word, for a
			// malformed one too; what is wrong goes in detail.
			tooMany := strings.Count(q, ",") >= 250
			if tooMany && !strings.HasPrefix(e.Errors[0].Title, "id:in: must name from 1 to 250") {
				t.Errorf("%q: title %q; want the limit named", q, e.Errors[0].Title)
			}
			if q != "?code=ABC" && !tooMany && (e.Errors[0].Title != "Parameter id:in is required" || !strings.Contains(e.Errors[0].Detail, "id")) {
				t.Errorf("%q: title %q, detail %q; want the published title and a detail", q, e.Errors[0].Title, e.Errors[0].Detail)
			}
		}
		missing := wantList(t, h.API("DELETE", fmt.Sprintf("/api/v3/promotions/%d/codes", id), ""), http.StatusUnprocessableEntity, "")
		if !strings.Contains(missing.Errors[0].Detail, "is required") {
			t.Errorf("detail = %q, want it to say id:in is required", missing.Errors[0].Detail)
		}
		wantList(t, h.API("DELETE", "/api/v3/promotions/999999/codes?id:in=1", ""), http.StatusNotFound, "")
		wantRefusal(t, h.APIWith(map[string]string{"X-Auth-Token": h.ReadToken}, "DELETE", fmt.Sprintf("/api/v3/promotions/%d/codes?id:in=1", id), ""), http.StatusForbidden, "error")
		if n := len(storedCodes(t, h, id)); n != 2 {
			t.Errorf("%d codes left after the refused requests, want the 2 redeemed", n)
		}
	})
}
