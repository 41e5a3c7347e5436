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

type reservationJSON struct {
	ID          int64  `json:"id"`
	Code        string `json:"code"`
	CustomerID  string `json:"customerId"`
	OrderID     string `json:"orderId"`
	Items       int    `json:"items"`
	OrderAmount *int64 `json:"orderAmount"`
	Discount    *int64 `json:"discount"`
	Promotions  []struct {
		ID            int64   `json:"id"`
		Name          string  `json:"name"`
		DiscountType  string  `json:"discountType"`
		DiscountValue float64 `json:"discountValue"`
		Discount      *int64  `json:"discount"`
	} `json:"promotions"`
	Status       string    `json:"status"`
	CreatedAt    time.Time `json:"createdAt"`
	ExpiresAt    time.Time `json:"expiresAt"`
	RedemptionID *int64    `json:"redemptionId"`
}

// A checkout holds the last use while its customer pays: another order
// is refused as a redemption would be, validation shows the hold, the
// order's redemption takes it, and a release frees it.
func TestReservationsOverTheAPI(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		p := h.MustPromotion(models.PromotionInput{Name: "Ten off", Status: models.PromotionActive, UTMSource: new("pay")})
		h.MustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"PAY-1","utmSource":"pay","maxUsage":1}`)

		r := webtest.Decode[reservationJSON](t, h.MustAPI(http.StatusCreated, "POST", "/api/reservations",
			`{"code":"pay-1","customerId":"ann","orderId":"o-1","items":2,"orderAmount":5000,"ttl":"90s"}`))
		if r.Code != "PAY-1" || r.Status != "held" || r.Items != 2 || r.Discount == nil || *r.Discount != 500 ||
			len(r.Promotions) != 1 || r.Promotions[0].ID != p.ID || r.Promotions[0].Name != "Ten off" || r.Promotions[0].DiscountType != "percent" || r.Promotions[0].DiscountValue != 10 ||
			!r.ExpiresAt.Equal(r.CreatedAt.Add(90*time.Second)) {
			t.Errorf("the hold = %+v", r)
		}
		again := webtest.Decode[reservationJSON](t, h.MustAPI(http.StatusOK, "POST", "/api/reservations", `{"code":"PAY-1","customerId":"ann","orderId":"o-1","items":2}`))
		if again.ID != r.ID {
			t.Errorf("the same order again got hold %d, want %d", again.ID, r.ID)
		}
		v := h.MustAPI(http.StatusOK, "GET", "/api/coupons/PAY-1/validation?customerId=bob", "")
		if !strings.Contains(v.Body, `"reserved":1`) || !strings.Contains(v.Body, `"valid":false`) {
			t.Errorf("validation beside the hold = %s", v.Body)
		}
		webtest.WantError(t, h.API("POST", "/api/reservations", `{"code":"PAY-1","customerId":"bob","orderId":"o-2","items":1}`), http.StatusConflict, "not_redeemable")
		for _, ttl := range []string{"soon", "0s", "25h", "-1m"} {
			webtest.WantError(t, h.API("POST", "/api/reservations", `{"code":"PAY-1","customerId":"bob","orderId":"o-2","items":1,"ttl":"`+ttl+`"}`), http.StatusUnprocessableEntity, "invalid", "ttl")
		}

		// The order's redemption takes the held use.
		red := h.MustAPI(http.StatusCreated, "POST", "/api/redemptions", `{"code":"PAY-1","customerId":"ann","orderId":"o-1","items":2}`)
		got := webtest.Decode[reservationJSON](t, h.MustAPI(http.StatusOK, "GET", fmt.Sprintf("/api/reservations/%d", r.ID), ""))
		if got.Status != "redeemed" || len(got.Promotions) != 1 || got.Promotions[0].DiscountType != "percent" || got.RedemptionID == nil || !strings.Contains(red.Body, fmt.Sprintf(`"id":%d`, *got.RedemptionID)) {
			t.Errorf("after the order's redemption the hold = %+v", got)
		}

		// A hold released frees its use at once.
		h.MustAPI(http.StatusCreated, "POST", "/api/rnb/pvt/coupon", `{"couponCode":"PAY-2","utmSource":"pay","maxUsage":1}`)
		held := webtest.Decode[reservationJSON](t, h.MustAPI(http.StatusCreated, "POST", "/api/reservations", `{"code":"PAY-2","customerId":"cat","orderId":"o-3","items":1}`))
		if !held.ExpiresAt.Equal(held.CreatedAt.Add(15 * time.Minute)) {
			t.Errorf("a hold without a ttl lasts until %v, want 15 minutes after %v", held.ExpiresAt, held.CreatedAt)
		}
		released := webtest.Decode[reservationJSON](t, h.MustAPI(http.StatusOK, "DELETE", fmt.Sprintf("/api/reservations/%d", held.ID), ""))
		if released.Status != "released" {
			t.Errorf("released hold = %+v", released)
		}
		h.MustAPI(http.StatusOK, "DELETE", fmt.Sprintf("/api/reservations/%d", held.ID), "")
		h.MustAPI(http.StatusCreated, "POST", "/api/redemptions", `{"code":"PAY-2","customerId":"dan","orderId":"o-4","items":1}`)
		webtest.WantError(t, h.API("DELETE", "/api/reservations/99999", ""), http.StatusNotFound, "not_found")
		webtest.WantError(t, h.API("GET", "/api/reservations/abc", ""), http.StatusNotFound, "not_found")
	})
}
