package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// CheckStore is what "Check a code" needs from the store.
type CheckStore interface {
	Check(ctx context.Context, in models.CheckInput, client string) (models.Verdict, error)
}

// Check serves "Check a code".
type Check struct {
	Store CheckStore
}

// reasonTexts says each reason a code cannot be redeemed in words.
var reasonTexts = map[string]string{
	models.ReasonNotFound:               "No coupon has this code.",
	models.ReasonArchived:               "The coupon is archived, so it no longer works.",
	models.ReasonNoActivePromotion:      "The coupon's UTM source and campaign reach no active promotion, so it would give no discount.",
	models.ReasonNotStarted:             "A promotion it activates has not started yet.",
	models.ReasonExpired:                "A promotion it activates has ended.",
	models.ReasonUsageLimit:             "The code has been used as many times as it may be used in total.",
	models.ReasonCustomerLimit:          "This customer has used the code as many times as one customer may.",
	models.ReasonItemsLimit:             "With this order the customer would pass the number of items the code allows per customer.",
	models.ReasonPromotionUsageLimit:    "A promotion it activates has been used as many times as it may be used in total.",
	models.ReasonPromotionCustomerLimit: "This customer has used a promotion it activates as many times as one customer may.",
	models.ReasonNotForCustomer:         "The code is meant for another customer.",
}

// Show is the form and, when the query names a code, the result of
// checking it for the client's address. An htmx request aimed at the
// result gets only the result; bad input is 422 with the form and its
// messages. It fails with *models.TooManyGuessesError when the address
// or the customer tried too many unknown codes.
func (h *Check) Show(c echo.Context) error {
	q := c.QueryParams()
	f := views.CheckForm{Code: q.Get(views.FieldCode), CustomerID: q.Get(views.FieldCustomerID), Items: q.Get(views.FieldItems), OrderAmount: q.Get(views.FieldOrderAmount)}
	p := page(c, "Check a code", views.SectionCheck)
	if !q.Has(views.FieldCode) {
		f.Items = "1"
		return Render(c, http.StatusOK, views.CheckPage(p, f, views.CheckResult{}))
	}
	var verr models.ValidationError
	in := models.CheckInput{Code: f.Code, CustomerID: f.CustomerID, Items: httpx.FormInt(&verr, views.FieldItems, f.Items),
		OrderAmount: TermsOf(c).FormAmount(&verr, views.FieldOrderAmount, f.OrderAmount, false)}
	var v models.Verdict
	err := verr.Err()
	if err != nil {
		// Show every other problem too, not only those of the numbers.
		_, derr := in.Validate()
		httpx.MergeInvalid(&verr, derr)
	} else {
		v, err = h.Store.Check(c.Request().Context(), in, c.RealIP())
	}
	if bad := (*models.ValidationError)(nil); errors.As(err, &bad) {
		f.Errors = formMessages(bad)
		if wantsFragment(c, views.CheckResultID) {
			c.Response().Header().Set("HX-Retarget", "#"+views.CheckFormID)
			c.Response().Header().Set("HX-Reswap", "outerHTML")
			return Render(c, http.StatusUnprocessableEntity, views.CheckRefused(f))
		}
		return Render(c, http.StatusUnprocessableEntity, views.CheckPage(p, f, views.CheckResult{}))
	}
	if err != nil {
		return err
	}
	r := checkResult(TermsOf(c), in, v)
	if wantsFragment(c, views.CheckResultID) {
		return Render(c, http.StatusOK, views.CheckResultFragment(r, false))
	}
	return Render(c, http.StatusOK, views.CheckPage(p, f, r))
}

// ruleText says what a promotion takes off, with its cap: "10 %, at
// most 5.00 EUR".
func ruleText(t Terms, p models.Promotion) string {
	s := discountText(t, p.DiscountType, p.DiscountValue)
	if p.DiscountCap != nil {
		s += ", at most " + t.Amount(p.DiscountCap)
	}
	return s
}

// checkResult turns a verdict on in into its view.
func checkResult(t Terms, in models.CheckInput, v models.Verdict) views.CheckResult {
	r := views.CheckResult{Checked: true, Code: in.Code, CustomerID: in.CustomerID, Valid: v.Valid,
		OrderAmount: t.Amount(in.OrderAmount), Discount: t.Amount(v.Discount)}
	for _, code := range v.Reasons {
		r.Reasons = append(r.Reasons, views.Reason{Code: code, Text: reasonTexts[code]})
	}
	for _, ap := range v.Promotions {
		r.Promotions = append(r.Promotions, views.AppliedPromotion{ID: ap.Promotion.ID, Name: ap.Promotion.Name,
			Rule: ruleText(t, ap.Promotion), Discount: t.Amount(ap.Discount)})
	}
	return r
}
