package handlers_test

import (
	"errors"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/coupond/coupond/web/webtest"
)

// Without JavaScript, every action that cannot be undone goes through a
// page that names the thing and its consequence, with a way back that
// does nothing and a button that does it, and the next page says so.
func TestEachIrreversibleActionAsksFirstWithoutJavaScript(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		ctx := t.Context()
		promo := h.MustPromotion(models.PromotionInput{Name: "Spring", UTMSource: new("spring")})
		h.MustTaggedCoupon("SPRING-1", "spring", "")
		red := h.MustRedeem("SPRING-1", "ann", "o-1", 1, nil)
		ser := h.MustSeries(models.SeriesInput{Promotion: models.PromotionInput{Name: "Welcome"}})
		tok, secret, err := h.Store.CreateToken(ctx, "checkout", models.ScopeModify)
		if err != nil {
			t.Fatal(err)
		}
		batch := h.PendingBatch(models.BatchInput{Quantity: 10, Format: models.FormatInput{Length: 10}})
		editor := h.UserIDs()[webtest.EditorEmail]

		cases := []struct {
			name, path, question, consequence string
			done                              func() bool
			notice                            string
		}{
			{"cancel a redemption", views.RedemptionCancelURL(red.ID), "Cancel the redemption of SPRING-1 for order o-1?", "Its use is freed",
				func() bool { r, _ := h.Store.Redemption(ctx, red.ID); return !r.Live() }, "is cancelled"},
			{"archive a promotion", views.PromotionURL(promo.ID) + "/archive", "Archive promotion Spring?", "Its coupons stop giving its discount at once",
				func() bool { return h.Promotion(promo.ID).Status == models.PromotionArchived }, "Promotion Spring archived"},
			{"archive a series", views.SeriesURL(ser.ID()) + "/archive", "Archive series Welcome?", "no more can be issued",
				func() bool { return h.Promotion(ser.ID()).Status == models.PromotionArchived }, "Series Welcome archived"},
			{"revoke a token", "/tokens/" + itoa(tok.ID) + "/revoke", "Revoke token checkout?", "Requests using it will be refused at once",
				func() bool {
					_, err := h.Store.AuthenticateToken(ctx, secret)
					return errors.Is(err, models.ErrUnauthenticated)
				}, "Token checkout revoked"},
			{"disable a user", views.UserURL(editor) + "/disable", "Disable " + webtest.EditorEmail + "?", "signed out at once",
				func() bool { return h.User(editor).Disabled }, "disabled"},
			{"cancel a batch", views.BatchCancelURL(batch.ID), "Cancel batch " + itoa(batch.ID) + "?", "The codes made so far stay",
				func() bool { b, _ := h.Store.Batch(ctx, batch.ID); return b.Status == models.BatchCancelled }, "cancelled"},
		}
		for _, tc := range cases {
			page := h.Do("GET", tc.path, nil, nil)
			if page.Status != http.StatusOK || !strings.Contains(page.Body, `data-testid="confirm-page"`) {
				t.Errorf("%s: the confirmation page answers %d", tc.name, page.Status)
				continue
			}
			if !strings.Contains(page.Body, "<h1>"+html.EscapeString(tc.question)+"</h1>") || !strings.Contains(page.Body, tc.consequence) {
				t.Errorf("%s: the page does not ask %q with its consequence", tc.name, tc.question)
			}
			if !regexp.MustCompile(`<form method="post" action="` + regexp.QuoteMeta(tc.path) + `"`).MatchString(page.Body) {
				t.Errorf("%s: the page has no form that does it", tc.name)
			}
			keep := regexp.MustCompile(`<a href="([^"]+)" role="button" class="secondary" data-testid="confirm-keep">`).FindStringSubmatch(page.Body)
			if keep == nil || h.Do("GET", keep[1], nil, nil).Status != http.StatusOK {
				t.Errorf("%s: no way back that leads to a page", tc.name)
			}
			if tc.done() {
				t.Fatalf("%s: done by only asking", tc.name)
			}
			r := h.Post(tc.path, nil, nil)
			if r.Status != http.StatusSeeOther || !tc.done() {
				t.Errorf("%s: confirming answered %d, done %v", tc.name, r.Status, tc.done())
				continue
			}
			if got := testID(h.Do("GET", r.Header.Get("Location"), nil, nil).Body, "notice"); !strings.Contains(got, tc.notice) {
				t.Errorf("%s: the next page says %q, want %q in it", tc.name, got, tc.notice)
			}
		}

		// Archived promotions and series come back, inactive.
		for _, path := range []string{views.PromotionURL(promo.ID), views.SeriesURL(ser.ID())} {
			r := h.Post(path+"/unarchive", nil, nil)
			id := promo.ID
			if path != views.PromotionURL(promo.ID) {
				id = ser.ID()
			}
			if r.Status != http.StatusSeeOther || h.Promotion(id).Status != models.PromotionInactive {
				t.Errorf("unarchive %s: %d, status %q", path, r.Status, h.Promotion(id).Status)
			}
			if got := testID(h.Do("GET", r.Header.Get("Location"), nil, nil).Body, "notice"); !strings.Contains(got, "unarchived") {
				t.Errorf("after unarchiving %s: notice %q", path, got)
			}
		}
		if r := h.Do("GET", views.RedemptionCancelURL(999999), nil, nil); r.Status != http.StatusNotFound {
			t.Errorf("the question about a redemption that does not exist: %d", r.Status)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
