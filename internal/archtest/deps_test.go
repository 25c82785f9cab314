package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/lbm-project/lbm"

// domainPackages hold the rules of the domain. They stay free of I/O so that
// they can be tested without a database or a network, and so that a change
// of engine or transport can never change a rule. internal/retention is
// not one: like internal/authorise it is a service acting on the store
// through its interfaces, and what is due is the catalogue's categories.
var domainPackages = []string{"event", "search", "requests", "policy", "consent", "notice", "strictyaml", "detect", "safetext", "tenancy"}

// forbidden maps an import to the reason domain packages must not use it.
var forbidden = map[string]string{
	"database/sql":                "storage belongs to internal/store and its engines",
	"net/http":                    "transport belongs to internal/web",
	"modernc.org/sqlite":          "a driver belongs to internal/store/sqlite",
	"github.com/jackc/pgx/v5":     "a driver belongs to internal/store/postgres",
	module + "/internal/store":    "domain rules must not depend on how they are kept",
	module + "/internal/web":      "domain rules must not depend on how they are served",
	module + "/internal/server":   "domain rules must not depend on how lbm is assembled",
	module + "/internal/database": "storage belongs to internal/store",
}

func TestDeps(t *testing.T) {
	checked := 0
	for _, name := range domainPackages {
		if _, err := os.Stat(filepath.Join("..", name)); err != nil {
			continue // not written yet
		}
		pkg := module + "/internal/" + name
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		checked++
		for _, dep := range strings.Fields(string(out)) {
			for bad, why := range forbidden {
				if dep == bad || strings.HasPrefix(dep, bad+"/") {
					t.Errorf("%s depends on %s: %s", pkg, dep, why)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no domain package found: is the test running from internal/archtest?")
	}
}

// drivers maps a database driver to the packages that may import it: its
// engine, and the engine's test helpers. Anything else reaches storage
// through internal/store, so that every feature works on both engines.
var drivers = map[string][]string{
	"modernc.org/sqlite":      {"internal/store/sqlite"},
	"github.com/jackc/pgx/v5": {"internal/store/postgres", "internal/store/postgres/pgtest"},
}

func TestDriversStayInEngines(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"/...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := strings.TrimPrefix(fields[0], module+"/"), fields[1:]
		for _, imp := range imports {
			for driver, owners := range drivers {
				if imp != driver && !strings.HasPrefix(imp, driver+"/") {
					continue
				}
				if !slices.Contains(owners, pkg) {
					t.Errorf("%s imports %s: only %v may", pkg, imp, owners)
				}
			}
		}
	}
}

// testOnly are modules and packages the lbm binary must never link: test
// servers and browsers, each with the reason. (github.com/emersion/go-smtp
// was one until lbm took journal mail: the SMTP journal endpoint of
// internal/capture/email is built on it.)
var testOnly = map[string]string{
	"github.com/zitadel/oidc":                                    "an OpenID provider for tests; lbm is only a relying party",
	"github.com/lbm-project/lbm/internal/identity/oidc/oidctest": "runs that provider for tests",
	"github.com/chromedp/chromedp":                               "drives a browser in tests",
	"github.com/elastic/go-elasticsearch":                        "a shipper's client for tests of /es/_bulk",
	"go.opentelemetry.io/otel/exporters/otlp/otlplog":            "a shipper's exporter for tests of POST /v1/logs",
	"go.opentelemetry.io/otel/sdk/log":                           "drives that exporter in tests",
	"google.golang.org/grpc":                                     "lbm takes OTLP over HTTP only: internal/capture/otlp decodes with plog, not plogotlp's gRPC service",
}

func TestBinaryLinksNoTestSupport(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", module+"/cmd/lbm")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for bad, why := range testOnly {
			if dep == bad || strings.HasPrefix(dep, bad+"/") {
				t.Errorf("the lbm binary links %s: %s", dep, why)
			}
		}
	}
}

// clockFree packages take time as an input: pure functions get `now`, so
// expiry and retention are testable and no rule depends on when it runs.
var clockFree = []string{"event", "search", "requests", "authorise", "alerts", "oversight", "notify", "review", "evidence", "policy", "consent", "notice", "strictyaml", "detect", "retention", "tlog", "record", "identity", "identity/oidc", "relevanterror",
	"capture/esbulk", "capture/otlp", "capture/flat", "tenancy"}

func TestNoClockReads(t *testing.T) {
	for _, name := range clockFree {
		files, _ := filepath.Glob(filepath.Join("..", name, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			fs := token.NewFileSet()
			file, err := parser.ParseFile(fs, f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "time" && (sel.Sel.Name == "Now" || sel.Sel.Name == "Since") {
					t.Errorf("%s: calls time.%s; take the time as an input", fs.Position(sel.Pos()), sel.Sel.Name)
				}
				return true
			})
		}
	}
}
