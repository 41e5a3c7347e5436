package handlers

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// codePageSize is how many codes a series' or a customer's page lists at
// once; the rest are a page link away.
const codePageSize = 50

// SeriesStore is what the console's series pages need from the store.
type SeriesStore interface {
	Series(ctx context.Context, id int64) (models.Series, error)
	ListSeries(ctx context.Context, f models.SeriesFilter) (models.SeriesPage, error)
	CreateSeries(ctx context.Context, spec models.SeriesSpec) (models.Series, error)
	UpdateSeries(ctx context.Context, id int64, spec models.SeriesSpec) (models.Series, error)
	SeriesCodes(ctx context.Context, f models.SeriesCodeFilter) (models.SeriesCodePage, error)
	EachSeriesCode(ctx context.Context, seriesID int64, fn func(models.IssuedCode) error) error
	RedeemedCodes(ctx context.Context, batch, promotion *int64) (int64, error)
	ActivePromotions(ctx context.Context) ([]models.Promotion, error)
	ArchivePromotion(ctx context.Context, id int64) (models.Promotion, error)
	UnarchivePromotion(ctx context.Context, id int64) (models.Promotion, error)
	totalsReader
}

// Series serves the console's coupon series pages: the list, the form,
// each series' page with its codes, and their CSV. Now is the clock that
// says whether a series is live and how its codes stand.
type Series struct {
	Store SeriesStore
	Now   func() time.Time
}

// List shows one page of series, newest first; an htmx request aimed at
// the table gets only the table. A cursor that no longer works gives the
// first page with a note.
func (h *Series) List(c echo.Context) error {
	ctx := c.Request().Context()
	v := views.SeriesList{Query: c.QueryParam(views.FieldQuery)}
	f := models.SeriesFilter{Name: v.Query, After: c.QueryParam("after")}
	res, err := h.Store.ListSeries(ctx, f)
	if verr := (*models.ValidationError)(nil); errors.As(err, &verr) && f.After != "" {
		v.Error = "That page link is not valid any more, so this is the first page."
		f.After = ""
		res, err = h.Store.ListSeries(ctx, f)
	}
	if err != nil {
		return err
	}
	now := h.Now()
	for _, s := range res.Series {
		v.Rows = append(v.Rows, seriesRow(TermsOf(c), s, now))
	}
	if res.Next != "" {
		v.NextURL = queryURL(views.SeriesListURL, map[string]string{views.FieldQuery: v.Query, "after": res.Next})
	}
	if f.After != "" {
		v.FirstURL = queryURL(views.SeriesListURL, map[string]string{views.FieldQuery: v.Query})
	}
	if wantsFragment(c, views.SeriesTableID) {
		return Render(c, http.StatusOK, views.SeriesTable(v))
	}
	return Render(c, http.StatusOK, views.SeriesListPage(page(c, "Coupon series", views.SectionSeries), v))
}

// Show is a series' page: its settings and counts and one page of its
// codes; an htmx request aimed at the codes gets only that page of them.
// It fails with ErrNotFound, also for a promotion that is not a series.
func (h *Series) Show(c echo.Context) error {
	s, err := h.series(c)
	if err != nil {
		return err
	}
	codes, err := h.codes(c, s.ID())
	if err != nil {
		return err
	}
	if wantsFragment(c, views.SeriesCodesID) {
		return Render(c, http.StatusOK, views.SeriesCodes(codes))
	}
	id := s.ID()
	redeemed, err := h.Store.RedeemedCodes(c.Request().Context(), nil, &id)
	if err != nil {
		return err
	}
	results, status, err := periodResults(c, h.Store, resultsOf{scope: models.ScopePromotion, key: itoa(int(id)), began: s.Promotion.CreatedAt,
		url: views.SeriesURL(id), customers: true, lead: codeFigures(TermsOf(c), "Codes issued", int64(s.Issued), redeemed)}, h.Now())
	if err != nil {
		return err
	}
	if wantsFragment(c, views.PromotionResultsID) {
		return Render(c, status, views.PromotionResultsSection(results))
	}
	v := views.SeriesDetail{Series: seriesRow(TermsOf(c), s, h.Now()), Codes: codes, Results: results}
	pg := page(c, s.Promotion.Name, views.SectionSeries)
	pg.Charts = true
	return Render(c, status, views.SeriesPage(pg, v))
}

// codes reads the page of series id's codes that the query's after
// names.
func (h *Series) codes(c echo.Context, id int64) (views.CodeList, error) {
	ctx := c.Request().Context()
	return issuedCodeList(TermsOf(c), c.QueryParam("after"), views.SeriesURL(id), "That page link is not valid any more, so this is the first page.", h.Now(),
		func(after string) ([]models.IssuedCode, string, error) {
			res, err := h.Store.SeriesCodes(ctx, models.SeriesCodeFilter{SeriesID: id, After: after, Limit: codePageSize})
			return res.Codes, res.Next, err
		})
}

// issuedCodeList reads with read the page of codes that after names and
// makes it the list shown at base, with each code's state at now; a
// cursor that no longer works gives the first page with stale as its
// note.
func issuedCodeList(t Terms, after, base, stale string, now time.Time, read func(after string) ([]models.IssuedCode, string, error)) (views.CodeList, error) {
	var v views.CodeList
	codes, next, err := read(after)
	if verr := (*models.ValidationError)(nil); errors.As(err, &verr) && after != "" {
		v.Error, after = stale, ""
		codes, next, err = read(after)
	}
	if err != nil {
		return views.CodeList{}, err
	}
	for _, ic := range codes {
		v.Rows = append(v.Rows, issuedCodeRow(t, ic, now))
	}
	if next != "" {
		v.NextURL = queryURL(base, map[string]string{"after": next})
	}
	if after != "" {
		v.FirstURL = base
	}
	return v, nil
}

// CSV streams every code of a series, in the order they were issued, as
// CSV: code, customer_id, issued_at, uses, max_uses, valid_till, state.
// It fails with ErrNotFound before the file.
func (h *Series) CSV(c echo.Context) error {
	id, err := httpx.PathID(c, "coupon series")
	if err != nil {
		return err
	}
	return httpx.SeriesCSV(c, h.Store, id, exportTerms(TermsOf(c)), h.Now())
}

// New shows the empty series form with the defaults a series gets.
func (h *Series) New(c echo.Context) error {
	f := views.SeriesForm{Choices: seriesChoices, SeriesFields: views.SeriesFields{
		Status: models.PromotionActive, DiscountType: models.DiscountPercent, Expiry: models.ExpiryWithSeries,
		Delimiter: "-", Length: strconv.Itoa(models.DefaultSeriesCodeLength), Charset: models.CharsetUpperAlnum,
		MaxCreate: "0", MaxPerCustomer: "0", UsesPerCode: "1", MaxUsage: "0", MaxUsagePerClient: "0",
	}}
	return Render(c, http.StatusOK, views.SeriesFormPage(page(c, "New series", views.SectionSeries), f))
}

// Create creates a series from the form and sends the browser to its
// page, or re-renders the form with 422 and a message beside each bad
// field.
func (h *Series) Create(c echo.Context) error {
	form := readSeriesForm(c)
	spec, err := seriesSpec(TermsOf(c), form.SeriesFields, models.SeriesInput{})
	if err == nil {
		var s models.Series
		if s, err = h.Store.CreateSeries(c.Request().Context(), spec); err == nil {
			notify(c, "Series "+s.Promotion.Name+" created.")
			return seeOther(c, views.SeriesURL(s.ID()))
		}
	}
	return h.formFailed(c, "New series", form, err)
}

// Edit shows the form filled with a series. It fails with ErrNotFound.
func (h *Series) Edit(c echo.Context) error {
	s, err := h.series(c)
	if err != nil {
		return err
	}
	f := views.SeriesForm{ID: s.ID(), Issued: s.Issued, Choices: seriesChoices, SeriesFields: seriesFields(TermsOf(c), s)}
	return Render(c, http.StatusOK, views.SeriesFormPage(page(c, "Edit "+s.Promotion.Name, views.SectionSeries), f))
}

// Update saves the edit form over the series; what the form does not
// show (the fields an API client sent that coupond keeps) stays, and so
// do the codes issued and the redemptions. It fails with ErrNotFound
// before it looks at the form.
func (h *Series) Update(c echo.Context) error {
	s, err := h.series(c)
	if err != nil {
		return err
	}
	form := readSeriesForm(c)
	form.ID, form.Issued = s.ID(), s.Issued
	spec, err := seriesSpec(TermsOf(c), form.SeriesFields, s.Input())
	if err == nil {
		var saved models.Series
		if saved, err = h.Store.UpdateSeries(c.Request().Context(), s.ID(), spec); err == nil {
			notify(c, "Series "+saved.Promotion.Name+" saved.")
			return seeOther(c, views.SeriesURL(saved.ID()))
		}
	}
	return h.formFailed(c, "Edit "+s.Promotion.Name, form, err)
}

// formFailed re-renders the series form with 422 for input the user can
// fix, and passes any other error on.
func (h *Series) formFailed(c echo.Context, title string, form views.SeriesForm, err error) error {
	if !formProblem(err, &form.Errors, &form.FormError) {
		return err
	}
	renameFormatFields(form.Errors)
	form.FormError = strings.TrimSpace(form.FormError + " " + strayMessages(form.Errors, seriesFormFields))
	if wantsFragment(c, views.SeriesFormID) {
		return Render(c, http.StatusUnprocessableEntity, views.SeriesFormFragment(csrfToken(c), form))
	}
	return Render(c, http.StatusUnprocessableEntity, views.SeriesFormPage(page(c, title, views.SectionSeries), form))
}

func (h *Series) series(c echo.Context) (models.Series, error) {
	id, err := httpx.PathID(c, "coupon series")
	if err != nil {
		return models.Series{}, err
	}
	return h.Store.Series(c.Request().Context(), id)
}

// readSeriesForm reads the series form as typed.
func readSeriesForm(c echo.Context) views.SeriesForm {
	return views.SeriesForm{Choices: seriesChoices, SeriesFields: views.SeriesFields{
		Name:              c.FormValue(views.FieldName),
		Description:       c.FormValue(views.FieldDescription),
		Status:            c.FormValue(views.FieldStatus),
		DiscountCode:      c.FormValue(views.FieldDiscountCode),
		DiscountType:      c.FormValue(views.FieldDiscountType),
		DiscountValue:     c.FormValue(views.FieldDiscountValue),
		DiscountCap:       c.FormValue(views.FieldDiscountCap),
		BeginsAt:          c.FormValue(views.FieldBeginsAt),
		EndsAt:            c.FormValue(views.FieldEndsAt),
		Expiry:            c.FormValue(views.FieldExpiry),
		ExpiryDays:        c.FormValue(views.FieldExpiryDays),
		Prefix:            c.FormValue(views.FieldPrefix),
		Suffix:            c.FormValue(views.FieldSuffix),
		Delimiter:         c.FormValue(views.FieldDelimiter),
		Length:            c.FormValue(views.FieldLength),
		Charset:           c.FormValue(views.FieldCharset),
		Exclude:           c.FormValue(views.FieldExclude),
		Pattern:           c.FormValue(views.FieldPattern),
		Check:             c.FormValue(views.FieldCheck) != "",
		MaxCreate:         c.FormValue(views.FieldMaxCreate),
		MaxPerCustomer:    c.FormValue(views.FieldMaxPerCustomer),
		UsesPerCode:       c.FormValue(views.FieldUsesPerCode),
		MaxUsage:          c.FormValue(views.FieldMaxUsage),
		MaxUsagePerClient: c.FormValue(views.FieldMaxUsagePerClient),
	}}
}

// seriesSpec puts the typed form over in (a new series' zero input, or
// the stored series' own) and validates it: the spec, or a
// *models.ValidationError naming every bad field, those that are not
// numbers included. The days a code lasts are read only when codes
// expire by days.
func seriesSpec(t Terms, f views.SeriesFields, in models.SeriesInput) (models.SeriesSpec, error) {
	var verr models.ValidationError
	p := &in.Promotion
	p.Name, p.Description, p.Status = f.Name, f.Description, f.Status
	p.DiscountType, p.DiscountValue = f.DiscountType, formDiscountValue(&verr, t, f.DiscountType, f.DiscountValue)
	p.DiscountCap = t.FormAmount(&verr, views.FieldDiscountCap, f.DiscountCap, true)
	p.BeginsAt = formTime(&verr, views.FieldBeginsAt, f.BeginsAt, t.ParseTime)
	p.EndsAt = formTime(&verr, views.FieldEndsAt, f.EndsAt, t.ParseEnd)
	p.MaxUsage = httpx.FormInt(&verr, views.FieldMaxUsage, f.MaxUsage)
	p.MaxUsagePerClient = httpx.FormInt(&verr, views.FieldMaxUsagePerClient, f.MaxUsagePerClient)
	in.DiscountCode, in.Expiry, in.ExpiryDays = f.DiscountCode, f.Expiry, 0
	if strings.TrimSpace(f.Expiry) == models.ExpiryDays {
		in.ExpiryDays = httpx.FormInt(&verr, views.FieldExpiryDays, f.ExpiryDays)
	}
	in.Format = models.FormatInput{
		Prefix: strings.TrimSpace(f.Prefix), Suffix: strings.TrimSpace(f.Suffix), Delimiter: f.Delimiter,
		Length: httpx.FormInt(&verr, views.FieldLength, f.Length), Charset: f.Charset, Exclude: f.Exclude,
		Pattern: strings.TrimSpace(f.Pattern), Check: f.Check,
	}
	in.MaxCreate = httpx.FormInt(&verr, views.FieldMaxCreate, f.MaxCreate)
	in.MaxPerCustomer = httpx.FormInt(&verr, views.FieldMaxPerCustomer, f.MaxPerCustomer)
	in.UsesPerCode = httpx.FormInt(&verr, views.FieldUsesPerCode, f.UsesPerCode)
	spec, err := in.Validate()
	httpx.MergeInvalid(&verr, err)
	if err := verr.Err(); err != nil {
		return models.SeriesSpec{}, err
	}
	return spec, nil
}

// seriesFields writes a stored series into the form's fields, so that
// saving the form unchanged keeps the series as it is.
func seriesFields(t Terms, s models.Series) views.SeriesFields {
	p, fi := s.Promotion, s.FormatInput()
	f := views.SeriesFields{
		Name: p.Name, Description: p.Description, Status: p.Status, DiscountCode: s.DiscountCode,
		DiscountType: p.DiscountType, DiscountValue: discountInput(t, p.DiscountType, p.DiscountValue), DiscountCap: t.AmountInput(p.DiscountCap),
		BeginsAt: t.TimeInput(p.BeginsAt), EndsAt: t.TimeInput(p.EndsAt), Expiry: s.Expiry,
		Prefix: fi.Prefix, Suffix: fi.Suffix, Delimiter: fi.Delimiter, Charset: fi.Charset, Exclude: fi.Exclude, Pattern: fi.Pattern, Check: fi.Check,
		MaxCreate: itoa(s.MaxCreate), MaxPerCustomer: itoa(s.MaxPerCustomer), UsesPerCode: itoa(s.UsesPerCode),
		MaxUsage: itoa(p.MaxUsage), MaxUsagePerClient: itoa(p.MaxUsagePerClient),
	}
	if s.Expiry == models.ExpiryDays {
		f.ExpiryDays = itoa(s.ExpiryDays)
	}
	if fi.Length != 0 {
		f.Length = itoa(fi.Length)
	}
	return f
}

// seriesFormFields are the fields the series form shows a message beside.
var seriesFormFields = map[string]bool{
	views.FieldName: true, views.FieldDescription: true, views.FieldStatus: true, views.FieldDiscountCode: true,
	views.FieldDiscountType: true, views.FieldDiscountValue: true, views.FieldDiscountCap: true,
	views.FieldBeginsAt: true, views.FieldEndsAt: true, views.FieldExpiry: true, views.FieldExpiryDays: true,
	views.FieldFormat: true, views.FieldPrefix: true, views.FieldSuffix: true, views.FieldDelimiter: true,
	views.FieldLength: true, views.FieldCharset: true, views.FieldExclude: true, views.FieldPattern: true, views.FieldCheck: true,
	views.FieldMaxCreate: true, views.FieldMaxPerCustomer: true, views.FieldUsesPerCode: true,
	views.FieldMaxUsage: true, views.FieldMaxUsagePerClient: true,
}

// strayMessages removes from msgs the messages of fields that are not in
// known and returns them as one sentence for the whole form, so that no
// message is lost for want of a field to show it beside.
func strayMessages(msgs map[string]string, known map[string]bool) string {
	var names []string
	for name := range msgs {
		if !known[name] {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return ""
	}
	parts := make([]string, 0, len(names))
	for _, name := range names {
		parts = append(parts, msgs[name])
		delete(msgs, name)
	}
	// The names are the API's, which a marketer never sees; what the
	// form cannot show was set through the API.
	return "Settings this form does not show are not valid (" + strings.Join(parts, "; ") + "); ask whoever set them through the API to correct them."
}

// seriesChoices are the options of the series form's selects.
var seriesChoices = views.SeriesChoices{
	Statuses:      promotionChoices.Statuses,
	DiscountTypes: promotionChoices.DiscountTypes,
	Expiries: choices(models.ExpiryStrategies, map[string]string{
		models.ExpiryWithSeries: "when the series ends",
		models.ExpiryDays:       "a number of days after it is issued",
	}),
	Delimiters: delimiterChoices,
	Charsets:   charsetChoices,
}

// seriesRow turns a series into its console view at now.
func seriesRow(t Terms, s models.Series, now time.Time) views.SeriesRow {
	r := views.SeriesRow{
		PromotionRow: promotionRow(t, s.Promotion, now),
		DiscountCode: s.DiscountCode, Expiry: expiryText(s), Format: "a format this version cannot read",
		Issued: s.Issued, MaxCreate: s.MaxCreate, MaxPerCustomer: s.MaxPerCustomer, UsesPerCode: s.UsesPerCode,
	}
	if f, err := s.CodeFormat(); err == nil {
		r.Format = describeFormat(f)
	}
	return r
}

// expiryText says when a series' codes expire.
func expiryText(s models.Series) string {
	switch {
	case s.Expiry != models.ExpiryDays:
		return "when the series ends"
	}
	return views.Counted(int64(s.ExpiryDays), "day", "days") + " after it is issued, or when the series ends if that comes first"
}

// issuedCodeRow turns a personal code into a row of a series' or a
// customer's page, with its state at now.
func issuedCodeRow(t Terms, ic models.IssuedCode, now time.Time) views.IssuedCodeRow {
	r := views.IssuedCodeRow{
		Code: ic.Coupon.Code, CustomerID: ic.CustomerID, From: ic.PromotionName, IssuedAt: t.Time(ic.IssuedAt),
		Uses: ic.Coupon.Uses, MaxUses: ic.Coupon.MaxUsage, State: ic.State(now), ValidTill: t.OptionalEnd(ic.ValidTill),
	}
	if ic.SeriesID != nil {
		r.SeriesID = *ic.SeriesID
	}
	return r
}

// ConfirmArchive asks before a series is archived. It fails with
// ErrNotFound.
func (h *Series) ConfirmArchive(c echo.Context) error {
	s, err := h.series(c)
	if err != nil {
		return err
	}
	return confirmPage(c, views.SectionSeries, views.ArchiveSeriesConfirm(s.ID(), s.Promotion.Name))
}

// Archive archives a series: its codes stop giving its discount and no
// more are issued. It fails with ErrNotFound.
func (h *Series) Archive(c echo.Context) error {
	s, err := h.series(c)
	if err != nil {
		return err
	}
	if _, err := h.Store.ArchivePromotion(c.Request().Context(), s.ID()); err != nil {
		return err
	}
	notify(c, "Series "+s.Promotion.Name+" archived: its codes give its discount no more, and none can be issued.")
	return seeOther(c, views.SeriesURL(s.ID()))
}

// Unarchive brings an archived series back as inactive. It fails with
// ErrNotFound.
func (h *Series) Unarchive(c echo.Context) error {
	s, err := h.series(c)
	if err != nil {
		return err
	}
	if _, err := h.Store.UnarchivePromotion(c.Request().Context(), s.ID()); err != nil {
		return err
	}
	notify(c, "Series "+s.Promotion.Name+" unarchived. It is inactive: edit it and make it active to issue and redeem its codes again.")
	return seeOther(c, views.SeriesURL(s.ID()))
}
