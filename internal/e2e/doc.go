// Package e2e holds balcao's end-to-end browser tests: they serve the whole site on a
// loopback port and drive headless Chromium through it as a citizen on a phone would
// (booking, rescheduling and cancelling), audit every portal page with axe-core in both
// languages, and weigh what a booking costs in bytes on the wire.
//
// The tests need Chromium (found on PATH, or named by BALCAO_CHROMIUM) and, for the
// accessibility audit, node_modules/axe-core at the repository root (npm ci). Without
// them the tests skip, or fail when CI=true.
package e2e
