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
	"github.com/coupond/coupond/views"
	"github.com/coupond/coupond/web/webtest"
	"github.com/google/go-cmp/cmp"
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
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		form := generateForm("lots", "no spaces", "", "klingon")
		form.Set("expirationIntervalPerUse", "soon")
		form.Set("maxUsage", "one")
		r := h.Post("/coupons/generate", form, webtest.HTMX(views.GenerateFormID))
		if r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("bad fields: %d, want 422", r.Status)
		}
		fragmentOf(t, r.Body, views.GenerateFormID)
		for field, want := range map[string]string{
			"quantity": "must be a whole number", "prefix": "may contain only letters", "charset": "must be one of the choices listed",
			"maxUsage": "must be a whole number", "expirationIntervalPerUse": "",
		} {
			msg, marked := fieldError(r.Body, field)
			if msg == "" || !strings.Contains(msg, want) || !marked {
				t.Errorf("%s: message %q (marked %v), want one containing %q beside the field", field, msg, marked, want)
			}
		}
		if !strings.Contains(r.Body, `value="no spaces"`) {
			t.Error("the prefix typed is not shown back")
		}
		if testID(r.Body, "form-error") == "" {
			t.Error("no message at the top of the form")
		}

		// A length and a pattern together, without htmx: the whole page.
		form = generateForm("10", "BDAY", "8", models.CharsetUpperAlnum)
		form.Set("pattern", "####")
		r = h.Post("/coupons/generate", form, nil)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "<html") || !strings.Contains(r.Body, "<h1>Generate coupons</h1>") {
			t.Fatalf("length and pattern: %d, want 422 with the page", r.Status)
		}
		if msg, _ := fieldError(r.Body, "length"); !strings.Contains(msg, "must be left empty when a pattern is given") {
			t.Errorf("length beside a pattern: %q", msg)
		}
		if msg, _ := fieldError(r.Body, "quantity"); msg != "" {
			t.Errorf("a good quantity got the message %q", msg)
		}

		r = h.Post("/coupons/generate", generateForm("", "EMPTY", "", ""), nil)
		if msg, _ := fieldError(r.Body, "quantity"); r.Status != http.StatusUnprocessableEntity || msg != "is required" {
			t.Errorf("no quantity: %d %q", r.Status, msg)
		}
		r = h.Post("/coupons/generate", generateForm(fmt.Sprint(models.MaxBatchQuantity+1), "MANY", "", ""), nil)
		if msg, _ := fieldError(r.Body, "quantity"); r.Status != http.StatusUnprocessableEntity || msg != "must be from 1 to 10,000,000" {
			t.Errorf("too many: %d %q", r.Status, msg)
		}
		h.WroteNothing()
	})
}

func TestGenerateRefusesAQuantityTheFormatCannotHold(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		form := generateForm("600", "CAP", "3", models.CharsetDigits)
		form.Set(views.FieldConfirmGuessable, "yes")
		r := h.Post("/coupons/generate", form, webtest.HTMX(views.GenerateFormID))
		if r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("600 codes of 1000: %d, want 422", r.Status)
		}
		msg, marked := fieldError(r.Body, "quantity")
		if !marked || msg != "This format can make 1,000 codes; 600 more, with the 0 of this shape already made, would fill more than half of them. A length of 4 fits." {
			t.Errorf("quantity message %q (marked %v), want the keyspace and a length that fits", msg, marked)
		}
		if got := testID(r.Body, "capacity-problem"); got != msg {
			t.Errorf("the preview says %q, want the same as the field: %q", got, msg)
		}
		h.WroteNothing()
		// Unconfirmed as well: both problems are told at once.
		form.Del(views.FieldConfirmGuessable)
		r = h.Post("/coupons/generate", form, nil)
		if q, c := testID(r.Body, "error-quantity"), testID(r.Body, "error-confirmGuessable"); q != msg || c == "" {
			t.Errorf("unconfirmed: quantity %q and confirmation %q, want both", q, c)
		}
		h.WroteNothing()

		// Codes of the shape already made count against the keyspace.
		h.PendingBatch(models.BatchInput{Quantity: 400, Format: models.FormatInput{Prefix: "CAP", Delimiter: "-", Length: 3, Charset: models.CharsetDigits}})
		form = generateForm("101", "CAP", "3", models.CharsetDigits)
		form.Set(views.FieldConfirmGuessable, "yes")
		r = h.Post("/coupons/generate", form, nil)
		if msg, _ := fieldError(r.Body, "quantity"); r.Status != http.StatusUnprocessableEntity || !strings.Contains(msg, "101 more, with the 400 of this shape already made") {
			t.Errorf("101 more beside 400: %d %q", r.Status, msg)
		}
		if n := len(h.StoredBatches()); n != 1 {
			t.Errorf("%d batches, want only the first", n)
		}
	})
}

func TestGenerateNeedsConfirmationForGuessableCodes(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		// 100 codes of a million: one guess in ten thousand hits.
		form := generateForm("100", "SHORT", "6", models.CharsetDigits)
		r := h.Post("/coupons/generate", form, webtest.HTMX(views.GenerateFormID))
		if r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("guessable without the confirmation: %d, want 422", r.Status)
		}
		msg, marked := fieldError(r.Body, views.FieldConfirmGuessable)
		if !marked || !strings.Contains(msg, "1 in 10 thousand") || !strings.Contains(msg, "tick this box") {
			t.Errorf("confirmation message %q (marked %v)", msg, marked)
		}
		if !regexp.MustCompile(`<input type="checkbox" id="confirmGuessable" name="confirmGuessable" value="yes" aria-invalid="true"`).MatchString(r.Body) {
			t.Error("the form has no unticked confirmation checkbox marked invalid")
		}
		if !strings.Contains(testID(r.Body, "guess-warning"), "1 in 10 thousand") {
			t.Errorf("warning %q", testID(r.Body, "guess-warning"))
		}
		h.WroteNothing()

		form.Set(views.FieldConfirmGuessable, "yes")
		r = h.Post("/coupons/generate", form, nil)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("guessable, confirmed: %d %.300s", r.Status, r.Body)
		}
		if b, err := h.Store.Batch(t.Context(), batchOf(t, r.Header.Get("Location"))); err != nil || b.Quantity != 100 || b.Shape == "" {
			t.Errorf("stored %+v %v", b, err)
		}

		// Long codes need no confirmation.
		r = h.Post("/coupons/generate", generateForm("100", "LONG", "16", models.CharsetUpperAlnum), nil)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("unguessable: %d %.300s", r.Status, r.Body)
		}
	})
}

func TestGeneratePreviewShowsSamplesKeyspaceAndOdds(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		page := h.Do("GET", "/coupons/generate", nil, nil)
		for _, attr := range []string{`hx-post="/coupons/generate/preview"`, `hx-trigger="input changed delay:300ms, change"`,
			`hx-target="#generate-preview"`, `hx-include="#generate-form"`} {
			if !strings.Contains(page.Body, attr) {
				t.Errorf("the form does not refresh its preview: no %s", attr)
			}
		}
		if got := matches(sampleCode, page.Body); len(got) != 5 || !regexp.MustCompile(`^[0-9A-Z]{12}$`).MatchString(got[0]) {
			t.Errorf("the empty form previews %q, want 5 codes of 12 × upper-alnum", got)
		}

		// 3,000 codes of the shape exist already; 2,000 more of 10^8.
		h.PendingBatch(models.BatchInput{Quantity: 3000, Format: models.FormatInput{Prefix: "SPRING", Delimiter: "-", Length: 8, Charset: models.CharsetDigits}})
		r := h.Post(views.GeneratePreviewURL, generateForm("2000", "SPRING", "8", models.CharsetDigits), webtest.HTMX(views.GeneratePreviewID))
		if r.Status != http.StatusOK {
			t.Fatalf("preview: %d %.300s", r.Status, r.Body)
		}
		fragmentOf(t, r.Body, views.GeneratePreviewID)
		samples := matches(sampleCode, r.Body)
		if len(samples) != 5 {
			t.Errorf("%d samples, want 5", len(samples))
		}
		for _, s := range samples {
			if !regexp.MustCompile(`^SPRING-[0-9]{8}$`).MatchString(s) {
				t.Errorf("sample %q is not SPRING- and 8 digits", s)
			}
		}
		for tid, want := range map[string]string{
			"preview-format": `"SPRING-" + 8 random digits`, "preview-length": "15 characters", "preview-keyspace": "100,000,000",
			"preview-existing": "3,000", "preview-odds": "1 in 20 thousand",
		} {
			if got := testID(r.Body, tid); got != want {
				t.Errorf("%s = %q, want %q", tid, got, want)
			}
		}
		if w := testID(r.Body, "guess-warning"); !strings.Contains(w, "guessable") || !strings.Contains(w, "1 in 20 thousand") {
			t.Errorf("warning %q", w)
		}
		if !strings.Contains(r.Body, `name="confirmGuessable"`) {
			t.Error("a guessable preview offers no confirmation")
		}
		if testID(r.Body, "capacity-problem") != "" {
			t.Error("a quantity that fits is called a problem")
		}

		// A pattern, with digits and letters where it says; long enough
		// that a guess is hopeless.
		form := generateForm("10", "", "", models.CharsetUpperAlnum)
		form.Set("pattern", "BDAY-####-????-****")
		r = h.Post(views.GeneratePreviewURL, form, webtest.HTMX(views.GeneratePreviewID))
		for _, s := range matches(sampleCode, r.Body) {
			if !regexp.MustCompile(`^BDAY-[0-9]{4}-[A-Z]{4}-[0-9A-Z]{4}$`).MatchString(s) {
				t.Errorf("pattern sample %q", s)
			}
		}
		if got, want := testID(r.Body, "preview-keyspace"), "7,675,442,012,160,000"; got != want {
			t.Errorf("pattern keyspace %q, want %q", got, want)
		}
		if testID(r.Body, "guess-warning") != "" || strings.Contains(r.Body, `name="confirmGuessable"`) {
			t.Error("an unguessable pattern is warned about")
		}

		// Quantity past the keyspace: the problem, with its advice.
		r = h.Post(views.GeneratePreviewURL, generateForm("60", "TINY", "2", models.CharsetDigits), webtest.HTMX(views.GeneratePreviewID))
		if p := testID(r.Body, "capacity-problem"); !strings.Contains(p, "can make 100 codes; 60 more") || !strings.Contains(p, "A length of 3 fits.") {
			t.Errorf("capacity problem %q", p)
		}

		// Bad fields are listed in the preview, which still swaps (200).
		r = h.Post(views.GeneratePreviewURL, generateForm("0", "no spaces", "", models.CharsetDigits), webtest.HTMX(views.GeneratePreviewID))
		if r.Status != http.StatusOK {
			t.Fatalf("preview of bad fields: %d, want 200 so that htmx swaps it", r.Status)
		}
		problems := regexp.MustCompile(`<li data-field="([a-z]+)">`).FindAllStringSubmatch(r.Body, -1)
		if len(problems) != 2 || problems[0][1] != "quantity" || problems[1][1] != "prefix" {
			t.Errorf("problems listed %v, want quantity then prefix", problems)
		}
		if len(matches(sampleCode, r.Body)) != 0 {
			t.Error("an invalid format has samples")
		}
		// A bad quantity alone still shows the format's samples.
		r = h.Post(views.GeneratePreviewURL, generateForm("0", "OK", "", models.CharsetDigits), webtest.HTMX(views.GeneratePreviewID))
		if len(matches(sampleCode, r.Body)) != 5 || testID(r.Body, "preview-odds") != "" {
			t.Error("with a bad quantity the preview should show samples and no odds")
		}

		// Without htmx (the Refresh preview button): the page, as typed.
		r = h.Post(views.GeneratePreviewURL, generateForm("2000", "SPRING", "8", models.CharsetDigits), nil)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, `<form id="generate-form"`) || !strings.Contains(r.Body, `value="SPRING"`) || len(matches(sampleCode, r.Body)) != 5 {
			t.Errorf("plain preview: %d, want the form as typed with its preview", r.Status)
		}
		if n := len(h.StoredBatches()); n != 1 {
			t.Errorf("previews wrote batches: %d, want the one made here", n)
		}
	})
}

func TestGenerateCreatesABatchAndSendsToItsPage(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		bulk := h.MustPromotion(models.PromotionInput{Name: "Spring bulk", Kind: models.KindBulk})
		regular := h.MustPromotion(models.PromotionInput{Name: "Newsletter", UTMSource: new("newsletter")})
		page := h.Do("GET", fmt.Sprintf("/coupons/generate?promotionId=%d", bulk.ID), nil, nil)
		if !strings.Contains(page.Body, fmt.Sprintf(`<option value="%d" selected>Spring bulk (#%d)</option>`, bulk.ID, bulk.ID)) {
			t.Error("the form does not offer the bulk promotion, selected by the link")
		}
		if strings.Contains(page.Body, fmt.Sprintf(`<option value="%d"`, regular.ID)) {
			t.Error("the form offers a regular promotion")
		}
		// The form's defaults make a valid batch as they are.
		defaults := formValues(t, page.Body, views.GenerateFormID)
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
		r := h.Post("/coupons/generate", form, nil)
		if msg, _ := fieldError(r.Body, "promotionId"); r.Status != http.StatusUnprocessableEntity || !strings.Contains(msg, "bulk promotion") {
			t.Errorf("a regular promotion: %d %q", r.Status, msg)
		}
		h.WroteNothing()

		wait := h.RunBatches()
		form.Set("promotionId", fmt.Sprint(bulk.ID))
		form.Set("maxUsagePerClient", "2")
		form.Set("utmCampaign", "spring26")
		form.Set(views.FieldCheck, "yes")
		r = h.Post("/coupons/generate", form, nil)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("generate: %d %.300s", r.Status, r.Body)
		}
		id := batchOf(t, r.Header.Get("Location"))
		b := wait(id)
		if b.Status != models.BatchDone || b.Generated != 250 || b.PromotionID == nil || *b.PromotionID != bulk.ID || b.CreatedBy != webtest.AdminEmail ||
			b.MaxUsage != 1 || b.MaxUsagePerClient != 2 || b.UTMCampaign == nil || *b.UTMCampaign != "spring26" || !b.FormatInput().Check {
			t.Fatalf("stored %+v", b)
		}

		show := h.Do("GET", r.Header.Get("Location"), nil, nil)
		codes := matches(listedCode, show.Body)
		if show.Status != http.StatusOK || len(codes) != 250 {
			t.Fatalf("batch page: %d with %d codes, want 250", show.Status, len(codes))
		}
		// 10 unambiguous characters and a check character.
		for _, code := range codes {
			if !regexp.MustCompile(`^SPRING-[2-9A-HJKMNP-Z]{11}$`).MatchString(code) {
				t.Fatalf("code %q is not SPRING- and 11 unambiguous characters", code)
			}
		}
		if c := h.MustCoupon(codes[0]); c.MaxUsage != 1 || c.MaxUsagePerClient != 2 || c.BatchID == nil || *c.BatchID != id {
			t.Errorf("coupon %+v", c)
		}
		for tid, want := range map[string]string{
			"batch-status": "done", "batch-made": "250 of 250 codes made (100 %)", "batch-created-by": webtest.AdminEmail,
			"batch-max-uses": "1", "batch-promotion": "",
		} {
			if got := testID(show.Body, tid); got != want {
				t.Errorf("page %s = %q, want %q", tid, got, want)
			}
		}
		if !strings.Contains(show.Body, fmt.Sprintf(`<a href="/promotions/%d">Spring bulk</a>`, bulk.ID)) {
			t.Error("the page does not link the promotion by name")
		}

		// htmx: 204 and HX-Location, so the browser loads the page.
		r = h.Post("/coupons/generate", generateForm("5", "HX", "", ""), webtest.HTMX(views.GenerateFormID))
		if r.Status != http.StatusNoContent || !strings.HasPrefix(r.Header.Get("HX-Location"), "/batches/") {
			t.Errorf("htmx generate: %d %q", r.Status, r.Header.Get("HX-Location"))
		}
	})
}

func TestBatchPageFollowsProgressUntilDone(t *testing.T) {
	t.Parallel()
	webtest.ForEachDBWithSQL(t, func(t *testing.T, h *webtest.Harness, db *sql.DB) {
		b := h.PendingBatch(models.BatchInput{Quantity: 5000, Format: models.FormatInput{Prefix: "RUN", Length: 12}, MaxUsage: 1})
		progress := views.BatchProgressURL(b.ID)
		polls := regexp.MustCompile(`<article id="batch-progress" data-status="[a-z]+" hx-get="` + progress + `" hx-trigger="every 1s" hx-swap="outerHTML">`)

		page := h.Do("GET", views.BatchURL(b.ID), nil, nil)
		if page.Status != http.StatusOK || !polls.MatchString(page.Body) {
			t.Fatalf("pending batch page: %d, or its progress does not poll", page.Status)
		}
		for tid, want := range map[string]string{"batch-status": "pending", "batch-made": "0 of 5,000 codes made (0 %)",
			"batch-elapsed": "not started yet", "batch-left": "waiting for the runner to take it", "no-codes": "No codes yet; they appear here as the batch makes them."} {
			if got := testID(page.Body, tid); got != want {
				t.Errorf("pending %s = %q, want %q", tid, got, want)
			}
		}
		if !strings.Contains(page.Body, `data-testid="cancel-batch"`) || !strings.Contains(page.Body, `href="/batches/`+fmt.Sprint(b.ID)+`/codes.csv"`) {
			t.Error("an admin is offered no Cancel or no Download CSV")
		}
		viewer := h.Login(webtest.ViewerEmail)
		if vp := h.DoWith(viewer, "GET", views.BatchURL(b.ID), nil, nil); vp.Status != http.StatusOK || strings.Contains(vp.Body, "cancel-batch") {
			t.Errorf("viewer: %d, or offered a Cancel", vp.Status)
		}

		// Running, as a runner leaves it: 2,000 made in the 10 s since it
		// started, by the server's clock.
		if _, err := db.ExecContext(t.Context(), "UPDATE batches SET status = $1, generated = $2, started_at = $3 WHERE id = $4",
			models.BatchRunning, 2000, webtest.Epoch.Add(-10*time.Second), b.ID); err != nil {
			t.Fatal(err)
		}
		r := h.Do("GET", progress, nil, webtest.HTMX(views.BatchProgressID))
		if r.Status != http.StatusOK || !polls.MatchString(r.Body) {
			t.Fatalf("running progress: %d, or it does not poll: %.300s", r.Status, r.Body)
		}
		fragmentOf(t, r.Body, views.BatchProgressID)
		for tid, want := range map[string]string{"batch-status": "running", "batch-made": "2,000 of 5,000 codes made (40 %)",
			"batch-rate": "200 codes/s", "batch-elapsed": "10.0 s", "batch-left": "about 15.0 s"} {
			if got := testID(r.Body, tid); got != want {
				t.Errorf("running %s = %q, want %q", tid, got, want)
			}
		}
		if !regexp.MustCompile(`<progress value="2000" max="5000"`).MatchString(r.Body) {
			t.Error("no progress bar at 2000 of 5000")
		}
		if strings.Contains(r.Body, views.BatchCodesID) {
			t.Error("a running batch's poll sends its codes")
		}
		// Without htmx the progress address is the page.
		if plain := h.Do("GET", progress, nil, nil); plain.Status != http.StatusOK || !strings.Contains(plain.Body, "<html") || !strings.Contains(plain.Body, fmt.Sprintf("<h1>Batch %d</h1>", b.ID)) {
			t.Errorf("plain GET of the progress: %d, want the page", plain.Status)
		}

		// The runner takes it over and finishes it; the poll then stops and
		// brings the codes along.
		wait := h.RunBatches()
		if done := wait(b.ID); done.Status != models.BatchDone {
			t.Fatalf("batch ended %s: %s", done.Status, done.Error)
		}
		r = h.Do("GET", progress, nil, webtest.HTMX(views.BatchProgressID))
		if r.Status != http.StatusOK || strings.Contains(r.Body, "hx-trigger") || strings.Contains(r.Body, "hx-get") {
			t.Fatalf("done progress: %d, or it still polls: %.300s", r.Status, r.Body)
		}
		if got := testID(r.Body, "batch-status"); got != "done" || testID(r.Body, "batch-made") != "5,000 of 5,000 codes made (100 %)" || strings.Contains(r.Body, "cancel-batch") {
			t.Errorf("done progress reads %q / %q, or still offers Cancel", got, testID(r.Body, "batch-made"))
		}
		oob := regexp.MustCompile(`(?s)<section id="batch-codes" hx-swap-oob="true">.*?</section>`).FindString(r.Body)
		if codes := matches(listedCode, oob); len(codes) != 1000 || !strings.Contains(oob, "The first 1,000 of 5,000 codes") {
			t.Errorf("the finished poll brings %d codes out of band, want the first 1000", len(codes))
		}
		page = h.Do("GET", views.BatchURL(b.ID), nil, nil)
		if polls.MatchString(page.Body) || strings.Contains(page.Body, `hx-trigger="every 1s"`) {
			t.Error("a done batch's page still polls")
		}
	})
}

func TestBatchCancelIsForEditors(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		b := h.PendingBatch(models.BatchInput{Quantity: 10, Format: models.FormatInput{Prefix: "STOP"}})
		status := func() string {
			t.Helper()
			got, err := h.Store.Batch(t.Context(), b.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.Status
		}
		cancel := views.BatchCancelURL(b.ID)
		viewer := h.Login(webtest.ViewerEmail)
		if r := h.DoWith(viewer, "POST", cancel, strings.NewReader(""), formHeaders); r.Status != http.StatusForbidden || status() != models.BatchPending {
			t.Fatalf("viewer cancel: %d, batch %s; want 403 and still pending", r.Status, status())
		}
		// A Go client sends no Sec-Fetch-Site: without the token, refused.
		editor := h.Login(webtest.EditorEmail)
		if r := h.DoWith(editor, "POST", cancel, strings.NewReader(""), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}); r.Status != http.StatusForbidden || status() != models.BatchPending {
			t.Fatalf("cancel without the CSRF token: %d, batch %s; want 403 and still pending", r.Status, status())
		}

		r := h.Post(cancel, nil, webtest.HTMX(views.BatchProgressID))
		if r.Status != http.StatusOK || status() != models.BatchCancelled {
			t.Fatalf("htmx cancel: %d, batch %s", r.Status, status())
		}
		fragmentOf(t, r.Body, views.BatchProgressID)
		if testID(r.Body, "batch-status") != "cancelled" || strings.Contains(r.Body, "hx-trigger") || strings.Contains(r.Body, "cancel-batch") {
			t.Errorf("after the cancel the progress reads %q, or still polls or offers Cancel", testID(r.Body, "batch-status"))
		}
		if !strings.Contains(r.Body, `<section id="batch-codes" hx-swap-oob="true">`) {
			t.Error("the cancelled batch's codes do not come along")
		}

		other := h.PendingBatch(models.BatchInput{Quantity: 10, Format: models.FormatInput{Prefix: "STOP2"}})
		r = h.Post(views.BatchCancelURL(other.ID), nil, nil)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != views.BatchURL(other.ID) {
			t.Errorf("plain cancel: %d %q, want 303 to the batch", r.Status, r.Header.Get("Location"))
		}
		wait := h.RunBatches()
		done := h.PendingBatch(models.BatchInput{Quantity: 10, Format: models.FormatInput{Prefix: "STOP3"}})
		wait(done.ID)
		if r := h.Post(views.BatchCancelURL(done.ID), nil, nil); r.Status != http.StatusConflict || !strings.Contains(r.Body, "already done") {
			t.Errorf("cancel a done batch: %d, want 409 saying it is done", r.Status)
		}
		if r := h.Post("/batches/999999/cancel", nil, nil); r.Status != http.StatusNotFound {
			t.Errorf("cancel an unknown batch: %d", r.Status)
		}
	})
}

func TestBatchListShowsEveryBatchNewestFirst(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		if r := h.Do("GET", "/batches", nil, nil); r.Status != http.StatusOK || testID(r.Body, "no-batches") == "" {
			t.Fatalf("empty list: %d", r.Status)
		}
		bulk := h.MustPromotion(models.PromotionInput{Name: "Bulk", Kind: models.KindBulk})
		var ids []int64
		var newest models.Batch
		for i := range models.DefaultListLimit + 2 {
			in := models.BatchInput{Quantity: 10 + i, Format: models.FormatInput{Prefix: fmt.Sprintf("L%d", i), Delimiter: "-", Length: 9}}
			if i == 1 {
				in.PromotionID = &bulk.ID
			}
			newest = h.PendingBatch(in)
			ids = append(ids, newest.ID)
		}
		if _, err := h.Store.CancelBatch(t.Context(), ids[0]); err != nil {
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

		r := h.Do("GET", "/batches", nil, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("list: %d", r.Status)
		}
		if d := cmp.Diff(ids[:models.DefaultListLimit], rowIDs(r.Body)); d != "" {
			t.Errorf("first page (-want +got):\n%s", d)
		}
		if !strings.Contains(r.Body, `hx-trigger="every 2s"`) {
			t.Error("a list with pending batches does not refresh itself")
		}
		first := row.FindStringSubmatch(r.Body)
		for _, want := range []string{`<a href="/batches/` + fmt.Sprint(ids[0]) + `">`, `<progress value="0" max="61"`, "0 of 61",
			"&#34;L51-&#34; + 9 random upper-case letters and digits", "<td>" + newest.CreatedBy + "</td>", newest.CreatedAt.UTC().Format("2006-01-02 15:04:05"), "pending"} {
			if !strings.Contains(first[0], want) {
				t.Errorf("the newest row lacks %q: %s", want, first[0])
			}
		}
		next := html.UnescapeString(regexp.MustCompile(`href="([^"]*)"[^>]*data-testid="next-page"`).FindStringSubmatch(r.Body)[1])
		r = h.Do("GET", next, nil, webtest.HTMX(views.BatchTableID))
		fragmentOf(t, r.Body, views.BatchTableID)
		if d := cmp.Diff(ids[models.DefaultListLimit:], rowIDs(r.Body)); d != "" {
			t.Errorf("second page (-want +got):\n%s", d)
		}
		if !strings.Contains(r.Body, fmt.Sprintf(`<a href="/promotions/%d">Promotion %d</a>`, bulk.ID, bulk.ID)) {
			t.Error("the batch of a promotion does not link it")
		}
		if !strings.Contains(r.Body, `data-status="cancelled"`) {
			t.Error("the cancelled batch is not shown cancelled")
		}

		r = h.Do("GET", "/batches?status=cancelled", nil, nil)
		if got := rowIDs(r.Body); len(got) != 1 || got[0] != ids[len(ids)-1] || strings.Contains(r.Body, `hx-trigger="every 2s"`) {
			t.Errorf("cancelled only: %v, want [%d] and no refresh", got, ids[len(ids)-1])
		}
		r = h.Do("GET", "/batches?status=lost", nil, nil)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(testID(r.Body, "error-status"), "must be one of") {
			t.Errorf("unknown status: %d %q", r.Status, testID(r.Body, "error-status"))
		}
		r = h.Do("GET", "/batches?after=garbage", nil, nil)
		if r.Status != http.StatusOK || testID(r.Body, "list-error") == "" || len(rowIDs(r.Body)) != models.DefaultListLimit {
			t.Errorf("stale cursor: %d, want the first page with a note", r.Status)
		}
		if nav := h.Do("GET", "/coupons", nil, nil); !strings.Contains(nav.Body, `<a href="/batches" aria-current="false">Batches</a>`) {
			t.Error("the navigation has no Batches")
		}
		if nav := h.Do("GET", "/batches", nil, nil); !strings.Contains(nav.Body, `<a href="/batches" aria-current="page">Batches</a>`) {
			t.Error("the Batches page is not marked in the navigation")
		}
	})
}

func TestConsoleCSVDownloads(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		wait := h.RunBatches()
		b := h.PendingBatch(models.BatchInput{Quantity: 300, Format: models.FormatInput{Prefix: "CSV", Delimiter: "-", Length: 10}, MaxUsage: 2})
		wait(b.ID)
		rows := webtest.ReadCSV(t, h.Do("GET", views.BatchCSVURL(b.ID), nil, nil))
		made, err := h.Store.BatchCodes(t.Context(), b.ID, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, row := range rows {
			got = append(got, row[0])
			if row[1] != "no_active_promotion" || row[2] != "0" || row[3] != "2" || row[11] != "" {
				t.Errorf("row %v, want no active promotion, 0 uses of 2, nobody's", row)
			}
		}
		if d := cmp.Diff(made, got); d != "" || len(got) != 300 {
			t.Errorf("the CSV has %d codes; against the batch's (-want +got):\n%s", len(got), d)
		}
		api := h.APIWith(map[string]string{"X-Auth-Token": h.ReadToken}, "GET", fmt.Sprintf("/api/batches/%d/codes.csv", b.ID), "")
		// The same rows; the console writes times in the store's zone
		// (UTC here) for people, the API in RFC 3339.
		consoleRows, apiRows := webtest.ReadCSV(t, h.Do("GET", views.BatchCSVURL(b.ID), nil, nil)), webtest.ReadCSV(t, api)
		for i := range apiRows {
			at, err := time.Parse(time.RFC3339, apiRows[i][12])
			if err != nil || i >= len(consoleRows) || !slices.Equal(consoleRows[i][:12], apiRows[i][:12]) || consoleRows[i][12] != at.Format("2006-01-02 15:04:05") {
				t.Fatalf("row %d: the console's %v, the API's %v", i, consoleRows[min(i, len(consoleRows)-1)], apiRows[i])
			}
		}
		if r := h.Do("GET", "/batches/999999/codes.csv", nil, nil); r.Status != http.StatusNotFound {
			t.Errorf("unknown batch's CSV: %d", r.Status)
		}

		// The coupon list's CSV follows its filters, and its page links it.
		if _, err := h.Store.CreateCoupon(t.Context(), models.CouponSpec{Code: "CSV-ARCHIVED", Archived: new(true)}); err != nil {
			t.Fatal(err)
		}
		list := h.Do("GET", "/coupons?q=csv-&state=archived", nil, nil)
		link := regexp.MustCompile(`href="([^"]*)" download data-testid="download-coupons-csv"`).FindStringSubmatch(list.Body)
		if link == nil {
			t.Fatal("the coupon list offers no CSV")
		}
		target := html.UnescapeString(link[1])
		if u, err := url.Parse(target); err != nil || u.Path != "/coupons.csv" || u.Query().Get("q") != "csv-" || u.Query().Get("state") != "archived" || u.Query().Has("after") {
			t.Errorf("the CSV link %q does not carry the list's filters", target)
		}
		if rows := webtest.ReadCSV(t, h.Do("GET", target, nil, nil)); len(rows) != 1 || rows[0][0] != "CSV-ARCHIVED" || rows[0][1] != "archived" {
			t.Errorf("archived CSV- coupons: %d rows (first %v), want CSV-ARCHIVED alone", len(rows), rows[0])
		}
		if rows := webtest.ReadCSV(t, h.Do("GET", "/coupons.csv?q=CSV-", nil, nil)); len(rows) != 301 {
			t.Errorf("every CSV- coupon: %d rows, want 301", len(rows))
		}
		if r := h.Do("GET", "/coupons.csv?status=lost", nil, nil); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("unknown status: %d, want 422", r.Status)
		}
	})
}

// A coupon CSV carries what a marketer hands on: the state, uses and
// limits, tags, the promotions it reaches with their discounts, from and
// until when, the customer and when it was made, in the store's terms,
// every free-text cell safe from spreadsheet formulas.
func TestCouponCSVCarriesEveryColumn(t *testing.T) {
	t.Parallel()
	webtest.ForEachDBAtEpoch(t, func(t *testing.T, h *webtest.Harness) {
		h.MustPromotion(models.PromotionInput{Name: "Spring", DiscountType: models.DiscountPercent, DiscountValue: "15", DiscountCap: new(int64(500)),
			UTMSource: new("spring"), BeginsAt: "2026-11-01T00:00:00Z", EndsAt: "2026-12-31T23:00:00Z"})
		if _, err := h.Store.CreateCoupon(t.Context(), models.CouponSpec{Code: "SPRING-1", UTMSource: new("Spring"), UTMCampaign: new("=cmd|calc"), MaxUsage: 3, MaxUsagePerClient: new(1)}); err != nil {
			t.Fatal(err)
		}
		h.MustRedeem("SPRING-1", "ann", "o-1", 1, nil)
		rows := webtest.ReadCSV(t, h.Do("GET", "/coupons.csv?q=spring", nil, nil))
		want := []string{"SPRING-1", "active", "1", "3", "1", "Spring", "'=cmd|calc", "Spring", "15 %, at most 5.00 USD",
			"2026-11-01 00:00:00", "2026-12-31 23:00:00", "", webtest.Epoch.Format("2006-01-02 15:04:05")}
		if len(rows) != 1 || !slices.Equal(rows[0], want) {
			t.Errorf("the row is %q, want %q", rows, want)
		}
	})
}
