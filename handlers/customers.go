package handlers

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// CustomerStore is what the console's customer pages need from the
// store.
type CustomerStore interface {
	SearchCustomers(ctx context.Context, f models.CustomerFilter) ([]models.Customer, error)
	Customer(ctx context.Context, id string) (models.Customer, error)
	CustomerCodes(ctx context.Context, customerID, after string, limit int) (models.CustomerCodePage, error)
}

// Customers serves the customer search and each customer's page. Now is
// the clock that says how a customer's codes stand.
type Customers struct {
	Store CustomerStore
	Now   func() time.Time
}

// List finds the customers any of whose identifiers is the query; an
// htmx request aimed at the results gets only them.
func (h *Customers) List(c echo.Context) error {
	v := views.CustomerSearch{Query: c.QueryParam(views.FieldQuery)}
	cs, err := h.Store.SearchCustomers(c.Request().Context(), models.CustomerFilter{Query: v.Query})
	if err != nil {
		return err
	}
	for _, cust := range cs {
		v.Rows = append(v.Rows, customerRow(TermsOf(c), cust))
	}
	if wantsFragment(c, views.CustomerResultsID) {
		return Render(c, http.StatusOK, views.CustomerResults(v))
	}
	return Render(c, http.StatusOK, views.CustomersPage(page(c, "Customers", views.SectionCustomers), v))
}

// Show is a customer's page: its identifiers and one page of every code
// made for it, newest first; an htmx request aimed at the codes gets
// only that page of them. A cursor that no longer works gives the newest
// with a note. It fails with ErrNotFound.
func (h *Customers) Show(c echo.Context) error {
	ctx := c.Request().Context()
	cust, err := h.Store.Customer(ctx, pathText(c, "id"))
	if err != nil {
		return err
	}
	codes, err := issuedCodeList(TermsOf(c), c.QueryParam("after"), views.CustomerURL(cust.ID), "That page link is not valid any more, so these are the newest codes.", h.Now(),
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
	v := views.CustomerDetail{Customer: customerRow(TermsOf(c), cust), Codes: codes}
	return Render(c, http.StatusOK, views.CustomerPage(page(c, "Customer "+cust.ID, views.SectionCustomers), v))
}

func customerRow(t Terms, c models.Customer) views.CustomerRow {
	return views.CustomerRow{ID: c.ID, Identifiers: c.Identifiers(), CreatedAt: t.Time(c.CreatedAt)}
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
