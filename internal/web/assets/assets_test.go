package assets

import (
	"bytes"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, target string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, "/", nil)
	// Set the path directly, as the server's mux would hand it over, so that
	// hostile paths reach the handler uncleaned.
	r.URL.Path = target
	r.URL.RawPath = ""
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestFiles(t *testing.T) {
	h := Handler()
	for _, tt := range []struct {
		name, contentType string
		contains          string
	}{
		{"lbm.css", "text/css; charset=utf-8", ".govuk-button"},
		{"govuk-frontend.min.js", "text/javascript; charset=utf-8", "initAll"},
		{"init.js", "text/javascript; charset=utf-8", `from "./govuk-frontend.min.js"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want, err := os.ReadFile("dist/" + tt.name)
			if err != nil {
				t.Fatal(err)
			}
			w := get(t, h, "GET", "/assets/"+tt.name)
			if w.Code != http.StatusOK {
				t.Fatalf("GET /assets/%s: status %d, want 200", tt.name, w.Code)
			}
			for k, v := range map[string]string{
				"Content-Type":           tt.contentType,
				"Cache-Control":          "public, max-age=3600",
				"X-Content-Type-Options": "nosniff",
			} {
				if got := w.Header().Get(k); got != v {
					t.Errorf("GET /assets/%s: %s = %q, want %q", tt.name, k, got, v)
				}
			}
			if !bytes.Equal(w.Body.Bytes(), want) {
				t.Errorf("GET /assets/%s: body differs from dist/%s", tt.name, tt.name)
			}
			if !strings.Contains(w.Body.String(), tt.contains) {
				t.Errorf("GET /assets/%s: body lacks %q", tt.name, tt.contains)
			}

			etag := w.Header().Get("ETag")
			if etag == "" {
				t.Fatalf("GET /assets/%s: no ETag", tt.name)
			}
			w = get(t, h, "GET", "/assets/"+tt.name, "If-None-Match", etag)
			if w.Code != http.StatusNotModified {
				t.Errorf("GET /assets/%s If-None-Match: status %d, want 304", tt.name, w.Code)
			}

			w = get(t, h, "HEAD", "/assets/"+tt.name)
			if w.Code != http.StatusOK || w.Body.Len() != 0 {
				t.Errorf("HEAD /assets/%s: status %d, %d body bytes; want 200, none", tt.name, w.Code, w.Body.Len())
			}
		})
	}
}

// TestEveryFileHasAType keeps the build from shipping a file the handler
// would serve as application/octet-stream.
func TestEveryFileHasAType(t *testing.T) {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		t.Fatal(err)
	}
	files, err := load(sub)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Errorf("dist holds %d files, want 3 (lbm.css, govuk-frontend.min.js, init.js)", len(files))
	}
	for name, f := range files {
		if f.contentType == "application/octet-stream" {
			t.Errorf("dist/%s has no known content type", name)
		}
	}
}

func TestNotFound(t *testing.T) {
	h := Handler()
	for _, p := range []string{
		"/assets/",
		"/assets",
		"/assets/dist",
		"/assets/dist/lbm.css",
		"/assets/nope.css",
		"/assets/lbm.css/",
		"/assets//lbm.css",
		"/assets/./lbm.css",
		"/assets/../x",
		"/assets/../assets.go",
		"/assets/%2e%2e/",
		"/assets/../",
		"/assets/..%2fassets.go",
		"/assets/LBM.CSS",
		"/lbm.css",
		"/other/lbm.css",
	} {
		w := get(t, h, "GET", p)
		if w.Code != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, w.Code)
		}
		if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options = %q, want nosniff", p, got)
		}
		if got := w.Header().Get("Cache-Control"); got != "" {
			t.Errorf("GET %s: Cache-Control = %q, want none", p, got)
		}
	}
}

// TestEncodedTraversal sends traversal attempts through a real request
// parser, as a client would write them.
func TestEncodedTraversal(t *testing.T) {
	h := Handler()
	for _, target := range []string{
		"/assets/../x",
		"/assets/%2e%2e/",
		"/assets/%2e%2e/assets.go",
		"/assets/%2E%2E%2Fassets.go",
		"/assets/..%5cassets.go",
	} {
		r := httptest.NewRequest("GET", target, nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", target, w.Code)
		}
	}
}

func TestMethod(t *testing.T) {
	w := get(t, Handler(), "POST", "/assets/lbm.css")
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /assets/lbm.css: status %d, want 405", w.Code)
	}
}

// TestStylesheetIsSelfContained checks what scripts/build-assets.sh
// promises: the stylesheet loads no other file and carries no GOV.UK
// branding or typeface.
func TestStylesheetIsSelfContained(t *testing.T) {
	css, err := dist.ReadFile("dist/lbm.css")
	if err != nil {
		t.Fatal(err)
	}
	lower := strings.ToLower(string(css))
	for _, bad := range []string{"url(", "@import", "@font-face", "gds transport", "crown", "crest", "gov.uk"} {
		if strings.Contains(lower, bad) {
			t.Errorf("lbm.css contains %q", bad)
		}
	}
	const font = `font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif`
	if !strings.Contains(string(css), font) {
		t.Errorf("lbm.css does not use the system font stack %s", font)
	}
}
