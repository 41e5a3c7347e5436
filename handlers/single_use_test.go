package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/coupond/coupond/web/webtest"
)

func birthdayForm() url.Values {
	return url.Values{
		"couponCode":    {"Birthday123"},
		"customerId":    {"alice"},
		"discountType":  {"percent"},
		"discountValue": {"15"},
		"discountCap":   {"10"},
		"endsAt":        {"2099-12-31T23:59"},
	}
}

func TestConsoleSingleUseCoupon(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		editor := h.Login(webtest.EditorEmail)
		h.Client = editor
		r := h.Do("GET", "/single-use", nil, nil)
		form := regexp.MustCompile(`(?s)<form id="` + views.SingleUseFormID + `" method="post" action="/single-use" hx-post="/single-use".*?</form>`).FindString(r.Body)
		if r.Status != http.StatusOK || !strings.Contains(form, `type="datetime-local"`) || !strings.Contains(form, `<input type="hidden" name="_csrf" value="`) {
			t.Fatalf("GET /single-use: %d, or no form posting to it with a CSRF field and a date field", r.Status)
		}

		r = h.Post("/single-use", birthdayForm(), nil)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/single-use/Birthday123" {
			t.Fatalf("create: %d to %q; %.300s", r.Status, r.Header.Get("Location"), r.Body)
		}
		c := h.MustCoupon("birthday123")
		if c.Code != "Birthday123" || c.MaxUsage != 1 || c.MaxUsagePerClient != 1 || c.CustomerID == nil || *c.CustomerID != "alice" {
			t.Errorf("stored coupon %+v, want Birthday123 for alice, one use in total and per customer", c)
		}
		ps, err := h.Store.CouponPromotions(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 1 || h.PromotionCount() != 1 {
			t.Fatalf("the coupon reaches %d promotions of %d stored, want its own one", len(ps), h.PromotionCount())
		}
		p := ps[0]
		ends := time.Date(2099, 12, 31, 23, 59, 0, 0, time.UTC)
		if p.DiscountType != models.DiscountPercent || p.DiscountValue != 1500 || p.DiscountCap == nil || *p.DiscountCap != 1000 || p.EndsAt == nil || !p.EndsAt.Equal(ends) {
			t.Errorf("stored promotion %+v, want 15 %% capped at 1000 until %s", p, ends)
		}

		page := h.Do("GET", "/single-use/Birthday123", nil, nil)
		if page.Status != http.StatusOK {
			t.Fatalf("result page: %d", page.Status)
		}
		for name, re := range map[string]string{
			"the code in a read-only field": `<input type="text" id="single-use-code"[^>]*value="Birthday123" readonly`,
			"a Copy button wired to it":     `<button type="button" data-copy="single-use-code" data-testid="copy" hidden>Copy</button>`,
			"the copy script":               `<script src="/static/copy-2.js" defer></script>`,
			"one use in total":              `data-testid="limit-total">One use in total<`,
			"one use per customer":          `data-testid="limit-per-customer">One use per customer<`,
			"the customer":                  `data-testid="limit-customer">\s*Only for customer <code>alice</code>`,
			"the promotion, linked":         `<a href="` + regexp.QuoteMeta(views.PromotionURL(p.ID)) + `">Single-use coupon Birthday123</a>: 15 %, at most 10.00 USD, until 2099-12-31 23:59:00<`,
		} {
			if !regexp.MustCompile(re).MatchString(page.Body) {
				t.Errorf("the result page lacks %s", name)
			}
		}
		js := h.Do("GET", "/static/copy-2.js", nil, nil)
		if js.Status != http.StatusOK || !strings.HasPrefix(js.Header.Get("Content-Type"), "text/javascript") || !strings.Contains(js.Body, "data-copy") {
			t.Errorf("copy script: %d %q", js.Status, js.Header.Get("Content-Type"))
		}
		// The limits shown are the coupon's own.
		if _, err := h.Store.CreateCoupon(t.Context(), models.CouponSpec{Code: "Shared", MaxUsage: 3, MaxUsagePerClient: new(2)}); err != nil {
			t.Fatal(err)
		}
		shared := h.Do("GET", "/single-use/Shared", nil, nil).Body
		if !strings.Contains(shared, `data-testid="limit-total">3 uses in total<`) || !strings.Contains(shared, `data-testid="limit-per-customer">2 uses per customer<`) {
			t.Error("the page of a coupon with 3 uses and 2 per customer shows other limits")
		}
		if r := h.Do("GET", "/single-use/nobody", nil, nil); r.Status != http.StatusNotFound {
			t.Errorf("result page of an unknown code: %d", r.Status)
		}

		// htmx, with a fixed amount and neither customer nor end.
		gift := url.Values{"couponCode": {"Gift-50"}, "discountType": {"fixed"}, "discountValue": {"5"}}
		r = h.Post("/single-use", gift, webtest.HTMX(views.SingleUseFormID))
		if r.Status != http.StatusNoContent || r.Header.Get("HX-Location") != "/single-use/Gift-50" {
			t.Fatalf("htmx create: %d HX-Location %q", r.Status, r.Header.Get("HX-Location"))
		}
		if c := h.MustCoupon("gift-50"); c.CustomerID != nil || c.MaxUsage != 1 {
			t.Errorf("Gift-50 is %+v, want one use by anyone", c)
		}
		if page := h.Do("GET", "/single-use/Gift-50", nil, nil); !regexp.MustCompile(`data-testid="limit-customer">\s*For any customer`).MatchString(page.Body) || !strings.Contains(page.Body, ": 5.00 USD off<") {
			t.Error("Gift-50's page must say any customer may use it, for 5.00 USD off")
		}
	})
}

func TestConsoleSingleUseRefusals(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		if r := h.Post("/single-use", birthdayForm(), nil); r.Status != http.StatusSeeOther {
			t.Fatalf("create: %d", r.Status)
		}
		before := h.PromotionCount()

		// The same code in another case: 422, the message and a link
		// beside the code, nothing made.
		dup := birthdayForm()
		dup.Set("couponCode", "BIRTHDAY123")
		dup.Set("customerId", "bob")
		for _, hdr := range []map[string]string{nil, webtest.HTMX(views.SingleUseFormID)} {
			r := h.Post("/single-use", dup, hdr)
			if r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("duplicate: %d", r.Status)
			}
			if hdr != nil && !strings.HasPrefix(strings.TrimSpace(r.Body), `<form id="`+views.SingleUseFormID+`"`) {
				t.Errorf("htmx duplicate must get the form alone: %.100s", r.Body)
			}
			msg := regexp.MustCompile(`(?s)<small id="couponCode-error" class="field-error" data-testid="error-couponCode">(.*?)</small>`).FindStringSubmatch(r.Body)
			if msg == nil || !strings.Contains(msg[1], "already exists") || !strings.Contains(msg[1], `<a href="/coupons/BIRTHDAY123" data-testid="existing-coupon">`) {
				t.Errorf("no message with a link to the coupon beside the code: %v", msg)
			}
			if !regexp.MustCompile(`id="couponCode"[^>]*aria-invalid="true"`).MatchString(r.Body) || !strings.Contains(r.Body, `value="bob"`) {
				t.Error("the code must be marked invalid and the form keep what was typed")
			}
		}
		if n := h.PromotionCount(); n != before {
			t.Errorf("a refused duplicate left %d promotions, want %d", n, before)
		}
		if c := h.MustCoupon("birthday123"); c.CustomerID == nil || *c.CustomerID != "alice" {
			t.Errorf("the refused duplicate changed the coupon: %+v", c)
		}

		// Every bad field is named at once, the cap's among them.
		bad := url.Values{"couponCode": {"bad code"}, "customerId": {"has space"}, "discountType": {"percent"}, "discountValue": {"150"}, "discountCap": {"lots"}, "endsAt": {"2020-01-01T00:00"}}
		r := h.Post("/single-use", bad, nil)
		if r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("bad form: %d", r.Status)
		}
		for _, f := range []string{"couponCode", "customerId", "discountValue", "discountCap", "endsAt"} {
			if !strings.Contains(r.Body, `data-testid="error-`+f+`"`) {
				t.Errorf("no message beside %s", f)
			}
		}
		if !strings.Contains(r.Body, `value="lots"`) || !strings.Contains(r.Body, `value="2020-01-01T00:00"`) {
			t.Error("the form must show back what was typed")
		}
		if _, ok := h.Coupon("bad code"); ok || h.PromotionCount() != before {
			t.Errorf("a refused form made something: %d promotions", h.PromotionCount())
		}

		// A viewer sees no way to it and is refused.
		viewer := h.Login(webtest.ViewerEmail)
		if r := h.DoWith(viewer, "GET", "/coupons", nil, nil); r.Status != http.StatusOK || !strings.Contains(r.Body, `href="/coupons"`) || strings.Contains(r.Body, `href="/single-use"`) {
			t.Errorf("the viewer's coupon list must show the navigation without the single-use form: %d", r.Status)
		}
		form := birthdayForm()
		form.Set("couponCode", "ViewerMade")
		hdr := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"}
		if r := h.DoWith(viewer, "POST", "/single-use", strings.NewReader(form.Encode()), hdr); r.Status != http.StatusForbidden {
			t.Errorf("a viewer's POST: %d, want 403", r.Status)
		}
		if _, ok := h.Coupon("ViewerMade"); ok || h.PromotionCount() != before {
			t.Error("a viewer's refused POST made a coupon or a promotion")
		}
	})
}

// A blank code with a pattern makes the code, drawing again when one
// exists; a pattern that cannot make a code says so beside it.
func TestSingleUseMakesItsCodeFromAPattern(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		form := url.Values{"customerId": {"ann"}, "discountType": {"fixed"}, "discountValue": {"10"}, "pattern": {"BDAY-####"}}
		r := h.Post("/single-use", form, nil)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("create from a pattern: %d %s %s", r.Status, testID(r.Body, "error-pattern"), testID(r.Body, "form-error"))
		}
		code := strings.TrimPrefix(r.Header.Get("Location"), "/single-use/")
		if !regexp.MustCompile(`^BDAY-[0-9]{4}$`).MatchString(code) {
			t.Fatalf("the code made is %q, want BDAY- and 4 digits", code)
		}
		if c := h.MustCoupon(code); c.CustomerID == nil || *c.CustomerID != "ann" || c.MaxUsage != 1 {
			t.Errorf("the coupon made is %+v", c)
		}
		// A pattern with no room left: every code it can make exists.
		for d := range 10 {
			if _, _, err := h.Store.CreateSingleUse(t.Context(), models.SingleUseInput{Code: fmt.Sprint("ONLY-", d), DiscountType: models.DiscountFixed, DiscountValue: "100"}); err != nil {
				t.Fatal(err)
			}
		}
		form.Set("pattern", "ONLY-#")
		r = h.Post("/single-use", form, nil)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(testID(r.Body, "error-pattern"), "exist already") {
			t.Errorf("a pattern whose codes are all taken: %d %q", r.Status, testID(r.Body, "error-pattern"))
		}
		form.Set("pattern", "PLAIN")
		if r := h.Post("/single-use", form, nil); r.Status != http.StatusUnprocessableEntity || !strings.Contains(testID(r.Body, "error-pattern"), "random character") {
			t.Errorf("a pattern with nothing random: %d %q", r.Status, testID(r.Body, "error-pattern"))
		}
		form.Set("pattern", "")
		r = h.Post("/single-use", form, nil)
		if r.Status != http.StatusUnprocessableEntity || testID(r.Body, "error-couponCode") == "" {
			t.Errorf("neither a code nor a pattern: %d", r.Status)
		}
	})
}
