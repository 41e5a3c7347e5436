package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/web/webtest"
)

type seriesJSON struct {
	ID             int64          `json:"id"`
	Name           string         `json:"name"`
	Kind           string         `json:"kind"`
	DiscountType   string         `json:"discountType"`
	DiscountValue  float64        `json:"discountValue"`
	Expiry         string         `json:"expiry"`
	ExpiryDays     int            `json:"expiryDays"`
	Format         map[string]any `json:"format"`
	MaxCreate      int            `json:"maxCreate"`
	MaxPerCustomer int            `json:"maxPerCustomer"`
	UsesPerCode    int            `json:"usesPerCode"`
	Issued         int            `json:"issued"`
}

type issueJSON struct {
	Customer struct {
		ID    string  `json:"id"`
		Email *string `json:"email"`
	} `json:"customer"`
	Issues []struct {
		SeriesID  int64      `json:"seriesId"`
		Code      string     `json:"code"`
		IssuedAt  *time.Time `json:"issuedAt"`
		ValidTill *time.Time `json:"validTill"`
		Reason    string     `json:"reason"`
		Limit     int        `json:"limit"`
		Held      int        `json:"held"`
	} `json:"issues"`
}

// A series made, read, listed and changed on the native API, and its
// codes issued to a customer named by email: once per customer, the
// same answer for a retried key, and every refusal with its reason.
func TestSeriesAndIssuesOverTheNativeAPI(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		s := webtest.Decode[seriesJSON](t, h.MustAPI(http.StatusCreated, "POST", "/api/series",
			`{"name":"Welcome","discountType":"fixed","discountValue":500,"expiry":"days","expiryDays":30,"format":{"prefix":"WEL-","length":8},"maxPerCustomer":1,"usesPerCode":1}`))
		if s.ID == 0 || s.Name != "Welcome" || s.Kind != models.KindSeries || s.DiscountValue != 500 || s.Expiry != "days" || s.ExpiryDays != 30 ||
			s.Format["prefix"] != "WEL-" || s.MaxPerCustomer != 1 || s.UsesPerCode != 1 || s.Issued != 0 {
			t.Errorf("created = %+v", s)
		}
		path := fmt.Sprintf("/api/series/%d", s.ID)
		if got := webtest.Decode[seriesJSON](t, h.MustAPI(http.StatusOK, "GET", path, "")); got.ID != s.ID || got.Name != "Welcome" {
			t.Errorf("read = %+v", got)
		}
		other := webtest.Decode[seriesJSON](t, h.MustAPI(http.StatusCreated, "POST", "/api/series", `{"name":"Loyalty","discountType":"percent","discountValue":5}`))
		list := webtest.Decode[struct{ Series []seriesJSON }](t, h.MustAPI(http.StatusOK, "GET", "/api/series?name=welc", ""))
		if len(list.Series) != 1 || list.Series[0].ID != s.ID {
			t.Errorf("series named like welc = %+v", list.Series)
		}
		renamed := webtest.Decode[seriesJSON](t, h.MustAPI(http.StatusOK, "PUT", path,
			`{"name":"Welcome back","discountType":"fixed","discountValue":500,"expiry":"days","expiryDays":30,"format":{"prefix":"WEL-","length":8},"maxPerCustomer":1,"usesPerCode":1}`))
		if renamed.Name != "Welcome back" || renamed.ExpiryDays != 30 {
			t.Errorf("updated = %+v", renamed)
		}
		e := webtest.WantError(t, h.API("POST", "/api/series", `{"name":"","discountType":"fixed","discountValue":5,"expiry":"weeks","colour":"red"}`),
			http.StatusUnprocessableEntity, "invalid", "colour")
		if len(e.Error.Fields) != 1 {
			t.Errorf("an unknown field is reported alone first: %v", e.Error.Fields)
		}
		webtest.WantError(t, h.API("POST", "/api/series", `{"name":"","discountType":"fixed","discountValue":5,"expiry":"weeks"}`),
			http.StatusUnprocessableEntity, "invalid", "name", "expiry")
		webtest.WantError(t, h.API("GET", "/api/series/999999", ""), http.StatusNotFound, "not_found")

		// Issue by email: the customer is made, the code lasts 30 days.
		first := h.APIWith(map[string]string{"X-Auth-Token": h.Token, "Idempotency-Key": "issue-ann-1"}, "POST", path+"/issues", `{"customer":{"email":"Ann@Example.com"},"source":"signup"}`)
		if first.Status != http.StatusCreated {
			t.Fatalf("first issue: %d %s", first.Status, first.Body)
		}
		got := webtest.Decode[issueJSON](t, first)
		if got.Customer.Email == nil || *got.Customer.Email != "ann@example.com" || len(got.Issues) != 1 || !strings.HasPrefix(got.Issues[0].Code, "WEL-") ||
			got.Issues[0].IssuedAt == nil || got.Issues[0].ValidTill == nil || !got.Issues[0].ValidTill.Equal(got.Issues[0].IssuedAt.AddDate(0, 0, 30)) {
			t.Fatalf("first issue = %s", first.Body)
		}
		// The same key again: the same answer, nothing more issued.
		again := h.APIWith(map[string]string{"X-Auth-Token": h.Token, "Idempotency-Key": "issue-ann-1"}, "POST", path+"/issues", `{"customer":{"email":"Ann@Example.com"},"source":"signup"}`)
		if again.Status != http.StatusCreated || again.Body != first.Body {
			t.Errorf("a retry with the same key = %d %s, want the first answer", again.Status, again.Body)
		}
		// A second code for the same customer passes maxPerCustomer.
		e = webtest.WantError(t, h.API("POST", path+"/issues", `{"customer":{"email":"ann@example.com"}}`), http.StatusConflict, "not_issued")
		if e.Error.Message == "" {
			t.Errorf("refusal without a message: %+v", e)
		}
		if r := webtest.Decode[struct{ Error struct{ Reasons []string } }](t, h.API("POST", path+"/issues", `{"customer":{"email":"ann@example.com"}}`)); len(r.Error.Reasons) != 1 || r.Error.Reasons[0] != models.IssueCustomerLimit {
			t.Errorf("reasons = %v, want [%s]", r.Error.Reasons, models.IssueCustomerLimit)
		}
		// Two series at once: one gives a code, the other refuses.
		both := h.API("POST", fmt.Sprintf("/api/series/%d,%d/issues", s.ID, other.ID), `{"customer":{"email":"ann@example.com"}}`)
		if both.Status != http.StatusOK {
			t.Fatalf("issue of two series where one refuses: %d %s", both.Status, both.Body)
		}
		two := webtest.Decode[issueJSON](t, both)
		if len(two.Issues) != 2 || two.Issues[0].Reason != models.IssueCustomerLimit || two.Issues[0].Limit != 1 || two.Issues[0].Held != 1 ||
			two.Issues[1].Code == "" || two.Issues[1].Reason != "" {
			t.Errorf("issue of two series = %s", both.Body)
		}
		if stored := webtest.Decode[seriesJSON](t, h.MustAPI(http.StatusOK, "GET", path, "")); stored.Issued != 1 {
			t.Errorf("issued = %d after one code, want 1", stored.Issued)
		}
		// The series' codes as CSV, as the console's series page exports them.
		csv := h.MustAPI(http.StatusOK, "GET", path+"/codes.csv", "")
		if rows := strings.Split(strings.TrimSpace(csv.Body), "\n"); len(rows) != 2 || !strings.Contains(rows[1], got.Issues[0].Code) ||
			!strings.HasPrefix(csv.Header.Get("Content-Type"), "text/csv") {
			t.Errorf("codes.csv = %q (%s)", csv.Body, csv.Header.Get("Content-Type"))
		}

		webtest.WantError(t, h.API("POST", "/api/series/x,2/issues", `{"customer":{"id":"c"}}`), http.StatusUnprocessableEntity, "invalid", "series")
		webtest.WantError(t, h.API("POST", path+"/issues", `{"customer":{}}`), http.StatusUnprocessableEntity, "invalid", "customer")
		webtest.WantError(t, h.API("POST", path+"/issues", `{"customer":{"email":"nope"}}`), http.StatusUnprocessableEntity, "invalid", "customer.email")
		r := webtest.Decode[struct{ Error struct{ Reasons []string } }](t, h.API("POST", "/api/series/999999/issues", `{"customer":{"id":"c"}}`))
		if len(r.Error.Reasons) != 1 || r.Error.Reasons[0] != models.IssueSeriesNotFound {
			t.Errorf("issue of an unknown series: reasons %v", r.Error.Reasons)
		}
	})
}
