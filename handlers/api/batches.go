package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

// BatchStore is what the native batch API needs from the store.
type BatchStore interface {
	CreateBatch(ctx context.Context, spec models.BatchSpec) (models.Batch, error)
	PreviewBatch(ctx context.Context, spec models.BatchSpec) (models.BatchPreview, error)
	Batch(ctx context.Context, id int64) (models.Batch, error)
	ListBatches(ctx context.Context, f models.BatchFilter) (models.BatchPage, error)
	CancelBatch(ctx context.Context, id int64) (models.Batch, error)
	ShapeCodes(ctx context.Context, shapes ...string) (map[string]int64, error)
	EachBatchCoupon(ctx context.Context, id int64, fn func(models.Coupon) error) error
	ActivePromotions(ctx context.Context) ([]models.Promotion, error)
	EachCoupon(ctx context.Context, f models.CouponFilter, fn func(models.Coupon) error) error
}

// Batches serves generation batches and the coupon exports in the native
// JSON API under /api.
type Batches struct {
	Store BatchStore
	// Now is the clock progress is measured by.
	Now func() time.Time
}

// batchIn is a batch as a client asks for it. An absent maxUsage is 1:
// generated codes are single-use unless said otherwise.
type batchIn struct {
	PromotionID              *int64             `json:"promotionId"`
	Quantity                 int                `json:"quantity"`
	Format                   models.FormatInput `json:"format"`
	MaxUsage                 *int               `json:"maxUsage"`
	MaxUsagePerClient        int                `json:"maxUsagePerClient"`
	MaxItemsPerClient        int                `json:"maxItemsPerClient"`
	UTMSource                *string            `json:"utmSource"`
	UTMCampaign              *string            `json:"utmCampaign"`
	ExpirationIntervalPerUse string             `json:"expirationIntervalPerUse"`
}

// readBatch reads a batch request from the body and validates it.
func readBatch(c echo.Context) (models.BatchSpec, error) {
	var in batchIn
	if err := httpx.DecodeJSON(c, &in); err != nil {
		return models.BatchSpec{}, err
	}
	return in.spec()
}

func (in batchIn) spec() (models.BatchSpec, error) {
	maxUsage := 1
	if in.MaxUsage != nil {
		maxUsage = *in.MaxUsage
	}
	return models.BatchInput{
		PromotionID: in.PromotionID, Quantity: in.Quantity, Format: in.Format,
		MaxUsage: maxUsage, MaxUsagePerClient: in.MaxUsagePerClient, MaxItemsPerClient: in.MaxItemsPerClient,
		UTMSource: in.UTMSource, UTMCampaign: in.UTMCampaign, ExpirationIntervalPerUse: in.ExpirationIntervalPerUse,
	}.Validate(models.MaxBatchQuantity)
}

// batchOut is a batch as the API answers it.
type batchOut struct {
	ID                       int64              `json:"id"`
	Status                   string             `json:"status"`
	Quantity                 int                `json:"quantity"`
	Generated                int                `json:"generated"`
	PromotionID              *int64             `json:"promotionId"`
	Format                   models.FormatInput `json:"format"`
	Describe                 string             `json:"describe"`
	CodeLength               int                `json:"codeLength"`
	Keyspace                 string             `json:"keyspace"`
	GuessProbability         float64            `json:"guessProbability"`
	MaxUsage                 int                `json:"maxUsage"`
	MaxUsagePerClient        int                `json:"maxUsagePerClient"`
	MaxItemsPerClient        int                `json:"maxItemsPerClient"`
	ExpirationIntervalPerUse string             `json:"expirationIntervalPerUse"`
	UTMSource                *string            `json:"utmSource"`
	UTMCampaign              *string            `json:"utmCampaign"`
	CreatedBy                string             `json:"createdBy"`
	Error                    string             `json:"error,omitempty"`
	Progress                 progressOut        `json:"progress"`
	CreatedAt                time.Time          `json:"createdAt"`
	StartedAt                *time.Time         `json:"startedAt"`
	FinishedAt               *time.Time         `json:"finishedAt"`
	Links                    batchLinks         `json:"links"`
}

type progressOut struct {
	Percent        float64 `json:"percent"`
	PerSecond      float64 `json:"perSecond"`
	ElapsedSeconds float64 `json:"elapsedSeconds"`
	// SecondsLeft is null while it cannot be told (before the first
	// chunk) and once the batch has stopped.
	SecondsLeft *float64 `json:"secondsLeft"`
}

type batchLinks struct {
	Self  string `json:"self"`
	Codes string `json:"codes"`
}

// batchJSON is b as the API answers it; shapeCodes are the codes of its
// shape, for its guess probability.
func batchJSON(b models.Batch, shapeCodes int64, now time.Time) batchOut {
	out := batchOut{
		ID: b.ID, Status: b.Status, Quantity: b.Quantity, Generated: b.Generated, PromotionID: b.PromotionID,
		Format: b.FormatInput(), MaxUsage: b.MaxUsage, MaxUsagePerClient: b.MaxUsagePerClient, MaxItemsPerClient: b.MaxItemsPerClient,
		ExpirationIntervalPerUse: models.FormatTimeSpan(b.ExpirationIntervalPerUse), UTMSource: b.UTMSource, UTMCampaign: b.UTMCampaign,
		CreatedBy: b.CreatedBy, Error: b.Error, CreatedAt: b.CreatedAt.UTC(), StartedAt: utcPtr(b.StartedAt), FinishedAt: utcPtr(b.FinishedAt),
		Links: batchLinks{Self: fmt.Sprintf("/api/batches/%d", b.ID), Codes: fmt.Sprintf("/api/batches/%d/codes.csv", b.ID)},
	}
	if f, err := b.FormatInput().Compile(); err == nil {
		out.Describe, out.CodeLength, out.Keyspace = f.Describe(), f.CodeLength(), f.Keyspace().String()
		out.GuessProbability = f.GuessProbability(shapeCodes)
	}
	out.Progress = progressJSON(b, now)
	return out
}

// progressJSON is b's progress at now as the API answers it: of a
// batch, the codes made; of an import, the rows done.
func progressJSON(b models.Batch, now time.Time) progressOut {
	p := b.Progress(now)
	out := progressOut{Percent: roundTo(100*p.Fraction, 2), PerSecond: roundTo(p.PerSec, 0), ElapsedSeconds: roundTo(p.Elapsed.Seconds(), 3)}
	if p.Left > 0 {
		out.SecondsLeft = new(roundTo(p.Left.Seconds(), 1))
	}
	return out
}

// roundTo rounds x to digits decimals, for figures people read.
func roundTo(x float64, digits int) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', digits, 64), 64)
	return v
}

// batchesJSON answers bs with each one's guess probability.
func (h *Batches) batchesJSON(ctx context.Context, bs ...models.Batch) ([]batchOut, error) {
	shapes := make([]string, len(bs))
	for i, b := range bs {
		shapes[i] = b.Shape
	}
	counts, err := h.Store.ShapeCodes(ctx, shapes...)
	if err != nil {
		return nil, err
	}
	out := make([]batchOut, len(bs))
	for i, b := range bs {
		out[i] = batchJSON(b, counts[b.Shape], h.Now())
	}
	return out, nil
}

// Create accepts a batch (202 with the batch, pending) for the runner to
// make in the background. Invalid fields, and a quantity the format
// cannot hold, are a 422 before anything is written.
func (h *Batches) Create(c echo.Context) error {
	spec, err := readBatch(c)
	if err != nil {
		return err
	}
	b, err := h.Store.CreateBatch(c.Request().Context(), spec)
	if err != nil {
		return err
	}
	out, err := h.batchesJSON(c.Request().Context(), b)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, out[0].Links.Self)
	return c.JSON(http.StatusAccepted, out[0])
}

// previewOut is what a batch would make.
type previewOut struct {
	Samples          []string `json:"samples"`
	Describe         string   `json:"describe"`
	CodeLength       int      `json:"codeLength"`
	Keyspace         string   `json:"keyspace"`
	ExistingCodes    int64    `json:"existingCodes"`
	GuessProbability float64  `json:"guessProbability"`
	GuessOdds        string   `json:"guessOdds"`
	// Guessable is set when a guess is likelier than
	// models.MaxGuessProbability; the console asks for a confirmation.
	Guessable bool `json:"guessable"`
	// Fits is false when the batch would be refused; Problem says why.
	Fits    bool   `json:"fits"`
	Problem string `json:"problem,omitempty"`
}

// Preview tells what a batch would make (sample codes, the keyspace, how
// guessable the codes would be, whether the quantity fits) and writes
// nothing. Invalid fields are a 422 as for Create.
func (h *Batches) Preview(c echo.Context) error {
	spec, err := readBatch(c)
	if err != nil {
		return err
	}
	p, err := h.Store.PreviewBatch(c.Request().Context(), spec)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, previewJSON(p))
}

func previewJSON(p models.BatchPreview) previewOut {
	out := previewOut{Samples: p.Samples, Describe: p.Format.Describe(), CodeLength: p.Format.CodeLength(), Keyspace: p.Format.Keyspace().String(),
		ExistingCodes: p.Existing, GuessProbability: p.GuessProbability, GuessOdds: models.Odds(p.GuessProbability),
		Guessable: p.GuessProbability > models.MaxGuessProbability, Fits: p.Problem == nil}
	if verr := (*models.ValidationError)(nil); errors.As(p.Problem, &verr) {
		out.Problem = verr.Message(models.FieldQuantity)
	}
	return out
}

// Get answers one batch with its progress; 404 for an unknown id.
func (h *Batches) Get(c echo.Context) error {
	id, err := httpx.PathID(c, "batch")
	if err != nil {
		return err
	}
	b, err := h.Store.Batch(c.Request().Context(), id)
	if err != nil {
		return err
	}
	out, err := h.batchesJSON(c.Request().Context(), b)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out[0])
}

type batchList struct {
	Batches []batchOut `json:"batches"`
	Next    string     `json:"next,omitempty"`
}

// List answers the batches, newest first, filtered by status and
// promotionId; limit and after page.
func (h *Batches) List(c echo.Context) error {
	var verr models.ValidationError
	f := models.BatchFilter{Status: c.QueryParam("status"), After: c.QueryParam("after"), Limit: httpx.QueryInt(c, &verr, models.FieldLimit)}
	if raw := c.QueryParam(models.FieldPromotionID); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id < 1 {
			verr.Add(models.FieldPromotionID, "must be the id of a promotion")
		}
		f.PromotionID = &id
	}
	if err := verr.Err(); err != nil {
		return err
	}
	page, err := h.Store.ListBatches(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out, err := h.batchesJSON(c.Request().Context(), page.Batches...)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, batchList{Batches: out, Next: page.Next})
}

// Cancel stops a pending or running batch, keeping the codes it made;
// 409 for a batch that is done or failed.
func (h *Batches) Cancel(c echo.Context) error {
	id, err := httpx.PathID(c, "batch")
	if err != nil {
		return err
	}
	b, err := h.Store.CancelBatch(c.Request().Context(), id)
	if err != nil {
		return err
	}
	out, err := h.batchesJSON(c.Request().Context(), b)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out[0])
}

// Codes streams a batch's codes as CSV (the coupon export's columns), in any state:
// a running batch gives the codes made so far.
func (h *Batches) Codes(c echo.Context) error {
	id, err := httpx.PathID(c, "batch")
	if err != nil {
		return err
	}
	return httpx.BatchCSV(c, h.Store, id, httpx.APIExportTerms, h.Now())
}

// CouponsCSV streams the coupons the console list would show for the
// same query (q, utmSource, utmCampaign, status), in code order.
func (h *Batches) CouponsCSV(c echo.Context) error {
	return httpx.CouponsCSV(c, h.Store, httpx.APIExportTerms, h.Now())
}
