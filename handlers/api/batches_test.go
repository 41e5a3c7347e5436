package api_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/web/webtest"
)

// batchJSON is the part of a batch answer the tests read.
type batchJSON struct {
	ID               int64   `json:"id"`
	Status           string  `json:"status"`
	Quantity         int     `json:"quantity"`
	Generated        int     `json:"generated"`
	PromotionID      *int64  `json:"promotionId"`
	Describe         string  `json:"describe"`
	CodeLength       int     `json:"codeLength"`
	Keyspace         string  `json:"keyspace"`
	GuessProbability float64 `json:"guessProbability"`
	MaxUsage         int     `json:"maxUsage"`
	CreatedBy        string  `json:"createdBy"`
	Progress         struct {
		Percent float64 `json:"percent"`
	} `json:"progress"`
	Links struct {
		Self  string `json:"self"`
		Codes string `json:"codes"`
	} `json:"links"`
}

func TestBatchAPIMakesABatchInTheBackground(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		promo := webtest.Decode[promotionJSON](t, h.MustAPI(http.StatusCreated, "POST", "/api/promotions",
			`{"name":"Spring bulk","kind":"bulk","discountType":"percent","discountValue":10}`))
		r := h.MustAPI(http.StatusAccepted, "POST", "/api/batches",
			fmt.Sprintf(`{"promotionId":%d,"quantity":2500,"format":{"prefix":"SPRING","delimiter":"-","length":8,"charset":"unambiguous"}}`, promo.ID))
		b := webtest.Decode[batchJSON](t, r)
		if b.Status != models.BatchPending || b.Quantity != 2500 || b.Generated != 0 || b.MaxUsage != 1 || b.CodeLength != 15 ||
			b.Keyspace != "852891037441" || b.CreatedBy != "token:test-modify" || r.Header.Get("Location") != b.Links.Self {
			t.Fatalf("accepted batch = %+v (Location %q)", b, r.Header.Get("Location"))
		}
		wait := h.RunBatches()
		wait(b.ID)
		got := webtest.Decode[batchJSON](t, h.MustAPI(http.StatusOK, "GET", b.Links.Self, ""))
		if got.Status != models.BatchDone || got.Generated != 2500 || got.Progress.Percent != 100 || got.GuessProbability != 2500.0/852891037441 {
			t.Errorf("finished batch = %+v", got)
		}
		rows := webtest.ReadCSV(t, h.APIWith(map[string]string{"X-Auth-Token": h.ReadToken}, "GET", b.Links.Codes, ""))
		if len(rows) != 2500 {
			t.Fatalf("CSV has %d codes, want 2500", len(rows))
		}
		code := regexp.MustCompile(`^SPRING-[2-9A-HJKMNP-Z]{8}$`)
		seen := map[string]bool{}
		for _, row := range rows {
			if !code.MatchString(row[0]) || row[1] != "active" || row[2] != "0" || row[3] != "1" || row[7] != "Spring bulk" || row[8] != "10 %" ||
				row[11] != "" || !strings.HasSuffix(row[12], "Z") || seen[row[0]] {
				t.Fatalf("CSV row %q", row)
			}
			seen[row[0]] = true
		}
		// A generated code reaches its bulk promotion with no UTM tag.
		v := h.Verdict(rows[0][0], "someone")
		if !v.Valid || len(v.Promotions) != 1 || v.Promotions[0].Promotion.ID != promo.ID {
			t.Errorf("verdict of a generated code = %+v, want valid through promotion %d", v, promo.ID)
		}
		list := webtest.Decode[struct{ Batches []batchJSON }](t, h.MustAPI(http.StatusOK, "GET", fmt.Sprintf("/api/batches?promotionId=%d&status=done", promo.ID), ""))
		if len(list.Batches) != 1 || list.Batches[0].ID != b.ID {
			t.Errorf("batches of the promotion = %+v", list.Batches)
		}
		webtest.WantError(t, h.API("GET", "/api/batches/999", ""), http.StatusNotFound, "not_found")
		webtest.WantError(t, h.API("GET", "/api/batches/999/codes.csv", ""), http.StatusNotFound, "not_found")
	})
}

func TestBatchAPIRefusesBadRequestsFieldByField(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		regular := webtest.Decode[promotionJSON](t, h.MustAPI(http.StatusCreated, "POST", "/api/promotions", `{"name":"Tagged","discountType":"fixed","discountValue":100,"utmCampaign":"x"}`))
		tests := []struct {
			name, body string
			fields     []string
		}{
			{"no quantity", `{"format":{}}`, []string{"quantity"}},
			{"too many", `{"quantity":10000001}`, []string{"quantity"}},
			{"a quantity as text", `{"quantity":"5"}`, []string{"quantity"}},
			{"format fields", `{"quantity":5,"format":{"prefix":"a b","delimiter":".","charset":"emoji"}}`, []string{"format.prefix", "format.delimiter", "format.charset"}},
			{"a pattern and a length", `{"quantity":5,"format":{"pattern":"##","length":3}}`, []string{"format.length"}},
			{"limits", `{"quantity":5,"maxUsage":-1,"maxItemsPerClient":-2,"expirationIntervalPerUse":"soon"}`, []string{"maxUsage", "maxItemsPerClient", "expirationIntervalPerUse"}},
			{"an unknown promotion", `{"quantity":5,"promotionId":4242}`, []string{"promotionId"}},
			{"a regular promotion", fmt.Sprintf(`{"quantity":5,"promotionId":%d}`, regular.ID), []string{"promotionId"}},
		}
		for _, tt := range tests {
			webtest.WantError(t, h.API("POST", "/api/batches", tt.body), http.StatusUnprocessableEntity, "invalid", tt.fields...)
		}
		e := webtest.WantError(t, h.API("POST", "/api/batches", `{"quantity":60,"format":{"length":2,"charset":"digits"}}`), http.StatusUnprocessableEntity, "invalid", "quantity")
		if msg := e.Error.Fields["quantity"]; !strings.Contains(msg, "100 codes") || !strings.Contains(msg, "a length of 3 fits") {
			t.Errorf("an infeasible quantity says %q, want the keyspace and a length that fits", msg)
		}
		webtest.WantError(t, h.API("POST", "/api/batches", `{"quantity":`), http.StatusBadRequest, "bad_request")
		webtest.WantError(t, h.APIWith(map[string]string{"X-Auth-Token": h.ReadToken}, "POST", "/api/batches", `{"quantity":5}`), http.StatusForbidden, "forbidden")
		if list := webtest.Decode[struct{ Batches []batchJSON }](t, h.MustAPI(http.StatusOK, "GET", "/api/batches", "")); len(list.Batches) != 0 {
			t.Errorf("refused requests left batches behind: %+v", list.Batches)
		}
	})
}

func TestBatchAPIHonoursIdempotencyKeys(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		send := func(token, key, body string) webtest.Response {
			return h.APIWith(map[string]string{"X-Auth-Token": token, "Idempotency-Key": key}, "POST", "/api/batches", body)
		}
		body := `{"quantity":10,"format":{"prefix":"IDEM","length":6}}`
		first := send(h.Token, "key-1", body)
		again := send(h.Token, "key-1", body)
		if first.Status != http.StatusAccepted || again.Status != http.StatusAccepted || again.Body != first.Body || again.Header.Get("Idempotent-Replayed") != "true" ||
			again.Header.Get("Location") == "" || again.Header.Get("Location") != first.Header.Get("Location") {
			t.Fatalf("first %d %s\nagain %d %s (replayed %q)", first.Status, first.Body, again.Status, again.Body, again.Header.Get("Idempotent-Replayed"))
		}
		webtest.WantError(t, send(h.Token, "key-1", `{"quantity":11,"format":{"prefix":"IDEM","length":6}}`), http.StatusUnprocessableEntity, "idempotency_key_reused")
		webtest.WantError(t, send(h.Token, strings.Repeat("k", 256), body), http.StatusUnprocessableEntity, "invalid", "Idempotency-Key")
		// A refused request keeps no claim: the key answers the same
		// refusal again, and nothing was made.
		bad := `{"quantity":0}`
		webtest.WantError(t, send(h.Token, "key-2", bad), http.StatusUnprocessableEntity, "invalid", "quantity")
		webtest.WantError(t, send(h.Token, "key-2", bad), http.StatusUnprocessableEntity, "invalid", "quantity")
		// Keys belong to their token, even to another of the same name.
		_, other, err := h.Store.CreateToken(t.Context(), "test-modify", models.ScopeModify)
		if err != nil {
			t.Fatal(err)
		}
		if r := send(other, "key-1", body); r.Status != http.StatusAccepted || webtest.Decode[batchJSON](t, r).ID == webtest.Decode[batchJSON](t, first).ID {
			t.Errorf("another token's key-1: %d %s, want a batch of its own", r.Status, r.Body)
		}
		list := webtest.Decode[struct{ Batches []batchJSON }](t, h.MustAPI(http.StatusOK, "GET", "/api/batches", ""))
		if len(list.Batches) != 2 {
			t.Errorf("%d batches, want one per token", len(list.Batches))
		}
	})
}

func TestBatchAPICancelKeepsWhatWasMade(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		b := webtest.Decode[batchJSON](t, h.MustAPI(http.StatusAccepted, "POST", "/api/batches", `{"quantity":5000,"format":{"length":10}}`))
		// No runner yet: the batch waits, and cancelling it keeps none.
		got := webtest.Decode[batchJSON](t, h.MustAPI(http.StatusOK, "POST", fmt.Sprintf("/api/batches/%d/cancel", b.ID), ""))
		if got.Status != models.BatchCancelled || got.Generated != 0 {
			t.Errorf("cancelled batch = %+v", got)
		}
		h.MustAPI(http.StatusOK, "POST", fmt.Sprintf("/api/batches/%d/cancel", b.ID), "")
		if rows := webtest.ReadCSV(t, h.API("GET", b.Links.Codes, "")); len(rows) != 0 {
			t.Errorf("a batch cancelled before it ran has %d codes", len(rows))
		}
		wait := h.RunBatches()
		done := webtest.Decode[batchJSON](t, h.MustAPI(http.StatusAccepted, "POST", "/api/batches", `{"quantity":10,"format":{"length":10}}`))
		if b := wait(done.ID); b.Status != models.BatchDone {
			t.Fatalf("batch %+v, want done", b)
		}
		webtest.WantError(t, h.API("POST", fmt.Sprintf("/api/batches/%d/cancel", done.ID), ""), http.StatusConflict, "batch_finished")
		if b := wait(b.ID); b.Status != models.BatchCancelled {
			t.Errorf("the runner took up a cancelled batch: %+v", b)
		}
		webtest.WantError(t, h.API("POST", "/api/batches/77/cancel", ""), http.StatusNotFound, "not_found")
	})
}

func TestBatchAPIPreviewWritesNothing(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		type preview struct {
			Samples          []string
			Keyspace         string
			GuessProbability float64
			GuessOdds        string
			Guessable, Fits  bool
			Problem          string
		}
		p := webtest.Decode[preview](t, h.MustAPI(http.StatusOK, "POST", "/api/batches/preview", `{"quantity":1000,"format":{"pattern":"BDAY-####"}}`))
		re := regexp.MustCompile(`^BDAY-[0-9]{4}$`)
		if len(p.Samples) == 0 || !re.MatchString(p.Samples[0]) || p.Keyspace != "10000" || p.GuessProbability != 0.1 || p.GuessOdds != "1 in 10" || !p.Guessable || !p.Fits {
			t.Errorf("preview of 1000 of 10000 = %+v", p)
		}
		p = webtest.Decode[preview](t, h.MustAPI(http.StatusOK, "POST", "/api/batches/preview", `{"quantity":6000,"format":{"pattern":"BDAY-####"}}`))
		if p.Fits || !strings.Contains(p.Problem, "10000 codes") {
			t.Errorf("preview of 6000 of 10000 = %+v, want it not to fit, saying why", p)
		}
		p = webtest.Decode[preview](t, h.MustAPI(http.StatusOK, "POST", "/api/batches/preview", `{"quantity":1000,"format":{"length":16}}`))
		if p.Guessable || !p.Fits {
			t.Errorf("preview of 16 characters = %+v, want neither guessable nor too full", p)
		}
		webtest.WantError(t, h.API("POST", "/api/batches/preview", `{"quantity":1,"format":{"charset":"x"}}`), http.StatusUnprocessableEntity, "invalid", "format.charset")
		if list := webtest.Decode[struct{ Batches []batchJSON }](t, h.MustAPI(http.StatusOK, "GET", "/api/batches", "")); len(list.Batches) != 0 {
			t.Errorf("a preview made batches: %+v", list.Batches)
		}
	})
}

// TestCouponsCSVFollowsTheListFilters exports under the console list's
// filters, and writes a cell that a spreadsheet would run as a formula
// with a leading quote.
func TestCouponsCSVFollowsTheListFilters(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		for _, code := range []string{"SUMMER-1", "SUMMER-2", "WINTER-1"} {
			h.MustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", fmt.Sprintf(`{"couponCode":%q,"utmSource":"news","maxUsage":3}`, code))
		}
		h.MustAPI(http.StatusOK, "POST", "/api/rnb/pvt/archive/coupon/SUMMER-2", "")
		h.MustAPI(http.StatusCreated, "POST", "/api/single-use-coupons",
			`{"code":"BDAY-ANN","customerId":"=HYPERLINK(\"http://x\")","discountType":"fixed","discountValue":500}`)
		rows := webtest.ReadCSV(t, h.API("GET", "/api/coupons.csv?q=summer", ""))
		if len(rows) != 2 || rows[0][0] != "SUMMER-1" || rows[0][1] != "no_active_promotion" || rows[0][3] != "3" || rows[0][5] != "news" || rows[1][0] != "SUMMER-2" || rows[1][1] != "archived" {
			t.Errorf("coupons starting with summer: %q", rows)
		}
		if rows := webtest.ReadCSV(t, h.API("GET", "/api/coupons.csv?status=archived", "")); len(rows) != 1 || rows[0][0] != "SUMMER-2" {
			t.Errorf("archived coupons: %q", rows)
		}
		h.MustAPI(http.StatusCreated, "POST", "/api/single-use-coupons",
			`{"code":"BDAY-BOB","customerId":"bob,\"jr\"","discountType":"fixed","discountValue":500}`)
		rows = webtest.ReadCSV(t, h.API("GET", "/api/coupons.csv?q=bday", ""))
		if len(rows) != 2 || rows[0][11] != `'=HYPERLINK("http://x")` || rows[1][11] != `bob,"jr"` {
			t.Errorf("a customer id that reads as a formula is written %q, want it quoted", rows)
		}
		webtest.WantError(t, h.API("GET", "/api/coupons.csv?status=maybe", ""), http.StatusUnprocessableEntity, "invalid", "status")
		webtest.WantError(t, h.API("GET", "/api/coupons.csv?sort=price", ""), http.StatusUnprocessableEntity, "invalid", "sort")
	})
}
