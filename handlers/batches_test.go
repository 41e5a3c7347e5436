package handlers_test

import (
	"database/sql"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
	"github.com/coupond/coupond/views"
	"github.com/coupond/coupond/web"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/bcrypt"
)

// generateForm is the generation form filled in as a marketer would:
// quantity codes of prefix, "-" and length random characters of charset,
// single-use.
func generateForm(quantity, prefix, length, charset string) url.Values {
	return url.Values{
		"quantity": {quantity}, "prefix": {prefix}, "delimiter": {"-"}, "length": {length}, "charset": {charset},
		"maxUsage": {"1"}, "maxUsagePerClient": {"0"}, "maxItemsPerClient": {"0"}, "expirationIntervalPerUse": {"00:00:00"},
	}
}

// pendingBatch records a batch through the store; with no runner started
// it stays pending.
func (h *harness) pendingBatch(in models.BatchInput) models.Batch {
	h.t.Helper()
	spec, err := in.Validate(models.MaxBatchQuantity)
	if err != nil {
		h.t.Fatalf("batch input: %v", err)
	}
	b, err := h.store.CreateBatch(h.t.Context(), spec)
	if err != nil {
		h.t.Fatalf("create batch: %v", err)
	}
	return b
}

// storedBatches is every batch in the store, newest first.
func (h *harness) storedBatches() []models.Batch {
	h.t.Helper()
	page, err := h.store.ListBatches(h.t.Context(), models.BatchFilter{Limit: models.MaxListLimit})
	if err != nil {
		h.t.Fatal(err)
	}
	return page.Batches
}

// wroteNothing fails the test when the store holds a batch or a coupon.
func (h *harness) wroteNothing() {
	h.t.Helper()
	coupons, err := h.store.ListCoupons(h.t.Context(), models.CouponFilter{})
	if err != nil {
		h.t.Fatal(err)
	}
	if bs := h.storedBatches(); len(bs) != 0 || len(coupons.Coupons) != 0 {
		h.t.Errorf("a refused form left %d batches and %d coupons", len(bs), len(coupons.Coupons))
	}
}

// batchOf reads the batch id from a batch page's address.
func batchOf(t *testing.T, location string) int64 {
	t.Helper()
	var id int64
	if _, err := fmt.Sscanf(location, "/batches/%d", &id); err != nil || location != views.BatchURL(id) {
		t.Fatalf("%q is not a batch's page", location)
	}
	return id
}

var (
	sampleCode = regexp.MustCompile(`<li data-testid="sample">([^<]*)</li>`)
	listedCode = regexp.MustCompile(`<li><a href="/coupons/[^"]*">([^<]*)</a></li>`)
)

// matches extracts the first group of every match of re in body.
func matches(re *regexp.Regexp, body string) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// fragmentOf fails unless body is only the element with id, not a page.
func fragmentOf(t *testing.T, body, id string) {
	t.Helper()
	if strings.Contains(body, "<html") || !regexp.MustCompile(`^<[a-z]+ id="`+id+`"`).MatchString(body) {
		t.Fatalf("want the fragment #%s alone, got %.200s", id, body)
	}
}

func TestGenerateFormRefusesBadFieldsOneByOne(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		form := generateForm("lots", "no spaces", "", "klingon")
		form.Set("expirationIntervalPerUse", "soon")
		form.Set("maxUsage", "one")
		r := h.post("/coupons/generate", form, htmx(views.GenerateFormID))
		if r.status != http.StatusUnprocessableEntity {
			t.Fatalf("bad fields: %d, want 422", r.status)
		}
		fragmentOf(t, r.body, views.GenerateFormID)
		for field, want := range map[string]string{
			"quantity": "must be a whole number", "prefix": "may contain only letters", "charset": "must be one of upper-alnum",
			"maxUsage": "must be a whole number", "expirationIntervalPerUse": "",
		} {
			msg, marked := fieldError(r.body, field)
			if msg == "" || !strings.Contains(msg, want) || !marked {
				t.Errorf("%s: message %q (marked %v), want one containing %q beside the field", field, msg, marked, want)
			}
		}
		if !strings.Contains(r.body, `value="no spaces"`) {
			t.Error("the prefix typed is not shown back")
		}
		if testID(r.body, "form-error") == "" {
			t.Error("no message at the top of the form")
		}

		// A length and a pattern together, without htmx: the whole page.
		form = generateForm("10", "BDAY", "8", models.CharsetUpperAlnum)
		form.Set("pattern", "####")
		r = h.post("/coupons/generate", form, nil)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "<html") || !strings.Contains(r.body, "<h1>Generate coupons</h1>") {
			t.Fatalf("length and pattern: %d, want 422 with the page", r.status)
		}
		if msg, _ := fieldError(r.body, "length"); !strings.Contains(msg, "must be left empty when a pattern is given") {
			t.Errorf("length beside a pattern: %q", msg)
		}
		if msg, _ := fieldError(r.body, "quantity"); msg != "" {
			t.Errorf("a good quantity got the message %q", msg)
		}

		r = h.post("/coupons/generate", generateForm("", "EMPTY", "", ""), nil)
		if msg, _ := fieldError(r.body, "quantity"); r.status != http.StatusUnprocessableEntity || msg != "is required" {
			t.Errorf("no quantity: %d %q", r.status, msg)
		}
		r = h.post("/coupons/generate", generateForm(fmt.Sprint(models.MaxBatchQuantity+1), "MANY", "", ""), nil)
		if msg, _ := fieldError(r.body, "quantity"); r.status != http.StatusUnprocessableEntity || !strings.Contains(msg, "between 1 and 10000000") {
			t.Errorf("too many: %d %q", r.status, msg)
		}
		h.wroteNothing()
	})
}

func TestGenerateRefusesAQuantityTheFormatCannotHold(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		form := generateForm("600", "CAP", "3", models.CharsetDigits)
		form.Set(views.FieldConfirmGuessable, "yes")
		r := h.post("/coupons/generate", form, htmx(views.GenerateFormID))
		if r.status != http.StatusUnprocessableEntity {
			t.Fatalf("600 codes of 1000: %d, want 422", r.status)
		}
		msg, marked := fieldError(r.body, "quantity")
		if !marked || !strings.Contains(msg, "can make 1000 codes") || !strings.Contains(msg, "a length of 4 fits") {
			t.Errorf("quantity message %q (marked %v), want the keyspace and a length that fits", msg, marked)
		}
		if got := testID(r.body, "capacity-problem"); got != msg {
			t.Errorf("the preview says %q, want the same as the field: %q", got, msg)
		}
		h.wroteNothing()
		// Unconfirmed as well: both problems are told at once.
		form.Del(views.FieldConfirmGuessable)
		r = h.post("/coupons/generate", form, nil)
		if q, c := testID(r.body, "error-quantity"), testID(r.body, "error-confirmGuessable"); q != msg || c == "" {
			t.Errorf("unconfirmed: quantity %q and confirmation %q, want both", q, c)
		}
		h.wroteNothing()

		// Codes of the shape already made count against the keyspace.
		h.pendingBatch(models.BatchInput{Quantity: 400, Format: models.FormatInput{Prefix: "CAP", Delimiter: "-", Length: 3, Charset: models.CharsetDigits}})
		form = generateForm("101", "CAP", "3", models.CharsetDigits)
		form.Set(views.FieldConfirmGuessable, "yes")
		r = h.post("/coupons/generate", form, nil)
		if msg, _ := fieldError(r.body, "quantity"); r.status != http.StatusUnprocessableEntity || !strings.Contains(msg, "beside the 400 of its shape") {
			t.Errorf("101 more beside 400: %d %q", r.status, msg)
		}
		if n := len(h.storedBatches()); n != 1 {
			t.Errorf("%d batches, want only the first", n)
		}
	})
}

func TestGenerateNeedsConfirmationForGuessableCodes(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		// 100 codes of a million: one guess in ten thousand hits.
		form := generateForm("100", "SHORT", "6", models.CharsetDigits)
		r := h.post("/coupons/generate", form, htmx(views.GenerateFormID))
		if r.status != http.StatusUnprocessableEntity {
			t.Fatalf("guessable without the confirmation: %d, want 422", r.status)
		}
		msg, marked := fieldError(r.body, views.FieldConfirmGuessable)
		if !marked || !strings.Contains(msg, "1 in 10 thousand") || !strings.Contains(msg, "tick this box") {
			t.Errorf("confirmation message %q (marked %v)", msg, marked)
		}
		if !regexp.MustCompile(`<input type="checkbox" id="confirmGuessable" name="confirmGuessable" value="yes" aria-invalid="true"`).MatchString(r.body) {
			t.Error("the form has no unticked confirmation checkbox marked invalid")
		}
		if !strings.Contains(testID(r.body, "guess-warning"), "1 in 10 thousand") {
			t.Errorf("warning %q", testID(r.body, "guess-warning"))
		}
		h.wroteNothing()

		form.Set(views.FieldConfirmGuessable, "yes")
		r = h.post("/coupons/generate", form, nil)
		if r.status != http.StatusSeeOther {
			t.Fatalf("guessable, confirmed: %d %.300s", r.status, r.body)
		}
		if b, err := h.store.Batch(t.Context(), batchOf(t, r.header.Get("Location"))); err != nil || b.Quantity != 100 || b.Shape == "" {
			t.Errorf("stored %+v %v", b, err)
		}

		// Long codes need no confirmation.
		r = h.post("/coupons/generate", generateForm("100", "LONG", "16", models.CharsetUpperAlnum), nil)
		if r.status != http.StatusSeeOther {
			t.Fatalf("unguessable: %d %.300s", r.status, r.body)
		}
	})
}

func TestGeneratePreviewShowsSamplesKeyspaceAndOdds(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		page := h.do("GET", "/coupons/generate", nil, nil)
		for _, attr := range []string{`hx-post="/coupons/generate/preview"`, `hx-trigger="input changed delay:300ms, change"`,
			`hx-target="#generate-preview"`, `hx-include="#generate-form"`} {
			if !strings.Contains(page.body, attr) {
				t.Errorf("the form does not refresh its preview: no %s", attr)
			}
		}
		if got := matches(sampleCode, page.body); len(got) != 5 || !regexp.MustCompile(`^[0-9A-Z]{12}$`).MatchString(got[0]) {
			t.Errorf("the empty form previews %q, want 5 codes of 12 × upper-alnum", got)
		}

		// 3,000 codes of the shape exist already; 2,000 more of 10^8.
		h.pendingBatch(models.BatchInput{Quantity: 3000, Format: models.FormatInput{Prefix: "SPRING", Delimiter: "-", Length: 8, Charset: models.CharsetDigits}})
		r := h.post(views.GeneratePreviewURL, generateForm("2000", "SPRING", "8", models.CharsetDigits), htmx(views.GeneratePreviewID))
		if r.status != http.StatusOK {
			t.Fatalf("preview: %d %.300s", r.status, r.body)
		}
		fragmentOf(t, r.body, views.GeneratePreviewID)
		samples := matches(sampleCode, r.body)
		if len(samples) != 5 {
			t.Errorf("%d samples, want 5", len(samples))
		}
		for _, s := range samples {
			if !regexp.MustCompile(`^SPRING-[0-9]{8}$`).MatchString(s) {
				t.Errorf("sample %q is not SPRING- and 8 digits", s)
			}
		}
		for tid, want := range map[string]string{
			"preview-format": `"SPRING-" + 8 × digits`, "preview-length": "15 characters", "preview-keyspace": "100,000,000",
			"preview-existing": "3,000", "preview-odds": "1 in 20 thousand",
		} {
			if got := testID(r.body, tid); got != want {
				t.Errorf("%s = %q, want %q", tid, got, want)
			}
		}
		if w := testID(r.body, "guess-warning"); !strings.Contains(w, "guessable") || !strings.Contains(w, "1 in 20 thousand") {
			t.Errorf("warning %q", w)
		}
		if !strings.Contains(r.body, `name="confirmGuessable"`) {
			t.Error("a guessable preview offers no confirmation")
		}
		if testID(r.body, "capacity-problem") != "" {
			t.Error("a quantity that fits is called a problem")
		}

		// A pattern, with digits and letters where it says; long enough
		// that a guess is hopeless.
		form := generateForm("10", "", "", models.CharsetUpperAlnum)
		form.Set("pattern", "BDAY-####-????-****")
		r = h.post(views.GeneratePreviewURL, form, htmx(views.GeneratePreviewID))
		for _, s := range matches(sampleCode, r.body) {
			if !regexp.MustCompile(`^BDAY-[0-9]{4}-[A-Z]{4}-[0-9A-Z]{4}$`).MatchString(s) {
				t.Errorf("pattern sample %q", s)
			}
		}
		if got, want := testID(r.body, "preview-keyspace"), "7,675,442,012,160,000"; got != want {
			t.Errorf("pattern keyspace %q, want %q", got, want)
		}
		if testID(r.body, "guess-warning") != "" || strings.Contains(r.body, `name="confirmGuessable"`) {
			t.Error("an unguessable pattern is warned about")
		}

		// Quantity past the keyspace: the problem, with its advice.
		r = h.post(views.GeneratePreviewURL, generateForm("60", "TINY", "2", models.CharsetDigits), htmx(views.GeneratePreviewID))
		if p := testID(r.body, "capacity-problem"); !strings.Contains(p, "can make 100 codes") || !strings.Contains(p, "a length of 3 fits") {
			t.Errorf("capacity problem %q", p)
		}

		// Bad fields are listed in the preview, which still swaps (200).
		r = h.post(views.GeneratePreviewURL, generateForm("0", "no spaces", "", models.CharsetDigits), htmx(views.GeneratePreviewID))
		if r.status != http.StatusOK {
			t.Fatalf("preview of bad fields: %d, want 200 so that htmx swaps it", r.status)
		}
		problems := regexp.MustCompile(`<li data-field="([a-z]+)">`).FindAllStringSubmatch(r.body, -1)
		if len(problems) != 2 || problems[0][1] != "quantity" || problems[1][1] != "prefix" {
			t.Errorf("problems listed %v, want quantity then prefix", problems)
		}
		if len(matches(sampleCode, r.body)) != 0 {
			t.Error("an invalid format has samples")
		}
		// A bad quantity alone still shows the format's samples.
		r = h.post(views.GeneratePreviewURL, generateForm("0", "OK", "", models.CharsetDigits), htmx(views.GeneratePreviewID))
		if len(matches(sampleCode, r.body)) != 5 || testID(r.body, "preview-odds") != "" {
			t.Error("with a bad quantity the preview should show samples and no odds")
		}

		// Without htmx (the Refresh preview button): the page, as typed.
		r = h.post(views.GeneratePreviewURL, generateForm("2000", "SPRING", "8", models.CharsetDigits), nil)
		if r.status != http.StatusOK || !strings.Contains(r.body, `<form id="generate-form"`) || !strings.Contains(r.body, `value="SPRING"`) || len(matches(sampleCode, r.body)) != 5 {
			t.Errorf("plain preview: %d, want the form as typed with its preview", r.status)
		}
		if n := len(h.storedBatches()); n != 1 {
			t.Errorf("previews wrote batches: %d, want the one made here", n)
		}
	})
}

func TestGenerateCreatesABatchAndSendsToItsPage(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		bulk := h.mustPromotion(models.PromotionInput{Name: "Spring bulk", Kind: models.KindBulk})
		regular := h.mustPromotion(models.PromotionInput{Name: "Newsletter", UTMSource: new("newsletter")})
		page := h.do("GET", fmt.Sprintf("/coupons/generate?promotionId=%d", bulk.ID), nil, nil)
		if !strings.Contains(page.body, fmt.Sprintf(`<option value="%d" selected>Spring bulk (#%d)</option>`, bulk.ID, bulk.ID)) {
			t.Error("the form does not offer the bulk promotion, selected by the link")
		}
		if strings.Contains(page.body, fmt.Sprintf(`<option value="%d"`, regular.ID)) {
			t.Error("the form offers a regular promotion")
		}
		// The form's defaults make a valid batch as they are.
		defaults := formValues(t, page.body, views.GenerateFormID)
		defaults.Del(views.FieldCheck)
		if d := cmp.Diff(url.Values{
			"quantity": {"1000"}, "promotionId": {fmt.Sprint(bulk.ID)}, "prefix": {""}, "delimiter": {"-"}, "suffix": {""}, "length": {""},
			"charset": {"upper-alnum"}, "pattern": {""}, "exclude": {""}, "maxUsage": {"1"}, "maxUsagePerClient": {"0"},
			"maxItemsPerClient": {"0"}, "expirationIntervalPerUse": {"00:00:00"}, "utmSource": {""}, "utmCampaign": {""},
		}, defaults); d != "" {
			t.Errorf("form defaults (-want +got):\n%s", d)
		}

		form := generateForm("250", "SPRING", "10", models.CharsetUnambiguous)
		form.Set("promotionId", fmt.Sprint(regular.ID))
		r := h.post("/coupons/generate", form, nil)
		if msg, _ := fieldError(r.body, "promotionId"); r.status != http.StatusUnprocessableEntity || !strings.Contains(msg, "bulk promotion") {
			t.Errorf("a regular promotion: %d %q", r.status, msg)
		}
		h.wroteNothing()

		wait := h.runBatches()
		form.Set("promotionId", fmt.Sprint(bulk.ID))
		form.Set("maxUsagePerClient", "2")
		form.Set("utmCampaign", "spring26")
		form.Set(views.FieldCheck, "yes")
		r = h.post("/coupons/generate", form, nil)
		if r.status != http.StatusSeeOther {
			t.Fatalf("generate: %d %.300s", r.status, r.body)
		}
		id := batchOf(t, r.header.Get("Location"))
		b := wait(id)
		if b.Status != models.BatchDone || b.Generated != 250 || b.PromotionID == nil || *b.PromotionID != bulk.ID || b.CreatedBy != adminEmail ||
			b.MaxUsage != 1 || b.MaxUsagePerClient != 2 || b.UTMCampaign == nil || *b.UTMCampaign != "spring26" || !b.FormatInput().Check {
			t.Fatalf("stored %+v", b)
		}

		show := h.do("GET", r.header.Get("Location"), nil, nil)
		codes := matches(listedCode, show.body)
		if show.status != http.StatusOK || len(codes) != 250 {
			t.Fatalf("batch page: %d with %d codes, want 250", show.status, len(codes))
		}
		// 10 unambiguous characters and a check character.
		for _, code := range codes {
			if !regexp.MustCompile(`^SPRING-[2-9A-HJKMNP-Z]{11}$`).MatchString(code) {
				t.Fatalf("code %q is not SPRING- and 11 unambiguous characters", code)
			}
		}
		if c := h.mustCoupon(codes[0]); c.MaxUsage != 1 || c.MaxUsagePerClient != 2 || c.BatchID == nil || *c.BatchID != id {
			t.Errorf("coupon %+v", c)
		}
		for tid, want := range map[string]string{
			"batch-status": "done", "batch-made": "250 of 250 codes made (100 %)", "batch-created-by": adminEmail,
			"batch-max-uses": "1", "batch-promotion": "",
		} {
			if got := testID(show.body, tid); got != want {
				t.Errorf("page %s = %q, want %q", tid, got, want)
			}
		}
		if !strings.Contains(show.body, fmt.Sprintf(`<a href="/promotions/%d">Spring bulk</a>`, bulk.ID)) {
			t.Error("the page does not link the promotion by name")
		}

		// htmx: 204 and HX-Location, so the browser loads the page.
		r = h.post("/coupons/generate", generateForm("5", "HX", "", ""), htmx(views.GenerateFormID))
		if r.status != http.StatusNoContent || !strings.HasPrefix(r.header.Get("HX-Location"), "/batches/") {
			t.Errorf("htmx generate: %d %q", r.status, r.header.Get("HX-Location"))
		}
	})
}

// forEachDBWithSQL is forEachDB with the test database open beside the
// server, for putting a batch where only a runner could.
func forEachDBWithSQL(t *testing.T, fn func(t *testing.T, h *harness, db *sql.DB)) {
	t.Helper()
	storetest.EachWithDB(t, models.Config{PasswordCost: bcrypt.MinCost}, func(t *testing.T, s *models.Store, db *sql.DB) {
		fn(t, newHarness(t, s, web.Config{BodyLimit: "64K"}), db)
	})
}

func TestBatchPageFollowsProgressUntilDone(t *testing.T) {
	t.Parallel()
	forEachDBWithSQL(t, func(t *testing.T, h *harness, db *sql.DB) {
		b := h.pendingBatch(models.BatchInput{Quantity: 5000, Format: models.FormatInput{Prefix: "RUN", Length: 12}, MaxUsage: 1})
		progress := views.BatchProgressURL(b.ID)
		polls := regexp.MustCompile(`<article id="batch-progress" data-status="[a-z]+" hx-get="` + progress + `" hx-trigger="every 1s" hx-swap="outerHTML">`)

		page := h.do("GET", views.BatchURL(b.ID), nil, nil)
		if page.status != http.StatusOK || !polls.MatchString(page.body) {
			t.Fatalf("pending batch page: %d, or its progress does not poll", page.status)
		}
		for tid, want := range map[string]string{"batch-status": "pending", "batch-made": "0 of 5,000 codes made (0 %)",
			"batch-elapsed": "not started yet", "batch-left": "waiting for the runner to take it", "no-codes": "No codes yet; they appear here as the batch makes them."} {
			if got := testID(page.body, tid); got != want {
				t.Errorf("pending %s = %q, want %q", tid, got, want)
			}
		}
		if !strings.Contains(page.body, `data-testid="cancel-batch"`) || !strings.Contains(page.body, `href="/batches/`+fmt.Sprint(b.ID)+`/codes.csv"`) {
			t.Error("an admin is offered no Cancel or no Download CSV")
		}
		viewer := h.login(viewerEmail)
		if vp := h.doWith(viewer, "GET", views.BatchURL(b.ID), nil, nil); vp.status != http.StatusOK || strings.Contains(vp.body, "cancel-batch") {
			t.Errorf("viewer: %d, or offered a Cancel", vp.status)
		}

		// Running, as a runner leaves it: 2,000 made in the 10 s since it
		// started, by the server's clock.
		if _, err := db.ExecContext(t.Context(), "UPDATE batches SET status = $1, generated = $2, started_at = $3 WHERE id = $4",
			models.BatchRunning, 2000, testEpoch.Add(-10*time.Second), b.ID); err != nil {
			t.Fatal(err)
		}
		r := h.do("GET", progress, nil, htmx(views.BatchProgressID))
		if r.status != http.StatusOK || !polls.MatchString(r.body) {
			t.Fatalf("running progress: %d, or it does not poll: %.300s", r.status, r.body)
		}
		fragmentOf(t, r.body, views.BatchProgressID)
		for tid, want := range map[string]string{"batch-status": "running", "batch-made": "2,000 of 5,000 codes made (40 %)",
			"batch-rate": "200 codes/s", "batch-elapsed": "10.0 s", "batch-left": "about 15.0 s"} {
			if got := testID(r.body, tid); got != want {
				t.Errorf("running %s = %q, want %q", tid, got, want)
			}
		}
		if !regexp.MustCompile(`<progress value="2000" max="5000"`).MatchString(r.body) {
			t.Error("no progress bar at 2000 of 5000")
		}
		if strings.Contains(r.body, views.BatchCodesID) {
			t.Error("a running batch's poll sends its codes")
		}
		// Without htmx the progress address is the page.
		if plain := h.do("GET", progress, nil, nil); plain.status != http.StatusOK || !strings.Contains(plain.body, "<html") || !strings.Contains(plain.body, fmt.Sprintf("<h1>Batch %d</h1>", b.ID)) {
			t.Errorf("plain GET of the progress: %d, want the page", plain.status)
		}

		// The runner takes it over and finishes it; the poll then stops and
		// brings the codes along.
		wait := h.runBatches()
		if done := wait(b.ID); done.Status != models.BatchDone {
			t.Fatalf("batch ended %s: %s", done.Status, done.Error)
		}
		r = h.do("GET", progress, nil, htmx(views.BatchProgressID))
		if r.status != http.StatusOK || strings.Contains(r.body, "hx-trigger") || strings.Contains(r.body, "hx-get") {
			t.Fatalf("done progress: %d, or it still polls: %.300s", r.status, r.body)
		}
		if got := testID(r.body, "batch-status"); got != "done" || testID(r.body, "batch-made") != "5,000 of 5,000 codes made (100 %)" || strings.Contains(r.body, "cancel-batch") {
			t.Errorf("done progress reads %q / %q, or still offers Cancel", got, testID(r.body, "batch-made"))
		}
		oob := regexp.MustCompile(`(?s)<section id="batch-codes" hx-swap-oob="true">.*?</section>`).FindString(r.body)
		if codes := matches(listedCode, oob); len(codes) != 1000 || !strings.Contains(oob, "The first 1,000 of 5,000 codes") {
			t.Errorf("the finished poll brings %d codes out of band, want the first 1000", len(codes))
		}
		page = h.do("GET", views.BatchURL(b.ID), nil, nil)
		if polls.MatchString(page.body) || strings.Contains(page.body, `hx-trigger="every 1s"`) {
			t.Error("a done batch's page still polls")
		}
	})
}

func TestBatchCancelIsForEditors(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		b := h.pendingBatch(models.BatchInput{Quantity: 10, Format: models.FormatInput{Prefix: "STOP"}})
		status := func() string {
			t.Helper()
			got, err := h.store.Batch(t.Context(), b.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.Status
		}
		cancel := views.BatchCancelURL(b.ID)
		viewer := h.login(viewerEmail)
		if r := h.doWith(viewer, "POST", cancel, strings.NewReader(""), formHeaders); r.status != http.StatusForbidden || status() != models.BatchPending {
			t.Fatalf("viewer cancel: %d, batch %s; want 403 and still pending", r.status, status())
		}
		// A Go client sends no Sec-Fetch-Site: without the token, refused.
		editor := h.login(editorEmail)
		if r := h.doWith(editor, "POST", cancel, strings.NewReader(""), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}); r.status != http.StatusForbidden || status() != models.BatchPending {
			t.Fatalf("cancel without the CSRF token: %d, batch %s; want 403 and still pending", r.status, status())
		}

		r := h.post(cancel, nil, htmx(views.BatchProgressID))
		if r.status != http.StatusOK || status() != models.BatchCancelled {
			t.Fatalf("htmx cancel: %d, batch %s", r.status, status())
		}
		fragmentOf(t, r.body, views.BatchProgressID)
		if testID(r.body, "batch-status") != "cancelled" || strings.Contains(r.body, "hx-trigger") || strings.Contains(r.body, "cancel-batch") {
			t.Errorf("after the cancel the progress reads %q, or still polls or offers Cancel", testID(r.body, "batch-status"))
		}
		if !strings.Contains(r.body, `<section id="batch-codes" hx-swap-oob="true">`) {
			t.Error("the cancelled batch's codes do not come along")
		}

		other := h.pendingBatch(models.BatchInput{Quantity: 10, Format: models.FormatInput{Prefix: "STOP2"}})
		r = h.post(views.BatchCancelURL(other.ID), nil, nil)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != views.BatchURL(other.ID) {
			t.Errorf("plain cancel: %d %q, want 303 to the batch", r.status, r.header.Get("Location"))
		}
		wait := h.runBatches()
		done := h.pendingBatch(models.BatchInput{Quantity: 10, Format: models.FormatInput{Prefix: "STOP3"}})
		wait(done.ID)
		if r := h.post(views.BatchCancelURL(done.ID), nil, nil); r.status != http.StatusConflict || !strings.Contains(r.body, "already done") {
			t.Errorf("cancel a done batch: %d, want 409 saying it is done", r.status)
		}
		if r := h.post("/batches/999999/cancel", nil, nil); r.status != http.StatusNotFound {
			t.Errorf("cancel an unknown batch: %d", r.status)
		}
	})
}

func TestBatchListShowsEveryBatchNewestFirst(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		if r := h.do("GET", "/batches", nil, nil); r.status != http.StatusOK || testID(r.body, "no-batches") == "" {
			t.Fatalf("empty list: %d", r.status)
		}
		bulk := h.mustPromotion(models.PromotionInput{Name: "Bulk", Kind: models.KindBulk})
		var ids []int64
		var newest models.Batch
		for i := range models.DefaultListLimit + 2 {
			in := models.BatchInput{Quantity: 10 + i, Format: models.FormatInput{Prefix: fmt.Sprintf("L%d", i), Delimiter: "-", Length: 9}}
			if i == 1 {
				in.PromotionID = &bulk.ID
			}
			newest = h.pendingBatch(in)
			ids = append(ids, newest.ID)
		}
		if _, err := h.store.CancelBatch(t.Context(), ids[0]); err != nil {
			t.Fatal(err)
		}
		slices.Reverse(ids)
		row := regexp.MustCompile(`(?s)<tr data-testid="batch-row" data-batch="(\d+)" data-status="([a-z]+)">(.*?)</tr>`)
		rowIDs := func(body string) []int64 {
			var out []int64
			for _, m := range row.FindAllStringSubmatch(body, -1) {
				var id int64
				fmt.Sscan(m[1], &id)
				out = append(out, id)
			}
			return out
		}

		r := h.do("GET", "/batches", nil, nil)
		if r.status != http.StatusOK {
			t.Fatalf("list: %d", r.status)
		}
		if d := cmp.Diff(ids[:models.DefaultListLimit], rowIDs(r.body)); d != "" {
			t.Errorf("first page (-want +got):\n%s", d)
		}
		if !strings.Contains(r.body, `hx-trigger="every 2s"`) {
			t.Error("a list with pending batches does not refresh itself")
		}
		first := row.FindStringSubmatch(r.body)
		for _, want := range []string{`<a href="/batches/` + fmt.Sprint(ids[0]) + `">`, `<progress value="0" max="61"`, "0 of 61",
			"&#34;L51-&#34; + 9 × upper-alnum", "<td>" + newest.CreatedBy + "</td>", newest.CreatedAt.UTC().Format("2006-01-02 15:04:05"), "pending"} {
			if !strings.Contains(first[0], want) {
				t.Errorf("the newest row lacks %q: %s", want, first[0])
			}
		}
		next := html.UnescapeString(regexp.MustCompile(`href="([^"]*)"[^>]*data-testid="next-page"`).FindStringSubmatch(r.body)[1])
		r = h.do("GET", next, nil, htmx(views.BatchTableID))
		fragmentOf(t, r.body, views.BatchTableID)
		if d := cmp.Diff(ids[models.DefaultListLimit:], rowIDs(r.body)); d != "" {
			t.Errorf("second page (-want +got):\n%s", d)
		}
		if !strings.Contains(r.body, fmt.Sprintf(`<a href="/promotions/%d">Promotion %d</a>`, bulk.ID, bulk.ID)) {
			t.Error("the batch of a promotion does not link it")
		}
		if !strings.Contains(r.body, `data-status="cancelled"`) {
			t.Error("the cancelled batch is not shown cancelled")
		}

		r = h.do("GET", "/batches?status=cancelled", nil, nil)
		if got := rowIDs(r.body); len(got) != 1 || got[0] != ids[len(ids)-1] || strings.Contains(r.body, `hx-trigger="every 2s"`) {
			t.Errorf("cancelled only: %v, want [%d] and no refresh", got, ids[len(ids)-1])
		}
		r = h.do("GET", "/batches?status=lost", nil, nil)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(testID(r.body, "error-status"), "must be one of") {
			t.Errorf("unknown status: %d %q", r.status, testID(r.body, "error-status"))
		}
		r = h.do("GET", "/batches?after=garbage", nil, nil)
		if r.status != http.StatusOK || testID(r.body, "list-error") == "" || len(rowIDs(r.body)) != models.DefaultListLimit {
			t.Errorf("stale cursor: %d, want the first page with a note", r.status)
		}
		if nav := h.do("GET", "/coupons", nil, nil); !strings.Contains(nav.body, `<a href="/batches" aria-current="false">Batches</a>`) {
			t.Error("the navigation has no Batches")
		}
		if nav := h.do("GET", "/batches", nil, nil); !strings.Contains(nav.body, `<a href="/batches" aria-current="page">Batches</a>`) {
			t.Error("the Batches page is not marked in the navigation")
		}
	})
}

func TestConsoleCSVDownloads(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		wait := h.runBatches()
		b := h.pendingBatch(models.BatchInput{Quantity: 300, Format: models.FormatInput{Prefix: "CSV", Delimiter: "-", Length: 10}, MaxUsage: 2})
		wait(b.ID)
		rows := readCSV(t, h.do("GET", views.BatchCSVURL(b.ID), nil, nil))
		made, err := h.store.BatchCodes(t.Context(), b.ID, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, row := range rows {
			got = append(got, row[0])
			if row[1] != "active" || row[2] != "0" || row[3] != "2" || row[4] != "" {
				t.Errorf("row %v, want active, 0 uses of 2, nobody's", row)
			}
		}
		if d := cmp.Diff(made, got); d != "" || len(got) != 300 {
			t.Errorf("the CSV has %d codes; against the batch's (-want +got):\n%s", len(got), d)
		}
		api := h.apiWith(map[string]string{"X-Auth-Token": h.readToken}, "GET", fmt.Sprintf("/api/batches/%d/codes.csv", b.ID), "")
		if console := h.do("GET", views.BatchCSVURL(b.ID), nil, nil); console.body != api.body {
			t.Error("the console's batch CSV differs from the API's")
		}
		if r := h.do("GET", "/batches/999999/codes.csv", nil, nil); r.status != http.StatusNotFound {
			t.Errorf("unknown batch's CSV: %d", r.status)
		}

		// The coupon list's CSV follows its filters, and its page links it.
		if _, err := h.store.CreateCoupon(t.Context(), models.CouponSpec{Code: "CSV-ARCHIVED", Archived: new(true)}); err != nil {
			t.Fatal(err)
		}
		list := h.do("GET", "/coupons?q=csv-&status=archived", nil, nil)
		link := regexp.MustCompile(`href="([^"]*)" download data-testid="download-coupons-csv"`).FindStringSubmatch(list.body)
		if link == nil {
			t.Fatal("the coupon list offers no CSV")
		}
		target := html.UnescapeString(link[1])
		if u, err := url.Parse(target); err != nil || u.Path != "/coupons.csv" || u.Query().Get("q") != "csv-" || u.Query().Get("status") != "archived" || u.Query().Has("after") {
			t.Errorf("the CSV link %q does not carry the list's filters", target)
		}
		if rows := readCSV(t, h.do("GET", target, nil, nil)); len(rows) != 1 || rows[0][0] != "CSV-ARCHIVED" || rows[0][1] != "archived" {
			t.Errorf("archived CSV- coupons: %d rows (first %v), want CSV-ARCHIVED alone", len(rows), rows[0])
		}
		if rows := readCSV(t, h.do("GET", "/coupons.csv?q=CSV-", nil, nil)); len(rows) != 301 {
			t.Errorf("every CSV- coupon: %d rows, want 301", len(rows))
		}
		if r := h.do("GET", "/coupons.csv?status=lost", nil, nil); r.status != http.StatusUnprocessableEntity {
			t.Errorf("unknown status: %d, want 422", r.status)
		}
	})
}
