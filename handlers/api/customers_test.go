package api_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/web/webtest"
)

type customerJSON struct {
	ID          string  `json:"id"`
	Email       *string `json:"email"`
	Mobile      *string `json:"mobile"`
	Redemptions int64   `json:"redemptions"`
	Savings     int64   `json:"savings"`
}

type customerCodesJSON struct {
	Coupons []struct {
		Code          string     `json:"code"`
		State         string     `json:"state"`
		Source        string     `json:"source"`
		SeriesID      *int64     `json:"seriesId"`
		PromotionName string     `json:"promotionName"`
		Uses          int        `json:"uses"`
		MaxUsage      int        `json:"maxUsage"`
		IssuedAt      time.Time  `json:"issuedAt"`
		ValidTill     *time.Time `json:"validTill"`
	} `json:"coupons"`
	Next string `json:"next"`
}

// A customer issued a code by email is found by any of their
// identifiers, with the codes made for them and their redemptions.
func TestCustomersOverTheNativeAPI(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		ctx := t.Context()
		spec, err := models.SeriesInput{Promotion: models.PromotionInput{Name: "Welcome", DiscountType: models.DiscountFixed, DiscountValue: "500"}, UsesPerCode: 1}.Validate()
		if err != nil {
			t.Fatal(err)
		}
		series, err := h.Store.CreateSeries(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		cu, res, err := h.Store.Issue(ctx, models.IssueRequest{SeriesIDs: []int64{series.ID()}, Customer: models.CustomerRef{Email: "Ann@Example.com", Mobile: "+49 170 1234567"}})
		if err != nil || len(res) != 1 || res[0].Coupon == nil {
			t.Fatalf("issue: %v %+v", err, res)
		}
		code := res[0].Coupon.Code
		h.MustAPI(http.StatusCreated, "POST", "/api/redemptions", `{"code":"`+code+`","customerId":"`+cu.ID+`","orderId":"o-1","items":1,"orderAmount":2000}`)

		for _, ref := range []string{cu.ID, "id:" + cu.ID, "email:ann@example.com", "mobile:491701234567", "mobile:+49 170 1234567"} {
			got := webtest.Decode[customerJSON](t, h.MustAPI(http.StatusOK, "GET", "/api/customers/"+url.PathEscape(ref), ""))
			if got.ID != cu.ID || got.Email == nil || *got.Email != "ann@example.com" || got.Redemptions != 1 || got.Savings != 500 {
				t.Errorf("customer by %q = %+v", ref, got)
			}
		}
		webtest.WantError(t, h.API("GET", "/api/customers/email:bob@example.com", ""), http.StatusNotFound, "not_found")
		webtest.WantError(t, h.API("GET", "/api/customers/email:not-an-address", ""), http.StatusUnprocessableEntity, "invalid", "email")

		codes := webtest.Decode[customerCodesJSON](t, h.MustAPI(http.StatusOK, "GET", "/api/customers/email:ann@example.com/coupons", ""))
		if len(codes.Coupons) != 1 || codes.Coupons[0].Code != code || codes.Coupons[0].SeriesID == nil || *codes.Coupons[0].SeriesID != series.ID() ||
			codes.Coupons[0].PromotionName != "Welcome" || codes.Coupons[0].Uses != 1 || codes.Coupons[0].State != "used_up" {
			t.Errorf("the customer's codes = %+v", codes)
		}
		reds := webtest.Decode[redemptionListJSON](t, h.MustAPI(http.StatusOK, "GET", "/api/customers/"+cu.ID+"/redemptions", ""))
		if len(reds.Redemptions) != 1 || reds.Redemptions[0].Code != code || reds.Redemptions[0].OrderID != "o-1" {
			t.Errorf("the customer's redemptions = %+v", reds)
		}
		webtest.WantError(t, h.API("GET", "/api/customers/"+cu.ID+"/redemptions?limit=5000", ""), http.StatusUnprocessableEntity, "invalid", "limit")
	})
}

type redemptionListJSON struct {
	Redemptions []struct {
		ID      int64  `json:"id"`
		Code    string `json:"code"`
		OrderID string `json:"orderId"`
	} `json:"redemptions"`
	Next string `json:"next"`
}
