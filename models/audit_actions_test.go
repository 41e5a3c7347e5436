package models_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
)

// The audit log's action filter offers every action the store writes:
// each Action constant of the package is in AuditActions.
func TestTheAuditFilterListsEveryAction(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if !strings.HasPrefix(id.Name, "Action") || i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						v, _ := strconv.Unquote(lit.Value)
						actions = append(actions, v)
					}
				}
			}
		}
	}
	if len(actions) < 20 {
		t.Fatalf("found only %d actions in the package: %v", len(actions), actions)
	}
	for _, a := range actions {
		if !slices.Contains(models.AuditActions, a) {
			t.Errorf("action %q is written but the audit filter does not offer it", a)
		}
	}
}
