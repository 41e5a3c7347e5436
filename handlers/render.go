// Package handlers holds the console's pages, one file per resource. A
// handler reads its form or query, makes one call into models and
// renders, redirects or streams a CSV; errors go to the server's central
// error handler, which writes them with Errors. The APIs are in the
// packages below: api (the native JSON API) and one package per dialect
// (vtex, bigcommerce, capillary); httpx holds what they all share.
package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// CSRFContextKey is where the CSRF middleware leaves the token for forms.
const CSRFContextKey = "csrf"

// UserKey is where the session middleware leaves the signed-in *models.User.
const UserKey = "user"

// CurrentUser is the signed-in user, or nil.
func CurrentUser(c echo.Context) *models.User {
	u, _ := c.Get(UserKey).(*models.User)
	return u
}

// canEdit reports whether the signed-in user may change coupons.
func canEdit(c echo.Context) bool {
	u := CurrentUser(c)
	return u != nil && models.CanEdit(u.Role)
}

// Render writes a templ component as HTML with the given status. The
// page is rendered whole before anything is sent, so that a template
// error becomes the central error handler's 500, never a page cut short
// under a 200.
func Render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	ctx := views.WithStore(c.Request().Context(), TermsOf(c).view())
	if err := comp.Render(ctx, &buf); err != nil {
		return fmt.Errorf("render %s: %w", c.Path(), err)
	}
	// A fragment swapped in by htmx carries the notice a change left, to
	// the page's notice region; a whole page took it already (page).
	if c.Request().Header.Get("HX-Request") == "true" && status < http.StatusBadRequest {
		if notice := popNotice(c); notice != "" {
			if err := views.NoticeOOB(notice).Render(ctx, &buf); err != nil {
				return fmt.Errorf("render %s: %w", c.Path(), err)
			}
		}
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// wantsFragment reports whether an htmx request targets the fragment with
// the given id, in which case only that fragment is rendered.
//
// The answer then depends on those two headers, which Vary says, so that
// no cache and no back button shows a fragment as the page.
func wantsFragment(c echo.Context, id string) bool {
	varyOnHTMX(c, "HX-Request, HX-Target")
	h := c.Request().Header
	return h.Get("HX-Request") == "true" && h.Get("HX-Target") == id
}

// varyOnHTMX adds the htmx request headers an answer depends on to its
// Vary header, once.
func varyOnHTMX(c echo.Context, headers string) {
	h := c.Response().Header()
	if !slices.Contains(h.Values(echo.HeaderVary), headers) {
		h.Add(echo.HeaderVary, headers)
	}
}

// seeOther ends a successful form post: 303 for a plain browser request,
// HX-Location for htmx so it loads the page as a navigation.
func seeOther(c echo.Context, url string) error {
	if c.Request().Header.Get("HX-Request") == "true" {
		c.Response().Header().Set("HX-Location", url)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, url)
}

// page builds the common page data for a console page.
func page(c echo.Context, title, section string) views.Page {
	p := views.Page{Title: title, Section: section, CSRF: csrfToken(c), Notice: popNotice(c)}
	if u := CurrentUser(c); u != nil {
		p.User = &views.SignedIn{Email: u.Email, Role: u.Role, CanEdit: models.CanEdit(u.Role), IsAdmin: models.CanAdmin(u.Role)}
	}
	return p
}

func csrfToken(c echo.Context) string {
	token, _ := c.Get(CSRFContextKey).(string)
	return token
}

// couponRow turns a coupon into its console view, in the store's terms.
func couponRow(t Terms, c models.Coupon) views.CouponRow {
	return views.CouponRow{
		ID:                       c.ID,
		Code:                     c.Code,
		UTMSource:                httpx.Deref(c.UTMSource),
		UTMCampaign:              httpx.Deref(c.UTMCampaign),
		MaxUsage:                 c.MaxUsage,
		MaxItemsPerClient:        c.MaxItemsPerClient,
		MaxUsagePerClient:        c.MaxUsagePerClient,
		CustomerID:               httpx.Deref(c.CustomerID),
		Uses:                     c.Uses,
		ExpirationIntervalPerUse: models.FormatTimeSpan(c.ExpirationIntervalPerUse),
		Archived:                 c.Archived,
		LastModified:             t.Time(c.UpdatedAt),
		Ends:                     t.OptionalEnd(c.ExpiresAt),
		Created:                  t.Date(c.CreatedAt),
		CreatedTime:              t.Time(c.CreatedAt),
	}
}

// stateRow is couponRow with the coupon's state at now and the
// promotions it reaches, read from ps (promotions that reach c or other
// coupons, of any status).
func stateRow(t Terms, c models.Coupon, ps []models.Promotion, now time.Time) views.CouponRow {
	r := couponRow(t, c)
	var reaching []models.Promotion
	for _, p := range ps {
		if p.Reaches(c) {
			reaching = append(reaching, p)
			r.Promotions = append(r.Promotions, views.PromotionLink{ID: p.ID, Name: p.Name})
		}
	}
	r.State = models.CouponState(c, reaching, now)
	r.StateWhy = stateWhy(t, c, reaching, r.State, now)
	return r
}

// stateWhy says in a sentence why c, reached by ps, is in state at now,
// and what would change it.
func stateWhy(t Terms, c models.Coupon, ps []models.Promotion, state string, now time.Time) string {
	switch state {
	case models.CouponArchived:
		return "Archived: checkouts refuse it until it is unarchived."
	case models.CouponUsedUp:
		switch {
		case c.MaxUsage > 0 && c.Uses >= c.MaxUsage:
			return "All " + t.Count(int64(c.MaxUsage)) + " of its uses are taken; cancelling a redemption frees one."
		case c.UsedUp():
			return "Its customer has used it; cancelling the redemption frees it again."
		}
		return "The promotions it reaches have used up their uses, so it gives no discount."
	case models.CouponExpired:
		if c.ExpiresAt != nil && !now.Before(*c.ExpiresAt) {
			return "It ended on " + t.Time(*c.ExpiresAt) + "."
		}
		return "Every promotion it reaches has ended."
	case models.CouponNotStarted:
		// The state says one of ps is active and yet to begin.
		var first models.Promotion
		for _, p := range ps {
			if p.Status == models.PromotionActive && p.DateReason(now) == models.ReasonNotStarted && (first.BeginsAt == nil || p.BeginsAt.Before(*first.BeginsAt)) {
				first = p
			}
		}
		return "It gives a discount from " + t.Time(*first.BeginsAt) + ", when " + first.Name + " begins."
	case models.CouponNoActivePromotion:
		if c.PromotionID == nil && c.UTMSource == nil && c.UTMCampaign == nil {
			return "It has no UTM source or campaign, so it reaches no promotion and gives no discount."
		}
		return "Its UTM source and campaign reach no active promotion, so it gives no discount."
	}
	if c.ExpiresAt != nil {
		return "Customers can redeem it until " + t.Time(*c.ExpiresAt) + "."
	}
	return "Customers can redeem it now."
}

// couponRedemptionRow turns a redemption into a row of its coupon's
// page, with the whole discount it took, in the store's terms.
func couponRedemptionRow(t Terms, r models.Redemption) views.RedemptionRow {
	return views.RedemptionRow{ID: r.ID, Code: r.Code, CustomerID: r.CustomerID, OrderID: r.OrderID, Items: r.Items, At: t.Time(r.CreatedAt),
		OrderAmount: t.Amount(r.OrderAmount), Discount: t.Amount(r.Discount), Cancelled: t.OptionalTime(r.CancelledAt)}
}

func itoa(n int) string { return strconv.Itoa(n) }

// redemptionLister is the store method the redemption pages read with.
type redemptionLister interface {
	ListRedemptions(ctx context.Context, f models.RedemptionFilter) (models.RedemptionPage, error)
}

// redemptionList reads the page of the redemptions f selects that the
// query's after names, for the page at base; a cursor that no longer
// works gives the newest with a note.
func redemptionList(c echo.Context, store redemptionLister, f models.RedemptionFilter, base string, row func(models.Redemption) views.RedemptionRow) (views.RedemptionList, error) {
	return redemptionListAt(c, store, f, base, "after", row)
}

// redemptionListAt is redemptionList paged by the query parameter
// param, for a page that pages another list by "after".
func redemptionListAt(c echo.Context, store redemptionLister, f models.RedemptionFilter, base, param string, row func(models.Redemption) views.RedemptionRow) (views.RedemptionList, error) {
	ctx := c.Request().Context()
	f.After = c.QueryParam(param)
	var v views.RedemptionList
	res, err := store.ListRedemptions(ctx, f)
	if verr := (*models.ValidationError)(nil); errors.As(err, &verr) && f.After != "" {
		v.Error = "That page link is not valid any more, so these are the newest redemptions."
		f.After = ""
		res, err = store.ListRedemptions(ctx, f)
	}
	if err != nil {
		return views.RedemptionList{}, err
	}
	for _, r := range res.Redemptions {
		v.Rows = append(v.Rows, row(r))
	}
	if res.Next != "" {
		v.NextURL = queryURL(base, map[string]string{param: res.Next})
	}
	if f.After != "" {
		v.FirstURL = base
	}
	return v, nil
}

// optional returns nil for a blank form value, so blank means "none".
func optional(s string) *string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return &s
}

// queryURL is path with the non-empty params as its query.
func queryURL(path string, params map[string]string) string {
	q := url.Values{}
	for k, v := range params {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// exportTerms write a coupon CSV for a marketer: times in the store's
// zone, discounts as the console shows them.
func exportTerms(t Terms) httpx.ExportTerms {
	return httpx.ExportTerms{
		Time: t.Time,
		Discount: func(p models.Promotion) string {
			d := discountText(t, p.DiscountType, p.DiscountValue)
			if p.DiscountCap != nil {
				d += ", at most " + t.Amount(p.DiscountCap)
			}
			return d
		},
	}
}
