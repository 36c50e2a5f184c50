// Package e2e holds balcao's end-to-end browser tests: they serve the whole site on a
// loopback port and drive headless Chromium through it as a citizen on a phone would
// (booking, rescheduling and cancelling), audit every portal page with axe-core in both
// languages, and weigh what a booking costs in bytes on the wire.
//
// The citizen's call pages are also driven in Firefox ESR, over WebDriver BiDi
// (package firefox), with the agent in Chromium; and the device check and waiting room
// in WebKit, Safari's engine, as WebKitGTK's MiniBrowser over WebDriver classic (package
// webdriver). Debian's WebKitGTK is built without WebRTC, so the call itself cannot be
// made in it: the test checks that the page says so instead of joining.
//
// The tests need Chromium (found on PATH, or named by BALCAO_CHROMIUM), Firefox (on
// PATH, or BALCAO_FIREFOX; Xvfb too, for its screen share), WebKitWebDriver with
// WebKitGTK's MiniBrowser and, for the accessibility audit, node_modules/axe-core at the
// repository root (npm ci). Without them the tests skip, or fail when CI=true.
package e2e
