package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// redemptionPageSize is how many redemptions a promotion's page lists at
// once; older ones are a page link away.
const redemptionPageSize = 25

// PromotionStore is what the console's promotion pages need from the
// store.
type PromotionStore interface {
	Promotion(ctx context.Context, id int64) (models.Promotion, error)
	ListPromotions(ctx context.Context, f models.PromotionFilter) (models.PromotionPage, error)
	CreatePromotion(ctx context.Context, spec models.PromotionSpec) (models.Promotion, error)
	UpdatePromotion(ctx context.Context, id int64, spec models.PromotionSpec) (models.Promotion, error)
	ArchivePromotion(ctx context.Context, id int64) (models.Promotion, error)
	UnarchivePromotion(ctx context.Context, id int64) (models.Promotion, error)
	TaggedCoupons(ctx context.Context, field, tag string) (int64, error)
	LinkPromotionTag(ctx context.Context, id int64, field, tag string) (models.Promotion, error)
	LinkedCoupons(ctx context.Context, p models.Promotion) (bySource, byCampaign int64, err error)
	CouponTags(ctx context.Context) (sources, campaigns []models.TagCount, err error)
	ListRedemptions(ctx context.Context, f models.RedemptionFilter) (models.RedemptionPage, error)
	TotalsBetween(ctx context.Context, scope, key string, from, to time.Time) (models.Totals, error)
	TotalsBySlot(ctx context.Context, scope, key string, from, to time.Time) ([]models.SlotTotals, error)
}

// Promotions serves the console's promotion pages. Now is the clock that
// says whether a promotion is live.
type Promotions struct {
	Store PromotionStore
	Now   func() time.Time
}

// List shows one page of promotions, newest first, filtered by status,
// kind and UTM tag; an htmx request aimed at the table gets only the
// table. An invalid filter is answered with 422 and its message.
func (h *Promotions) List(c echo.Context) error {
	q := c.QueryParams()
	v := views.PromotionList{Query: q.Get(views.FieldQuery), Status: q.Get(views.FieldStatus), Kind: q.Get(views.FieldKind), UTM: q.Get(views.FieldUTM), Choices: promotionChoices}
	f := models.PromotionFilter{Name: v.Query, Status: v.Status, Kind: v.Kind, UTM: v.UTM, After: q.Get("after")}
	ctx := c.Request().Context()
	res, err := h.Store.ListPromotions(ctx, f)
	var verr *models.ValidationError
	if errors.As(err, &verr) && verr.Message(models.FieldCursor) != "" {
		v.Error = "That page link is not valid any more, so this is the first page."
		f.After = ""
		res, err = h.Store.ListPromotions(ctx, f)
	}
	status := http.StatusOK
	if errors.As(err, &verr) {
		// The filter form offers only valid values, so this is a typed or
		// outdated URL; the page shows it back with the messages.
		status, err = http.StatusUnprocessableEntity, nil
		v.Errors = formMessages(verr)
		v.Error = "These filters are not valid; see the messages beside them."
	}
	if err != nil {
		return err
	}
	now := h.Now()
	for _, p := range res.Promotions {
		v.Rows = append(v.Rows, promotionRow(TermsOf(c), p, now))
	}
	if res.Next != "" {
		v.NextURL = promotionsURL(v, res.Next)
	}
	if f.After != "" {
		v.FirstURL = promotionsURL(v, "")
	}
	if wantsFragment(c, views.PromotionTableID) {
		return Render(c, status, views.PromotionTable(v))
	}
	return Render(c, status, views.PromotionsPage(page(c, "Promotions", views.SectionPromotions), v))
}

func promotionsURL(v views.PromotionList, after string) string {
	return queryURL("/promotions", map[string]string{views.FieldQuery: v.Query, views.FieldStatus: v.Status, views.FieldKind: v.Kind, views.FieldUTM: v.UTM, "after": after})
}

// Show is a promotion's page; an htmx request aimed at the redemptions
// gets only that page of them. It fails with ErrNotFound.
func (h *Promotions) Show(c echo.Context) error {
	p, err := h.promotion(c)
	if err != nil {
		return err
	}
	rs, err := h.redemptions(c, p)
	if err != nil {
		return err
	}
	if wantsFragment(c, views.PromotionRedemptionsID) {
		return Render(c, http.StatusOK, views.PromotionRedemptions(rs))
	}
	results, status, err := promotionResults(c, h.Store, p, h.Now())
	if err != nil {
		return err
	}
	if wantsFragment(c, views.PromotionResultsID) {
		return Render(c, status, views.PromotionResultsSection(results))
	}
	return h.renderPage(c, status, p, rs, tagLink{}, results)
}

// tagLink is a refused Link UTM tag request, shown back on the page;
// ask is set when it waits for the tick that accepts the coupons it
// would reach.
type tagLink struct {
	kind, tag, message string
	ask                bool
}

// renderPage renders a promotion's page with the coupons linked through
// its tags and, for editors, the tags they can link it to.
func (h *Promotions) renderPage(c echo.Context, status int, p models.Promotion, rs views.RedemptionList, refused tagLink, results views.PromotionResults) error {
	ctx := c.Request().Context()
	v := views.PromotionDetail{Promotion: promotionRow(TermsOf(c), p, h.Now()), Redemptions: rs, Results: results}
	var err error
	if v.SourceCoupons, v.CampaignCoupons, err = h.Store.LinkedCoupons(ctx, p); err != nil {
		return err
	}
	if p.UTMSource != nil {
		v.SourceCouponsURL = listURL(views.CouponList{UTMSource: *p.UTMSource}, "")
	}
	if p.UTMCampaign != nil {
		v.CampaignCouponsURL = listURL(views.CouponList{UTMCampaign: *p.UTMCampaign}, "")
	}
	if canEdit(c) {
		if v.TagForm, err = h.tagForm(ctx, p, refused); err != nil {
			return err
		}
	}
	pg := page(c, p.Name, views.SectionPromotions)
	pg.Charts = true
	return Render(c, status, views.PromotionPage(pg, v))
}

// tagForm offers the tags coupons carry, each kind with the promotion's
// current tag selected, or the refused one with its message.
func (h *Promotions) tagForm(ctx context.Context, p models.Promotion, refused tagLink) (views.PromotionTagForm, error) {
	sources, campaigns, err := h.Store.CouponTags(ctx)
	if err != nil {
		return views.PromotionTagForm{}, err
	}
	choice := func(kind, label string, current *string, tags []models.TagCount) views.TagChoice {
		tc := views.TagChoice{Kind: kind, Label: label, Current: httpx.Deref(current), Selected: httpx.Deref(current)}
		for _, t := range tags {
			tc.Options = append(tc.Options, views.TagOption{Tag: t.Tag, Coupons: t.Coupons})
		}
		if refused.kind == kind {
			tc.Selected, tc.Error, tc.Ask = refused.tag, refused.message, refused.ask
		}
		return tc
	}
	f := views.PromotionTagForm{
		PromotionID: p.ID,
		Source:      choice(views.TagKindSource, "UTM source", p.UTMSource, sources),
		Campaign:    choice(views.TagKindCampaign, "UTM campaign", p.UTMCampaign, campaigns),
	}
	if _, known := tagFields[refused.kind]; refused.message != "" && !known {
		f.FormError = refused.message
	}
	return f, nil
}

// New shows the empty promotion form.
func (h *Promotions) New(c echo.Context) error {
	f := views.PromotionForm{Choices: promotionChoices, PromotionFields: views.PromotionFields{
		Status: models.PromotionActive, Kind: models.KindRegular, DiscountType: models.DiscountPercent, MaxUsage: "0", MaxUsagePerClient: "0",
	}}
	return Render(c, http.StatusOK, views.PromotionFormPage(page(c, "New promotion", views.SectionPromotions), f))
}

// Create creates a promotion from the form, or re-renders it with 422 and
// a message beside each bad field.
func (h *Promotions) Create(c echo.Context) error {
	form, spec, err := readPromotionForm(c, TermsOf(c))
	if err = h.checkPromotionReach(c, &form, nil, err); err == nil {
		var p models.Promotion
		if p, err = h.Store.CreatePromotion(c.Request().Context(), spec); err == nil {
			notify(c, "Promotion "+p.Name+" created.")
			return seeOther(c, views.PromotionURL(p.ID))
		}
	}
	return h.formFailed(c, "New promotion", form, err)
}

// Edit shows the form filled with a promotion. It fails with ErrNotFound.
func (h *Promotions) Edit(c echo.Context) error {
	p, err := h.promotion(c)
	if err != nil {
		return err
	}
	t := TermsOf(c)
	f := views.PromotionForm{ID: p.ID, Choices: promotionChoices, PromotionFields: views.PromotionFields{
		Name: p.Name, Description: p.Description, Status: p.Status, Kind: p.Kind,
		DiscountType: p.DiscountType, DiscountValue: discountInput(t, p.DiscountType, p.DiscountValue), DiscountCap: t.AmountInput(p.DiscountCap),
		BeginsAt: t.TimeInput(p.BeginsAt), EndsAt: t.TimeInput(p.EndsAt),
		MaxUsage: itoa(p.MaxUsage), MaxUsagePerClient: itoa(p.MaxUsagePerClient),
		UTMSource: httpx.Deref(p.UTMSource), UTMCampaign: httpx.Deref(p.UTMCampaign),
	}}
	if f.Reach, err = promotionReach(c.Request().Context(), h.Store, &p, f.UTMSource, f.UTMCampaign, false); err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.PromotionFormPage(page(c, "Edit "+p.Name, views.SectionPromotions), f))
}

// Update saves the edit form over every field of the promotion; its uses
// stay. It fails with ErrNotFound before it looks at the form.
func (h *Promotions) Update(c echo.Context) error {
	p, err := h.promotion(c)
	if err != nil {
		return err
	}
	form, spec, err := readPromotionForm(c, TermsOf(c))
	form.ID = p.ID
	if err = h.checkPromotionReach(c, &form, &p, err); err == nil {
		var saved models.Promotion
		if saved, err = h.Store.UpdatePromotion(c.Request().Context(), p.ID, spec); err == nil {
			notify(c, "Promotion "+saved.Name+" saved.")
			return seeOther(c, views.PromotionURL(saved.ID))
		}
	}
	return h.formFailed(c, "Edit "+p.Name, form, err)
}

// formFailed re-renders the promotion form with 422 for input the user
// can fix, and passes any other error on.
func (h *Promotions) formFailed(c echo.Context, title string, form views.PromotionForm, err error) error {
	if !formProblem(err, &form.Errors, &form.FormError) {
		return err
	}
	if wantsFragment(c, views.PromotionFormID) {
		return Render(c, http.StatusUnprocessableEntity, views.PromotionFormFragment(csrfToken(c), form))
	}
	return Render(c, http.StatusUnprocessableEntity, views.PromotionFormPage(page(c, title, views.SectionPromotions), form))
}

// Archive archives a promotion so that no coupon reaches it any more; the
// status block is swapped in place for htmx. It fails with ErrNotFound.
func (h *Promotions) Archive(c echo.Context) error {
	id, err := httpx.PathID(c, "promotion")
	if err != nil {
		return err
	}
	p, err := h.Store.ArchivePromotion(c.Request().Context(), id)
	if err != nil {
		return err
	}
	notify(c, "Promotion "+p.Name+" archived: its coupons give its discount no more.")
	if wantsFragment(c, views.PromotionStatusID) {
		return Render(c, http.StatusOK, views.PromotionStatus(csrfToken(c), canEdit(c), promotionRow(TermsOf(c), p, h.Now())))
	}
	return seeOther(c, views.PromotionURL(p.ID))
}

// Unarchive brings an archived promotion back as inactive; the page's
// status block is swapped in place for htmx. It fails with ErrNotFound.
func (h *Promotions) Unarchive(c echo.Context) error {
	id, err := httpx.PathID(c, "promotion")
	if err != nil {
		return err
	}
	p, err := h.Store.UnarchivePromotion(c.Request().Context(), id)
	if err != nil {
		return err
	}
	notify(c, "Promotion "+p.Name+" unarchived. It is inactive: edit it and make it active when its coupons should give its discount again.")
	if wantsFragment(c, views.PromotionStatusID) {
		return Render(c, http.StatusOK, views.PromotionStatus(csrfToken(c), canEdit(c), promotionRow(TermsOf(c), p, h.Now())))
	}
	return seeOther(c, views.PromotionURL(p.ID))
}

// tagFields maps the Link UTM tag form's kinds to the promotion's fields.
var tagFields = map[string]string{views.TagKindSource: models.FieldUTMSource, views.TagKindCampaign: models.FieldUTMCampaign}

// LinkTag makes the promotion listen to a UTM source or campaign in place
// of the one it had. A refused tag or kind re-renders the page (or the
// form, for htmx) with 422 and the message beside the choice. It fails
// with ErrNotFound.
func (h *Promotions) LinkTag(c echo.Context) error {
	id, err := httpx.PathID(c, "promotion")
	if err != nil {
		return err
	}
	refused := tagLink{kind: c.FormValue(views.FieldTagKind), tag: c.FormValue(views.FieldTag)}
	field, known := tagFields[refused.kind]
	// Say how many coupons the tag will make give this discount before
	// it is linked: a tag coupons carry waits for the tick.
	if known && strings.TrimSpace(refused.tag) != "" && c.FormValue(views.FieldConfirmLink) != "true" {
		n, err := h.Store.TaggedCoupons(c.Request().Context(), field, refused.tag)
		if err != nil {
			return err
		}
		if n > 0 {
			refused.ask = true
			refused.message = views.Counted(n, "coupon carries", "coupons carry") + " " + strings.TrimSpace(refused.tag) +
				": once it is linked, they give this promotion's discount at once. Tick to confirm."
			return h.tagRefused(c, id, refused)
		}
	}
	p, err := h.Store.LinkPromotionTag(c.Request().Context(), id, field, refused.tag)
	if err == nil {
		kind := "UTM campaign"
		if refused.kind == views.TagKindSource {
			kind = "UTM source"
		}
		notify(c, "Promotion "+p.Name+" now reaches the coupons with the "+kind+" "+refused.tag+".")
		return seeOther(c, views.PromotionURL(p.ID))
	}
	var verr *models.ValidationError
	if !errors.As(err, &verr) {
		return err
	}
	refused.message = verr.Summary()
	if msg := verr.Message(models.FieldUTM); msg != "" {
		refused.message = msg
	}
	return h.tagRefused(c, id, refused)
}

// tagRefused shows the Link UTM tag form back with 422: refused's
// message beside its kind, and the tick when it asks for one.
func (h *Promotions) tagRefused(c echo.Context, id int64, refused tagLink) error {
	ctx := c.Request().Context()
	p, err := h.Store.Promotion(ctx, id)
	if err != nil {
		return err
	}
	if wantsFragment(c, views.PromotionTagFormID) {
		f, err := h.tagForm(ctx, p, refused)
		if err != nil {
			return err
		}
		return Render(c, http.StatusUnprocessableEntity, views.PromotionTagFormFragment(csrfToken(c), f))
	}
	rs, err := h.redemptions(c, p)
	if err != nil {
		return err
	}
	results, _, err := promotionResults(c, h.Store, p, h.Now())
	if err != nil {
		return err
	}
	return h.renderPage(c, http.StatusUnprocessableEntity, p, rs, refused, results)
}

func (h *Promotions) promotion(c echo.Context) (models.Promotion, error) {
	id, err := httpx.PathID(c, "promotion")
	if err != nil {
		return models.Promotion{}, err
	}
	return h.Store.Promotion(c.Request().Context(), id)
}

// readPromotionForm reads the promotion form as typed and validates it.
func readPromotionForm(c echo.Context, t Terms) (views.PromotionForm, models.PromotionSpec, error) {
	f := views.PromotionForm{Choices: promotionChoices, PromotionFields: views.PromotionFields{
		Name:              c.FormValue(views.FieldName),
		Description:       c.FormValue(views.FieldDescription),
		Status:            c.FormValue(views.FieldStatus),
		Kind:              c.FormValue(views.FieldKind),
		DiscountType:      c.FormValue(views.FieldDiscountType),
		DiscountValue:     c.FormValue(views.FieldDiscountValue),
		DiscountCap:       c.FormValue(views.FieldDiscountCap),
		BeginsAt:          c.FormValue(views.FieldBeginsAt),
		EndsAt:            c.FormValue(views.FieldEndsAt),
		MaxUsage:          c.FormValue(views.FieldMaxUsage),
		MaxUsagePerClient: c.FormValue(views.FieldMaxUsagePerClient),
		UTMSource:         c.FormValue(views.FieldUTMSource),
		UTMCampaign:       c.FormValue(views.FieldUTMCampaign),
	}}
	var verr models.ValidationError
	spec, err := models.PromotionInput{
		Name:              f.Name,
		Description:       f.Description,
		Status:            f.Status,
		Kind:              f.Kind,
		DiscountType:      f.DiscountType,
		DiscountValue:     formDiscountValue(&verr, t, f.DiscountType, f.DiscountValue),
		DiscountCap:       t.FormAmount(&verr, views.FieldDiscountCap, f.DiscountCap, true),
		BeginsAt:          formTime(&verr, views.FieldBeginsAt, f.BeginsAt, t.ParseTime),
		EndsAt:            formTime(&verr, views.FieldEndsAt, f.EndsAt, t.ParseEnd),
		MaxUsage:          httpx.FormInt(&verr, views.FieldMaxUsage, f.MaxUsage),
		MaxUsagePerClient: httpx.FormInt(&verr, views.FieldMaxUsagePerClient, f.MaxUsagePerClient),
		UTMSource:         optional(f.UTMSource),
		UTMCampaign:       optional(f.UTMCampaign),
	}.Validate()
	httpx.MergeInvalid(&verr, err)
	return f, spec, verr.Err()
}

// promotionChoices are the options of the promotion forms and filters, in
// the domain's order.
var promotionChoices = views.PromotionChoices{
	Statuses: choices(models.PromotionStatuses, nil),
	Kinds: choices(models.PromotionKinds, map[string]string{
		models.KindRegular: "regular (coupons reach it through UTM tags)",
		models.KindBulk:    "bulk (owns its generated codes)",
		models.KindSeries:  "series (codes issued to customers)",
	}),
	DiscountTypes: choices(models.DiscountTypes, map[string]string{
		models.DiscountPercent: "percentage off",
		models.DiscountFixed:   "fixed amount off",
	}),
}

func choices(values []string, labels map[string]string) []views.Choice {
	out := make([]views.Choice, 0, len(values))
	for _, v := range values {
		label := labels[v]
		if label == "" {
			label = v
		}
		out = append(out, views.Choice{Value: v, Label: label})
	}
	return out
}

// promotionRow turns a promotion into its console view, saying whether it
// is live at now and, when not, why.
func promotionRow(t Terms, p models.Promotion, now time.Time) views.PromotionRow {
	r := views.PromotionRow{
		ID:                p.ID,
		Name:              p.Name,
		Description:       p.Description,
		Status:            p.Status,
		Archived:          p.Status == models.PromotionArchived,
		Kind:              p.Kind,
		Discount:          discountText(t, p.DiscountType, p.DiscountValue),
		AppliesTo:         p.AppliesTo,
		Uses:              p.Uses,
		MaxUsage:          p.MaxUsage,
		MaxUsagePerClient: p.MaxUsagePerClient,
		UTMSource:         httpx.Deref(p.UTMSource),
		UTMCampaign:       httpx.Deref(p.UTMCampaign),
		Live:              p.Live(now),
		LastModified:      t.Time(p.UpdatedAt),
	}
	if p.AppliesTo == models.AppliesToBill {
		r.AppliesTo = "the whole bill"
	}
	if p.DiscountCap != nil {
		r.Cap = t.Amount(p.DiscountCap)
	}
	if p.BeginsAt != nil {
		r.BeginsAt = t.Time(*p.BeginsAt)
	}
	if p.EndsAt != nil {
		r.EndsAt = t.End(*p.EndsAt)
	}
	switch {
	case r.Live:
		r.LiveText = "live now"
	case p.Status != models.PromotionActive:
		r.LiveText = "not live: it is " + p.Status
	case p.DateReason(now) == models.ReasonNotStarted:
		r.LiveText = "not live: begins " + r.BeginsAt
	default:
		r.LiveText = "not live: ended " + r.EndsAt
	}
	return r
}

// discountText says what a discount takes off: "12.5 %" or "5.00 EUR
// off".
func discountText(t Terms, discountType string, value int64) string {
	if discountType == models.DiscountPercent {
		return models.FormatDiscountValue(discountType, value) + " %"
	}
	return t.Money(models.Money(value)) + " off"
}

// discountInput writes a stored discount value for the forms: a
// percentage as the domain writes it ("12.5"), a fixed amount in the
// store's currency ("5.00").
func discountInput(t Terms, discountType string, value int64) string {
	if discountType == models.DiscountFixed {
		return models.Money(value).Format(t.Decimals())
	}
	return models.FormatDiscountValue(discountType, value)
}

// formDiscountValue reads a typed discount value for the domain: a fixed
// amount in the store's currency becomes its minor units (a bad one is
// recorded in verr and left as typed, so the domain adds nothing more
// for it); a percentage, or a value of an unknown type, goes as typed.
func formDiscountValue(verr *models.ValidationError, t Terms, discountType, raw string) string {
	if discountType != models.DiscountFixed || strings.TrimSpace(raw) == "" {
		return raw
	}
	if m := t.FormAmount(verr, views.FieldDiscountValue, raw, true); m != nil {
		return itoa64(*m)
	}
	return raw
}

// redemptionRow turns a redemption into a row of a promotion's page, with
// the part of the discount that this promotion took off.
// redemptions are the page of p's redemptions the query names, with the
// totals of every one that counts.
func (h *Promotions) redemptions(c echo.Context, p models.Promotion) (views.RedemptionList, error) {
	t := TermsOf(c)
	rs, err := redemptionList(c, h.Store, models.RedemptionFilter{PromotionID: p.ID, Limit: redemptionPageSize}, views.PromotionURL(p.ID), redemptionRow(t, p.ID))
	if err != nil {
		return views.RedemptionList{}, err
	}
	// Every redemption, however far back, and those a till recorded a
	// little ahead of the clock.
	all, err := h.Store.TotalsBetween(c.Request().Context(), models.ScopePromotion, itoa(int(p.ID)), time.Unix(0, 0), h.Now().AddDate(0, 0, 1))
	if err != nil {
		return views.RedemptionList{}, err
	}
	rs.Totals = &views.RedemptionTotals{Count: t.Count(all.Redemptions), OrderAmount: t.Amount(&all.Revenue), Discount: t.Amount(&all.Discount)}
	return rs, nil
}

func redemptionRow(t Terms, promotionID int64) func(models.Redemption) views.RedemptionRow {
	return func(r models.Redemption) views.RedemptionRow {
		row := couponRedemptionRow(t, r)
		row.Discount = ""
		for _, rp := range r.Promotions {
			if rp.PromotionID == promotionID {
				row.Discount = t.Amount(rp.Discount)
			}
		}
		return row
	}
}

// promotionReach tells how many coupons carry the tags source and
// campaign as typed; for an edit of promotion before (nil for a new one),
// only tags it did not have already ask for the tick.
func promotionReach(ctx context.Context, store interface {
	TaggedCoupons(ctx context.Context, field, tag string) (int64, error)
}, before *models.Promotion, source, campaign string, ticked bool) (views.PromotionReachView, error) {
	v := views.PromotionReachView{Source: strings.TrimSpace(source), Campaign: strings.TrimSpace(campaign), Ticked: ticked}
	var hadSource, hadCampaign *string
	if before != nil {
		hadSource, hadCampaign = before.UTMSource, before.UTMCampaign
	}
	kept := func(tag string, had *string) bool { return had != nil && strings.EqualFold(*had, tag) }
	var err error
	if v.Source != "" {
		if v.SourceCoupons, err = store.TaggedCoupons(ctx, models.FieldUTMSource, v.Source); err != nil {
			return v, err
		}
		v.Ask = v.Ask || v.SourceCoupons > 0 && !kept(v.Source, hadSource)
	}
	if v.Campaign != "" {
		if v.CampaignCoupons, err = store.TaggedCoupons(ctx, models.FieldUTMCampaign, v.Campaign); err != nil {
			return v, err
		}
		v.Ask = v.Ask || v.CampaignCoupons > 0 && !kept(v.Campaign, hadCampaign)
	}
	return v, nil
}

// ReachPreview answers the promotion form as its tags are typed: how
// many coupons carry them (promotionId names the promotion being
// edited).
func (h *Promotions) ReachPreview(c echo.Context) error {
	ctx := c.Request().Context()
	var before *models.Promotion
	if id, err := strconv.ParseInt(c.FormValue("promotionId"), 10, 64); err == nil && id > 0 {
		p, err := h.Store.Promotion(ctx, id)
		if err != nil {
			return err
		}
		before = &p
	}
	v, err := promotionReach(ctx, h.Store, before, c.FormValue(views.FieldUTMSource), c.FormValue(views.FieldUTMCampaign), c.FormValue(views.FieldConfirmReach) == "true")
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.PromotionReach(v))
}

// checkPromotionReach tells form how many coupons its tags reach and,
// when the form is otherwise valid (err nil), refuses it until the tick
// accepts tags new to the promotion (before, nil for a new one) that
// coupons carry.
func (h *Promotions) checkPromotionReach(c echo.Context, form *views.PromotionForm, before *models.Promotion, err error) error {
	v, rerr := promotionReach(c.Request().Context(), h.Store, before, form.UTMSource, form.UTMCampaign, c.FormValue(views.FieldConfirmReach) == "true")
	if rerr != nil {
		return rerr
	}
	form.Reach = v
	if err == nil && v.Ask && !v.Ticked {
		msg := "Coupons already carry these tags: tick the box to let them give this promotion's discount, or change the tags."
		form.Reach.Error = msg
		return models.Invalid(views.FieldConfirmReach, msg)
	}
	return err
}
