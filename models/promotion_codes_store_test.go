package models_test

import (
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
)

// mustBulkCodes makes a bulk promotion and n codes of it.
func mustBulkCodes(t *testing.T, s *models.Store, n int) (models.Promotion, []models.Coupon) {
	t.Helper()
	spec, err := models.PromotionInput{Name: "Bulk", Kind: models.KindBulk, DiscountType: models.DiscountPercent, DiscountValue: "10"}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.CreatePromotion(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := models.BatchInput{PromotionID: &p.ID, Quantity: n, Format: models.FormatInput{Length: 12}, MaxUsage: 1}.Validate(n)
	if err != nil {
		t.Fatal(err)
	}
	_, cs, err := s.GeneratePromotionCodes(t.Context(), bs)
	if err != nil {
		t.Fatal(err)
	}
	return p, cs
}

// Codes are generated only for a bulk promotion; anything else is refused
// before a batch exists.
func TestPromotionCodesAreGeneratedForBulkPromotionsOnly(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{}, func(t *testing.T, s *models.Store) {
		spec, err := models.PromotionInput{Name: "Tagged", DiscountType: models.DiscountFixed, DiscountValue: "500", UTMSource: ptr("news")}.Validate()
		if err != nil {
			t.Fatal(err)
		}
		regular, err := s.CreatePromotion(t.Context(), spec)
		if err != nil {
			t.Fatal(err)
		}
		for id, want := range map[int64]error{regular.ID: models.ErrNotBulkPromotion, 404: models.ErrNotFound} {
			bs, err := models.BatchInput{PromotionID: &id, Quantity: 2, MaxUsage: 1}.Validate(10)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.GeneratePromotionCodes(t.Context(), bs); !errors.Is(err, want) {
				t.Errorf("promotion %d: %v, want %v", id, err, want)
			}
		}
		var nb *models.NotBulkPromotionError
		bs, _ := models.BatchInput{PromotionID: &regular.ID, Quantity: 2, MaxUsage: 1}.Validate(10)
		if _, _, err := s.GeneratePromotionCodes(t.Context(), bs); !errors.As(err, &nb) || nb.Kind != models.KindRegular {
			t.Errorf("%v, want a *NotBulkPromotionError naming the kind", err)
		}
		if page, err := s.ListBatches(t.Context(), models.BatchFilter{}); err != nil || len(page.Batches) != 0 {
			t.Errorf("refused generations left %d batches (%v)", len(page.Batches), err)
		}
	})
}

// A code with uses is kept even without a redemption row (uses that came
// from elsewhere); an id named twice is one deletion that both indexes
// report as done.
func TestDeletePromotionCodesKeepsCodesWithUses(t *testing.T) {
	t.Parallel()
	storetest.EachWithDB(t, models.Config{}, func(t *testing.T, s *models.Store, db *sql.DB) {
		p, cs := mustBulkCodes(t, s, 3)
		if _, err := db.ExecContext(t.Context(), "UPDATE coupons SET uses = 2 WHERE id = $1", cs[1].ID); err != nil {
			t.Fatal(err)
		}
		d, err := s.DeletePromotionCodes(t.Context(), p.ID, []int64{cs[0].ID, cs[1].ID, cs[2].ID, cs[0].ID})
		if err != nil {
			t.Fatal(err)
		}
		if d.Requested != 4 || d.Deleted() != 3 || len(d.Kept) != 1 || d.Kept[0].Item != 1 || d.Kept[0].Field != models.FieldCode {
			t.Fatalf("deletion = %+v, want index 1 kept by its code and the rest deleted", d)
		}
		page, err := s.PromotionCodes(t.Context(), models.PromotionCodeFilter{PromotionID: p.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Coupons) != 1 || page.Coupons[0].ID != cs[1].ID || page.Total != 1 {
			t.Errorf("codes left = %+v, want only the one with uses", page.Coupons)
		}
		for _, ids := range [][]int64{nil, make([]int64, models.MaxCodesPerDelete+1)} {
			var verr *models.ValidationError
			if _, err := s.DeletePromotionCodes(t.Context(), p.ID, ids); !errors.As(err, &verr) || verr.Message(models.FieldIDs) == "" {
				t.Errorf("%d ids: %v, want a message for %s", len(ids), err, models.FieldIDs)
			}
		}
		// A code a checkout holds is kept until the hold ends.
		more, more2 := mustBulkCodes(t, s, 2)
		hold, _, err := s.Reserve(t.Context(), models.ReservationInput{Code: more2[0].Code, CustomerID: "c", OrderID: "o", Items: 1}, "")
		if err != nil {
			t.Fatal(err)
		}
		d, err = s.DeletePromotionCodes(t.Context(), more.ID, []int64{more2[0].ID, more2[1].ID})
		if err != nil || d.Deleted() != 1 || len(d.Kept) != 1 || d.Kept[0].Item != 0 || !strings.Contains(d.Kept[0].Message, "held for an order") {
			t.Errorf("deleting a held code and another = %+v, %v", d, err)
		}
		if _, err := s.ReleaseReservation(t.Context(), hold.ID); err != nil {
			t.Fatal(err)
		}
		if d, err := s.DeletePromotionCodes(t.Context(), more.ID, []int64{more2[0].ID}); err != nil || d.Deleted() != 1 {
			t.Errorf("deleting it once released = %+v, %v", d, err)
		}
		if _, err := s.DeletePromotionCodes(t.Context(), 404, []int64{cs[1].ID}); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("unknown promotion: %v, want ErrNotFound", err)
		}
	})
}
