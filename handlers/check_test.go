package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/coupond/coupond/web/webtest"
)

// checkURL is the address of checking code with the other fields.
func checkURL(code string, more ...string) string {
	q := url.Values{"couponCode": {code}}
	for i := 0; i+1 < len(more); i += 2 {
		q.Set(more[i], more[i+1])
	}
	return "/check?" + q.Encode()
}

// shownReasons returns the reasons a check result lists, by code, with
// their text.
func shownReasons(body string) map[string]string {
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`<li data-reason="([A-Z_]+)">([^<]*)<small><code>([A-Z_]+)</code></small></li>`).FindAllStringSubmatch(body, -1) {
		if m[1] == m[3] {
			out[m[1]] = strings.TrimSpace(m[2])
		}
	}
	return out
}

func TestConsoleCheckCode(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		ctx := t.Context()
		chk, past := "chk", "past"
		ten := h.MustPromotion(models.PromotionInput{Name: "Ten percent", DiscountType: models.DiscountPercent, DiscountValue: "10", UTMSource: &chk})
		h.MustPromotion(models.PromotionInput{Name: "Bygone", DiscountType: models.DiscountFixed, DiscountValue: "100", EndsAt: "2020-06-01", UTMCampaign: &past})
		for _, spec := range []models.CouponSpec{
			{Code: "OK1", UTMSource: &chk},
			{Code: "ARCH1", UTMSource: &chk, Archived: new(true)},
			{Code: "NOPROMO"},
			{Code: "ALICEONLY", UTMSource: &chk, CustomerID: new("alice")},
			{Code: "USED1", UTMSource: &chk, MaxUsage: 1},
			{Code: "OLD1", UTMCampaign: &past},
			{Code: "TWICE", UTMSource: &chk, MaxUsagePerClient: new(1), MaxItemsPerClient: 2},
		} {
			if _, err := h.Store.CreateCoupon(ctx, spec); err != nil {
				t.Fatal(err)
			}
		}
		h.MustRedeem("USED1", "carol", "o-1", 1, nil)
		h.MustRedeem("TWICE", "dave", "o-2", 1, nil)

		// A viewer checks too.
		h.Client = h.Login(webtest.ViewerEmail)
		if r := h.Do("GET", "/check", nil, nil); r.Status != http.StatusOK || !strings.Contains(r.Body, `<form id="`+views.CheckFormID+`" method="get" action="/check" hx-get="/check"`) || strings.Contains(r.Body, `data-testid="check-result"`) {
			t.Fatalf("GET /check: %d, or no GET form, or a result before any check", r.Status)
		}

		for _, tc := range []struct {
			name  string
			path  string
			words map[string]string
		}{
			{"unknown", checkURL("nosuch"), map[string]string{models.ReasonNotFound: "No coupon has this code."}},
			{"archived", checkURL("arch1"), map[string]string{models.ReasonArchived: "The coupon is archived, so it no longer works."}},
			{"no promotion", checkURL("NOPROMO"), map[string]string{models.ReasonNoActivePromotion: "The coupon&#39;s UTM source and campaign reach no active promotion, so it would give no discount."}},
			{"ended", checkURL("OLD1"), map[string]string{models.ReasonExpired: "A promotion it activates has ended."}},
			{"used up", checkURL("USED1"), map[string]string{models.ReasonUsageLimit: "The code has been used as many times as it may be used in total."}},
			{"another customer", checkURL("ALICEONLY", "customerId", "bob"), map[string]string{models.ReasonNotForCustomer: "The code is meant for another customer."}},
			{"customer limits", checkURL("TWICE", "customerId", "dave", "items", "2"), map[string]string{
				models.ReasonCustomerLimit: "This customer has used the code as many times as one customer may.",
				models.ReasonItemsLimit:    "With this order the customer would pass the number of items the code allows per customer.",
			}},
		} {
			r := h.Do("GET", tc.path, nil, nil)
			if r.Status != http.StatusOK || !strings.Contains(r.Body, `data-testid="check-result" data-valid="false"`) || !strings.Contains(r.Body, `data-testid="verdict">not valid<`) {
				t.Errorf("%s: %d, or not shown as not valid", tc.name, r.Status)
				continue
			}
			if got := shownReasons(r.Body); len(got) != len(tc.words) {
				t.Errorf("%s: reasons %v, want %v", tc.name, got, tc.words)
			} else {
				for code, words := range tc.words {
					if got[code] != words {
						t.Errorf("%s: reason %s says %q, want %q", tc.name, code, got[code], words)
					}
				}
			}
		}

		// Valid, with the promotion that would apply and the discount on
		// the amount; htmx gets the result alone.
		r := h.Do("GET", checkURL("ok1", "customerId", "erin", "items", "3", "orderAmount", "50"), nil, webtest.HTMX(views.CheckResultID))
		if r.Status != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(r.Body), `<section id="`+views.CheckResultID+`"`) || strings.Contains(r.Body, "<html") {
			t.Fatalf("htmx check: %d %.200s", r.Status, r.Body)
		}
		for name, want := range map[string]string{
			"valid":                    `data-testid="check-result" data-valid="true"`,
			"the promotion, linked":    `<tr data-testid="applied-promotion"><td><a href="` + views.PromotionURL(ten.ID) + `">Ten percent</a></td><td>10 %</td><td>5.00 USD</td></tr>`,
			"the discount":             `Discount on an order of 50.00 USD: <strong>5.00 USD</strong>`,
			"the customer checked for": `<code>erin</code>`,
		} {
			if !strings.Contains(r.Body, want) {
				t.Errorf("the valid result lacks %s: %s", name, r.Body)
			}
		}
		if got := shownReasons(r.Body); len(got) != 0 {
			t.Errorf("a valid code lists reasons %v", got)
		}
		full := h.Do("GET", checkURL("ok1"), nil, nil)
		if !strings.Contains(full.Body, "<html") || !strings.Contains(full.Body, `data-valid="true"`) || !strings.Contains(full.Body, `value="ok1"`) {
			t.Error("a plain check must get the whole page, the code kept in the form and the result")
		}
	})
}

func TestConsoleCheckRefusesBadInput(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		path := checkURL("X", "customerId", "has space", "items", "many", "orderAmount", "-5")
		r := h.Do("GET", path, nil, nil)
		if r.Status != http.StatusUnprocessableEntity || strings.Contains(r.Body, `data-testid="check-result"`) {
			t.Fatalf("bad check: %d, or a result shown", r.Status)
		}
		for _, f := range []string{"customerId", "items"} {
			if !regexp.MustCompile(`id="`+f+`"[^>]*aria-invalid="true"`).MatchString(r.Body) || !strings.Contains(r.Body, `data-testid="error-`+f+`"`) {
				t.Errorf("no message beside %s", f)
			}
		}
		if !strings.Contains(r.Body, `value="many"`) || !strings.Contains(r.Body, `value="has space"`) {
			t.Error("the form must show back what was typed")
		}
		// The amount is checked once the rest reads.
		r = h.Do("GET", checkURL("X", "orderAmount", "-5"), nil, nil)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `data-testid="error-orderAmount"`) {
			t.Errorf("a negative amount: %d", r.Status)
		}
		r = h.Do("GET", checkURL(" "), nil, nil)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `data-testid="error-couponCode">is required<`) {
			t.Errorf("a blank code: %d", r.Status)
		}

		// htmx aims at the result; the refusal goes to the form instead and
		// clears the last result.
		r = h.Do("GET", path, nil, webtest.HTMX(views.CheckResultID))
		if r.Status != http.StatusUnprocessableEntity || r.Header.Get("HX-Retarget") != "#"+views.CheckFormID || r.Header.Get("HX-Reswap") != "outerHTML" {
			t.Fatalf("htmx bad check: %d, retarget %q reswap %q", r.Status, r.Header.Get("HX-Retarget"), r.Header.Get("HX-Reswap"))
		}
		if !strings.HasPrefix(strings.TrimSpace(r.Body), `<form id="`+views.CheckFormID+`"`) || !strings.Contains(r.Body, `data-testid="error-items"`) {
			t.Errorf("htmx bad check must answer with the form and its messages: %.200s", r.Body)
		}
		if !regexp.MustCompile(`<section id="` + views.CheckResultID + `" aria-live="polite" hx-swap-oob="true">\s*</section>`).MatchString(r.Body) {
			t.Errorf("htmx bad check must clear the result out of band: %s", r.Body)
		}
	})
}

// TestConsoleCheckCountsGuessesByAddress checks that the console passes
// the client's address, so that trying codes from the check page counts
// against the guessing protection like the API does.
func TestConsoleCheckCountsGuessesByAddress(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{GuessLimit: new(2)}, func(t *testing.T, h *webtest.Harness) {
		for _, code := range []string{"guess1", "guess2"} {
			if r := h.Do("GET", checkURL(code), nil, nil); r.Status != http.StatusOK || shownReasons(r.Body)[models.ReasonNotFound] == "" {
				t.Fatalf("check %s: %d, want not found", code, r.Status)
			}
		}
		r := h.Do("GET", checkURL("guess3"), nil, nil)
		if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || strings.Contains(r.Body, `data-testid="check-result"`) {
			t.Errorf("a third unknown code from the same address: %d, Retry-After %q, want 429 and no result", r.Status, r.Header.Get("Retry-After"))
		}
	})
}
