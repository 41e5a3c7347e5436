package webtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/coupond/coupond/handlers/api"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// OpenAPI is the native API's document (api.OpenAPIDocument), loaded and
// validated once, and a router over its operations; an error says why
// the document is not valid.
var OpenAPI = sync.OnceValues(func() (*OpenAPIDoc, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPIDocument)
	if err != nil {
		return nil, fmt.Errorf("load the OpenAPI document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the OpenAPI document is not valid: %w", err)
	}
	// The document's one server is "/", the host it is served from; the
	// router matches paths alone when the copy it routes by names none.
	routed := *doc
	routed.Servers = nil
	router, err := legacy.NewRouter(&routed)
	if err != nil {
		return nil, fmt.Errorf("route the OpenAPI document: %w", err)
	}
	return &OpenAPIDoc{T: doc, router: router}, nil
})

// OpenAPIDoc is the loaded document and its router.
type OpenAPIDoc struct {
	*openapi3.T
	router routers.Router
}

func init() {
	// The exports and the documentation page are text the validator
	// only needs to read.
	text := func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(r)
		return string(b), err
	}
	openapi3filter.RegisterBodyDecoder("text/csv", text)
	openapi3filter.RegisterBodyDecoder("text/html", text)
}

// IsNative reports whether path (with its query) is the native API's: under
// /api, and not a dialect's (/api/rnb/pvt, /api/v3).
func IsNative(path string) bool {
	return strings.HasPrefix(path, "/api/") && !strings.HasPrefix(path, "/api/rnb/") && !strings.HasPrefix(path, "/api/v3/")
}

// CheckOpenAPI checks a native request and its answer against the
// document: the answer always (its status must be one the operation
// documents, its body of that status's schema), the request when the
// server took it (2xx), since a request the server refuses may break the
// document on purpose. It returns what does not match, or nil.
func CheckOpenAPI(req *http.Request, reqBody []byte, status int, header http.Header, body []byte) error {
	doc, err := OpenAPI()
	if err != nil {
		return err
	}
	route, params, err := doc.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s %s is not in the OpenAPI document: %w", req.Method, req.URL.Path, err)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true, IncludeResponseStatus: true}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if status >= 200 && status < 300 {
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
		if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
			return fmt.Errorf("%s %s was taken (%d) but breaks the OpenAPI document: %w", req.Method, req.URL.Path, status, err)
		}
	}
	err = openapi3filter.ValidateResponse(req.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)), Options: opts})
	if err != nil {
		return fmt.Errorf("the answer %d to %s %s breaks the OpenAPI document: %w\nbody: %.500s", status, req.Method, req.URL.Path, err, body)
	}
	return nil
}
