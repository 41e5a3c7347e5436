package capillary_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coupond/coupond/handlers"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
	"github.com/coupond/coupond/web"
	"github.com/coupond/coupond/web/webtest"
	"golang.org/x/crypto/bcrypt"
)

// The Capillary-style API under /v2/coupon, as a loyalty team's point of
// sale uses it. What the tests hold it to, in our words:
//
//   - a series is created from {"CouponSeriesV2": {…}} and answered flat,
//     with an integer id, the counts, and a warning for each field coupond
//     keeps without acting on it;
//   - bulk issue answers HTTP 200 with one entity per distinct series, in
//     the order listed: a code, or errors with Capillary's numbers (707
//     unknown, 714 maxCreate reached, 722 the customer holds enough),
//     failureCount counting the entities with errors; a whole request that
//     is malformed is a 400 with code 629;
//   - the same Idempotency-Key and body answer the same codes again;
//   - redeem takes every code or none (749 on those that could have been
//     redeemed), and couponValue is the discount on this bill: a
//     percentage held to discountUpto, a fixed amount held to the bill.

// createSeries creates a series through the API and returns its id.
func createSeries(t *testing.T, h *webtest.Harness, fields string) int64 {
	t.Helper()
	r := h.MustAPI(http.StatusOK, "POST", "/v2/coupon/series", `{"CouponSeriesV2": {`+fields+`}}`)
	var s struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal([]byte(r.Body), &s); err != nil || s.ID == 0 {
		t.Fatalf("series answer %s: %v", r.Body, err)
	}
	return s.ID
}

const seriesBase = `"description": "Festival coupon", "discountCode": "erg123", "validTillDate": "2030-05-09T00:00:00+05:30", "discountType": "ABS", "discountValue": 500, "detailedInfo": "Evil coupon"`

type bulkIssue struct {
	Response []struct {
		EntityID int64          `json:"entityId"`
		Result   map[string]any `json:"result"`
		Errors   []struct {
			Status  bool   `json:"status"`
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
		Warnings []string `json:"warnings"`
	} `json:"response"`
	TotalCount   int `json:"totalCount"`
	FailureCount int `json:"failureCount"`
}

func TestCapillaryBulkIssue(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		festival := createSeries(t, h, seriesBase+`, "smsTemplate": "Hi", "maxVouchersPerUser": 1`)
		diwali := createSeries(t, h, `"description": "DIWALI", "validTillDate": "2031-01-01T00:00:00Z", "discountType": "PERC", "discountValue": 10, "discountUpto": 150, "maxCreate": 2`)

		r := h.MustAPI(http.StatusOK, "POST", "/v2/coupon/bulk/issue?source=INSTORE", fmt.Sprintf(`{"seriesIds": [%d, 999999, %d, %d], "customer": {"id": "555567088"}}`, festival, diwali, festival))
		// The exact names and JSON types of the seed's sample.
		var raw map[string]any
		json.Unmarshal([]byte(r.Body), &raw)
		entity := raw["response"].([]any)[0].(map[string]any)
		result := entity["result"].(map[string]any)
		want := map[string]string{"code": "string", "seriesId": "float64", "description": "string", "discountCode": "string", "validTill": "string",
			"discountType": "string", "discountValue": "float64", "discountUpto": "float64", "discountOn": "string", "detailedInfo": "string",
			"redemptionCount": "float64", "id": "float64"}
		got := map[string]string{}
		for k, v := range result {
			got[k] = reflect.TypeOf(v).String()
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("result members and types = %v, want %v", got, want)
		}
		var keys []string
		for k := range raw {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if strings.Join(keys, ",") != "failureCount,response,totalCount" {
			t.Errorf("top-level members %v", keys)
		}

		b := webtest.Decode[bulkIssue](t, r)
		if b.TotalCount != 3 || b.FailureCount != 1 || len(b.Response) != 3 {
			t.Fatalf("totals %d/%d with %d entities, want 3/1 with 3: %s", b.TotalCount, b.FailureCount, len(b.Response), r.Body)
		}
		if e := b.Response[0]; e.EntityID != festival || len(e.Errors) != 0 || e.Result["code"] == "" || e.Result["discountValue"] != 500.0 || e.Result["validTill"] != "2030-05-08T18:30:00Z" {
			t.Errorf("festival entity %+v", e)
		}
		if e := b.Response[0]; len(e.Warnings) != 1 || !strings.Contains(e.Warnings[0], "listed 2 times") {
			t.Errorf("a series listed twice warns: %v", e.Warnings)
		}
		if e := b.Response[1]; e.EntityID != 999999 || len(e.Errors) != 1 || e.Errors[0].Code != 707 || e.Errors[0].Status {
			t.Errorf("unknown series entity %+v", e)
		}
		if e := b.Response[2]; e.EntityID != diwali || len(e.Errors) != 0 || e.Result["discountType"] != "PERC" {
			t.Errorf("diwali entity %+v", e)
		}

		// The same customer again: festival allows one code each; diwali
		// its second and last code.
		b = webtest.Decode[bulkIssue](t, h.MustAPI(http.StatusOK, "POST", "/v2/coupon/bulk/issue", fmt.Sprintf(`{"seriesIds": [%d, %d], "customer": {"id": 555567088}}`, festival, diwali)))
		if e := b.Response[0]; len(e.Errors) != 1 || e.Errors[0].Code != 722 || !strings.Contains(e.Errors[0].Message, "maxVouchersPerUser") {
			t.Errorf("maxVouchersPerUser reached: %+v", e)
		}
		if b.FailureCount != 1 || len(b.Response[1].Errors) != 0 {
			t.Errorf("diwali's second code: %+v", b)
		}
		b = webtest.Decode[bulkIssue](t, h.MustAPI(http.StatusOK, "POST", "/v2/coupon/bulk/issue", fmt.Sprintf(`{"seriesIds": [%d], "customer": {"email": "Someone@Example.com"}}`, diwali)))
		if e := b.Response[0]; len(e.Errors) != 1 || e.Errors[0].Code != 714 {
			t.Errorf("maxCreate reached: %+v", e)
		}

		// Whole-request problems.
		for _, body := range []string{`{"seriesIds": [], "customer": {"id": "1"}}`, `{"seriesIds": [1]}`, `{"seriesIds": [1`} {
			r := h.API("POST", "/v2/coupon/bulk/issue", body)
			var e struct {
				Status bool `json:"status"`
				Code   int  `json:"code"`
			}
			json.Unmarshal([]byte(r.Body), &e)
			if r.Status != http.StatusBadRequest || e.Code != 629 || e.Status {
				t.Errorf("%s: %d %s, want 400 with code 629", body, r.Status, r.Body)
			}
		}
		if r := h.API("POST", "/v2/coupon/bulk/issue?source=CARRIER_PIGEON", fmt.Sprintf(`{"seriesIds": [%d], "customer": {"id": "2"}}`, festival)); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `"source"`) {
			t.Errorf("unknown source: %d %s", r.Status, r.Body)
		}
	})
}

func TestCapillaryIssueIsIdempotent(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		id := createSeries(t, h, seriesBase)
		body := fmt.Sprintf(`{"seriesIds": [%d], "customer": {"mobile": "+91 98765 43210"}}`, id)
		auth := map[string]string{"X-Auth-Token": h.Token, "Idempotency-Key": "issue-1"}
		first := h.APIWith(auth, "POST", "/v2/coupon/bulk/issue", body)
		again := h.APIWith(auth, "POST", "/v2/coupon/bulk/issue", body)
		if first.Status != 200 || again.Body != first.Body {
			t.Fatalf("retry answered %d %s, first %d %s", again.Status, again.Body, first.Status, first.Body)
		}
		ser, err := h.Store.Series(t.Context(), id)
		if err != nil || ser.Issued != 1 {
			t.Errorf("issued %d codes (%v), want 1", ser.Issued, err)
		}
	})
}

func TestCapillaryRedeem(t *testing.T) {
	t.Parallel()
	webtest.ForEachDBAtEpoch(t, func(t *testing.T, h *webtest.Harness) {
		// The till's own time, which the store's clock stands at.
		tillTime := webtest.Epoch.Format("2006-01-02 15:04:05")
		fixed := createSeries(t, h, seriesBase)
		perc := createSeries(t, h, `"description": "Ten percent", "validTillDate": "2031-01-01T00:00:00Z", "discountType": "PERC", "discountValue": 10, "discountUpto": 150`)
		b := webtest.Decode[bulkIssue](t, h.MustAPI(http.StatusOK, "POST", "/v2/coupon/bulk/issue", fmt.Sprintf(`{"seriesIds": [%d, %d], "customer": {"id": "c1", "email": "c1@example.com"}}`, fixed, perc)))
		fixedCode, percCode := b.Response[0].Result["code"].(string), b.Response[1].Result["code"].(string)

		type redeemed struct {
			Redemption []struct {
				Code             string      `json:"code"`
				CouponValue      json.Number `json:"couponValue"`
				SeriesCode       int64       `json:"seriesCode"`
				RedemptionStatus struct {
					Code    int  `json:"code"`
					Success bool `json:"success"`
				} `json:"redemptionStatus"`
			} `json:"redemption"`
			RedemptionStatus struct {
				Status bool `json:"status"`
				Code   int  `json:"code"`
			} `json:"redemptionStatus"`
		}
		redeem := func(user, txn, bill string, codes ...string) (int, redeemed) {
			var list []string
			for _, c := range codes {
				list = append(list, fmt.Sprintf(`{"code": %q}`, c))
			}
			r := h.API("POST", "/v2/coupon/redeem", fmt.Sprintf(`{"redemptionRequestList": [%s], "user": %s, "transactionNumber": %q, "billAmount": %s, "redemptionTime": %q}`, strings.Join(list, ","), user, txn, bill, tillTime))
			return r.Status, webtest.Decode[redeemed](t, r)
		}

		// One bad code: nothing is redeemed, the good one says 749.
		status, got := redeem(`{"email": "C1@example.com"}`, "T1", `"2000"`, fixedCode, "NOSUCHCODE1")
		if status != http.StatusBadRequest || got.RedemptionStatus.Status || got.Redemption[0].RedemptionStatus.Code != 749 || got.Redemption[1].RedemptionStatus.Code != 719 {
			t.Fatalf("with an unknown code: %d %+v", status, got)
		}
		if c := h.MustCoupon(fixedCode); c.Uses != 0 {
			t.Errorf("the good code was used %d times after a refused request", c.Uses)
		}

		// 10 % of 2000 is 200, held to 150; 500 off a bill of 300 is 300.
		status, got = redeem(`{"id": "c1"}`, "T2", `2000`, fixedCode, percCode)
		if status != http.StatusOK || !got.RedemptionStatus.Status || got.Redemption[0].CouponValue != "500" || got.Redemption[1].CouponValue != "150" || got.Redemption[1].SeriesCode != perc {
			t.Fatalf("redeem both: %d %+v", status, got)
		}
		// The same transaction again answers the same redemptions.
		if status, again := redeem(`{"id": "c1"}`, "T2", `2000`, fixedCode, percCode); status != http.StatusOK || again.Redemption[1].CouponValue != "150" {
			t.Errorf("retry of T2: %d %+v", status, again)
		}
		if status, got = redeem(`{"id": "c1"}`, "T3", `300`, fixedCode); status != http.StatusBadRequest || got.Redemption[0].RedemptionStatus.Code != 711 {
			t.Errorf("a used code: %d %+v", status, got)
		}

		other := webtest.Decode[bulkIssue](t, h.MustAPI(http.StatusOK, "POST", "/v2/coupon/bulk/issue", fmt.Sprintf(`{"seriesIds": [%d], "customer": {"id": "c2"}}`, fixed)))
		otherCode := other.Response[0].Result["code"].(string)
		if status, got = redeem(`{"id": "c1"}`, "T4", `300`, otherCode); status != http.StatusBadRequest || got.Redemption[0].RedemptionStatus.Code != 703 {
			t.Errorf("another customer's code: %d %+v", status, got)
		}
		status, got = redeem(`{"id": "c2"}`, "T5", `300`, otherCode)
		if status != http.StatusOK || got.Redemption[0].CouponValue != "300" {
			t.Errorf("a fixed 500 on a bill of 300: %d %+v", status, got)
		}
		if status, got = redeem(`{"mobile": "123456789"}`, "T6", `300`, otherCode); status != http.StatusBadRequest || got.RedemptionStatus.Code != 701 {
			t.Errorf("an unknown customer: %d %+v", status, got)
		}
		r := h.API("POST", "/v2/coupon/redeem", fmt.Sprintf(`{"redemptionRequestList": [{"code": %q}], "user": {"id": "c2"}, "billAmount": 10}`, otherCode))
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `"code":718`) {
			t.Errorf("no transaction number: %d %s", r.Status, r.Body)
		}

		// is_redeemable, with HTTP Basic as the token's name and the token.
		basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("test-modify:"+h.Token))
		r = h.APIWith(map[string]string{"Authorization": basic}, "GET", "/v2/coupon/is_redeemable?code="+percCode+",NOSUCHCODE2&id=c1&details=true", "")
		var check struct {
			Redemption []struct {
				Code             string `json:"code"`
				IsRedeemable     bool   `json:"isRedeemable"`
				RedemptionsLeft  int    `json:"redemptionsLeft"`
				DiscountType     string `json:"discountType"`
				RedemptionStatus struct {
					Code int `json:"code"`
				} `json:"redemptionStatus"`
			} `json:"redemption"`
		}
		if r.Status != http.StatusOK || json.Unmarshal([]byte(r.Body), &check) != nil || len(check.Redemption) != 2 {
			t.Fatalf("is_redeemable: %d %s", r.Status, r.Body)
		}
		if e := check.Redemption[0]; e.IsRedeemable || e.RedemptionStatus.Code != 711 || e.DiscountType != "PERC" || e.RedemptionsLeft != 0 {
			t.Errorf("a used code: %+v", e)
		}
		if e := check.Redemption[1]; e.IsRedeemable || e.RedemptionStatus.Code != 719 {
			t.Errorf("an unknown code: %+v", e)
		}
	})
}

func TestCapillaryIssueLimitsHoldUnderConcurrency(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		pool := createSeries(t, h, seriesBase+`, "maxCreate": 10`)
		one := createSeries(t, h, seriesBase+`, "maxVouchersPerUser": 1`)
		// issued counts, per series, the issues that answered with a code.
		var mu sync.Mutex
		issued := map[int64]int{}
		issue := func(series int64, ref models.CustomerRef) {
			_, results, err := h.Store.Issue(t.Context(), models.IssueRequest{SeriesIDs: []int64{series}, Customer: ref})
			if err != nil {
				t.Errorf("issue series %d to %+v: %v", series, ref, err)
				return
			}
			if len(results) != 1 {
				t.Errorf("issue series %d to %+v: %d results, want 1", series, ref, len(results))
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if results[0].Coupon != nil {
				issued[series]++
			} else if results[0].Reason == "" {
				t.Errorf("series %d gave %+v neither a code nor a reason", series, ref)
			}
		}
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Go(func() { issue(pool, models.CustomerRef{ID: fmt.Sprint("c", i)}) })
			wg.Go(func() { issue(one, models.CustomerRef{Email: "same@example.com"}) })
		}
		wg.Wait()
		for id, want := range map[int64]int{pool: 10, one: 1} {
			page, err := h.Store.SeriesCodes(t.Context(), models.SeriesCodeFilter{SeriesID: id, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			ser, err := h.Store.Series(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Codes) != want || ser.Issued != want || issued[id] != want {
				t.Errorf("series %d: %d codes stored, issued counter %d, %d answered with a code; want %d", id, len(page.Codes), ser.Issued, issued[id], want)
			}
		}
	})
}

func TestCapillaryRedeemsAtTheRedemptionTimeSent(t *testing.T) {
	t.Parallel()
	webtest.ForEachDBAtEpoch(t, func(t *testing.T, h *webtest.Harness) {
		series := createSeries(t, h, seriesBase)
		b := webtest.Decode[bulkIssue](t, h.MustAPI(http.StatusOK, "POST", "/v2/coupon/bulk/issue", fmt.Sprintf(`{"seriesIds": [%d], "customer": {"id": "c1"}}`, series)))
		code := b.Response[0].Result["code"].(string)
		redeem := func(txn, at string) webtest.Response {
			return h.API("POST", "/v2/coupon/redeem", fmt.Sprintf(`{"redemptionRequestList": [{"code": %q}], "user": {"id": "c1"}, "transactionNumber": %q, "billAmount": 2000, "redemptionTime": %q}`, code, txn, at))
		}

		// Refused as a whole, naming the field: a time not yet come, one
		// past the window, one that is not a time.
		for _, at := range []string{
			webtest.Epoch.Add(time.Hour).Format("2006-01-02 15:04:05"),
			webtest.Epoch.Add(-models.MaxRedemptionAge - time.Hour).Format(time.RFC3339),
			// Before the code was issued.
			webtest.Epoch.Add(-time.Hour).Format("2006-01-02 15:04:05"),
			"yesterday",
		} {
			r := redeem("T-bad", at)
			e := webtest.Decode[struct {
				Code   int `json:"code"`
				Errors []struct {
					Field string `json:"field"`
				} `json:"errors"`
			}](t, r)
			if r.Status != http.StatusBadRequest || e.Code != 629 || len(e.Errors) != 1 || e.Errors[0].Field != "redemptionTime" {
				t.Errorf("redemptionTime %q: %d %s; want 400, 629 naming redemptionTime", at, r.Status, r.Body)
			}
		}
		if c := h.MustCoupon(code); c.Uses != 0 {
			t.Fatalf("refused redemptions used the code %d times", c.Uses)
		}

		// A time in the window is the redemption's own, with its offset
		// read: the till's clock half a minute ahead of the store's.
		sent := webtest.Epoch.Add(30 * time.Second)
		r := redeem("T-1", sent.In(time.FixedZone("", -5*3600)).Format(time.RFC3339))
		got := webtest.Decode[struct {
			Redemption []struct {
				ID int64 `json:"id"`
			} `json:"redemption"`
		}](t, r)
		if r.Status != http.StatusOK || len(got.Redemption) != 1 {
			t.Fatalf("redeem at %v: %d %s", sent, r.Status, r.Body)
		}
		stored, err := h.Store.Redemption(t.Context(), got.Redemption[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if !stored.CreatedAt.Equal(sent) {
			t.Errorf("the redemption is recorded at %v, want the %v sent", stored.CreatedAt, sent)
		}
	})
}

func TestCapillaryReadsARedemptionTimeWithoutOffsetInTheStoreZone(t *testing.T) {
	t.Parallel()
	terms, err := handlers.NewTerms("INR", "Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect, models.Config{Now: func() time.Time { return webtest.Epoch }, PasswordCost: bcrypt.MinCost})
		h := webtest.New(t, s, web.Config{BodyLimit: "64K", Terms: terms})
		series := createSeries(t, h, seriesBase)
		b := webtest.Decode[bulkIssue](t, h.MustAPI(http.StatusOK, "POST", "/v2/coupon/bulk/issue", fmt.Sprintf(`{"seriesIds": [%d], "customer": {"id": "c1"}}`, series)))
		code := b.Response[0].Result["code"].(string)
		// The till in Kolkata writes its own wall clock, 5:30 ahead of UTC.
		wall := webtest.Epoch.In(terms.Zone()).Format("2006-01-02 15:04:05")
		r := h.API("POST", "/v2/coupon/redeem", fmt.Sprintf(`{"redemptionRequestList": [{"code": %q}], "user": {"id": "c1"}, "transactionNumber": "T-1", "billAmount": 2000, "redemptionTime": %q}`, code, wall))
		got := webtest.Decode[struct {
			Redemption []struct {
				ID int64 `json:"id"`
			} `json:"redemption"`
		}](t, r)
		if r.Status != http.StatusOK || len(got.Redemption) != 1 {
			t.Fatalf("redeem at %s Kolkata time: %d %s", wall, r.Status, r.Body)
		}
		stored, err := h.Store.Redemption(t.Context(), got.Redemption[0].ID)
		if err != nil || !stored.CreatedAt.Equal(webtest.Epoch) {
			t.Errorf("recorded at %v (%v), want %v", stored.CreatedAt, err, webtest.Epoch)
		}
	})
}
