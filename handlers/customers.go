package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// CustomerStore is what the console's customer pages need from the
// store.
type CustomerStore interface {
	ListCustomers(ctx context.Context, f models.CustomerFilter) (models.CustomerPage, error)
	Customer(ctx context.Context, id string) (models.Customer, error)
	CustomerCodes(ctx context.Context, customerID, after string, limit int) (models.CustomerCodePage, error)
	ListRedemptions(ctx context.Context, f models.RedemptionFilter) (models.RedemptionPage, error)
}

// customerPageSize is how many customers the list shows at once.
const customerPageSize = 50

// Customers serves the customer list and each customer's page. Now is
// the clock that says how a customer's codes stand.
type Customers struct {
	Store CustomerStore
	Now   func() time.Time
}

// List shows one page of the customers, most recent activity first, of
// those the query finds when there is one (any identifier, or the start
// of an email); an htmx request aimed at the results gets only them. A
// cursor that no longer works gives the first page with a note.
func (h *Customers) List(c echo.Context) error {
	ctx := c.Request().Context()
	v := views.CustomerSearch{Query: c.QueryParam(views.FieldQuery)}
	f := models.CustomerFilter{Query: v.Query, After: c.QueryParam("after"), Limit: customerPageSize}
	res, err := h.Store.ListCustomers(ctx, f)
	if verr := (*models.ValidationError)(nil); errors.As(err, &verr) && f.After != "" {
		v.Error = "That page link is not valid any more, so these are the most recently active customers."
		f.After = ""
		res, err = h.Store.ListCustomers(ctx, f)
	}
	if err != nil {
		return err
	}
	for _, lc := range res.Customers {
		row := customerRow(TermsOf(c), lc.Customer)
		row.Codes = lc.Codes
		v.Rows = append(v.Rows, row)
	}
	base := queryURL(views.CustomersURL, map[string]string{views.FieldQuery: v.Query})
	if res.Next != "" {
		v.NextURL = queryURL(views.CustomersURL, map[string]string{views.FieldQuery: v.Query, "after": res.Next})
	}
	if f.After != "" {
		v.FirstURL = base
	}
	if wantsFragment(c, views.CustomerResultsID) {
		return Render(c, http.StatusOK, views.CustomerResults(v))
	}
	return Render(c, http.StatusOK, views.CustomersPage(page(c, "Customers", views.SectionCustomers), v))
}

// Show is a customer's page: its identifiers, savings and redemption
// count, one page of every code made for it and one of its redemptions,
// each newest first; an htmx request aimed at the codes or the
// redemptions gets only that page of them. A cursor that no longer
// works gives the newest with a note. It fails with ErrNotFound.
func (h *Customers) Show(c echo.Context) error {
	ctx := c.Request().Context()
	cust, err := h.Store.Customer(ctx, pathText(c, "id"))
	if err != nil {
		return err
	}
	base := views.CustomerURL(cust.ID)
	if wantsFragment(c, views.CustomerRedemptionsID) {
		rs, err := h.redemptions(c, cust.ID)
		if err != nil {
			return err
		}
		return Render(c, http.StatusOK, views.CustomerRedemptions(rs))
	}
	codes, err := issuedCodeList(TermsOf(c), c.QueryParam("after"), base, "That page link is not valid any more, so these are the newest codes.", h.Now(),
		func(after string) ([]models.IssuedCode, string, error) {
			res, err := h.Store.CustomerCodes(ctx, cust.ID, after, codePageSize)
			return res.Codes, res.Next, err
		})
	if err != nil {
		return err
	}
	if wantsFragment(c, views.CustomerCodesID) {
		return Render(c, http.StatusOK, views.CustomerCodes(codes))
	}
	rs, err := h.redemptions(c, cust.ID)
	if err != nil {
		return err
	}
	v := views.CustomerDetail{Customer: customerRow(TermsOf(c), cust), Codes: codes, Redemptions: rs}
	return Render(c, http.StatusOK, views.CustomerPage(page(c, "Customer "+cust.ID, views.SectionCustomers), v))
}

// redemptions is the page of the customer's redemptions the query's
// views.RedemptionsAfter names.
func (h *Customers) redemptions(c echo.Context, id string) (views.RedemptionList, error) {
	f := models.RedemptionFilter{CustomerID: id, Limit: redemptionPageSize}
	return redemptionListAt(c, h.Store, f, views.CustomerURL(id), views.RedemptionsAfter, listedRedemptionRow(TermsOf(c)))
}

func customerRow(t Terms, c models.Customer) views.CustomerRow {
	return views.CustomerRow{ID: c.ID, Identifiers: c.Identifiers(), Email: httpx.Deref(c.Email), Mobile: httpx.Deref(c.Mobile), ExternalID: httpx.Deref(c.ExternalID),
		Redemptions: c.Redemptions, Savings: t.Amount(&c.Savings), CreatedAt: t.Time(c.CreatedAt), LastActivity: t.Time(c.LastActivityAt)}
}

// pathText is the path parameter name as text. The router hands it over
// still escaped when the path escapes a character it would otherwise
// read (a customer id with a '/'), and unescaped otherwise.
func pathText(c echo.Context, name string) string {
	v := c.Param(name)
	if c.Request().URL.RawPath == "" {
		return v
	}
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}
