package models_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
)

// BenchmarkRedeemInProcess redeems through the store alone, 50 at a time,
// on SQLite: 500 coupons of 10 uses reaching one unlimited promotion, as
// the HTTP benchmark's load has them. It is for profiles of the store's
// part of a redemption (-cpuprofile).
func BenchmarkRedeemInProcess(b *testing.B) {
	s := storetest.Open(b, models.DialectSQLite, models.Config{})
	spec, err := models.PromotionInput{Name: "p", Status: models.PromotionActive, UTMSource: new("bench"), DiscountType: models.DiscountPercent, DiscountValue: "10"}.Validate()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.CreatePromotion(b.Context(), spec); err != nil {
		b.Fatal(err)
	}
	for i := range 500 {
		cs, err := models.CouponInput{Code: fmt.Sprint("B-", i), UTMSource: new("bench"), MaxUsage: 10}.Validate()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.CreateCoupon(b.Context(), cs); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	per := b.N/50 + 1
	for range 50 {
		wg.Go(func() {
			for range per {
				i := next.Add(1)
				_, _, _ = s.Redeem(b.Context(), models.RedemptionInput{Code: fmt.Sprint("B-", i%500), CustomerID: fmt.Sprint("c", i), OrderID: fmt.Sprint("o", i), Items: 1}, "")
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(50*per)/b.Elapsed().Seconds(), "redemptions/s")
	b.ReportMetric(float64(s.SharedWrites()), "shared")
}
