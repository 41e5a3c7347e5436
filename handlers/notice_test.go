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

// After a change, the next page says what was done, once; a change made
// in place by htmx carries the message to the page's notice region.
func TestEveryChangeSaysWhatItDid(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		r := h.Post("/coupons", url.Values{"couponCode": {"HELLO-1"}}, nil)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("create: %d", r.Status)
		}
		page := h.Do("GET", r.Header.Get("Location"), nil, nil)
		if got := testID(page.Body, "notice"); got != "Coupon HELLO-1 created." {
			t.Errorf("after creating: notice %q", got)
		}
		if again := h.Do("GET", r.Header.Get("Location"), nil, nil); strings.Contains(again.Body, `data-testid="notice"`) {
			t.Error("the notice is shown a second time")
		}
		id := h.MustCoupon("HELLO-1").ID
		r = h.Post("/coupons/HELLO-1/archive", nil, webtest.HTMX(views.CouponRowID(id)))
		if r.Status != http.StatusOK || !strings.Contains(r.Body, `<div id="flash" aria-live="polite" hx-swap-oob="true">`) ||
			testID(r.Body, "notice") != "Coupon HELLO-1 archived: checkouts refuse it until it is unarchived." {
			t.Errorf("archiving in place: %d, no notice out of band: %.400s", r.Status, r.Body)
		}
		p := h.MustPromotion(models.PromotionInput{Name: "Spring", UTMSource: new("spring")})
		r = h.Post(views.PromotionURL(p.ID)+"/archive", nil, nil)
		if got := testID(h.Do("GET", r.Header.Get("Location"), nil, nil).Body, "notice"); !strings.HasPrefix(got, "Promotion Spring archived") {
			t.Errorf("after archiving a promotion: notice %q", got)
		}
	})
}
