package handlers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// batchPageCodes is how many codes a batch's page lists; the CSV has all.
const batchPageCodes = 1000

// defaultQuantity is how many codes the generation form offers to make.
const defaultQuantity = 1000

// BatchStore is what the generation and batch pages need from the store.
type BatchStore interface {
	CreateBatch(ctx context.Context, spec models.BatchSpec) (models.Batch, error)
	PreviewBatch(ctx context.Context, spec models.BatchSpec) (models.BatchPreview, error)
	Batch(ctx context.Context, id int64) (models.Batch, error)
	ListBatches(ctx context.Context, f models.BatchFilter) (models.BatchPage, error)
	CancelBatch(ctx context.Context, id int64) (models.Batch, error)
	ShapeCodes(ctx context.Context, shapes ...string) (map[string]int64, error)
	BatchCodes(ctx context.Context, id int64, limit int) ([]string, error)
	EachBatchCoupon(ctx context.Context, id int64, fn func(models.Coupon) error) error
	ActivePromotions(ctx context.Context) ([]models.Promotion, error)
	Promotion(ctx context.Context, id int64) (models.Promotion, error)
	ListPromotions(ctx context.Context, f models.PromotionFilter) (models.PromotionPage, error)
	RedeemedCodes(ctx context.Context, batch, promotion *int64) (int64, error)
	PromotionsReaching(ctx context.Context, cs []models.Coupon) ([]models.Promotion, error)
	Coupon(ctx context.Context, code string) (models.Coupon, error)
	totalsReader
}

// Batches serves the generation form with its live preview, and the
// batches: their list, each one's page and progress, cancelling and the
// CSV of their codes.
type Batches struct {
	Store BatchStore
	// Now is the clock progress is measured by.
	Now func() time.Time
}

// GenerateForm shows the generation form with the defaults a batch gets
// (one use per code) and the preview of those defaults; ?promotionId=
// selects a promotion.
func (h *Batches) GenerateForm(c echo.Context) error {
	f := views.GenerateForm{
		CouponFields: views.CouponFields{MaxUsage: "1", MaxUsagePerClient: "0", MaxItemsPerClient: "0", ExpirationIntervalPerUse: "00:00:00"},
		Quantity:     strconv.Itoa(defaultQuantity), PromotionID: c.QueryParam(views.FieldPromotionID),
		Delimiter: "-", Charset: models.CharsetUpperAlnum,
	}
	return h.renderForm(c, http.StatusOK, f)
}

// Generate creates a batch from the form, to be made in the background,
// and sends the browser to its page. Bad input, a quantity the format
// cannot hold and guessable codes without the confirmation re-render the
// form with 422, writing nothing.
func (h *Batches) Generate(c echo.Context) error {
	ctx := c.Request().Context()
	f := readGenerateForm(c)
	spec, err := generateSpec(f)
	if err == nil {
		err = h.checkGenerate(ctx, spec, f.ConfirmGuessable)
	}
	reach, rerr := formReach(c, h.Store, h.Now())
	if rerr != nil {
		return rerr
	}
	err = refuseUnmeant(&reach, err)
	f.Reach = reach
	if err == nil {
		var b models.Batch
		if b, err = h.Store.CreateBatch(ctx, spec); err == nil {
			notify(c, fmt.Sprintf("Batch %d started: %s being made. You can leave this page; it goes on.", b.ID, views.Counted(int64(b.Quantity), "code is", "codes are")))
			return seeOther(c, views.BatchURL(b.ID))
		}
	}
	if !formProblem(err, &f.Errors, &f.FormError) {
		return err
	}
	renameFormatFields(f.Errors)
	return h.renderForm(c, http.StatusUnprocessableEntity, f)
}

// Preview answers the preview of the form as typed: to htmx the preview
// alone, to a plain post the whole form with it. Invalid fields are
// listed in the preview, so it is a 200 all the same.
func (h *Batches) Preview(c echo.Context) error {
	f := readGenerateForm(c)
	if !wantsFragment(c, views.GeneratePreviewID) {
		return h.renderForm(c, http.StatusOK, f)
	}
	p, err := h.preview(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.GeneratePreviewFragment(p))
}

// renderForm renders the generation form, or only the form for htmx,
// with the promotions it offers and its preview.
func (h *Batches) renderForm(c echo.Context, status int, f views.GenerateForm) error {
	ctx := c.Request().Context()
	f.MaxQuantity, f.Charsets, f.Delimiters = models.MaxBatchQuantity, charsetChoices, delimiterChoices
	var err error
	if f.Promotions, err = h.bulkPromotions(ctx); err != nil {
		return err
	}
	if f.Reach.Items == nil && f.Reach.Error == "" {
		if f.Reach, err = reachOf(c, h.Store, reachForm{source: f.UTMSource, campaign: f.UTMCampaign, promotion: f.PromotionID, ticked: c.FormValue(views.FieldConfirmReach) == "true"}, h.Now()); err != nil {
			return err
		}
	}
	if f.Preview, err = h.preview(ctx, f); err != nil {
		return err
	}
	if wantsFragment(c, views.GenerateFormID) {
		return Render(c, status, views.GenerateFormFragment(csrfToken(c), f))
	}
	return Render(c, status, views.GeneratePage(page(c, "Generate coupons", views.SectionGenerate), f))
}

// bulkPromotions are the choices of the form's promotion select: none,
// then the newest active bulk promotions.
func (h *Batches) bulkPromotions(ctx context.Context) ([]views.Choice, error) {
	res, err := h.Store.ListPromotions(ctx, models.PromotionFilter{Status: models.PromotionActive, Kind: models.KindBulk, Limit: models.MaxListLimit})
	if err != nil {
		return nil, err
	}
	out := []views.Choice{{Value: "", Label: "None"}}
	for _, p := range res.Promotions {
		out = append(out, views.Choice{Value: strconv.FormatInt(p.ID, 10), Label: fmt.Sprintf("%s (#%d)", p.Name, p.ID)})
	}
	return out, nil
}

// preview tells what the form's quantity and format would make; the
// other fields are checked when the form is sent. It fails only when the
// store cannot be read.
func (h *Batches) preview(ctx context.Context, f views.GenerateForm) (views.GeneratePreview, error) {
	var verr models.ValidationError
	in := generateInput(f, &verr)
	_, err := models.BatchInput{Quantity: in.Quantity, Format: in.Format}.Validate(models.MaxBatchQuantity)
	httpx.MergeInvalid(&verr, err)
	v := views.GeneratePreview{Confirmed: f.ConfirmGuessable, ConfirmError: f.Errors[views.FieldConfirmGuessable]}
	msgs := formMessages(&verr)
	renameFormatFields(msgs)
	for _, name := range previewFields {
		if m := msgs[name]; m != "" {
			v.Problems = append(v.Problems, views.PreviewProblem{Field: name, Label: fieldLabels[name], Message: m})
		}
	}
	format, err := in.Format.Compile()
	if err != nil {
		return v, nil
	}
	quantityOK := msgs[views.FieldQuantity] == ""
	spec := models.BatchSpec{Format: format}
	if quantityOK {
		spec.Quantity = in.Quantity
	}
	p, err := h.Store.PreviewBatch(ctx, spec)
	if err != nil {
		return views.GeneratePreview{}, err
	}
	v.Ready, v.Samples, v.Describe, v.CodeLength = true, p.Samples, describeFormat(format), format.CodeLength()
	v.Keyspace, v.Existing = format.Keyspace().String(), p.Existing
	if quantityOK {
		v.Odds, v.Guessable = odds(p.GuessProbability), p.GuessProbability > models.MaxGuessProbability
		if verr := (*models.ValidationError)(nil); errors.As(p.Problem, &verr) {
			v.Capacity = consoleMessage(verr.Message(models.FieldQuantity))
		}
	}
	return v, nil
}

// checkGenerate fails with a *models.ValidationError when spec's
// quantity and the codes of its shape would fill more than half of its
// keyspace, or when a random guess would hit one of them more often than
// models.MaxGuessProbability and the marketer has not confirmed that.
// CreateBatch checks the keyspace again under its lock; this check comes
// first so that both messages are shown at once.
func (h *Batches) checkGenerate(ctx context.Context, spec models.BatchSpec, confirmed bool) error {
	shape := spec.Format.Shape()
	counts, err := h.Store.ShapeCodes(ctx, shape)
	if err != nil {
		return err
	}
	var verr models.ValidationError
	httpx.MergeInvalid(&verr, spec.Format.CheckCapacity(int64(spec.Quantity), counts[shape]))
	if p := spec.Format.GuessProbability(counts[shape] + int64(spec.Quantity)); p > models.MaxGuessProbability && !confirmed {
		chance := "the odds that one random guess hits a code are " + odds(p)
		if p >= 1 {
			chance = "every random guess would hit a code"
		}
		verr.Add(views.FieldConfirmGuessable, chance+", more often than one in a million: tick this box to generate them anyway, or make the codes longer")
	}
	return verr.Err()
}

// readGenerateForm reads the generation form as typed.
func readGenerateForm(c echo.Context) views.GenerateForm {
	return views.GenerateForm{
		CouponFields:     readCouponFields(c),
		Quantity:         c.FormValue(views.FieldQuantity),
		PromotionID:      c.FormValue(views.FieldPromotionID),
		Prefix:           c.FormValue(views.FieldPrefix),
		Suffix:           c.FormValue(views.FieldSuffix),
		Delimiter:        c.FormValue(views.FieldDelimiter),
		Length:           c.FormValue(views.FieldLength),
		Charset:          c.FormValue(views.FieldCharset),
		Exclude:          c.FormValue(views.FieldExclude),
		Pattern:          c.FormValue(views.FieldPattern),
		Check:            c.FormValue(views.FieldCheck) != "",
		ConfirmGuessable: c.FormValue(views.FieldConfirmGuessable) != "",
	}
}

// generateInput converts the typed form into a batch request, recording
// fields that are not numbers in verr. A blank quantity is required;
// other blank numbers are 0 (unlimited).
func generateInput(f views.GenerateForm, verr *models.ValidationError) models.BatchInput {
	if strings.TrimSpace(f.Quantity) == "" {
		verr.Add(views.FieldQuantity, "is required")
	}
	in := models.BatchInput{
		Quantity: httpx.FormInt(verr, views.FieldQuantity, f.Quantity),
		Format: models.FormatInput{
			Prefix: strings.TrimSpace(f.Prefix), Suffix: strings.TrimSpace(f.Suffix), Delimiter: f.Delimiter,
			Length: httpx.FormInt(verr, views.FieldLength, f.Length), Charset: f.Charset, Exclude: f.Exclude,
			Pattern: strings.TrimSpace(f.Pattern), Check: f.Check,
		},
		MaxUsage:                 httpx.FormInt(verr, views.FieldMaxUsage, f.MaxUsage),
		MaxUsagePerClient:        httpx.FormInt(verr, views.FieldMaxUsagePerClient, f.MaxUsagePerClient),
		MaxItemsPerClient:        httpx.FormInt(verr, views.FieldMaxItemsPerClient, f.MaxItemsPerClient),
		ExpirationIntervalPerUse: f.ExpirationIntervalPerUse,
		UTMSource:                optional(f.UTMSource),
		UTMCampaign:              optional(f.UTMCampaign),
	}
	if raw := strings.TrimSpace(f.PromotionID); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id < 1 {
			verr.Add(views.FieldPromotionID, "must be one of the promotions listed")
		}
		in.PromotionID = &id
	}
	return in
}

// generateSpec validates the whole form: the spec, or a
// *models.ValidationError naming every bad field.
func generateSpec(f views.GenerateForm) (models.BatchSpec, error) {
	var verr models.ValidationError
	in := generateInput(f, &verr)
	spec, err := in.Validate(models.MaxBatchQuantity)
	httpx.MergeInvalid(&verr, err)
	if err := verr.Err(); err != nil {
		return models.BatchSpec{}, err
	}
	return spec, nil
}

// formatFieldNames are the generation form's names for the format's
// domain fields.
var formatFieldNames = map[string]string{
	models.FieldFormat:          views.FieldFormat,
	models.FieldFormatPrefix:    views.FieldPrefix,
	models.FieldFormatSuffix:    views.FieldSuffix,
	models.FieldFormatDelimiter: views.FieldDelimiter,
	models.FieldFormatLength:    views.FieldLength,
	models.FieldFormatCharset:   views.FieldCharset,
	models.FieldFormatExclude:   views.FieldExclude,
	models.FieldFormatPattern:   views.FieldPattern,
	models.FieldFormatCheck:     views.FieldCheck,
}

// renameFormatFields moves the format's messages from the domain's field
// names to the form's.
func renameFormatFields(msgs map[string]string) {
	for domain, name := range formatFieldNames {
		if m, ok := msgs[domain]; ok {
			delete(msgs, domain)
			if msgs[name] == "" {
				msgs[name] = m
			}
		}
	}
}

// previewFields are the fields the preview reports on, in form order.
var previewFields = []string{views.FieldQuantity, views.FieldFormat, views.FieldPrefix, views.FieldDelimiter, views.FieldSuffix,
	views.FieldLength, views.FieldCharset, views.FieldPattern, views.FieldExclude, views.FieldCheck}

// fieldLabels name the preview's fields as the form labels them.
var fieldLabels = map[string]string{
	views.FieldQuantity: "How many codes", views.FieldFormat: "Code format", views.FieldPrefix: "Prefix",
	views.FieldDelimiter: "Delimiter", views.FieldSuffix: "Suffix", views.FieldLength: "Random characters",
	views.FieldCharset: "Characters", views.FieldPattern: "Pattern", views.FieldExclude: "Never use",
	views.FieldCheck: "Check character",
}

var charsetChoices = choices(models.Charsets, map[string]string{
	models.CharsetUpperAlnum:  "upper-case letters and digits (A–Z, 0–9)",
	models.CharsetLowerAlnum:  "lower-case letters and digits (a–z, 0–9)",
	models.CharsetDigits:      "digits (0–9)",
	models.CharsetLetters:     "upper-case letters (A–Z)",
	models.CharsetUnambiguous: "unambiguous: A–Z and 2–9 without O, I, L (O is read as 0, I and L as 1)",
})

var delimiterChoices = []views.Choice{{Value: "-", Label: "dash (-)"}, {Value: "_", Label: "underscore (_)"}, {Value: "", Label: "none"}}

// List shows one page of batches, newest first, filtered by status; an
// htmx request aimed at the table gets only the table. A cursor that no
// longer works gives the first page with a note, an unknown status a 422
// with its message.
func (h *Batches) List(c echo.Context) error {
	ctx := c.Request().Context()
	v := views.BatchList{Status: c.QueryParam(views.FieldStatus), Statuses: choices(models.BatchStatuses, nil)}
	f := models.BatchFilter{Status: v.Status, After: c.QueryParam("after")}
	res, err := h.Store.ListBatches(ctx, f)
	var verr *models.ValidationError
	if errors.As(err, &verr) && verr.Message(models.FieldCursor) != "" {
		v.Error = "That page link is not valid any more, so this is the first page."
		f.After = ""
		res, err = h.Store.ListBatches(ctx, f)
	}
	status := http.StatusOK
	if errors.As(err, &verr) {
		status, err = http.StatusUnprocessableEntity, nil
		v.Errors, v.Error = formMessages(verr), "This filter is not valid; see the message beside it."
	}
	if err != nil {
		return err
	}
	for _, b := range res.Batches {
		v.Rows = append(v.Rows, batchRow(TermsOf(c), b))
		v.Live = v.Live || !b.Finished()
	}
	v.SelfURL = batchesURL(v.Status, f.After)
	if res.Next != "" {
		v.NextURL = batchesURL(v.Status, res.Next)
	}
	if f.After != "" {
		v.FirstURL = batchesURL(v.Status, "")
	}
	if wantsFragment(c, views.BatchTableID) {
		return Render(c, status, views.BatchTable(v))
	}
	return Render(c, status, views.BatchesPage(page(c, "Batches", views.SectionBatches), v))
}

func batchesURL(status, after string) string {
	return queryURL(views.BatchesURL, map[string]string{views.FieldStatus: status, "after": after})
}

func batchRow(t Terms, b models.Batch) views.BatchRow {
	r := views.BatchRow{ID: b.ID, Status: b.Status, Generated: b.Generated, Quantity: b.Quantity, Describe: describeBatch(b),
		CreatedBy: b.CreatedBy, CreatedAt: t.Time(b.CreatedAt)}
	if b.PromotionID != nil {
		r.PromotionID = *b.PromotionID
	}
	return r
}

// describeBatch is the batch's format in words; a batch made before
// formats were recorded is named by its base code.
func describeBatch(b models.Batch) string {
	if b.Format == "" {
		return fmt.Sprintf("%q and random characters", b.BaseCode)
	}
	f, err := b.FormatInput().Compile()
	if err != nil {
		return "a format this version cannot read"
	}
	return describeFormat(f)
}

// charsetWords name each character set for one character and for many.
var charsetWords = map[string][2]string{
	models.CharsetUpperAlnum:  {"upper-case letter or digit", "upper-case letters and digits"},
	models.CharsetLowerAlnum:  {"lower-case letter or digit", "lower-case letters and digits"},
	models.CharsetDigits:      {"digit", "digits"},
	models.CharsetLetters:     {"upper-case letter", "upper-case letters"},
	models.CharsetUnambiguous: {"unambiguous character", "unambiguous characters"},
}

// describeFormat is f in a marketer's words, such as `"SPRING-" + 10
// random upper-case letters and digits + check character`; the domain's
// Describe names the character set by its API value.
func describeFormat(f models.Format) string {
	in := f.Input()
	words, ok := charsetWords[in.Charset]
	if !ok {
		words = [2]string{in.Charset, in.Charset}
	}
	var parts []string
	if in.Prefix != "" {
		parts = append(parts, strconv.Quote(in.Prefix+in.Delimiter))
	}
	body := views.Counted(int64(in.Length), "random "+words[0], "random "+words[1])
	if in.Pattern != "" {
		body = "pattern " + in.Pattern + " (* is any of the " + words[1] + ")"
	}
	if in.Exclude != "" {
		body += " without " + in.Exclude
	}
	parts = append(parts, body)
	if in.Suffix != "" {
		parts = append(parts, strconv.Quote(in.Delimiter+in.Suffix))
	}
	if in.Check {
		parts = append(parts, "check character")
	}
	return strings.Join(parts, " + ")
}

// odds writes the chance of a random guess as models.Odds does, with
// the thousands separators the console writes every count with: "1 in
// 5,000".
func odds(p float64) string {
	if p > 0 && p < 1 && 1/p < 9999.5 {
		return "1 in " + views.Thousands(int64(math.Round(1/p)))
	}
	return models.Odds(p)
}

// Show is a batch's page: its progress, format, limits and first codes.
// It fails with ErrNotFound.
func (h *Batches) Show(c echo.Context) error {
	b, err := h.batch(c)
	if err != nil {
		return err
	}
	return h.renderPage(c, b)
}

// Progress answers an htmx poll aimed at a batch's progress with that
// fragment, and once the batch has stopped, its codes out of band. Any
// other request gets the batch's page. It fails with ErrNotFound.
func (h *Batches) Progress(c echo.Context) error {
	b, err := h.batch(c)
	if err != nil {
		return err
	}
	if !wantsFragment(c, views.BatchProgressID) {
		return h.renderPage(c, b)
	}
	return h.renderProgress(c, b)
}

// Cancel stops a pending or running batch, keeping the codes it made;
// htmx aimed at the progress gets that fragment, anything else is sent
// back to the batch's page. It fails with ErrNotFound, and with
// *models.BatchFinishedError for a batch that is done or failed.
func (h *Batches) Cancel(c echo.Context) error {
	id, err := httpx.PathID(c, "batch")
	if err != nil {
		return err
	}
	b, err := h.Store.CancelBatch(c.Request().Context(), id)
	if err != nil {
		return err
	}
	notify(c, fmt.Sprintf("Batch %d cancelled after making %s; the codes it made keep working.", b.ID, views.Counted(int64(b.Generated), "code", "codes")))
	if wantsFragment(c, views.BatchProgressID) {
		return h.renderProgress(c, b)
	}
	return seeOther(c, views.BatchURL(b.ID))
}

// CSV streams a batch's codes as CSV, the same file as the API's (code,
// status, uses, max_uses, issued_to, created_at); a running batch gives
// the codes made so far. It fails with ErrNotFound before the file.
func (h *Batches) CSV(c echo.Context) error {
	id, err := httpx.PathID(c, "batch")
	if err != nil {
		return err
	}
	return httpx.BatchCSV(c, h.Store, id, exportTerms(TermsOf(c)), h.Now())
}

func (h *Batches) batch(c echo.Context) (models.Batch, error) {
	id, err := httpx.PathID(c, "batch")
	if err != nil {
		return models.Batch{}, err
	}
	return h.Store.Batch(c.Request().Context(), id)
}

// renderPage renders batch b's page.
func (h *Batches) renderPage(c echo.Context, b models.Batch) error {
	ctx, t := c.Request().Context(), TermsOf(c)
	redeemed, err := h.Store.RedeemedCodes(ctx, &b.ID, nil)
	if err != nil {
		return err
	}
	results, status, err := periodResults(c, h.Store, resultsOf{scope: models.ScopeBatch, key: itoa(int(b.ID)), began: b.CreatedAt, url: views.BatchURL(b.ID),
		lead: codeFigures(t, "Codes made", int64(b.Generated), redeemed)}, h.Now())
	if err != nil {
		return err
	}
	if wantsFragment(c, views.PromotionResultsID) {
		return Render(c, status, views.PromotionResultsSection(results))
	}
	v := views.BatchView{Results: results,
		Progress: progressView(b, h.Now()), Describe: describeBatch(b),
		MaxUsage: b.MaxUsage, MaxUsagePerClient: b.MaxUsagePerClient, MaxItemsPerClient: b.MaxItemsPerClient,
		ExpirationIntervalPerUse: models.FormatTimeSpan(b.ExpirationIntervalPerUse), UTMSource: httpx.Deref(b.UTMSource), UTMCampaign: httpx.Deref(b.UTMCampaign),
		CreatedBy: b.CreatedBy, CreatedAt: t.Time(b.CreatedAt), StartedAt: t.OptionalTime(b.StartedAt), FinishedAt: t.OptionalTime(b.FinishedAt),
	}
	// A batch made before formats were recorded has no keyspace to tell.
	if f, err := b.FormatInput().Compile(); b.Format != "" && err == nil {
		counts, err := h.Store.ShapeCodes(ctx, b.Shape)
		if err != nil {
			return err
		}
		p := f.GuessProbability(counts[b.Shape])
		v.CodeLength, v.Keyspace, v.Odds, v.Guessable = f.CodeLength(), f.Keyspace().String(), odds(p), p > models.MaxGuessProbability
	}
	if b.PromotionID != nil {
		p, err := h.Store.Promotion(ctx, *b.PromotionID)
		if err != nil {
			return err
		}
		v.PromotionID, v.PromotionName = p.ID, p.Name
	}
	if v.Codes, err = h.codesView(ctx, b); err != nil {
		return err
	}
	pg := page(c, fmt.Sprintf("Batch %d", b.ID), views.SectionBatches)
	pg.Charts = true
	return Render(c, status, views.BatchPage(pg, v))
}

// renderProgress renders b's progress fragment and, once b has stopped,
// its codes out of band.
func (h *Batches) renderProgress(c echo.Context, b models.Batch) error {
	var codes *views.BatchCodesView
	if b.Finished() {
		v, err := h.codesView(c.Request().Context(), b)
		if err != nil {
			return err
		}
		codes = &v
	}
	return Render(c, http.StatusOK, views.BatchProgressUpdate(csrfToken(c), canEdit(c), progressView(b, h.Now()), codes))
}

func (h *Batches) codesView(ctx context.Context, b models.Batch) (views.BatchCodesView, error) {
	codes, err := h.Store.BatchCodes(ctx, b.ID, batchPageCodes)
	if err != nil {
		return views.BatchCodesView{}, err
	}
	return views.BatchCodesView{ID: b.ID, Codes: codes, Generated: b.Generated, Finished: b.Finished()}, nil
}

// progressView is b's progress at now.
func progressView(b models.Batch, now time.Time) views.BatchProgressView {
	p := b.Progress(now)
	return views.BatchProgressView{
		ID: b.ID, Status: b.Status, Finished: b.Finished(), Generated: b.Generated, Quantity: b.Quantity,
		Started: b.StartedAt != nil, PerSec: p.PerSec, Elapsed: p.Elapsed, Left: p.Left, Error: b.Error,
	}
}
