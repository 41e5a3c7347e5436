package models_test

import (
	"errors"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
	"github.com/google/go-cmp/cmp"
)

var epoch = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return epoch }

func ptr[T any](v T) *T { return &v }

func mustSpec(t *testing.T, in models.CouponInput) models.CouponSpec {
	t.Helper()
	spec, err := in.Validate()
	if err != nil {
		t.Fatalf("validate %+v: %v", in, err)
	}
	return spec
}

func mustCreateCoupon(t *testing.T, s *models.Store, code string) models.Coupon {
	t.Helper()
	c, err := s.CreateCoupon(t.Context(), mustSpec(t, models.CouponInput{Code: code}))
	if err != nil {
		t.Fatalf("create coupon %q: %v", code, err)
	}
	return c
}

func TestUpsertKeepsCodeAndReplacesConfiguration(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{Now: fixedClock}, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		c, created, err := s.UpsertCoupon(ctx, mustSpec(t, models.CouponInput{Code: "Summer-10", UTMSource: ptr("news"), MaxUsage: 5, ExpirationIntervalPerUse: "1.00:00:00"}))
		if err != nil || !created {
			t.Fatalf("first upsert: created=%v err=%v", created, err)
		}
		if !c.UpdatedAt.Equal(epoch) {
			t.Errorf("UpdatedAt = %v, want the injected clock %v", c.UpdatedAt, epoch)
		}
		c2, created, err := s.UpsertCoupon(ctx, mustSpec(t, models.CouponInput{Code: "SUMMER-10", MaxItemsPerClient: 3}))
		if err != nil || created {
			t.Fatalf("second upsert: created=%v err=%v", created, err)
		}
		if c2.ID != c.ID || c2.Code != "Summer-10" {
			t.Errorf("update changed identity: got %d %q, want %d %q", c2.ID, c2.Code, c.ID, "Summer-10")
		}
		got, err := s.Coupon(ctx, " summer-10 ")
		if err != nil {
			t.Fatal(err)
		}
		if got.Code != "Summer-10" || got.UTMSource != nil || got.MaxUsage != 0 || got.MaxItemsPerClient != 3 || got.ExpirationIntervalPerUse != 0 {
			t.Errorf("stored coupon = %+v, want the second configuration under the first code", got)
		}
	})
}

func TestCreateCouponRefusesCaseInsensitiveDuplicate(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{}, func(t *testing.T, s *models.Store) {
		mustCreateCoupon(t, s, "Welcome")
		_, err := s.CreateCoupon(t.Context(), mustSpec(t, models.CouponInput{Code: "WELCOME"}))
		var dup *models.DuplicateCodeError
		if !errors.As(err, &dup) || dup.Item != models.NoItem || dup.Code != "WELCOME" || !errors.Is(err, models.ErrDuplicateCode) {
			t.Fatalf("got %v, want a DuplicateCodeError for WELCOME", err)
		}
		if _, err := s.Coupon(t.Context(), "nope"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("unknown code: got %v, want ErrNotFound", err)
		}
	})
}

func TestArchiveUnarchive(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{}, func(t *testing.T, s *models.Store) {
		mustCreateCoupon(t, s, "ARCH")
		c, err := s.SetCouponArchived(t.Context(), "arch", true)
		if err != nil || !c.Archived {
			t.Fatalf("archive: %+v %v", c, err)
		}
		if got, err := s.Coupon(t.Context(), "ARCH"); err != nil || !got.Archived {
			t.Errorf("archived flag not stored: %+v %v", got, err)
		}
		c, err = s.SetCouponArchived(t.Context(), "ARCH", false)
		if err != nil || c.Archived {
			t.Fatalf("unarchive: %+v %v", c, err)
		}
		if got, err := s.Coupon(t.Context(), "ARCH"); err != nil || got.Archived {
			t.Errorf("unarchived flag not stored: %+v %v", got, err)
		}
		if _, err := s.SetCouponArchived(t.Context(), "missing", true); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("archive unknown: got %v, want ErrNotFound", err)
		}
	})
}

func TestActiveCap(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{MaxActiveCoupons: 2}, func(t *testing.T, s *models.Store) {
		mustCreateCoupon(t, s, "A")
		mustCreateCoupon(t, s, "B")
		_, err := s.CreateCoupon(t.Context(), mustSpec(t, models.CouponInput{Code: "C"}))
		var capErr *models.ActiveCapError
		if !errors.As(err, &capErr) || capErr.Cap != 2 || capErr.Active != 2 {
			t.Fatalf("third coupon: got %v, want ActiveCapError{Cap:2, Active:2}", err)
		}
		// An archived coupon does not count, and unarchiving is checked.
		if _, err := s.CreateCoupon(t.Context(), mustSpec(t, models.CouponInput{Code: "C", Archived: ptr(true)})); err != nil {
			t.Fatalf("archived coupon past the cap: %v", err)
		}
		if _, err := s.SetCouponArchived(t.Context(), "C", false); !errors.Is(err, models.ErrActiveCap) {
			t.Fatalf("unarchive past the cap: got %v", err)
		}
		if _, err := s.SetCouponArchived(t.Context(), "A", true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetCouponArchived(t.Context(), "C", false); err != nil {
			t.Fatalf("unarchive after freeing a place: %v", err)
		}
		if _, err := s.GenerateCoupons(t.Context(), models.CouponRequest{Spec: mustSpec(t, models.CouponInput{Code: "G"}), Quantity: 5, Generate: true}); !errors.Is(err, models.ErrActiveCap) {
			t.Fatalf("generation past the cap: got %v", err)
		}
	})
}

func TestActiveCapHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{MaxActiveCoupons: 5}, func(t *testing.T, s *models.Store) {
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := range 20 {
			wg.Go(func() {
				_, err := s.CreateCoupon(t.Context(), models.CouponSpec{Code: "RACE-" + string(rune('A'+i))})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		ok := 0
		for err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, models.ErrActiveCap):
				t.Errorf("unexpected error: %v", err)
			}
		}
		page, err := s.ListCoupons(t.Context(), models.CouponFilter{Archived: ptr(false), Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if ok != 5 || len(page.Coupons) != 5 {
			t.Errorf("%d creations succeeded and %d coupons are active, want 5 and 5", ok, len(page.Coupons))
		}
	})
}

var generated = regexp.MustCompile(`^Promo-[a-z0-9]{15}$`)

func TestGenerateCoupons(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{}, func(t *testing.T, s *models.Store) {
		cs, err := s.GenerateCoupons(t.Context(), models.CouponRequest{Spec: mustSpec(t, models.CouponInput{Code: "Promo", UTMCampaign: ptr("xmas"), MaxUsage: 1}), Quantity: 250, Generate: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 250 {
			t.Fatalf("got %d coupons, want 250", len(cs))
		}
		seen := map[string]bool{}
		for _, c := range cs {
			if !generated.MatchString(c.Code) {
				t.Fatalf("code %q does not look like Promo-<15 of [a-z0-9]>", c.Code)
			}
			if seen[c.Code] {
				t.Fatalf("duplicate code %q", c.Code)
			}
			seen[c.Code] = true
			if c.BatchID == nil || *c.BatchID != *cs[0].BatchID || c.UTMCampaign == nil || *c.UTMCampaign != "xmas" || c.MaxUsage != 1 {
				t.Fatalf("coupon %+v lost the configuration or the batch", c)
			}
		}
		b, err := s.Batch(t.Context(), *cs[0].BatchID)
		if err != nil || b.Quantity != 250 || b.BaseCode != "Promo" {
			t.Fatalf("batch = %+v, %v", b, err)
		}
		var streamed []string
		if err := s.EachBatchCoupon(t.Context(), b.ID, func(r models.Coupon) error { streamed = append(streamed, r.Code); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(streamed) != 250 || streamed[0] != cs[0].Code || streamed[249] != cs[249].Code {
			t.Errorf("batch codes are not the generated codes in generation order")
		}
	})
}

// TestGenerateReplacesCollisions gives each database its own
// deterministic reader and seeds, in upper case, the first code that reader
// will produce. Generation must notice the collision and replace the taken
// code with the reader's next one in the same transaction: the batch is
// then exactly the reader's second to eleventh codes. A retry after a
// unique violation would read fresh random bytes and give other codes.
func TestGenerateReplacesCollisions(t *testing.T) {
	t.Parallel()
	const n = 10
	seed := [32]byte{7}
	f, err := models.FormatInput{Prefix: "dup", Delimiter: "-", Length: models.GeneratedSuffixLength, Charset: models.CharsetLowerAlnum}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	gen := f.Generator(rand.NewChaCha8(seed))
	var drawn []string
	for range n + 1 {
		code, err := gen.Append(nil)
		if err != nil {
			t.Fatal(err)
		}
		drawn = append(drawn, string(code))
	}
	taken, want := strings.ToUpper(drawn[0]), slices.Sorted(slices.Values(drawn[1:]))
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect, models.Config{Rand: rand.NewChaCha8(seed)})
		mustCreateCoupon(t, s, taken)
		cs, err := s.GenerateCoupons(t.Context(), models.CouponRequest{Spec: models.CouponSpec{Code: "dup"}, Quantity: n, Generate: true})
		if err != nil {
			t.Fatalf("generation that collides with an existing code: %v", err)
		}
		got := make([]string, len(cs))
		for i, c := range cs {
			got[i] = c.Code
		}
		slices.Sort(got)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("generated codes (-want +got): the taken code %s must be skipped and replaced by the next one drawn\n%s", drawn[0], d)
		}
		c, err := s.Coupon(t.Context(), taken)
		if err != nil {
			t.Fatal(err)
		}
		if c.Code != taken || c.BatchID != nil {
			t.Errorf("the seeded coupon became %+v", c)
		}
		page, err := s.ListCoupons(t.Context(), models.CouponFilter{Prefix: "dup-", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Coupons) != n+1 {
			t.Errorf("%d coupons start with dup-, want the seeded one and %d generated", len(page.Coupons), n)
		}
	})
}

func TestCreateCouponsIsAllOrNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{}, func(t *testing.T, s *models.Store) {
		mustCreateCoupon(t, s, "EXISTS")
		_, err := s.CreateCoupons(t.Context(), []models.CouponRequest{
			{Quantity: 3, Spec: models.CouponSpec{Code: "fresh"}, Generate: true},
			{Quantity: 1, Spec: models.CouponSpec{Code: "exists"}},
		})
		var dup *models.DuplicateCodeError
		if !errors.As(err, &dup) || dup.Item != 1 {
			t.Fatalf("got %v, want a duplicate named by item 1", err)
		}
		page, err := s.ListCoupons(t.Context(), models.CouponFilter{Prefix: "fresh"})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Coupons) != 0 {
			t.Errorf("a failed request left %d coupons behind", len(page.Coupons))
		}
		cs, err := s.CreateCoupons(t.Context(), []models.CouponRequest{
			{Quantity: 1, Spec: models.CouponSpec{Code: "Lit"}},
			{Quantity: 2, Spec: models.CouponSpec{Code: "gen"}, Generate: true},
		})
		if err != nil || len(cs) != 3 || cs[0].Code != "Lit" || cs[0].BatchID != nil || cs[1].BatchID == nil {
			t.Fatalf("mixed request: %+v %v", cs, err)
		}
		if cs[0].GroupingKey != nil || cs[1].GroupingKey == nil || *cs[1].GroupingKey != "gen" {
			t.Errorf("grouping keys: literal %v, generated %v; want none and \"gen\"", cs[0].GroupingKey, cs[1].GroupingKey)
		}
	})
}

func TestListCouponsPagesAndFilters(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{}, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		for _, code := range []string{"b-2", "A-1", "a_3", "C-9", "ab", "B-1"} {
			mustCreateCoupon(t, s, code)
		}
		if _, _, err := s.UpsertCoupon(ctx, mustSpec(t, models.CouponInput{Code: "ab", UTMSource: ptr("news"), UTMCampaign: ptr("xmas")})); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetCouponArchived(ctx, "C-9", true); err != nil {
			t.Fatal(err)
		}
		var all []string
		f := models.CouponFilter{Limit: 4}
		for pages := 0; ; pages++ {
			if pages > 3 {
				t.Fatal("pagination does not end")
			}
			page, err := s.ListCoupons(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page.Coupons {
				all = append(all, c.Code)
			}
			if page.Next == "" {
				break
			}
			f.After = page.Next
		}
		// Byte order of the folded code: '-' < '_' < letters, on both databases.
		want := "A-1 a_3 ab B-1 b-2 C-9"
		if got := strings.Join(all, " "); got != want {
			t.Errorf("pages = %q, want %q", got, want)
		}
		check := func(name string, f models.CouponFilter, want string) {
			t.Helper()
			page, err := s.ListCoupons(ctx, f)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var got []string
			for _, c := range page.Coupons {
				got = append(got, c.Code)
			}
			if strings.Join(got, " ") != want {
				t.Errorf("%s: got %q, want %q", name, strings.Join(got, " "), want)
			}
		}
		check("prefix", models.CouponFilter{Prefix: "A"}, "A-1 a_3 ab")
		check("prefix with dash", models.CouponFilter{Prefix: "b-"}, "B-1 b-2")
		check("utm source", models.CouponFilter{UTMSource: "news"}, "ab")
		check("utm campaign", models.CouponFilter{UTMCampaign: "xmas"}, "ab")
		check("archived", models.CouponFilter{Archived: ptr(true)}, "C-9")
		check("active prefix", models.CouponFilter{Archived: ptr(false), Prefix: "c"}, "")

		var verr *models.ValidationError
		if _, err := s.ListCoupons(ctx, models.CouponFilter{Limit: 1001}); !errors.As(err, &verr) || verr.Message(models.FieldLimit) == "" {
			t.Errorf("limit 1001: got %v", err)
		}
		if _, err := s.ListCoupons(ctx, models.CouponFilter{After: "!!"}); !errors.As(err, &verr) || verr.Message(models.FieldCursor) == "" {
			t.Errorf("bad cursor: got %v", err)
		}
	})
}
