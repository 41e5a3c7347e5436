// Package static holds the vendored front-end files (htmx, Pico CSS) and
// coupond's own stylesheet and script, embedded into the binary. File names carry a
// version so they can be cached for a year.
package static

import "embed"

// FS holds every asset under its path relative to /static/.
//
//go:embed vendor app-1.css copy-1.js
var FS embed.FS

// URLs of the assets, as pages link them.
const (
	HTMX   = "/static/vendor/htmx-2.0.11.min.js"
	Pico   = "/static/vendor/pico-2.1.1.min.css"
	AppCSS = "/static/app-1.css"
	// CopyJS wires the Copy buttons (data-copy) to the clipboard.
	CopyJS = "/static/copy-1.js"
)
