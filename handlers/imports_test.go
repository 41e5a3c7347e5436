package handlers_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/coupond/coupond/web/webtest"
)

// The list of imports shows every import, newest first, with its file,
// what became of its lines and a link to its refused lines; it filters by
// status, refreshes itself while one runs, and keeps generated batches
// out (they have their own list).
func TestImportListShowsEveryImportNewestFirst(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		if r := h.Do("GET", views.ImportsURL, nil, nil); r.Status != http.StatusOK || !strings.Contains(testID(r.Body, "no-imports"), "No imports yet") {
			t.Fatalf("empty list: %d %q", r.Status, testID(r.Body, "no-imports"))
		}
		row := regexp.MustCompile(`(?s)<tr data-testid="import-row" data-import="(\d+)" data-status="([a-z]+)">(.*?)</tr>`)
		// Before any runner takes it, an import waits: the list follows
		// it.
		imp, err := h.Store.CreateImport(t.Context(), models.ImportInput{FileName: "old-shop.csv", File: strings.NewReader("code,maxUsage\nOLD-1,1\nOLD-2,lots\nOLD-3,2\n")})
		if err != nil {
			t.Fatal(err)
		}
		r := h.Do("GET", views.ImportsURL+"?status=pending", nil, webtest.HTMX(views.ImportTableID))
		fragmentOf(t, r.Body, views.ImportTableID)
		if rows := row.FindAllStringSubmatch(r.Body, -1); len(rows) != 1 || rows[0][1] != fmt.Sprint(imp.ID) || !strings.Contains(r.Body, `hx-trigger="every 2s"`) ||
			!strings.Contains(rows[0][3], ">waiting<") {
			t.Errorf("pending only: %v, want import %d waiting, and a refresh", rows, imp.ID)
		}

		wait := h.RunBatches()
		wait(imp.ID)
		generated := h.PendingBatch(models.BatchInput{Quantity: 10, Format: models.FormatInput{Prefix: "GEN", Delimiter: "-", Length: 9}})
		wait(generated.ID)
		r = h.Do("GET", views.ImportsURL, nil, nil)
		rows := row.FindAllStringSubmatch(r.Body, -1)
		if r.Status != http.StatusOK || len(rows) != 1 || rows[0][1] != fmt.Sprint(imp.ID) || rows[0][2] != models.BatchDone {
			t.Fatalf("list: %d, rows %v; want import %d alone, done", r.Status, rows, imp.ID)
		}
		for _, want := range []string{`<a href="/imports/` + fmt.Sprint(imp.ID) + `">`, "old-shop.csv", "2 imported, 1 refused, of 3",
			`href="/imports/` + fmt.Sprint(imp.ID) + `/errors.csv"`, ">done<"} {
			if !strings.Contains(rows[0][3], want) {
				t.Errorf("the import's row lacks %q: %s", want, rows[0][3])
			}
		}
		if strings.Contains(r.Body, `hx-trigger="every 2s"`) {
			t.Error("a list of finished imports refreshes itself")
		}
		r = h.Do("GET", views.ImportsURL+"?status=lost", nil, nil)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(testID(r.Body, "error-status"), "must be one of") {
			t.Errorf("unknown status: %d %q", r.Status, testID(r.Body, "error-status"))
		}
		if nav := h.Do("GET", views.ImportURL(imp.ID), nil, nil); !strings.Contains(nav.Body, `<a href="/imports" aria-current="page">Imports</a>`) {
			t.Error("an import's page does not mark Imports in the navigation")
		}
	})
}
