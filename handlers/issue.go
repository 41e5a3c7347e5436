package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// issueSource is the channel the console's issues are recorded under.
const issueSource = "CONSOLE"

// IssueStore is what the issue form needs from the store.
type IssueStore interface {
	ListSeries(ctx context.Context, f models.SeriesFilter) (models.SeriesPage, error)
	SeriesByIDs(ctx context.Context, ids []int64) ([]models.Series, error)
	Issue(ctx context.Context, req models.IssueRequest) (models.Customer, []models.IssueResult, error)
}

// Issue serves "Issue to a customer": one fresh code of each series
// ticked to the customer named by one identifier. Now is the clock that
// says which series are live.
type Issue struct {
	Store IssueStore
	Now   func() time.Time
}

// Form shows the issue form with the active series to tick, those the
// query's series names ticked.
func (h *Issue) Form(c echo.Context) error {
	var ticked []int64
	for _, raw := range c.QueryParams()[views.FieldSeries] {
		if id, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64); err == nil && id > 0 {
			ticked = append(ticked, id)
		}
	}
	return h.render(c, http.StatusOK, views.IssueForm{IdentifierType: views.IdentifierEmail}, ticked)
}

// Create issues one code of each series ticked to the customer and shows
// each series' code or why it gave none, with the form ready for the
// next customer. A form the store refuses as a whole (no series ticked,
// a bad identifier) is re-rendered with 422 and each message beside its
// field, issuing nothing. Identifiers that name different customers fail
// with *models.CustomerMismatchError.
func (h *Issue) Create(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	f := views.IssueForm{IdentifierType: form.Get(views.FieldIdentifierType), Identifier: form.Get(views.FieldIdentifier)}
	var verr models.ValidationError
	var ids []int64
	for _, raw := range form[views.FieldSeries] {
		id, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil || id < 1 {
			verr.Add(views.FieldSeries, "must be among the series listed")
			continue
		}
		ids = append(ids, id)
	}
	ref, known := customerRef(f.IdentifierType, f.Identifier)
	if !known {
		verr.Add(views.FieldIdentifierType, "choose one of customer id, mobile number, email or external id")
	}
	if verr.Err() != nil {
		if known {
			// Show the identifier's own problem too.
			_, nerr := ref.Normalize(models.FieldCustomer + ".")
			httpx.MergeInvalid(&verr, nerr)
		}
		err = &verr
	} else {
		var cust models.Customer
		var results []models.IssueResult
		cust, results, err = h.Store.Issue(c.Request().Context(), models.IssueRequest{SeriesIDs: ids, Customer: ref, Source: issueSource})
		if err == nil {
			f.Result, f.Identifier = issueOutcome(TermsOf(c), cust, results), ""
			return h.render(c, http.StatusOK, f, ids)
		}
	}
	if !issueProblem(err, &f, len(form[views.FieldSeries]) == 0) {
		return err
	}
	return h.render(c, http.StatusUnprocessableEntity, f, ids)
}

// render renders the issue form, or only its section for htmx, offering
// the active series newest first and, after them, any other series
// ticked.
func (h *Issue) render(c echo.Context, status int, f views.IssueForm, ticked []int64) error {
	ctx := c.Request().Context()
	res, err := h.Store.ListSeries(ctx, models.SeriesFilter{Status: models.PromotionActive, Limit: models.MaxListLimit})
	if err != nil {
		return err
	}
	wanted := make(map[int64]bool, len(ticked))
	for _, id := range ticked {
		wanted[id] = true
	}
	listed := map[int64]bool{}
	offered := res.Series
	for _, s := range offered {
		listed[s.ID()] = true
	}
	var others []int64
	for _, id := range ticked {
		if !listed[id] {
			others = append(others, id)
		}
	}
	if len(others) > 0 {
		more, err := h.Store.SeriesByIDs(ctx, others)
		if err != nil {
			return err
		}
		offered = append(offered, more...)
	}
	now := h.Now()
	for _, s := range offered {
		ch := views.SeriesChoice{ID: s.ID(), Name: s.Promotion.Name, Checked: wanted[s.ID()]}
		if r := promotionRow(TermsOf(c), s.Promotion, now); !r.Live {
			ch.Note = r.LiveText
		}
		f.Series = append(f.Series, ch)
	}
	f.IdentifierTypes = identifierTypes
	if wantsFragment(c, views.IssueID) {
		return Render(c, status, views.IssueFragment(csrfToken(c), f))
	}
	return Render(c, status, views.IssuePage(page(c, "Issue to a customer", views.SectionSeries), f))
}

// customerRef names the customer by the one identifier of the type
// chosen; known is false for a type the form does not offer.
func customerRef(kind, value string) (ref models.CustomerRef, known bool) {
	switch kind {
	case views.IdentifierID:
		ref.ID = value
	case views.IdentifierMobile:
		ref.Mobile = value
	case views.IdentifierEmail:
		ref.Email = value
	case views.IdentifierExternalID:
		ref.ExternalID = value
	default:
		return ref, false
	}
	return ref, true
}

// issueProblem records the messages of err, when it is a
// *models.ValidationError, on the issue form beside the series or the
// identifier, and reports whether it was one. noneTicked words the
// message for a form sent without a series.
func issueProblem(err error, f *views.IssueForm, noneTicked bool) bool {
	var verr *models.ValidationError
	if !errors.As(err, &verr) {
		return false
	}
	f.Errors = map[string]string{}
	for _, fe := range verr.Errors {
		name := fe.Field
		switch {
		case name == models.FieldSeries:
			name = views.FieldSeries
		case name == models.FieldCustomer:
			// The domain lists its field names; the form has one box.
			name, fe.Message = views.FieldIdentifier, "name the customer: type their identifier"
		case strings.HasPrefix(name, models.FieldCustomer+"."):
			name = views.FieldIdentifier
		}
		if f.Errors[name] == "" {
			f.Errors[name] = fe.Message
		}
	}
	if noneTicked && f.Errors[views.FieldSeries] != "" {
		f.Errors[views.FieldSeries] = "tick at least one series"
	}
	f.FormError = strayMessages(f.Errors, issueFormFields)
	return true
}

// issueFormFields are the fields the issue form shows a message beside.
var issueFormFields = map[string]bool{views.FieldSeries: true, views.FieldIdentifierType: true, views.FieldIdentifier: true}

// issueOutcome is the customer and each series' result, in the order
// the store gave them (the order listed).
func issueOutcome(t Terms, cust models.Customer, results []models.IssueResult) *views.IssueOutcome {
	out := &views.IssueOutcome{Customer: customerRow(t, cust)}
	for _, r := range results {
		row := views.IssueResultRow{SeriesID: r.SeriesID, Reason: r.Reason, Message: issueFailure(t, r)}
		if r.Series != nil {
			row.SeriesName = r.Series.Promotion.Name
		}
		if r.Coupon != nil {
			row.Code = r.Coupon.Code
		}
		out.Rows = append(out.Rows, row)
	}
	return out
}

// issueFailure says why a series gave no code in a marketer's words and
// what would let it give one; the store's message, written for API
// clients, names series by id and times in UTC. "" when a code was
// issued.
func issueFailure(t Terms, r models.IssueResult) string {
	var p models.Promotion
	if r.Series != nil {
		p = r.Series.Promotion
	}
	switch r.Reason {
	case "":
		return ""
	case models.IssueSeriesNotFound:
		return fmt.Sprintf("There is no series #%d.", r.SeriesID)
	case models.IssueSeriesInactive:
		if p.Status == models.PromotionArchived {
			return "This series is archived: unarchive it and make it active to issue its codes."
		}
		return "This series is " + p.Status + ": edit it and make it active to issue its codes."
	case models.IssueSeriesExpired:
		if p.EndsAt != nil {
			return "This series ended on " + t.Time(*p.EndsAt) + ": it issues no more codes."
		}
		return "This series has ended: it issues no more codes."
	case models.IssueMaxCreate:
		return "This series has issued " + views.Counted(int64(r.Limit), "code", "codes") + ", its Max codes issued: raise that limit to issue more."
	case models.IssueCustomerLimit:
		return "This customer already holds " + views.Counted(int64(r.Held), "code", "codes") + " of this series, its Max codes per customer."
	case models.IssueActiveCap:
		return "This store's limit on coupons in use (not archived) is reached. Archive coupons that are no longer needed, or ask whoever runs coupond to raise the limit."
	case models.IssueCodesExhausted:
		return "This series' code format has too few codes left: edit the series to make its codes longer."
	}
	return r.Message
}

// identifierTypes are the issue form's ways of naming a customer.
var identifierTypes = []views.Choice{
	{Value: views.IdentifierID, Label: "customer id"},
	{Value: views.IdentifierMobile, Label: "mobile number"},
	{Value: views.IdentifierEmail, Label: "email"},
	{Value: views.IdentifierExternalID, Label: "external id"},
}
