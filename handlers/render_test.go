package handlers_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"github.com/coupond/coupond/handlers"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/coupond/coupond/web/webtest"
	"github.com/labstack/echo/v4"
)

func TestATemplateErrorIsA500WithTheRequestID(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		broken := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
			if _, err := io.WriteString(w, "<p>the first half of a page"); err != nil {
				return err
			}
			return errors.New("the template broke half way")
		})
		h.E.GET("/broken-page", func(c echo.Context) error { return handlers.Render(c, http.StatusOK, broken) })

		r := h.Do("GET", "/broken-page", nil, nil)
		id := r.Header.Get(echo.HeaderXRequestID)
		if r.Status != http.StatusInternalServerError || id == "" || !strings.Contains(r.Body, id) {
			t.Errorf("a template error: %d, request id %q in %.300s; want 500 naming the request id", r.Status, id, r.Body)
		}
		if strings.Contains(r.Body, "first half") {
			t.Errorf("the half-rendered page went out: %.300s", r.Body)
		}
	})
}

func TestAnswersThatDependOnHTMXSayVary(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		h.MustTaggedCoupon("VARY1", "", "")
		cases := []struct {
			name, path string
			header     map[string]string
		}{
			{"full coupon list", "/coupons", nil},
			{"coupon list fragment", "/coupons", webtest.HTMX(views.CouponTableID)},
			{"coupon page", "/coupons/VARY1", nil},
			{"coupon page aimed elsewhere", "/coupons/VARY1", webtest.HTMX("something-else")},
		}
		for _, tc := range cases {
			r := h.Do("GET", tc.path, nil, tc.header)
			vary := strings.Join(r.Header.Values("Vary"), ", ")
			if r.Status != http.StatusOK || !strings.Contains(vary, "HX-Request") || !strings.Contains(vary, "HX-Target") {
				t.Errorf("%s: %d, Vary %q; want both htmx headers named", tc.name, r.Status, vary)
			}
		}
		// The console's error answer is a flash for htmx and a page
		// otherwise.
		r := h.Do("GET", "/coupons/NOSUCH", nil, webtest.HTMX(views.CouponTableID))
		if vary := strings.Join(r.Header.Values("Vary"), ", "); r.Status != http.StatusNotFound || !strings.Contains(vary, "HX-Request") {
			t.Errorf("an htmx request for a missing coupon: %d, Vary %q", r.Status, vary)
		}
	})
}

func TestSignedInPagesAreNotKept(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		h.MustTaggedCoupon("KEEP1", "", "")
		for _, path := range []string{"/coupons", "/coupons/KEEP1", "/promotions", "/customers", "/batches", "/series", "/account", "/audit", "/users"} {
			if r := h.Do("GET", path, nil, nil); r.Status != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("GET %s: %d, Cache-Control %q; want no-store", path, r.Status, r.Header.Get("Cache-Control"))
			}
		}
		if r := h.Do("GET", "/coupons", nil, webtest.HTMX(views.CouponTableID)); r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("a fragment: Cache-Control %q; want no-store", r.Header.Get("Cache-Control"))
		}
	})
}
