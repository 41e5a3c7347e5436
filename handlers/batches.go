package handlers

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// batchPageCodes is how many codes a batch's page lists; the CSV has all.
const batchPageCodes = 1000

// BatchStore is what the generation pages need from the store.
type BatchStore interface {
	GenerateCoupons(ctx context.Context, r models.CouponRequest) ([]models.Coupon, error)
	Batch(ctx context.Context, id int64) (models.Batch, error)
	BatchCodes(ctx context.Context, id int64, limit int) ([]string, error)
	EachBatchCode(ctx context.Context, id int64, fn func(code string) error) error
}

// Batches serves coupon generation and generated batches.
type Batches struct {
	Store BatchStore
}

// GenerateForm shows the empty generation form.
func (h *Batches) GenerateForm(c echo.Context) error {
	// The coupon form's defaults, but one use per generated code.
	fields := views.NewCouponForm().CouponFields
	fields.MaxUsage = "1"
	f := views.GenerateForm{CouponFields: fields, Quantity: "10", MaxQuantity: models.MaxGenerateQuantity}
	return Render(c, http.StatusOK, views.GeneratePage(page(c, "Generate coupons", views.SectionGenerate), f))
}

// Generate creates the coupons and sends the browser to the batch's page;
// bad input re-renders the form with 422.
func (h *Batches) Generate(c echo.Context) error {
	f := views.GenerateForm{CouponFields: readCouponFields(c), Quantity: c.FormValue(views.FieldQuantity), MaxQuantity: models.MaxGenerateQuantity}
	var verr models.ValidationError
	quantity := formInt(&verr, views.FieldQuantity, f.Quantity)
	if f.Quantity == "" {
		verr.Add(views.FieldQuantity, "is required")
	}
	spec := validateCouponFields(f.CouponFields, &verr)
	err := verr.Err()
	if err == nil {
		var cs []models.Coupon
		req := models.CouponRequest{Quantity: quantity, Spec: spec, Generate: true}
		if cs, err = h.Store.GenerateCoupons(c.Request().Context(), req); err == nil {
			return seeOther(c, views.BatchURL(*cs[0].BatchID))
		}
	}
	if !formProblem(err, &f.Errors, &f.FormError) {
		return err
	}
	if wantsFragment(c, views.GenerateFormID) {
		return Render(c, http.StatusUnprocessableEntity, views.GenerateFormFragment(csrfToken(c), f))
	}
	return Render(c, http.StatusUnprocessableEntity, views.GeneratePage(page(c, "Generate coupons", views.SectionGenerate), f))
}

// Show is a batch's page: its codes and the CSV download.
func (h *Batches) Show(c echo.Context) error {
	b, err := h.batch(c)
	if err != nil {
		return err
	}
	codes, err := h.Store.BatchCodes(c.Request().Context(), b.ID, batchPageCodes)
	if err != nil {
		return err
	}
	v := views.BatchView{ID: b.ID, BaseCode: b.BaseCode, Quantity: b.Quantity, Status: b.Status, CreatedAt: formatTime(b.CreatedAt), Codes: codes}
	return Render(c, http.StatusOK, views.BatchPage(page(c, fmt.Sprintf("Batch %d", b.ID), views.SectionGenerate), v))
}

// CSV streams a batch's codes as a CSV file with a header row.
func (h *Batches) CSV(c echo.Context) error {
	b, err := h.batch(c)
	if err != nil {
		return err
	}
	hdr := c.Response().Header()
	hdr.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	hdr.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="coupons-%s-batch-%d.csv"`, b.BaseCode, b.ID))
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	if err := w.Write([]string{"couponCode"}); err != nil {
		return err
	}
	row := make([]string, 1)
	err = h.Store.EachBatchCode(c.Request().Context(), b.ID, func(code string) error {
		row[0] = code
		return w.Write(row)
	})
	w.Flush()
	if err != nil {
		return err
	}
	return w.Error()
}

func (h *Batches) batch(c echo.Context) (models.Batch, error) {
	id, err := pathID(c, "batch")
	if err != nil {
		return models.Batch{}, err
	}
	return h.Store.Batch(c.Request().Context(), id)
}
