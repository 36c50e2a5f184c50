// Package view renders server-side pages from the embedded templates, in the visitor's
// language, with assets served under content-hashed URLs.
package view

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"

	"balcao/internal/httpx"
	"balcao/internal/i18n"
)

// Renderer holds the parsed pages.
type Renderer struct {
	pages   map[string]*template.Template
	catalog *i18n.Catalog
	assets  *Assets
	brand   func(r *http.Request) Brand // nil: no branding beyond the agency's name
}

// Brand is the agency's branding that every page shows: the URLs of its logo and of the
// stylesheet that sets its colour, each carrying a version so that browsers may cache
// them; empty when not set.
type Brand struct {
	LogoURL  string
	StyleURL string
}

// SetBrand makes every page carry the branding fn returns for its request. Call it
// before serving.
func (rd *Renderer) SetBrand(fn func(r *http.Request) Brand) { rd.brand = fn }

// Page is what every page's data embeds: its language, title and the agency's name.
type Page struct {
	Lang    string
	Title   string
	Agency  string
	Path    string // the request's path and query, for the language switch
	Brand   Brand
	catalog *i18n.Catalog
}

// T translates key into the page's language.
func (p Page) T(key string, args ...any) string { return p.catalog.T(p.Lang, key, args...) }

// OtherLanguages lists the languages the page can be switched to.
func (p Page) OtherLanguages() []string {
	var out []string
	for _, l := range i18n.Languages {
		if l != p.Lang {
			out = append(out, l)
		}
	}
	return out
}

// HTMLLang is the page's language as the lang attribute wants it.
func (p Page) HTMLLang() string { return p.Lang }

// NewPage starts the data of a page for request r.
func (rd *Renderer) NewPage(r *http.Request, titleKey string, args ...any) Page {
	lang := i18n.FromRequest(r)
	p := Page{Lang: lang, Path: r.URL.RequestURI(), catalog: rd.catalog}
	if rd.brand != nil {
		p.Brand = rd.brand(r)
	}
	if titleKey != "" {
		p.Title = rd.catalog.T(lang, titleKey, args...)
	}
	return p
}

// Catalog returns the translations.
func (rd *Renderer) Catalog() *i18n.Catalog { return rd.catalog }

// Assets returns the static assets.
func (rd *Renderer) Assets() *Assets { return rd.assets }

// New parses every page in templates/pages with the layout and partials.
func New(fsys fs.FS, catalog *i18n.Catalog) (*Renderer, error) {
	assets, err := LoadAssets(fsys, "static")
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"asset": assets.URL,
	}
	shared, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages, err := fs.Glob(fsys, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	rd := &Renderer{pages: map[string]*template.Template{}, catalog: catalog, assets: assets}
	for _, p := range pages {
		name := strings.TrimSuffix(path.Base(p), ".html")
		t, err := template.New(name).Funcs(funcs).ParseFS(fsys, append(append([]string{}, shared...), p)...)
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		rd.pages[name] = t
	}
	return rd, nil
}

// Render writes page name with data and status. The page is rendered to a buffer first
// so that a template error becomes a clean 500, not half a page.
func (rd *Renderer) Render(w http.ResponseWriter, status int, name string, data any) error {
	t, ok := rd.pages[name]
	if !ok {
		return fmt.Errorf("render: no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// Pages lists the names of the parsed pages.
func (rd *Renderer) Pages() []string {
	out := make([]string, 0, len(rd.pages))
	for name := range rd.pages {
		out = append(out, name)
	}
	return out
}

// LongDate formats a day as "quarta-feira, 2 de dezembro de 2026" / "Wednesday 2 December 2026".
func (p Page) LongDate(t time.Time) string { return p.catalog.LongDate(p.Lang, t) }

// ShortDate formats a day as "qua., 2 dez." / "Wed 2 Dec".
func (p Page) ShortDate(t time.Time) string { return p.catalog.ShortDate(p.Lang, t) }

// Clock formats a time of day as 24-hour HH:MM.
func (p Page) Clock(t time.Time) string { return t.Format("15:04") }

// FormErrors are a form's problems: by field, for the message beside each input, and in
// the form's order, each naming its field, for the summary at the top.
type FormErrors struct {
	Summary []FormError
	byField map[string]string
}

// FormError is one line of the summary.
type FormError struct {
	Field string // the input's name; its id is "f-" + Field
	Text  string
}

// Field names an input and the translation key of its label.
type Field struct{ Name, LabelKey string }

// Errors translates a form's problems (field -> message key), listing them in the order
// of fields; a problem with a field not listed comes last.
func (p Page) Errors(problems map[string]string, fields []Field) FormErrors {
	fe := FormErrors{byField: map[string]string{}}
	for name, key := range problems {
		fe.byField[name] = p.T(key)
	}
	listed := map[string]bool{}
	for _, f := range fields {
		listed[f.Name] = true
		if msg, ok := fe.byField[f.Name]; ok {
			fe.Summary = append(fe.Summary, FormError{Field: f.Name, Text: p.T("form.error_item", p.T(f.LabelKey), msg)})
		}
	}
	var rest []string
	for name := range problems {
		if !listed[name] {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	for _, name := range rest {
		fe.Summary = append(fe.Summary, FormError{Field: name, Text: fe.byField[name]})
	}
	return fe
}

// For returns the message for one field, or "".
func (fe FormErrors) For(name string) string { return fe.byField[name] }

// ErrorPage is the error page's data.
type ErrorPage struct {
	Page
	Heading   string
	Message   string
	RequestID string // on a server error, for the support desk to find the request in the log
}

// RenderError answers with the error page of e, on pg: the page as the handler's area
// starts its pages (the agency's name, a staff header). When even that cannot be
// rendered, the answer is the status in plain text.
func (rd *Renderer) RenderError(w http.ResponseWriter, r *http.Request, pg Page, e *httpx.Error, log *slog.Logger) {
	data := ErrorPage{Page: pg, Heading: pg.T("error.heading"), Message: pg.T(e.Key, e.Args...)}
	if e.Status >= 500 {
		data.RequestID = httpx.RequestID(r.Context())
	}
	if err := rd.Render(w, e.Status, "error", data); err != nil {
		log.Error("render error page", "error", err)
		http.Error(w, http.StatusText(e.Status), e.Status)
	}
}
