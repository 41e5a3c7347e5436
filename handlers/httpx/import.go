package httpx

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

// ImportFile is the file of codes to import a request sends: its body when it is text/csv,
// the part named file of a multipart form, with its name (from the
// form, or the name query parameter).
func ImportFile(c echo.Context) (io.Reader, string, func(), error) {
	r := c.Request()
	media, params, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	switch media {
	case "text/csv", "text/plain", "application/csv", "application/octet-stream":
		return r.Body, c.QueryParam("name"), func() {}, nil
	case "multipart/form-data":
		if r.MultipartForm != nil {
			// Read already (a console form's CSRF field): the file was
			// kept on disk past 32 MB.
			fhs := r.MultipartForm.File[models.FieldFile]
			if len(fhs) == 0 {
				return nil, "", nil, models.Invalid(models.FieldFile, "choose a CSV file to import")
			}
			f, err := fhs[0].Open()
			if err != nil {
				return nil, "", nil, fmt.Errorf("open the uploaded file: %w", err)
			}
			return f, fhs[0].Filename, func() { f.Close() }, nil
		}
		if params["boundary"] == "" {
			return nil, "", nil, echo.NewHTTPError(http.StatusBadRequest, "the multipart form names no boundary")
		}
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, "", nil, echo.NewHTTPError(http.StatusBadRequest, "the form cannot be read: "+err.Error())
		}
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return nil, "", nil, models.Invalid(models.FieldFile, "the form has no file field; send the CSV as the field named file")
			}
			if err != nil {
				return nil, "", nil, echo.NewHTTPError(http.StatusBadRequest, "the form cannot be read: "+err.Error())
			}
			if part.FormName() == models.FieldFile {
				return part, part.FileName(), func() { part.Close() }, nil
			}
			part.Close()
		}
	}
	return nil, "", nil, echo.NewHTTPError(http.StatusUnsupportedMediaType,
		"send the file as the body with Content-Type: text/csv, or as the field named file of a multipart/form-data form (curl: --data-binary @codes.csv -H 'Content-Type: text/csv')")
}

// ImportProblemsCSV streams the rows import id refused as CSV (line,
// code, problem, in line order) under filename; each returns them.
func ImportProblemsCSV(c echo.Context, filename string, each func(fn func(models.ImportProblem) error) error) error {
	return StreamRows(c, filename, []string{"line", "code", "problem"}, each,
		func(dst []byte, p models.ImportProblem) []byte {
			dst = strconv.AppendInt(dst, int64(p.Line), 10)
			dst = append(dst, ',')
			dst = AppendCSVCell(dst, p.Code)
			dst = append(dst, ',')
			return AppendCSVCell(dst, p.Problem)
		})
}
