package models_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
)

// Every change to a promotion that is not there names it in a
// *NotFoundError, which is what the servers answer with 404.
func TestChangingAnUnknownPromotionIsNotFound(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{}, func(t *testing.T, s *models.Store) {
		spec, err := models.PromotionInput{Name: "P", DiscountType: models.DiscountPercent, DiscountValue: "5", UTMSource: ptr("s")}.Validate()
		if err != nil {
			t.Fatal(err)
		}
		for name, change := range map[string]func() error{
			"update":  func() error { _, err := s.UpdatePromotion(t.Context(), 404, spec); return err },
			"archive": func() error { _, err := s.ArchivePromotion(t.Context(), 404); return err },
			"link":    func() error { _, err := s.LinkPromotionTag(t.Context(), 404, models.FieldUTMSource, "s"); return err },
		} {
			var nf *models.NotFoundError
			if err := change(); !errors.As(err, &nf) || nf.Entity != "promotion" || nf.Key != "404" {
				t.Errorf("%s: %v, want a *NotFoundError for promotion 404", name, err)
			}
		}
	})
}

// Tags that differ only in case are one tag to a promotion, so the tags
// offered for linking count them together.
func TestCouponTagsIgnoreCase(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{}, func(t *testing.T, s *models.Store) {
		for i, tag := range []string{"Spring", "spring", "SPRING", "autumn"} {
			mustCoupon(t, s, models.CouponInput{Code: "T" + string(rune('A'+i)), UTMSource: ptr(tag), UTMCampaign: ptr("c-" + tag)})
		}
		sources, campaigns, err := s.CouponTags(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(sources) != 2 || !strings.EqualFold(sources[0].Tag, "spring") || sources[0].Coupons != 3 || sources[1].Tag != "autumn" || sources[1].Coupons != 1 {
			t.Errorf("sources = %+v, want spring ×3 and autumn ×1", sources)
		}
		if len(campaigns) != 2 || campaigns[0].Coupons != 3 {
			t.Errorf("campaigns = %+v, want c-spring ×3 and c-autumn ×1", campaigns)
		}
	})
}
