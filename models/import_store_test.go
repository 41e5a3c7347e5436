package models_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
)

// importFile is a CSV of n rows under header, each written by row(i) for
// line i+2 (the header is line 1).
func importFile(header string, n int, row func(i int) string) string {
	var b strings.Builder
	b.WriteString(header + "\n")
	for i := range n {
		b.WriteString(row(i) + "\n")
	}
	return b.String()
}

// importAll creates an import of file and runs the runner until it is
// done, returning it.
func importAll(t *testing.T, s *models.Store, file string, cfg models.RunnerConfig) models.Batch {
	t.Helper()
	b, err := s.CreateImport(t.Context(), models.ImportInput{File: strings.NewReader(file), FileName: "codes.csv"})
	if err != nil {
		t.Fatalf("create import: %v", err)
	}
	stop := runner(t, s, cfg)
	defer stop()
	return waitBatch(t, s, b.ID, "done", isDone)
}

// problems reads every refused row of import id by line.
func problems(t *testing.T, s *models.Store, id int64) map[int]models.ImportProblem {
	t.Helper()
	got := map[int]models.ImportProblem{}
	if err := s.EachImportProblem(t.Context(), id, func(p models.ImportProblem) error {
		got[p.Line] = p
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// 50,000 rows with 1% bad ones, on both databases: every good row is a
// coupon exactly once, with its own limits and tags, and every bad row is
// reported with its line and why.
func TestImportingFiftyThousandCodesWithBadRows(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{}, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		if _, err := s.CreateCoupon(ctx, models.CouponSpec{Code: "TAKEN-00007"}); err != nil {
			t.Fatal(err)
		}
		const n = 50_000
		// Sorted a few thousand rows at a time, as a file of millions
		// is: the runs go to temporary files and are merged.
		s.SortImportsBy(3_000)
		bad := map[int]string{} // line → a word of its problem
		file := importFile("Code,Max Uses,utm_source,customerId", n, func(i int) string {
			line := i + 2
			switch {
			case i%100 == 7 && i < 700:
				bad[line] = "exists"
				if i == 7 {
					return "taken-00007,1,shop,"
				}
				return fmt.Sprintf("DUP-%05d,1,shop,", i-100) // a code an earlier line has
			case i%100 == 7:
				bad[line] = "maxUsage"
				return fmt.Sprintf("BAD-%05d,lots,shop,", i)
			}
			if i%100 == 0 {
				return fmt.Sprintf("DUP-%05d,1,shop,", i+7)
			}
			return fmt.Sprintf("IMP-%05d,%d,Shop,cust-%d", i, 1+i%3, i%10)
		})
		b := importAll(t, s, file, models.RunnerConfig{})
		if b.Quantity != n || b.Generated != n-len(bad) || b.Rejected != len(bad) {
			t.Fatalf("import: %d rows, %d imported, %d refused; want %d, %d, %d", b.Quantity, b.Generated, b.Rejected, n, n-len(bad), len(bad))
		}
		got := problems(t, s, b.ID)
		if len(got) != len(bad) {
			t.Errorf("%d refused rows reported, want %d", len(got), len(bad))
		}
		for line, word := range bad {
			if p, ok := got[line]; !ok || !strings.Contains(p.Problem, map[string]string{"exists": "exists already", "maxUsage": "Max Uses:"}[word]) {
				t.Errorf("line %d: reported %+v, want a problem about %s", line, p, word)
			}
		}
		for _, code := range []string{"IMP-00001", "IMP-49999", "DUP-00107"} {
			c, err := s.Coupon(ctx, code)
			if err != nil {
				t.Fatalf("imported %s: %v", code, err)
			}
			if code == "IMP-00001" && (c.MaxUsage != 2 || c.UTMSource == nil || *c.UTMSource != "Shop" || c.CustomerID == nil || *c.CustomerID != "cust-1" || c.Uses != 0) {
				t.Errorf("IMP-00001 = %+v", c)
			}
		}
		var imported int
		if err := s.EachCoupon(ctx, models.CouponFilter{}, func(models.Coupon) error { imported++; return nil }); err != nil {
			t.Fatal(err)
		}
		if imported != n-len(bad)+1 {
			t.Errorf("%d coupons after the import, want %d", imported, n-len(bad)+1)
		}
		// The refused rows stay for the report; the imported ones go.
		var left int
		if err := s.EachImportProblem(ctx, b.ID, func(models.ImportProblem) error { left++; return nil }); err != nil || left != len(bad) {
			t.Errorf("rows kept for the report: %d %v", left, err)
		}
		if chunks, err := s.ImportChunksLeft(ctx, b.ID); err != nil || chunks != 0 {
			t.Errorf("%d chunks of rows left after the import (%v)", chunks, err)
		}
		if page, err := s.ListBatches(ctx, models.BatchFilter{}); err != nil || len(page.Batches) != 0 {
			t.Errorf("the list of generated batches shows %d batches (%v); imports are not among them", len(page.Batches), err)
		}
	})
}

// Imported coupons are counted among the usable ones as the console's
// states judge them, with their tags, promotions and own ends, and found
// by search.
func TestImportedCodesAreCountedAndFound(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{}, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		spec, err := models.PromotionInput{Name: "Bulk", Status: models.PromotionActive, Kind: models.KindBulk, DiscountType: models.DiscountPercent, DiscountValue: "5"}.Validate()
		if err != nil {
			t.Fatal(err)
		}
		bulk, err := s.CreatePromotion(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		spec, err = models.PromotionInput{Name: "Tagged", Status: models.PromotionActive, UTMSource: new("shop"), DiscountType: models.DiscountPercent, DiscountValue: "5"}.Validate()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreatePromotion(ctx, spec); err != nil {
			t.Fatal(err)
		}
		end := time.Now().AddDate(0, 0, 3).UTC().Format(time.DateOnly)
		file := "code,maxUsage,utmSource,utmCampaign,promotionId,validUntil\n" +
			"SHOP-1,,SHOP,,,\n" +
			"SHOP-2,0,shop,spring,," + end + "\n" +
			fmt.Sprintf("BULK-1,2,,,%d,\n", bulk.ID) +
			fmt.Sprintf("BULK-2,1,,,%d,2000-01-01\n", bulk.ID) +
			"NOWHERE-1,1,nobody,,,\n" +
			"WRONG-PROMO,1,,,999,\n"
		b := importAll(t, s, file, models.RunnerConfig{})
		if b.Generated != 5 || b.Rejected != 1 {
			t.Fatalf("imported %d, refused %d; want 5, 1", b.Generated, b.Rejected)
		}
		if p := problems(t, s, b.ID)[7]; !strings.Contains(p.Problem, "no promotion has id 999") {
			t.Errorf("line 7 (no promotion 999): %+v", p)
		}
		states := checkStates(t, s, time.Now(), "after the import")
		want := map[string]string{"SHOP-1": models.CouponActive, "SHOP-2": models.CouponActive, "BULK-1": models.CouponActive,
			"BULK-2": models.CouponExpired, "NOWHERE-1": models.CouponNoActivePromotion}
		for code, st := range want {
			if states[code] != st {
				t.Errorf("%s is %s, want %s", code, states[code], st)
			}
		}
		page, err := s.ListCoupons(ctx, models.CouponFilter{Search: "ulk-"})
		if err != nil || len(page.Coupons) != 2 {
			t.Errorf("a search for ulk- found %d coupons (%v), want BULK-1 and BULK-2", len(page.Coupons), err)
		}
		if c, err := s.Coupon(ctx, "shop-1"); err != nil || c.MaxUsage != models.DefaultImportMaxUsage {
			t.Errorf("a row without maxUsage: %+v %v", c, err)
		}
	})
}

// Rows that share their values but the code are inserted a set of
// values at a time, and rows that share little one by one: either way a
// code taken already is refused, of two lines with one code the earlier
// wins even when the later one's values come first, and the codes are
// counted among the usable ones by their own tags and ends.
func TestImportRowsThatShareTheirValues(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{}, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		spec, err := models.PromotionInput{Name: "Shop", Status: models.PromotionActive, UTMSource: new("shop"), DiscountType: models.DiscountPercent, DiscountValue: "5"}.Validate()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreatePromotion(ctx, spec); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateCoupon(ctx, models.CouponSpec{Code: "SHARE-00010"}); err != nil {
			t.Fatal(err)
		}
		const n = 2000
		soon := time.Now().AddDate(0, 0, 3).UTC().Format(time.DateOnly)
		// Eight sets of values (uses, source, end) over most rows; the
		// last 200 rows each name a customer of their own.
		file := importFile("code,maxUsage,utmSource,validUntil,customerId", n, func(i int) string {
			switch {
			case i == 1500:
				// SHARE-00020 again, with the values of the chunk's
				// first row, whose set is inserted first.
				return "share-00020,1,Shop," + soon + ","
			case i >= n-200:
				return fmt.Sprintf("SHARE-%05d,1,shop,,cust-%d", i, i)
			}
			until := ""
			if i%3 == 0 {
				until = soon
			}
			return fmt.Sprintf("SHARE-%05d,%d,%s,%s,", i, 1+i%2, []string{"Shop", "shop"}[i/2%2], until)
		})
		b := importAll(t, s, file, models.RunnerConfig{Chunk: 700})
		if b.Generated != n-2 || b.Rejected != 2 {
			t.Fatalf("imported %d, refused %d; want %d, 2", b.Generated, b.Rejected, n-2)
		}
		got := problems(t, s, b.ID)
		for _, line := range []int{12, 1502} {
			if p := got[line]; !strings.Contains(p.Problem, "exists already") {
				t.Errorf("line %d: %+v, want a code that exists already", line, p)
			}
		}
		if c, err := s.Coupon(ctx, "SHARE-00020"); err != nil || c.Code != "SHARE-00020" || c.UTMSource == nil || *c.UTMSource != "Shop" || c.ExpiresAt != nil {
			t.Errorf("SHARE-00020 = %+v (%v), want line 22's: source Shop, no end", c, err)
		}
		if c, err := s.Coupon(ctx, "SHARE-01999"); err != nil || c.CustomerID == nil || *c.CustomerID != "cust-1999" {
			t.Errorf("SHARE-01999 = %+v (%v), want customer cust-1999", c, err)
		}
		states := checkStates(t, s, time.Now(), "after the import")
		if states["SHARE-00003"] != models.CouponActive || states["SHARE-00001"] != models.CouponActive {
			t.Errorf("SHARE-00003 is %s, SHARE-00001 %s; want both active", states["SHARE-00003"], states["SHARE-00001"])
		}
		// Five days on, the codes with an end (every third of the first
		// 1,800 lines but line 1502's, refused) are no longer counted.
		active, withEnd := 0, 0
		for code, st := range states {
			if st != models.CouponActive {
				continue
			}
			active++
			if c, err := s.Coupon(ctx, code); err == nil && c.ExpiresAt != nil {
				withEnd++
			}
		}
		if active != n-2 || withEnd != 599 {
			t.Errorf("%d active codes, %d of them with an end; want %d, 599", active, withEnd, n-2)
		}
		if got, err := s.ActiveCoupons(ctx, time.Now().AddDate(0, 0, 5)); err != nil || got != int64(active-withEnd) {
			t.Errorf("five days on, %d active coupons (%v), want %d", got, err, active-withEnd)
		}
	})
}

// A runner stopped half way through an import leaves it to the next,
// which goes on from the last chunk committed: no row is imported twice
// or lost.
func TestAnImportResumesAfterItsRunnerStops(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{}, func(t *testing.T, s *models.Store) {
		const n = 5000
		file := importFile("code", n, func(i int) string {
			if i%500 == 3 {
				return "bad code with spaces"
			}
			return fmt.Sprintf("RES-%05d", i)
		})
		b, err := s.CreateImport(t.Context(), models.ImportInput{File: strings.NewReader(file)})
		if err != nil {
			t.Fatal(err)
		}
		cfg := models.RunnerConfig{Chunk: 50, Owner: "first"}
		stop := runner(t, s, cfg)
		mid := waitBatch(t, s, b.ID, "half way", func(b models.Batch) bool { return b.Generated > 0 })
		stop()
		paused, err := s.Batch(t.Context(), b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if paused.Generated+paused.Rejected >= n || paused.LeaseOwner != nil {
			t.Fatalf("stopped at %+v (seen %d imported): want it half way and released", paused, mid.Generated)
		}
		cfg.Owner = "second"
		stop = runner(t, s, cfg)
		done := waitBatch(t, s, b.ID, "done", isDone)
		stop()
		if done.Generated != n-10 || done.Rejected != 10 {
			t.Fatalf("after the restart: %d imported, %d refused; want %d, 10", done.Generated, done.Rejected, n-10)
		}
		var count int
		seen := map[string]bool{}
		if err := s.EachCoupon(t.Context(), models.CouponFilter{}, func(c models.Coupon) error {
			count++
			if seen[c.Code] {
				t.Errorf("%s imported twice", c.Code)
			}
			seen[c.Code] = true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if count != n-10 {
			t.Errorf("%d coupons, want %d", count, n-10)
		}
		if got := len(problems(t, s, b.ID)); got != 10 {
			t.Errorf("%d refused rows reported, want 10", got)
		}
	})
}

// failingReader yields data and then fails, as a client that hangs up
// mid-upload.
type failingReader struct {
	data io.Reader
}

func (r *failingReader) Read(p []byte) (int, error) {
	n, err := r.data.Read(p)
	if errors.Is(err, io.EOF) {
		return n, errors.New("connection reset by peer")
	}
	return n, err
}

// A file that is not a file of codes, or one whose upload stops half way,
// leaves nothing behind: no import, no row, no coupon.
func TestABadOrCutUploadLeavesNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{}, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		for name, file := range map[string]string{
			"empty":          "",
			"no rows":        "code\n",
			"no code column": "utmSource,maxUsage\nshop,1\n",
			"unknown column": "code,colour\nA,red\n",
			"twice":          "code,Code\nA,A\n",
			"broken quotes":  "code\nA\n\"B\nC,\"D\n",
		} {
			_, err := s.CreateImport(ctx, models.ImportInput{File: strings.NewReader(file)})
			var verr *models.ValidationError
			if !errors.As(err, &verr) || verr.Message(models.FieldFile) == "" {
				t.Errorf("%s: %v, want a *ValidationError on the file", name, err)
			}
		}
		cut := &failingReader{data: strings.NewReader(importFile("code", 5000, func(i int) string { return fmt.Sprintf("CUT-%05d", i) }))}
		if _, err := s.CreateImport(ctx, models.ImportInput{File: cut}); err == nil {
			t.Error("an upload cut half way was taken")
		}
		stop := runner(t, s, models.RunnerConfig{})
		time.Sleep(100 * time.Millisecond)
		stop()
		var coupons int
		if err := s.EachCoupon(ctx, models.CouponFilter{}, func(models.Coupon) error { coupons++; return nil }); err != nil || coupons != 0 {
			t.Errorf("%d coupons after refused uploads (%v)", coupons, err)
		}
		if page, err := s.ListBatches(ctx, models.BatchFilter{Kind: models.BatchImport}); err != nil || len(page.Batches) != 0 {
			t.Errorf("%d imports left behind (%v)", len(page.Batches), err)
		}
	})
}

// An upload the server never finished (it died) is found by a runner
// once the upload's lease runs out, marked failed with why, and imports
// nothing.
func TestAnUploadTheServerNeverFinishedFails(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{}, func(t *testing.T, s *models.Store) {
		clock := time.Now()
		id, err := s.StartUpload(t.Context(), strings.NewReader(importFile("code", 100, func(i int) string { return fmt.Sprintf("DIED-%03d", i) })))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ExpireUpload(t.Context(), id, clock.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		stop := runner(t, s, models.RunnerConfig{})
		b := waitBatch(t, s, id, "failed", func(b models.Batch) bool { return b.Status == models.BatchFailed })
		stop()
		if !strings.Contains(b.Error, "upload it again") || b.Generated != 0 {
			t.Errorf("the unfinished upload: %+v", b)
		}
		if _, err := s.Coupon(t.Context(), "DIED-001"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("a code of the unfinished upload: %v", err)
		}
	})
}

// The active-coupon cap holds: the rows past it are refused, each saying
// so, and the rest imported.
func TestImportsKeepTheActiveCouponCap(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{MaxActiveCoupons: 30}, func(t *testing.T, s *models.Store) {
		if _, err := s.CreateCoupon(t.Context(), models.CouponSpec{Code: "ALREADY"}); err != nil {
			t.Fatal(err)
		}
		b := importAll(t, s, importFile("code", 40, func(i int) string { return fmt.Sprintf("CAP-%02d", i) }), models.RunnerConfig{Chunk: 15})
		if b.Generated != 29 || b.Rejected != 11 {
			t.Fatalf("imported %d, refused %d; want 29, 11", b.Generated, b.Rejected)
		}
		for line, p := range problems(t, s, b.ID) {
			if line < 31 || !strings.Contains(p.Problem, "cap of 30 active coupons") {
				t.Errorf("line %d refused: %+v", line, p)
			}
		}
	})
}

// A row's fields are judged one by one, each problem named with its
// column, and a header is read by its names in any case and spelling.
// An import that cannot go on (its stored rows are damaged) fails with
// its codes so far and its refused rows kept, and its rows still to do
// gone; an import cancelled while it runs stops without being called a
// failure.
func TestAnImportThatFailsOrIsCancelledLeavesNoRowsToDo(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{}, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		file := importFile("code,maxUsage", 3000, func(i int) string {
			if i == 5 {
				return "BROKEN-00005,lots"
			}
			return fmt.Sprintf("BROKEN-%05d,1", i)
		})
		broken, err := s.CreateImport(ctx, models.ImportInput{File: strings.NewReader(file)})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.BreakImportChunks(ctx, broken.ID); err != nil {
			t.Fatal(err)
		}
		failures := &logWatch{want: "batch failed", seen: make(chan struct{})}
		stop := runner(t, s, models.RunnerConfig{Logger: slog.New(slog.NewTextHandler(failures, nil))})
		failed := waitBatch(t, s, broken.ID, "failed", func(b models.Batch) bool { return b.Status == models.BatchFailed })
		stop()
		if left, err := s.ImportChunksLeft(ctx, broken.ID); err != nil || left != 0 {
			t.Errorf("%d chunks of rows to do left after the failure (%v)", left, err)
		}
		if got := problems(t, s, failed.ID); len(got) != 1 || !strings.Contains(got[7].Problem, "maxUsage") {
			t.Errorf("the failed import's refused rows: %v, want line 7's", got)
		}

		cancelled, err := s.CreateImport(ctx, models.ImportInput{File: strings.NewReader(strings.ReplaceAll(file, "BROKEN", "STOPPED"))})
		if err != nil {
			t.Fatal(err)
		}
		quiet := &logWatch{want: "batch failed", seen: make(chan struct{})}
		stop = runner(t, s, models.RunnerConfig{Chunk: 10, Logger: slog.New(slog.NewTextHandler(quiet, nil))})
		waitBatch(t, s, cancelled.ID, "under way", func(b models.Batch) bool { return b.Generated > 0 })
		if _, err := s.CancelBatch(ctx, cancelled.ID); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		stop()
		select {
		case <-quiet.seen:
			t.Error("cancelling a running import was logged as a failure")
		default:
		}
		if b, err := s.Batch(ctx, cancelled.ID); err != nil || b.Status != models.BatchCancelled || b.Error != "" {
			t.Errorf("the cancelled import: %+v %v", b, err)
		}
		if left, err := s.ImportChunksLeft(ctx, cancelled.ID); err != nil || left != 0 {
			t.Errorf("%d chunks of rows to do left after the cancel (%v)", left, err)
		}
	})
}

// A date of the year 9999, which ends in the year 10000, is a row's
// problem: past the databases' date functions, it would stop the import.
func TestAValidUntilPastTheYear9999IsARowsProblem(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{}, func(t *testing.T, s *models.Store) {
		b := importAll(t, s, "code,validUntil\nFOREVER-1,9999-12-31\nFOREVER-2,9999-12-30\nFOREVER-3,\n", models.RunnerConfig{})
		if b.Status != models.BatchDone || b.Generated != 2 || b.Rejected != 1 {
			t.Fatalf("import: %+v; want done, 2 imported, 1 refused", b)
		}
		if p := problems(t, s, b.ID)[2]; !strings.Contains(p.Problem, "before the year 10000") {
			t.Errorf("line 2: %+v", p)
		}
		checkStates(t, s, time.Now(), "after the import")
	})
}

func TestImportRowsAreJudgedFieldByField(t *testing.T) {
	t.Parallel()
	r, err := models.NewImportReader(strings.NewReader("\ufeffCoupon Code;x\n"), nil)
	if err == nil {
		t.Fatalf("a header with an unknown column was read: %+v", r)
	}
	ir, err := models.NewImportReader(strings.NewReader("COUPON_CODE,max-uses,Max Uses Per Customer,UTM Source,Campaign Code\n"), nil)
	if err == nil {
		t.Fatalf("a header with an unknown column was read: %+v", ir)
	}
	ir, err = models.NewImportReader(strings.NewReader("\ufeffCOUPON_CODE,max-uses,Max Uses Per Customer,UTM Source,valid until,customer\n"+
		"A-1,3,1,News,2027-01-31,c1\n"+
		"\"B, 2\",-1,x,,31/01/2027,\n"+
		"C-3\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	first, err := ir.Next()
	if err != nil || first.Line != 2 || first.Code != "A-1" || first.MaxUsage != 3 || first.MaxUsagePerClient != 1 || *first.UTMSource != "News" ||
		!first.ValidUntil.Equal(time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)) || *first.CustomerID != "c1" || first.Problem != "" {
		t.Errorf("first row = %+v %v", first, err)
	}
	second, err := ir.Next()
	if err != nil || second.Line != 3 {
		t.Fatalf("second row = %+v %v", second, err)
	}
	for _, col := range []string{"COUPON_CODE", "max-uses", "Max Uses Per Customer", "valid until"} {
		if !strings.Contains(second.Problem, col+":") {
			t.Errorf("the second row's problem %q names no %s", second.Problem, col)
		}
	}
	third, err := ir.Next()
	if err != nil || third.Line != 4 || !strings.Contains(third.Problem, "has 1 fields") {
		t.Errorf("third row = %+v %v", third, err)
	}
	if _, err := ir.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last row: %v", err)
	}
}
