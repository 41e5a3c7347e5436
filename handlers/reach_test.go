package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/coupond/coupond/web/webtest"
)

// The forms that make codes say which promotions the codes will reach
// before they exist, and reaching one the form did not choose takes a
// tick: 100,000 codes tagged newsletter do not silently activate an
// unrelated sale.
func TestFormsSayWhichPromotionsCodesWillReach(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		sale := h.MustPromotion(models.PromotionInput{Name: "Spring Sale 15%", DiscountType: models.DiscountPercent, DiscountValue: "15", UTMSource: new("newsletter")})
		h.MustPromotion(models.PromotionInput{Name: "Old sale", UTMSource: new("newsletter"), EndsAt: "2020-01-31T12:00:00Z"})
		bulk := h.MustPromotion(models.PromotionInput{Name: "Bulk 5", Kind: models.KindBulk, DiscountType: models.DiscountFixed, DiscountValue: "500"})

		// Live, as the tags are typed.
		r := h.Post(views.ReachURL, url.Values{"utmSource": {"NewsLetter"}}, webtest.HTMX(views.ReachID))
		if r.Status != http.StatusOK || !strings.Contains(r.Body, `data-testid="reach-item" data-promotion-id="`+itoa(sale.ID)+`"`) ||
			!strings.Contains(r.Body, "Spring Sale 15%</a>: 15 % (live now)") || strings.Contains(r.Body, "Old sale") || !strings.Contains(r.Body, `data-testid="confirm-reach"`) {
			t.Errorf("the reach of newsletter: %d %s", r.Status, r.Body)
		}
		if r := h.Post(views.ReachURL, url.Values{"utmSource": {"nobody"}}, webtest.HTMX(views.ReachID)); !strings.Contains(r.Body, `data-testid="reach-none"`) {
			t.Errorf("tags no promotion listens to must say so: %s", r.Body)
		}

		// Generate: refused until the tick, naming the promotion; nothing
		// is written.
		form := url.Values{"quantity": {"100000"}, "length": {"10"}, "maxUsage": {"1"}, "utmSource": {"newsletter"}}
		r = h.Post("/coupons/generate", form, nil)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(testID(r.Body, "error-confirmReach"), "Spring Sale 15%") {
			t.Fatalf("generating into an unchosen promotion without the tick: %d %q", r.Status, testID(r.Body, "error-confirmReach"))
		}
		if n := len(h.StoredBatches()); n != 0 {
			t.Fatalf("a refused form made %d batches", n)
		}
		// The chosen bulk promotion needs no tick.
		if r := h.Post("/coupons/generate", url.Values{"quantity": {"10"}, "length": {"10"}, "promotionId": {itoa(bulk.ID)}}, nil); r.Status != http.StatusSeeOther {
			t.Errorf("generating for the chosen promotion: %d %s", r.Status, testID(r.Body, "form-error"))
		}
		form.Set("confirmReach", "true")
		if r := h.Post("/coupons/generate", form, nil); r.Status != http.StatusSeeOther {
			t.Errorf("generating with the tick: %d", r.Status)
		}

		// A new coupon: the same; editing it without a new reach asks
		// nothing.
		r = h.Post("/coupons", url.Values{"couponCode": {"NEWS-1"}, "utmSource": {"newsletter"}}, nil)
		if r.Status != http.StatusUnprocessableEntity || testID(r.Body, "error-confirmReach") == "" {
			t.Fatalf("a new coupon into an unchosen promotion without the tick: %d", r.Status)
		}
		if _, ok := h.Coupon("NEWS-1"); ok {
			t.Fatal("the refused form created the coupon")
		}
		if r := h.Post("/coupons", url.Values{"couponCode": {"NEWS-1"}, "utmSource": {"newsletter"}, "confirmReach": {"true"}}, nil); r.Status != http.StatusSeeOther {
			t.Fatalf("a new coupon with the tick: %d", r.Status)
		}
		edit := h.Do("GET", "/coupons/NEWS-1/edit", nil, nil)
		if !strings.Contains(edit.Body, "Spring Sale 15%") || strings.Contains(edit.Body, `data-testid="confirm-reach"`) {
			t.Error("the edit form must show what the coupon reaches, without asking again")
		}
		if r := h.Post("/coupons/NEWS-1", url.Values{"utmSource": {"newsletter"}, "editing": {"true"}, "maxUsage": {"3"}}, nil); r.Status != http.StatusSeeOther {
			t.Errorf("saving an edit that reaches nothing new: %d %q", r.Status, testID(r.Body, "error-confirmReach"))
		}
	})
}
