package api_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/web/webtest"
)

type importJSON struct {
	ID       int64  `json:"id"`
	Status   string `json:"status"`
	FileName string `json:"fileName"`
	Rows     int    `json:"rows"`
	Imported int    `json:"imported"`
	Rejected int    `json:"rejected"`
	Links    struct {
		Errors string `json:"errors"`
	} `json:"links"`
}

// A file imported over the API: previewed first (nothing written), then
// sent as text/csv with an Idempotency-Key (a retry changes nothing),
// imported by the runner, its refused rows downloadable with their lines.
func TestImportingCodesOverTheAPI(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		h.MustAPI(http.StatusCreated, "POST", "/api/coupons", `{"code":"OLD-1"}`)
		file := "Code,Max Uses,UTM Source\nNEW-1,2,mail\nold-1,1,\nNEW-2,,mail\nNEW-3,many,\nNEW-1,1,\n"
		csvAPI := func(method, path, body string, header map[string]string) webtest.Response {
			hdr := map[string]string{"X-Auth-Token": h.Token, "Content-Type": "text/csv"}
			for k, v := range header {
				hdr[k] = v
			}
			return h.DoWith(webtest.NewClient(), method, path, strings.NewReader(body), hdr)
		}

		preview := csvAPI("POST", "/api/imports/preview", file, nil)
		if preview.Status != http.StatusOK {
			t.Fatalf("preview: %d %s", preview.Status, preview.Body)
		}
		p := webtest.Decode[struct {
			Rows []struct {
				Line     int    `json:"line"`
				Code     string `json:"code"`
				MaxUsage int    `json:"maxUsage"`
				Problem  string `json:"problem"`
			} `json:"rows"`
			Total        int `json:"total"`
			ProblemCount int `json:"problemCount"`
		}](t, preview)
		if p.Total != 5 || p.ProblemCount != 2 || len(p.Rows) != 5 || p.Rows[0].Code != "NEW-1" || p.Rows[0].MaxUsage != 2 ||
			!strings.Contains(p.Rows[1].Problem, "exists already") || !strings.Contains(p.Rows[3].Problem, "Max Uses") {
			t.Errorf("preview = %s", preview.Body)
		}
		if _, ok := h.Coupon("NEW-1"); ok {
			t.Fatal("the preview imported a code")
		}

		first := csvAPI("POST", "/api/imports?name=spring.csv", file, map[string]string{"Idempotency-Key": "import-1"})
		if first.Status != http.StatusAccepted {
			t.Fatalf("import: %d %s", first.Status, first.Body)
		}
		imp := webtest.Decode[importJSON](t, first)
		if imp.Rows != 5 || imp.FileName != "spring.csv" || imp.Status != models.BatchPending {
			t.Errorf("import = %s", first.Body)
		}
		again := csvAPI("POST", "/api/imports?name=spring.csv", file, map[string]string{"Idempotency-Key": "import-1"})
		if again.Status != http.StatusAccepted || again.Body != first.Body {
			t.Errorf("a retry with the same key = %d %s", again.Status, again.Body)
		}
		waitFinished := h.RunBatches()
		waitFinished(imp.ID)
		done := webtest.Decode[importJSON](t, h.MustAPI(http.StatusOK, "GET", fmt.Sprintf("/api/imports/%d", imp.ID), ""))
		if done.Status != models.BatchDone || done.Imported != 2 || done.Rejected != 3 {
			t.Errorf("done = %+v", done)
		}
		errs := h.MustAPI(http.StatusOK, "GET", done.Links.Errors, "")
		want := "line,code,problem\n3,old-1,"
		if !strings.HasPrefix(errs.Body, want) || strings.Count(errs.Body, "\n") != 4 || !strings.Contains(errs.Body, "\n5,NEW-3,\"Max Uses:") || !strings.Contains(errs.Body, "\n6,NEW-1,") {
			t.Errorf("errors.csv = %q", errs.Body)
		}
		if c := h.MustCoupon("NEW-2"); c.MaxUsage != models.DefaultImportMaxUsage || c.UTMSource == nil || *c.UTMSource != "mail" {
			t.Errorf("NEW-2 = %+v", c)
		}
		list := webtest.Decode[struct{ Imports []importJSON }](t, h.MustAPI(http.StatusOK, "GET", "/api/imports", ""))
		if len(list.Imports) != 1 || list.Imports[0].ID != imp.ID || list.Imports[0].Imported != 2 {
			t.Errorf("GET /api/imports = %+v; the retry must not have made another", list.Imports)
		}
		if page := webtest.Decode[struct{ Batches []struct{ ID int64 } }](t, h.MustAPI(http.StatusOK, "GET", "/api/batches", "")); len(page.Batches) != 0 {
			t.Errorf("the generated batches list the import: %+v", page.Batches)
		}
		webtest.WantError(t, h.API("GET", "/api/imports?status=sleeping", ""), http.StatusUnprocessableEntity, "invalid", "status")

		// A form's file field works as well, with its file's name.
		var form bytes.Buffer
		mw := multipart.NewWriter(&form)
		fw, _ := mw.CreateFormFile("file", "more.csv")
		fw.Write([]byte("code\nFORM-1\n"))
		mw.Close()
		r := h.DoWith(webtest.NewClient(), "POST", "/api/imports", &form, map[string]string{"X-Auth-Token": h.Token, "Content-Type": mw.FormDataContentType()})
		if r.Status != http.StatusAccepted || webtest.Decode[importJSON](t, r).FileName != "more.csv" {
			t.Errorf("a form's file: %d %s", r.Status, r.Body)
		}
		// A form sent again with its key is the same request, though its
		// client picks another boundary between the parts each time.
		sendForm := func(file string) webtest.Response {
			var form bytes.Buffer
			mw := multipart.NewWriter(&form)
			fw, _ := mw.CreateFormFile("file", "retried.csv")
			fw.Write([]byte(file))
			mw.Close()
			return h.DoWith(webtest.NewClient(), "POST", "/api/imports", &form,
				map[string]string{"X-Auth-Token": h.Token, "Content-Type": mw.FormDataContentType(), "Idempotency-Key": "form-1"})
		}
		formFirst := sendForm("code\nFORM-2\n")
		formAgain := sendForm("code\nFORM-2\n")
		if formFirst.Status != http.StatusAccepted || formAgain.Status != http.StatusAccepted || formAgain.Body != formFirst.Body {
			t.Errorf("a form retried with its key: %d %s, then %d %s", formFirst.Status, formFirst.Body, formAgain.Status, formAgain.Body)
		}
		webtest.WantError(t, sendForm("code\nFORM-3\n"), http.StatusUnprocessableEntity, "idempotency_key_reused")

		// Bad files: a 422 naming the file, and nothing kept.
		for body, word := range map[string]string{"": "empty", "code\n": "no rows", "colour\nred\n": "colour", "code\n\"A\nB\n": "line"} {
			e := webtest.WantError(t, csvAPI("POST", "/api/imports", body, nil), http.StatusUnprocessableEntity, "invalid", "file")
			if !strings.Contains(e.Error.Fields["file"], word) {
				t.Errorf("file %q: %q, want it to say %q", body, e.Error.Fields["file"], word)
			}
		}
		webtest.WantError(t, h.API("POST", "/api/imports", `{"code":"X"}`), http.StatusUnsupportedMediaType, "unsupported_media_type")
		webtest.WantError(t, h.API("GET", "/api/imports/999999", ""), http.StatusNotFound, "not_found")
		webtest.WantError(t, h.API("GET", "/api/imports/999999/errors.csv", ""), http.StatusNotFound, "not_found")
	})
}

// An import's file may be far larger than the body limit of every other
// request.
func TestAnImportFileMayPassTheBodyLimit(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		var b strings.Builder
		b.WriteString("code,utmSource\n")
		tag := strings.Repeat("a-long-source-tag-", 5)
		for i := range 40_000 {
			fmt.Fprintf(&b, "BIG-%06d,%s\n", i, tag)
		}
		if b.Len() < 3<<20 {
			t.Fatalf("the file is %d bytes; it must pass the 2 MB limit", b.Len())
		}
		r := h.DoWith(webtest.NewClient(), "POST", "/api/imports", strings.NewReader(b.String()), map[string]string{"X-Auth-Token": h.Token, "Content-Type": "text/csv"})
		if r.Status != http.StatusAccepted || webtest.Decode[importJSON](t, r).Rows != 40_000 {
			t.Errorf("a %d-byte file: %d %.300s", b.Len(), r.Status, r.Body)
		}
		webtest.WantError(t, h.API("POST", "/api/coupons", `{"code":"`+strings.Repeat("x", 3<<20)+`"}`), http.StatusRequestEntityTooLarge, "body_too_large")
	})
}
