package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// SingleUseStore is what the single-use coupon pages need from the store.
type SingleUseStore interface {
	CreateSingleUse(ctx context.Context, in models.SingleUseInput) (models.Coupon, models.Promotion, error)
	Coupon(ctx context.Context, code string) (models.Coupon, error)
	CouponPromotions(ctx context.Context, c models.Coupon) ([]models.Promotion, error)
}

// SingleUse serves the single-use coupon form and the page of a coupon it
// made.
type SingleUse struct {
	Store SingleUseStore
	// Now is the clock that checks the rest of the form when the cap
	// alone is unreadable, and says whether a promotion is live.
	Now func() time.Time
}

// Form shows the empty single-use coupon form.
func (h *SingleUse) Form(c echo.Context) error {
	f := views.SingleUseForm{DiscountType: models.DiscountPercent, DiscountTypes: promotionChoices.DiscountTypes}
	return Render(c, http.StatusOK, views.SingleUsePage(page(c, "Single-use coupon", views.SectionSingleUse), f))
}

// Create makes the coupon and its promotion in one step and sends the
// browser to the coupon's code; bad input, or a code that exists, is
// re-rendered with 422 and a message beside each field.
func (h *SingleUse) Create(c echo.Context) error {
	f := views.SingleUseForm{
		Code:          c.FormValue(views.FieldCode),
		Pattern:       c.FormValue(views.FieldCodePattern),
		CustomerID:    c.FormValue(views.FieldCustomerID),
		DiscountType:  c.FormValue(views.FieldDiscountType),
		DiscountValue: c.FormValue(views.FieldDiscountValue),
		DiscountCap:   c.FormValue(views.FieldDiscountCap),
		EndsAt:        c.FormValue(views.FieldEndsAt),
		DiscountTypes: promotionChoices.DiscountTypes,
	}
	var verr models.ValidationError
	t := TermsOf(c)
	in := models.SingleUseInput{Code: f.Code, Pattern: f.Pattern, CustomerID: f.CustomerID, DiscountType: f.DiscountType,
		DiscountValue: formDiscountValue(&verr, t, f.DiscountType, f.DiscountValue),
		EndsAt:        formTime(&verr, views.FieldEndsAt, f.EndsAt, t.ParseEnd), DiscountCap: t.FormAmount(&verr, views.FieldDiscountCap, f.DiscountCap, true)}
	var err error
	if verr.Err() != nil {
		// Show every other problem too, not only the cap's; a code the
		// pattern would make is not missing.
		plan := in
		if strings.TrimSpace(plan.Code) == "" && strings.TrimSpace(plan.Pattern) != "" {
			plan.Code = "FROM-PATTERN"
		}
		_, _, perr := plan.Plan(h.Now())
		httpx.MergeInvalid(&verr, perr)
		err = &verr
	} else {
		var cp models.Coupon
		if cp, _, err = h.Store.CreateSingleUse(c.Request().Context(), in); err == nil {
			notify(c, "Single-use coupon "+cp.Code+" created for customer "+in.CustomerID+".")
			return seeOther(c, views.SingleUseURL(cp.Code))
		}
	}
	if dup := (*models.DuplicateCodeError)(nil); errors.As(err, &dup) {
		f.Existing = dup.Code
	}
	if !formProblem(err, &f.Errors, &f.FormError) {
		return err
	}
	if msg, ok := f.Errors[models.FieldFormatPattern]; ok {
		f.Errors[views.FieldCodePattern] = msg
		delete(f.Errors, models.FieldFormatPattern)
	}
	if wantsFragment(c, views.SingleUseFormID) {
		return Render(c, http.StatusUnprocessableEntity, views.SingleUseFormFragment(csrfToken(c), f))
	}
	return Render(c, http.StatusUnprocessableEntity, views.SingleUsePage(page(c, "Single-use coupon", views.SectionSingleUse), f))
}

// Show is the page of a single-use coupon: its code ready to copy, its
// limits and the promotion it activates. It fails with ErrNotFound.
func (h *SingleUse) Show(c echo.Context) error {
	cp, err := h.Store.Coupon(c.Request().Context(), c.Param("code"))
	if err != nil {
		return err
	}
	ps, err := h.Store.CouponPromotions(c.Request().Context(), cp)
	if err != nil {
		return err
	}
	now := h.Now()
	v := views.SingleUseResult{Coupon: stateRow(TermsOf(c), cp, ps, now)}
	for _, p := range ps {
		v.Promotions = append(v.Promotions, promotionRow(TermsOf(c), p, now))
	}
	return Render(c, http.StatusOK, views.SingleUseResultPage(page(c, "Single-use coupon "+cp.Code, views.SectionSingleUse), v))
}
