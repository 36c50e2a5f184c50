// Package web embeds what browsers receive: page templates, static assets (styles,
// scripts, images) and the translation catalogues. Nothing is fetched from elsewhere.
package web

import "embed"

// FS holds templates/, static/ and i18n/.
//
//go:embed templates static i18n
var FS embed.FS
