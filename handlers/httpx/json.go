package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

// DecodeJSON reads one JSON value from the request body into v. Malformed
// JSON is a 400 that says where it broke; a value of the wrong type is a
// *models.ValidationError naming the field (with prefix in front), so the
// client hears 422 and which field to fix.
func DecodeJSON(c echo.Context, v any) error {
	body, err := ReadBody(c)
	if err != nil {
		return err
	}
	return UnmarshalJSON(body, v, "")
}

// ReadBody reads the request body of a JSON request: a 413 past the
// body limit, a 415 for a form.
func ReadBody(c echo.Context) ([]byte, error) {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			// A 413 wherever a body is read (web's classify).
			return nil, err
		}
		if errors.Is(err, echo.ErrStatusRequestEntityTooLarge) {
			// Echo's limit on a body sent without Content-Length.
			return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge, "the request body is larger than the server accepts")
		}
		return nil, echo.NewHTTPError(http.StatusBadRequest, "could not read the request body")
	}
	if len(body) == 0 && strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), echo.MIMEApplicationForm) {
		// The server read the body as a form (curl -d sends one).
		return nil, echo.NewHTTPError(http.StatusUnsupportedMediaType, "the body was sent as a form; send JSON with Content-Type: application/json (curl: -H 'Content-Type: application/json')")
	}
	return body, nil
}

// UnmarshalJSON reads body into v as DecodeJSON does; prefix is put
// before the field names of its errors ("[2]." for a list's third item).
func UnmarshalJSON(body []byte, v any, prefix string) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return echo.NewHTTPError(http.StatusBadRequest, "the request body is empty; send a JSON document")
	}
	err := json.Unmarshal(body, v)
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &syntax):
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("malformed JSON at byte %d: %s", syntax.Offset, syntax.Error()))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("the JSON %s must be %s, not %s", bodyName(prefix), jsonKind(typ.Type), typ.Value))
		}
		return models.Invalid(prefix+typ.Field, fmt.Sprintf("must be %s, not %s", jsonKind(typ.Type), typ.Value))
	}
	return echo.NewHTTPError(http.StatusBadRequest, "malformed JSON: "+err.Error())
}

func bodyName(prefix string) string {
	if prefix == "" {
		return "body"
	}
	return "item " + strings.TrimSuffix(prefix, ".")
}

// jsonKind names a Go type the way a JSON client thinks of it.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

// QueryInt reads an optional whole-number query parameter; a bad value is
// recorded in verr.
func QueryInt(c echo.Context, verr *models.ValidationError, name string) int {
	raw := c.QueryParam(name)
	if raw == "" {
		return 0
	}
	return FormInt(verr, name, raw)
}

// RawNumber reads a JSON number, or a string holding one, as its text;
// anything else is recorded in verr. Absent or null is "".
func RawNumber(verr *models.ValidationError, field string, raw json.RawMessage) string {
	s := strings.TrimSpace(string(raw))
	switch {
	case s == "" || s == "null":
		return ""
	case strings.HasPrefix(s, `"`):
		var str string
		if err := json.Unmarshal(raw, &str); err == nil {
			return str
		}
	case strings.IndexFunc(s, func(r rune) bool { return !strings.ContainsRune("0123456789.-+eE", r) }) < 0:
		return s
	}
	verr.Add(field, "must be a number")
	return ""
}
