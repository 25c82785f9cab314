// Package assets serves the web UI's stylesheet and scripts, embedded in the
// binary so that lbm needs no files beside it and no Node.js to build.
//
// # What is served
//
// The files in dist, at /assets/{name}:
//
//   - lbm.css: GOV.UK Frontend's styles for the components lbm uses, with the
//     system font stack and no GOV.UK branding. It references no other file:
//     no fonts, no images.
//   - govuk-frontend.min.js: GOV.UK Frontend's JavaScript, as published.
//   - init.js: marks the page as supported and starts GOV.UK Frontend's
//     components. Pages work without it.
//
// lbm.css and govuk-frontend.min.js are built from web/frontend by
// scripts/build-assets.sh, which pins every npm package and gives
// byte-identical output on every run; the results are committed. init.js is
// written by hand.
//
// # Security
//
// Only the embedded files are reachable: a request names one of them exactly
// or gets 404, so there are no directory listings and no path to walk out of
// dist, whatever the URL encodes. Every response says
// X-Content-Type-Options: nosniff, so that a browser never runs a file as
// something other than the type it is served as, which the pages' strict
// Content Security Policy relies on.
package assets

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// Prefix is the URL path under which [Handler] serves the assets.
const Prefix = "/assets/"

// CacheControl is sent with every asset. An hour keeps repeat page loads
// quick while an upgraded binary's assets reach browsers the same day.
const CacheControl = "public, max-age=3600"

//go:embed dist
var dist embed.FS

// file is one asset, read and hashed once.
type file struct {
	data        []byte
	contentType string
	etag        string
}

// types are the content types of the extensions dist may hold; an asset of
// another type is a build mistake, caught by load and by the tests.
var types = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
}

// load reads every file in dist, keyed by its name under dist.
func load(fsys fs.FS) (map[string]*file, error) {
	files := make(map[string]*file)
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		ct, ok := types[path.Ext(name)]
		if !ok {
			ct = mime.TypeByExtension(path.Ext(name))
		}
		if ct == "" {
			ct = "application/octet-stream"
		}
		sum := sha256.Sum256(data)
		files[name] = &file{
			data:        data,
			contentType: ct,
			etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`,
		}
		return nil
	})
	return files, err
}

// Handler returns the handler for GET and HEAD of /assets/{name}. It expects
// the full request path, prefix included, and answers 404 for the prefix
// alone, for directories and for any name that is not an embedded file.
// Conditional requests (If-None-Match) are answered with 304.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // dist is embedded at build time; Sub cannot fail on it
	}
	files, err := load(sub)
	if err != nil {
		panic(err) // reading an embed.FS cannot fail
	}
	return handler(files)
}

type handler map[string]*file

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// The lookup is by exact name, so "..", "%2e%2e", "//" and trailing
	// slashes simply name nothing.
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	f := h[name]
	if !ok || f == nil {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", f.contentType)
	hdr.Set("Cache-Control", CacheControl)
	hdr.Set("ETag", f.etag)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.data))
}
