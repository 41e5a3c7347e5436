package web_test

import (
	"encoding/json"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/coupond/coupond"

// listedPackage is what go list says of one package.
type listedPackage struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// listPackages runs go list over the module's packages, tests left out.
func listPackages(t *testing.T) map[string]listedPackage {
	t.Helper()
	// go test puts its own toolchain first on the PATH.
	cmd := exec.CommandContext(t.Context(), "go", "list", "-json", module+"/...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]listedPackage{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("read go list: %v", err)
		}
		pkgs[strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")] = p
	}
	return pkgs
}

// TestDependencyRule holds the layers to cmd → web → handlers/… →
// {views, models}: the domain knows no HTTP, template or dialect; views
// know no database; handler packages know neither the server nor each
// other's dialects.
func TestDependencyRule(t *testing.T) {
	t.Parallel()
	pkgs := listPackages(t)
	dialects := []string{"handlers/api", "handlers/vtex", "handlers/bigcommerce", "handlers/capillary"}
	handlerPkgs := append([]string{"handlers", "handlers/httpx"}, dialects...)
	for _, name := range append(slices.Clone(handlerPkgs), "models", "views", "web") {
		if _, ok := pkgs[name]; !ok {
			t.Fatalf("go list found no package %s; found %v", name, slices.Sorted(maps.Keys(pkgs)))
		}
	}
	// forbid fails for each dependency of pkg (direct when direct is
	// set) that matches re.
	forbid := func(pkg string, direct bool, re *regexp.Regexp, why string) {
		p := pkgs[pkg]
		deps := p.Deps
		if direct {
			deps = p.Imports
		}
		for _, d := range deps {
			if re.MatchString(d) {
				t.Errorf("%s imports %s: %s", pkg, d, why)
			}
		}
	}
	ours := func(names ...string) *regexp.Regexp {
		quoted := make([]string, len(names))
		for i, n := range names {
			quoted[i] = regexp.QuoteMeta(module + "/" + n)
		}
		return regexp.MustCompile(`^(` + strings.Join(quoted, "|") + `)(/|$)`)
	}

	forbid("models", false, regexp.MustCompile(`^(net/http|github\.com/labstack/echo/.*|github\.com/a-h/templ(/.*)?)$`), "the domain speaks no HTTP and renders nothing")
	forbid("models", true, regexp.MustCompile(`^(html/template|text/template)$`), "the domain renders nothing")
	forbid("models", false, ours("web", "handlers", "views", "cmd"), "the domain is at the centre")
	forbid("views", false, regexp.MustCompile(`^(database/sql|gorm\.io/.*|github\.com/jackc/.*|github\.com/mattn/go-sqlite3)$`), "templates read no database")
	for _, h := range handlerPkgs {
		forbid(h, false, ours("web", "cmd"), "handlers are called by the server, not the other way round")
		for _, d := range dialects {
			if d != h {
				forbid(h, false, ours(d), "no handler package depends on a dialect's package")
			}
		}
	}
	forbid("handlers/httpx", false, regexp.MustCompile(`^`+regexp.QuoteMeta(module)+`/handlers$`), "the shared helpers are below the console")
	forbid("web", false, ours("cmd"), "the server does not know its command line")
}

// TestModelsNameNoVendor keeps the domain in its own words: outside its
// tests, no file in models names a platform whose API coupond speaks.
func TestModelsNameNoVendor(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("..", "models", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no models sources found: %v", err)
	}
	vendor := regexp.MustCompile(`(?i)vtex|capillary|bigcommerce`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if m := vendor.FindString(line); m != "" {
				t.Errorf("%s:%d names %q: %s", f, i+1, m, strings.TrimSpace(line))
			}
		}
	}
}
