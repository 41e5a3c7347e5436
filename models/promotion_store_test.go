package models_test

import (
	"errors"
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
