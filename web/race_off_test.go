//go:build !race

package web

// raceDetector reports whether the tests run under the race detector,
// which changes how many allocations code makes.
const raceDetector = false
