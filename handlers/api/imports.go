package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

// MaxImportBytes bounds an import file: ten million rows of a code and
// its limits fit.
const MaxImportBytes = 1 << 30

// ImportStore is what the native import API needs from the store.
type ImportStore interface {
	CreateImport(ctx context.Context, in models.ImportInput) (models.Batch, error)
	PreviewImport(ctx context.Context, in models.ImportInput) (models.ImportPreview, error)
	Import(ctx context.Context, id int64) (models.Batch, error)
	EachImportProblem(ctx context.Context, id int64, fn func(models.ImportProblem) error) error
	CancelBatch(ctx context.Context, id int64) (models.Batch, error)
	ListBatches(ctx context.Context, f models.BatchFilter) (models.BatchPage, error)
}

// Imports serves imports of the codes customers already hold in the
// native JSON API: a CSV file sent as the body (text/csv) or as the file
// field of a form (multipart/form-data).
type Imports struct {
	Store ImportStore
	// Now is the clock of an import's progress.
	Now func() time.Time
}

// importOut is an import as the API answers it.
type importOut struct {
	ID         int64       `json:"id"`
	Status     string      `json:"status"`
	FileName   string      `json:"fileName"`
	Rows       int         `json:"rows"`
	Imported   int         `json:"imported"`
	Rejected   int         `json:"rejected"`
	Error      string      `json:"error,omitempty"`
	Progress   progressOut `json:"progress"`
	CreatedBy  string      `json:"createdBy"`
	CreatedAt  time.Time   `json:"createdAt"`
	StartedAt  *time.Time  `json:"startedAt"`
	FinishedAt *time.Time  `json:"finishedAt"`
	Links      importLinks `json:"links"`
}

type importLinks struct {
	Self   string `json:"self"`
	Errors string `json:"errors"`
}

func importJSON(b models.Batch, now time.Time) importOut {
	return importOut{ID: b.ID, Status: b.Status, FileName: b.FileName, Rows: b.Quantity, Imported: b.Generated, Rejected: b.Rejected,
		Error: b.Error, Progress: progressJSON(b, now), CreatedBy: b.CreatedBy, CreatedAt: b.CreatedAt.UTC(), StartedAt: utcPtr(b.StartedAt), FinishedAt: utcPtr(b.FinishedAt),
		Links: importLinks{Self: fmt.Sprintf("/api/imports/%d", b.ID), Errors: fmt.Sprintf("/api/imports/%d/errors.csv", b.ID)}}
}

// previewOut is what a file would give.
type importPreviewOut struct {
	Rows         []importRowOut     `json:"rows"`
	Total        int                `json:"total"`
	Problems     []importProblemOut `json:"problems"`
	ProblemCount int                `json:"problemCount"`
}

type importRowOut struct {
	Line              int        `json:"line"`
	Code              string     `json:"code"`
	MaxUsage          int        `json:"maxUsage"`
	MaxUsagePerClient int        `json:"maxUsagePerClient"`
	UTMSource         *string    `json:"utmSource"`
	UTMCampaign       *string    `json:"utmCampaign"`
	PromotionID       *int64     `json:"promotionId"`
	CustomerID        *string    `json:"customerId"`
	ValidUntil        *time.Time `json:"validUntil"`
	Problem           string     `json:"problem,omitempty"`
}

type importProblemOut struct {
	Line    int    `json:"line"`
	Code    string `json:"code"`
	Problem string `json:"problem"`
}

// LimitImportBody lets an import's file be larger than the server's body
// limit (which skips the import routes), up to MaxImportBytes.
func LimitImportBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.ContentLength > MaxImportBytes {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("the file is larger than %d MiB; split it into several imports", MaxImportBytes>>20))
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, MaxImportBytes)
		return next(c)
	}
}

// tooLarge is err, or a 413 when it is the body passing MaxImportBytes.
func tooLarge(err error) error {
	var big *http.MaxBytesError
	if errors.As(err, &big) {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("the file is larger than %d MiB; split it into several imports", big.Limit>>20))
	}
	return err
}

// Create starts importing the file: 202 with the import, which the batch
// runner then imports a chunk at a time; 422 when the file cannot be
// read, with nothing kept.
func (h *Imports) Create(c echo.Context) error {
	file, name, done, err := httpx.ImportFile(c)
	if err != nil {
		return err
	}
	defer done()
	b, err := h.Store.CreateImport(c.Request().Context(), models.ImportInput{File: file, FileName: name})
	if err != nil {
		return tooLarge(err)
	}
	c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/api/imports/%d", b.ID))
	return c.JSON(http.StatusAccepted, importJSON(b, h.Now()))
}

// Preview judges the file as the import would, writing nothing: its
// first rows, how many there are, and the rows it would refuse.
func (h *Imports) Preview(c echo.Context) error {
	file, _, done, err := httpx.ImportFile(c)
	if err != nil {
		return err
	}
	defer done()
	p, err := h.Store.PreviewImport(c.Request().Context(), models.ImportInput{File: file})
	if err != nil {
		return tooLarge(err)
	}
	out := importPreviewOut{Rows: make([]importRowOut, 0, len(p.Rows)), Total: p.Total, Problems: make([]importProblemOut, 0, len(p.Problems)), ProblemCount: p.ProblemCount}
	for _, r := range p.Rows {
		out.Rows = append(out.Rows, importRowOut{Line: r.Line, Code: r.Code, MaxUsage: r.MaxUsage, MaxUsagePerClient: r.MaxUsagePerClient,
			UTMSource: r.UTMSource, UTMCampaign: r.UTMCampaign, PromotionID: r.PromotionID, CustomerID: r.CustomerID, ValidUntil: utcPtr(r.ValidUntil), Problem: r.Problem})
	}
	for _, q := range p.Problems {
		out.Problems = append(out.Problems, importProblemOut{Line: q.Line, Code: q.Code, Problem: q.Problem})
	}
	return c.JSON(http.StatusOK, out)
}

// Get answers one import with its progress; 404 for an unknown id.
func (h *Imports) Get(c echo.Context) error {
	id, err := httpx.PathID(c, "import")
	if err != nil {
		return err
	}
	b, err := h.Store.Import(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, importJSON(b, h.Now()))
}

// Cancel stops an import, keeping the codes it imported; 409 once it is
// done or failed.
func (h *Imports) Cancel(c echo.Context) error {
	id, err := httpx.PathID(c, "import")
	if err != nil {
		return err
	}
	if _, err := h.Store.Import(c.Request().Context(), id); err != nil {
		return err
	}
	b, err := h.Store.CancelBatch(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, importJSON(b, h.Now()))
}

// Errors streams the rows the import refused as CSV: line, code,
// problem, in line order.
func (h *Imports) Errors(c echo.Context) error {
	id, err := httpx.PathID(c, "import")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := h.Store.Import(ctx, id); err != nil {
		return err
	}
	return httpx.ImportProblemsCSV(c, fmt.Sprintf("coupond-import-%d-errors.csv", id),
		func(fn func(models.ImportProblem) error) error { return h.Store.EachImportProblem(ctx, id, fn) })
}

type importList struct {
	Imports []importOut `json:"imports"`
	Next    string      `json:"next,omitempty"`
}

// List answers the imports, newest first, filtered by status; limit and
// after page.
func (h *Imports) List(c echo.Context) error {
	var verr models.ValidationError
	f := models.BatchFilter{Kind: models.BatchImport, Status: c.QueryParam("status"), After: c.QueryParam("after"), Limit: httpx.QueryInt(c, &verr, models.FieldLimit)}
	if err := verr.Err(); err != nil {
		return err
	}
	page, err := h.Store.ListBatches(c.Request().Context(), f)
	if err != nil {
		return err
	}
	now := h.Now()
	out := importList{Imports: make([]importOut, 0, len(page.Batches)), Next: page.Next}
	for _, b := range page.Batches {
		out.Imports = append(out.Imports, importJSON(b, now))
	}
	return c.JSON(http.StatusOK, out)
}
