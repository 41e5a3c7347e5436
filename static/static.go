// Package static holds the vendored front-end files (htmx, Pico CSS, uPlot,
// Swagger UI) and coupond's own stylesheet and scripts, embedded into the
// binary. File names carry a version so they can be cached for a year.
package static

import "embed"

// FS holds every asset under its path relative to /static/.
//
//go:embed vendor app-5.css copy-2.js chart-2.js confirm-1.js api-docs-1.js
var FS embed.FS

// URLs of the assets, as pages link them.
const (
	HTMX   = "/static/vendor/htmx-2.0.11.min.js"
	Pico   = "/static/vendor/pico-2.1.1.min.css"
	AppCSS = "/static/app-5.css"
	// CopyJS wires the Copy buttons (data-copy) to the clipboard.
	CopyJS = "/static/copy-2.js"
	// ConfirmJS asks the question of a form marked data-confirm in a
	// dialog instead of on its confirmation page.
	ConfirmJS = "/static/confirm-1.js"
	// UPlot and UPlotCSS are the chart library, uPlot (MIT), from the
	// npm registry.
	UPlot    = "/static/vendor/uplot-1.6.32.min.js"
	UPlotCSS = "/static/vendor/uplot-1.6.32.min.css"
	// ChartJS draws the figures marked data-chart with uPlot from the
	// numbers of their tables.
	ChartJS = "/static/chart-2.js"
	// SwaggerUI and SwaggerUICSS render the API's OpenAPI document
	// (Swagger UI, Apache-2.0, from the npm registry); APIDocsJS starts
	// it on /api/docs.
	SwaggerUI    = "/static/vendor/swagger-ui-5.35.0-bundle.js"
	SwaggerUICSS = "/static/vendor/swagger-ui-5.35.0.css"
	APIDocsJS    = "/static/api-docs-1.js"
)
