package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// CouponStore is what the console's coupon pages need from the store.
type CouponStore interface {
	Coupon(ctx context.Context, code string) (models.Coupon, error)
	ListCoupons(ctx context.Context, f models.CouponFilter) (models.CouponPage, error)
	CreateCoupon(ctx context.Context, spec models.CouponSpec) (models.Coupon, error)
	UpdateCoupon(ctx context.Context, code string, spec models.CouponSpec) (models.Coupon, error)
	SetCouponArchived(ctx context.Context, code string, archived bool) (models.Coupon, error)
	PromotionsReaching(ctx context.Context, cs []models.Coupon) ([]models.Promotion, error)
	ActivePromotions(ctx context.Context) ([]models.Promotion, error)
	CouponPromotions(ctx context.Context, c models.Coupon) ([]models.Promotion, error)
	ListRedemptions(ctx context.Context, f models.RedemptionFilter) (models.RedemptionPage, error)
	EachCoupon(ctx context.Context, f models.CouponFilter, fn func(models.Coupon) error) error
	HeldReservations(ctx context.Context, couponID int64, limit int) ([]models.Reservation, error)
}

// holdsShown is how many live reservations a coupon's page lists.
const holdsShown = 20

// redemptionsPerPage is how many redemptions a coupon's page lists at a
// time.
const redemptionsPerPage = 20

// Coupons serves the console's coupon pages.
type Coupons struct {
	Store CouponStore
	// Now is the clock that says whether a promotion is live.
	Now func() time.Time
}

// List shows one page of coupons, filtered; an htmx request aimed at the
// table gets only the table.
func (h *Coupons) List(c echo.Context) error {
	q := c.QueryParams()
	ctx := c.Request().Context()
	now := h.Now()
	v := views.CouponList{Query: q.Get("q"), UTMSource: q.Get("utmSource"), UTMCampaign: q.Get("utmCampaign"), State: q.Get("state"), Sort: q.Get("sort")}
	if v.State != "" && !models.ValidCouponState(v.State) {
		v.Error = "There is no state \"" + v.State + "\", so this is every coupon."
		v.State = ""
	}
	if v.Sort != "" && !slices.Contains(models.CouponSorts, v.Sort) {
		v.Error = "The list cannot be sorted that way, so it is in code order."
		v.Sort = ""
	}
	v.Sorts = sortLinks(v)
	f := models.CouponFilter{Search: v.Query, UTMSource: v.UTMSource, UTMCampaign: v.UTMCampaign, TagPrefix: true, State: v.State, Sort: v.Sort, At: now, After: q.Get("after")}
	res, err := h.Store.ListCoupons(ctx, f)
	if verr := (*models.ValidationError)(nil); errors.As(err, &verr) && f.After != "" {
		v.Error = "That page link is not valid any more, so this is the first page."
		f.After = ""
		res, err = h.Store.ListCoupons(ctx, f)
	}
	if err != nil {
		return err
	}
	ps, err := h.Store.PromotionsReaching(ctx, res.Coupons)
	if err != nil {
		return err
	}
	for _, cp := range res.Coupons {
		v.Rows = append(v.Rows, stateRow(TermsOf(c), cp, ps, now))
	}
	if res.Next != "" {
		v.NextURL = listURL(v, res.Next)
	}
	if f.After != "" {
		v.FirstURL = listURL(v, "")
	}
	v.CSVURL = queryURL("/coupons.csv", listQuery(v, ""))
	if wantsFragment(c, views.CouponTableID) {
		return Render(c, http.StatusOK, views.CouponTable(csrfToken(c), canEdit(c), v))
	}
	return Render(c, http.StatusOK, views.CouponsPage(page(c, "Coupons", views.SectionCoupons), v))
}

// CSV streams the coupons the list shows under the same filters (q,
// utmSource, utmCampaign, state, and status: archived or not), every
// page of them, as the API's CSV. An unknown state or status is a 422.
func (h *Coupons) CSV(c echo.Context) error {
	return httpx.CouponsCSV(c, h.Store, exportTerms(TermsOf(c)), h.Now())
}

func listURL(v views.CouponList, after string) string {
	return queryURL("/coupons", listQuery(v, after))
}

// listQuery is the list's filters and order as a query, with the cursor
// after.
func listQuery(v views.CouponList, after string) map[string]string {
	return map[string]string{"q": v.Query, "utmSource": v.UTMSource, "utmCampaign": v.UTMCampaign, "state": v.State, "sort": v.Sort, "after": after}
}

// firstSort is the way a column sorts when its header is first clicked:
// codes A to Z, the most used first, the soonest ending first, the
// newest first.
var firstSort = map[string]string{"code": "code", "uses": "-uses", "ends": "ends", "created": "-created"}

// sortLinks are the list's sortable headers: each sorts by its column
// under the same filters, from the first page; the column the list is
// sorted by sorts the other way round.
func sortLinks(v views.CouponList) map[string]views.SortLink {
	current := cmp.Or(v.Sort, "code")
	links := map[string]views.SortLink{}
	for col, first := range firstSort {
		link := views.SortLink{}
		next := first
		switch current {
		case col:
			link.Dir, next = "ascending", "-"+col
		case "-" + col:
			link.Dir, next = "descending", col
		}
		w := v
		w.Sort = next
		if next == "code" {
			w.Sort = ""
		}
		link.URL = listURL(w, "")
		links[col] = link
	}
	return links
}

// Show is a coupon's page: the coupon, the promotions it activates and a
// page of its redemptions; an htmx request aimed at the redemptions gets
// only those.
func (h *Coupons) Show(c echo.Context) error {
	ctx := c.Request().Context()
	cp, err := h.Store.Coupon(ctx, c.Param("code"))
	if err != nil {
		return err
	}
	reds, err := redemptionList(c, h.Store, models.RedemptionFilter{CouponID: cp.ID, Limit: redemptionsPerPage}, views.CouponURL(cp.Code), func(r models.Redemption) views.RedemptionRow { return couponRedemptionRow(TermsOf(c), r) })
	if err != nil {
		return err
	}
	if wantsFragment(c, views.CouponRedemptionsID) {
		return Render(c, http.StatusOK, views.CouponRedemptions(csrfToken(c), canEdit(c), reds))
	}
	ps, err := h.Store.CouponPromotions(ctx, cp)
	if err != nil {
		return err
	}
	now := h.Now()
	v := views.CouponDetail{Coupon: stateRow(TermsOf(c), cp, ps, now), Redemptions: reds}
	holds, err := h.Store.HeldReservations(ctx, cp.ID, holdsShown+1)
	if err != nil {
		return err
	}
	if len(holds) > holdsShown {
		holds, v.MoreHolds = holds[:holdsShown], true
	}
	for _, r := range holds {
		v.Holds = append(v.Holds, views.HoldRow{OrderID: r.OrderID, CustomerID: r.CustomerID, Items: r.Items,
			Amount: TermsOf(c).Amount(r.OrderAmount), Until: TermsOf(c).Time(r.ExpiresAt)})
	}
	for _, p := range ps {
		v.Promotions = append(v.Promotions, promotionRow(TermsOf(c), p, now))
	}
	return Render(c, http.StatusOK, views.CouponDetailPage(page(c, "Coupon "+cp.Code, views.SectionCoupons), v))
}

// New shows the empty coupon form.
func (h *Coupons) New(c echo.Context) error {
	f := views.NewCouponForm()
	var err error
	if f.Reach, err = reachOf(c, h.Store, reachForm{}, h.Now()); err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.CouponFormPage(page(c, "New coupon", views.SectionNew), f))
}

// Create creates a coupon from the form, or re-renders it with 422 and a
// message beside each bad field.
func (h *Coupons) Create(c echo.Context) error {
	form, spec, err := readCouponForm(c, "")
	if err = h.checkReach(c, &form, "", err); err == nil {
		var cp models.Coupon
		if cp, err = h.Store.CreateCoupon(c.Request().Context(), spec); err == nil {
			notify(c, "Coupon "+cp.Code+" created.")
			return seeOther(c, views.CouponURL(cp.Code))
		}
	}
	return h.formFailed(c, "New coupon", views.SectionNew, form, err)
}

// Edit shows the form filled with a coupon's configuration.
func (h *Coupons) Edit(c echo.Context) error {
	cp, err := h.Store.Coupon(c.Request().Context(), c.Param("code"))
	if err != nil {
		return err
	}
	r := couponRow(TermsOf(c), cp)
	form := views.CouponForm{Editing: true, CouponFields: views.CouponFields{
		Code: r.Code, UTMSource: r.UTMSource, UTMCampaign: r.UTMCampaign,
		MaxItemsPerClient: itoa(r.MaxItemsPerClient), MaxUsage: itoa(r.MaxUsage), MaxUsagePerClient: itoa(r.MaxUsagePerClient),
		ExpirationIntervalPerUse: r.ExpirationIntervalPerUse,
	}}
	if form.Reach, err = reachOf(c, h.Store, reachForm{source: r.UTMSource, campaign: r.UTMCampaign, editing: cp.Code}, h.Now()); err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.CouponFormPage(page(c, "Edit "+cp.Code, views.SectionCoupons), form))
}

// Update saves the edit form; the code in the path is the one kept.
func (h *Coupons) Update(c echo.Context) error {
	cp, err := h.Store.Coupon(c.Request().Context(), c.Param("code"))
	if err != nil {
		return err
	}
	form, spec, err := readCouponForm(c, cp.Code)
	if err = h.checkReach(c, &form, cp.Code, err); err == nil {
		if cp, err = h.Store.UpdateCoupon(c.Request().Context(), cp.Code, spec); err == nil {
			notify(c, "Coupon "+cp.Code+" saved.")
			return seeOther(c, views.CouponURL(cp.Code))
		}
	}
	return h.formFailed(c, "Edit "+cp.Code, views.SectionCoupons, form, err)
}

// checkReach tells the form which promotions its coupon (editing, ""
// for a new one) will reach and, when the form is otherwise valid (err
// nil), refuses it until the tick accepts promotions it did not reach
// before.
func (h *Coupons) checkReach(c echo.Context, form *views.CouponForm, editing string, err error) error {
	reach, rerr := reachOf(c, h.Store, reachForm{source: form.UTMSource, campaign: form.UTMCampaign, editing: editing,
		ticked: c.FormValue(views.FieldConfirmReach) == "true"}, h.Now())
	if rerr != nil {
		return rerr
	}
	form.Reach = reach
	return refuseUnmeant(&form.Reach, err)
}

// formFailed re-renders the coupon form with 422 for input the user can
// fix, and passes any other error on.
func (h *Coupons) formFailed(c echo.Context, title, section string, form views.CouponForm, err error) error {
	if !formProblem(err, &form.Errors, &form.FormError) {
		return err
	}
	if wantsFragment(c, views.CouponFormID) {
		return Render(c, http.StatusUnprocessableEntity, views.CouponFormFragment(csrfToken(c), form))
	}
	return Render(c, http.StatusUnprocessableEntity, views.CouponFormPage(page(c, title, section), form))
}

// Archive archives a coupon so it stops working; the row or status block
// is swapped in place for htmx. It fails with ErrNotFound.
func (h *Coupons) Archive(c echo.Context) error { return h.setArchived(c, true) }

// Unarchive makes an archived coupon usable again, within the active cap.
// It fails with ErrNotFound and *models.ActiveCapError.
func (h *Coupons) Unarchive(c echo.Context) error { return h.setArchived(c, false) }

func (h *Coupons) setArchived(c echo.Context, archived bool) error {
	cp, err := h.Store.SetCouponArchived(c.Request().Context(), c.Param("code"), archived)
	if capErr := (*models.ActiveCapError)(nil); errors.As(err, &capErr) {
		// The API names the flag; a marketer is told what to do.
		return echo.NewHTTPError(http.StatusConflict, capMessage(capErr))
	}
	if err != nil {
		return err
	}
	if archived {
		notify(c, "Coupon "+cp.Code+" archived: checkouts refuse it until it is unarchived.")
	} else {
		notify(c, "Coupon "+cp.Code+" unarchived: checkouts accept it again.")
	}
	if !wantsFragment(c, views.CouponRowID(cp.ID)) && !wantsFragment(c, views.CouponStatusID) {
		return seeOther(c, views.CouponURL(cp.Code))
	}
	ps, err := h.Store.CouponPromotions(c.Request().Context(), cp)
	if err != nil {
		return err
	}
	r := stateRow(TermsOf(c), cp, ps, h.Now())
	if wantsFragment(c, views.CouponRowID(cp.ID)) {
		return Render(c, http.StatusOK, views.CouponTableRow(csrfToken(c), canEdit(c), r))
	}
	return Render(c, http.StatusOK, views.CouponStatus(csrfToken(c), canEdit(c), r, false))
}

// readCouponForm reads the coupon form as typed and validates it. With
// keepCode set (editing), the code comes from the path, not the form.
func readCouponForm(c echo.Context, keepCode string) (views.CouponForm, models.CouponSpec, error) {
	form := views.CouponForm{Editing: keepCode != "", CouponFields: readCouponFields(c)}
	if keepCode != "" {
		form.Code = keepCode
	}
	var verr models.ValidationError
	spec := validateCouponFields(form.CouponFields, &verr)
	return form, spec, verr.Err()
}

// readCouponFields reads the configuration fields that the coupon and the
// generation forms share.
func readCouponFields(c echo.Context) views.CouponFields {
	return views.CouponFields{
		Code:                     c.FormValue(views.FieldCode),
		UTMSource:                c.FormValue(views.FieldUTMSource),
		UTMCampaign:              c.FormValue(views.FieldUTMCampaign),
		MaxItemsPerClient:        c.FormValue(views.FieldMaxItemsPerClient),
		MaxUsage:                 c.FormValue(views.FieldMaxUsage),
		MaxUsagePerClient:        c.FormValue(views.FieldMaxUsagePerClient),
		ExpirationIntervalPerUse: c.FormValue(views.FieldExpirationIntervalPerUse),
	}
}

// validateCouponFields converts typed fields into a spec, recording every
// problem in verr; the spec is meaningful only when verr stays empty.
func validateCouponFields(f views.CouponFields, verr *models.ValidationError) models.CouponSpec {
	// The form always shows max uses per customer, so blank is 0
	// (unlimited) as for the other limits, never "leave as it is".
	spec, err := models.CouponInput{
		Code:                     f.Code,
		UTMSource:                optional(f.UTMSource),
		UTMCampaign:              optional(f.UTMCampaign),
		MaxItemsPerClient:        httpx.FormInt(verr, views.FieldMaxItemsPerClient, f.MaxItemsPerClient),
		MaxUsage:                 httpx.FormInt(verr, views.FieldMaxUsage, f.MaxUsage),
		MaxUsagePerClient:        new(httpx.FormInt(verr, views.FieldMaxUsagePerClient, f.MaxUsagePerClient)),
		ExpirationIntervalPerUse: f.ExpirationIntervalPerUse,
	}.Validate()
	httpx.MergeInvalid(verr, err)
	return spec
}

// consoleFieldNames are the console's form names for the domain fields
// whose names differ.
var consoleFieldNames = map[string]string{
	models.FieldCode:   views.FieldCode,
	models.FieldCursor: "before",
}

// formMessages keys the messages of verr by form field name.
func formMessages(verr *models.ValidationError) map[string]string {
	return fieldMessages(verr, consoleFieldNames)
}

// fieldMessages keys the first message of each field of verr by the
// field's name, renamed by names where it names it.
func fieldMessages(verr *models.ValidationError, names map[string]string) map[string]string {
	msgs := make(map[string]string, len(verr.Errors))
	for _, fe := range verr.Errors {
		name := fe.Field
		if n, ok := names[name]; ok {
			name = n
		}
		if _, seen := msgs[name]; !seen {
			msgs[name] = consoleMessage(fe.Message)
		}
	}
	return msgs
}

var (
	rangeMessage    = regexp.MustCompile(`\b(?:from|between) (\d+) (?:to|and) (\d+)\b`)
	capacityMessage = regexp.MustCompile(`^the format .+ can make (\d+) codes, and (\d+) more beside the (\d+) of its shape that exist would fill more than half of them; (.+)$`)
)

// consoleMessage words a domain message beside a form field as the
// console speaks: the domain writes for API clients, with the values a
// select sends and numbers without separators.
func consoleMessage(msg string) string {
	if strings.HasPrefix(msg, "must be one of ") {
		// The values listed are the API's; the form offers them in words.
		return "must be one of the choices listed"
	}
	if m := capacityMessage.FindStringSubmatch(msg); m != nil {
		advice := strings.ToUpper(m[4][:1]) + m[4][1:]
		return "This format can make " + views.GroupDigits(m[1]) + " codes; " + views.GroupDigits(m[2]) + " more, with the " +
			views.GroupDigits(m[3]) + " of this shape already made, would fill more than half of them. " + advice + "."
	}
	return rangeMessage.ReplaceAllStringFunc(msg, func(r string) string {
		m := rangeMessage.FindStringSubmatch(r)
		return "from " + views.GroupDigits(m[1]) + " to " + views.GroupDigits(m[2])
	})
}

// formProblem records err on a form when it is something the user can fix:
// field messages for invalid or duplicate input, a form message for the
// active coupon cap. It reports whether err was such a problem.
func formProblem(err error, fields *map[string]string, formErr *string) bool {
	var verr *models.ValidationError
	var dup *models.DuplicateCodeError
	var capErr *models.ActiveCapError
	switch {
	case errors.As(err, &verr):
		*fields = formMessages(verr)
	case errors.As(err, &dup):
		*fields = map[string]string{views.FieldCode: "already exists (codes are compared ignoring case); choose another code"}
	case errors.As(err, &capErr):
		*formErr = capMessage(capErr)
	default:
		return false
	}
	return true
}

// capMessage says the active coupon cap in a marketer's words, where the
// API names the flag that raises it.
func capMessage(e *models.ActiveCapError) string {
	return fmt.Sprintf("This store allows at most %s in use (not archived) at once; %s in use now, and this would add %s. Archive coupons that are no longer needed, or ask whoever runs coupond to raise the limit.",
		views.Counted(int64(e.Cap), "coupon", "coupons"), views.Counted(e.Active, "is", "are"), views.Counted(int64(e.Adding), "more", "more"))
}
