package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// ImportStore is what the import pages need from the store.
type ImportStore interface {
	CreateImport(ctx context.Context, in models.ImportInput) (models.Batch, error)
	PreviewImport(ctx context.Context, in models.ImportInput) (models.ImportPreview, error)
	Import(ctx context.Context, id int64) (models.Batch, error)
	ListBatches(ctx context.Context, f models.BatchFilter) (models.BatchPage, error)
	EachImportProblem(ctx context.Context, id int64, fn func(models.ImportProblem) error) error
	CancelBatch(ctx context.Context, id int64) (models.Batch, error)
}

// Imports serves the import of the codes customers already hold: the
// form with its preview, the list of imports, each import's page and
// progress, its cancel and the CSV of its refused lines.
type Imports struct {
	Store ImportStore
	// Now is the clock progress is measured by.
	Now func() time.Time
}

// Form shows the empty import form.
func (h *Imports) Form(c echo.Context) error {
	return Render(c, http.StatusOK, views.ImportFormPage(page(c, "Import codes", views.SectionImport), views.ImportPreviewView{}))
}

// Preview answers what the chosen file would import: to htmx the
// preview alone, to a plain post the whole form with it. A file that
// cannot be read is told in the preview, so it is a 200 all the same.
func (h *Imports) Preview(c echo.Context) error {
	v, err := h.preview(c)
	if err != nil {
		return err
	}
	return renderPreview(c, http.StatusOK, v)
}

// renderPreview answers the import form's preview: to htmx the preview
// alone, to a plain post the whole form with it.
func renderPreview(c echo.Context, status int, v views.ImportPreviewView) error {
	if wantsFragment(c, views.ImportPreviewID) {
		return Render(c, status, views.ImportPreviewFragment(v))
	}
	return Render(c, status, views.ImportFormPage(page(c, "Import codes", views.SectionImport), v))
}

func (h *Imports) preview(c echo.Context) (views.ImportPreviewView, error) {
	file, _, done, err := httpx.ImportFile(c)
	if err == nil {
		defer done()
		var p models.ImportPreview
		if p, err = h.Store.PreviewImport(c.Request().Context(), models.ImportInput{File: file, Zone: TermsOf(c).Zone()}); err == nil {
			return previewView(TermsOf(c), p), nil
		}
	}
	if msg, ok := fileProblem(err); ok {
		return views.ImportPreviewView{Error: msg}, nil
	}
	return views.ImportPreviewView{}, err
}

// fileProblem is what a marketer is told of a file that cannot be
// imported at all.
func fileProblem(err error) (string, bool) {
	var verr *models.ValidationError
	var he *echo.HTTPError
	var big *http.MaxBytesError
	switch {
	case errors.As(err, &verr):
		return "This file cannot be imported: the file " + verr.Message(models.FieldFile), true
	case errors.As(err, &he) && he.Code == http.StatusUnsupportedMediaType:
		return "Choose the CSV file to import.", true
	case errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge, errors.As(err, &big):
		return "This file is too large to import at once; split it into several files.", true
	}
	return "", false
}

func previewView(t Terms, p models.ImportPreview) views.ImportPreviewView {
	v := views.ImportPreviewView{Total: p.Total, ProblemCount: p.ProblemCount}
	for _, r := range p.Rows {
		row := views.ImportPreviewRow{Line: r.Line, Code: r.Code, MaxUses: limitWords(r.MaxUsage), PerCustomer: limitWords(r.MaxUsagePerClient),
			Source: httpx.Deref(r.UTMSource), Campaign: httpx.Deref(r.UTMCampaign), Customer: httpx.Deref(r.CustomerID), ValidUntil: t.OptionalEnd(r.ValidUntil), Problem: r.Problem}
		v.Rows = append(v.Rows, row)
	}
	for _, q := range p.Problems {
		v.Problems = append(v.Problems, views.ImportProblemRow{Line: q.Line, Code: q.Code, Problem: q.Problem})
	}
	return v
}

// limitWords is a limit as the import preview says it.
func limitWords(n int) string {
	if n == 0 {
		return "no limit"
	}
	return strconv.Itoa(n)
}

// Create starts importing the chosen file and sends the browser to the
// import's page; a file that cannot be imported at all is told on the
// form, and nothing is kept.
func (h *Imports) Create(c echo.Context) error {
	file, name, done, err := httpx.ImportFile(c)
	if err == nil {
		defer done()
		var b models.Batch
		if b, err = h.Store.CreateImport(c.Request().Context(), models.ImportInput{File: file, FileName: name, Zone: TermsOf(c).Zone()}); err == nil {
			notify(c, fmt.Sprintf("Import %d started: %s being read. You can leave this page; it goes on.", b.ID, views.Counted(int64(b.Quantity), "line is", "lines are")))
			return seeOther(c, views.ImportURL(b.ID))
		}
	}
	msg, ok := fileProblem(err)
	if !ok {
		return err
	}
	return renderPreview(c, http.StatusUnprocessableEntity, views.ImportPreviewView{Error: msg})
}

// List is the list of imports, newest first, by status.
func (h *Imports) List(c echo.Context) error {
	ctx := c.Request().Context()
	v := views.ImportList{Status: c.QueryParam(views.FieldStatus), Statuses: choices(models.BatchStatuses, views.ImportStatusWords)}
	f := models.BatchFilter{Kind: models.BatchImport, Status: v.Status, After: c.QueryParam("after")}
	res, err := h.Store.ListBatches(ctx, f)
	var verr *models.ValidationError
	if errors.As(err, &verr) && verr.Message(models.FieldCursor) != "" {
		v.Error = "That page link is not valid any more, so this is the first page."
		f.After = ""
		res, err = h.Store.ListBatches(ctx, f)
	}
	status := http.StatusOK
	if errors.As(err, &verr) {
		status, err = http.StatusUnprocessableEntity, nil
		v.Errors, v.Error = formMessages(verr), "This filter is not valid; see the message beside it."
	}
	if err != nil {
		return err
	}
	for _, b := range res.Batches {
		v.Rows = append(v.Rows, h.view(TermsOf(c), b))
		v.Live = v.Live || !b.Finished()
	}
	v.SelfURL = importsURL(v.Status, f.After)
	if res.Next != "" {
		v.NextURL = importsURL(v.Status, res.Next)
	}
	if f.After != "" {
		v.FirstURL = importsURL(v.Status, "")
	}
	if wantsFragment(c, views.ImportTableID) {
		return Render(c, status, views.ImportTable(v))
	}
	return Render(c, status, views.ImportsPage(page(c, "Imports", views.SectionImports), v))
}

func importsURL(status, after string) string {
	return queryURL(views.ImportsURL, map[string]string{views.FieldStatus: status, "after": after})
}

// Show is an import's page.
func (h *Imports) Show(c echo.Context) error {
	b, err := h.importOf(c)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.ImportPage(page(c, fmt.Sprintf("Import %d", b.ID), views.SectionImports), h.view(TermsOf(c), b)))
}

// Progress is an import's progress alone, for its page to reload.
func (h *Imports) Progress(c echo.Context) error {
	b, err := h.importOf(c)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.ImportProgress(csrfToken(c), canEdit(c), h.view(TermsOf(c), b)))
}

// Cancel stops an import; the codes it imported stay.
func (h *Imports) Cancel(c echo.Context) error {
	b, err := h.importOf(c)
	if err != nil {
		return err
	}
	if b, err = h.Store.CancelBatch(c.Request().Context(), b.ID); err != nil {
		return err
	}
	notify(c, fmt.Sprintf("Import %d stopped after importing %s; they keep working.", b.ID, views.Counted(int64(b.Generated), "code", "codes")))
	return seeOther(c, views.ImportURL(b.ID))
}

// Errors streams the lines an import refused as CSV: line, code, why.
func (h *Imports) Errors(c echo.Context) error {
	b, err := h.importOf(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	return httpx.ImportProblemsCSV(c, fmt.Sprintf("coupond-import-%d-refused.csv", b.ID),
		func(fn func(models.ImportProblem) error) error { return h.Store.EachImportProblem(ctx, b.ID, fn) })
}

func (h *Imports) importOf(c echo.Context) (models.Batch, error) {
	id, err := httpx.PathID(c, "import")
	if err != nil {
		return models.Batch{}, err
	}
	return h.Store.Import(c.Request().Context(), id)
}

func (h *Imports) view(t Terms, b models.Batch) views.ImportView {
	p := b.Progress(h.Now())
	v := views.ImportView{ID: b.ID, FileName: b.FileName, Status: b.Status, Finished: b.Finished(), Rows: b.Quantity, Imported: b.Generated,
		Rejected: b.Rejected, Percent: int(100 * p.Fraction), PerSec: p.PerSec, Left: p.Left, Error: b.Error, CreatedBy: b.CreatedBy, CreatedAt: t.Time(b.CreatedAt)}
	return v
}
