package web_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
	"github.com/coupond/coupond/web"
	"github.com/coupond/coupond/web/webtest"
)

// pathParam is an Echo path parameter, ":code", which OpenAPI writes
// "{code}".
var pathParam = regexp.MustCompile(`:([A-Za-z]+)`)

// The OpenAPI document and the route table name the same native
// operations: a route the document lacks, or a documented operation no
// route serves, fails. (The handler tests check each request and answer
// against the document: web/webtest.CheckOpenAPI.)
func TestTheOpenAPIDocumentListsEveryNativeRoute(t *testing.T) {
	t.Parallel()
	doc, err := webtest.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("the document is OpenAPI %s, want 3.1", doc.OpenAPI)
	}
	s := storetest.Open(t, models.DialectSQLite, models.Config{})
	e := web.NewServer(webtest.DiscardLogger(), web.Config{}, s)
	routes := map[string]bool{}
	for _, r := range e.Routes() {
		if !webtest.IsNative(r.Path) || r.Method == "echo_route_any" {
			continue
		}
		key := r.Method + " " + pathParam.ReplaceAllString(r.Path, "{$1}")
		routes[key] = true
		item := doc.Paths.Value(pathParam.ReplaceAllString(r.Path, "{$1}"))
		if item == nil || item.GetOperation(r.Method) == nil {
			t.Errorf("route %s is not in the OpenAPI document", key)
		}
	}
	if len(routes) < 30 {
		t.Fatalf("found %d native routes; the route table did not load", len(routes))
	}
	for _, path := range doc.Paths.InMatchingOrder() {
		for method := range doc.Paths.Value(path).Operations() {
			if key := method + " " + path; !routes[key] {
				t.Errorf("the OpenAPI document has %s, which no route serves", key)
			}
		}
	}
	// Every operation says who may call it: none for the documentation,
	// else the read or the modify scope, modify for every write.
	for _, path := range doc.Paths.InMatchingOrder() {
		for method, op := range doc.Paths.Value(path).Operations() {
			if op.Security == nil || len(*op.Security) == 0 {
				t.Errorf("%s %s names no security requirement", method, path)
				continue
			}
			scopes := (*op.Security)[0]["token"]
			write := method != http.MethodGet && op.OperationID != "previewBatch" && op.OperationID != "previewImport"
			switch {
			case strings.HasPrefix(path, "/api/openapi.json") || path == "/api/docs":
				if len((*op.Security)[0]) != 0 {
					t.Errorf("%s %s needs a token; the documentation is public", method, path)
				}
			case write && !slices.Equal(scopes, []string{"modify"}), !write && !slices.Equal(scopes, []string{"read"}):
				t.Errorf("%s %s needs scope %v", method, path, scopes)
			}
		}
	}
}
