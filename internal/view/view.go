// Package view renders server-side pages from the embedded templates, in the visitor's
// language, with assets served under content-hashed URLs.
package view

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"balcao/internal/i18n"
)

// Renderer holds the parsed pages.
type Renderer struct {
	pages   map[string]*template.Template
	catalog *i18n.Catalog
	assets  *Assets
}

// Page is what every page's data embeds: its language, title and the agency's name.
type Page struct {
	Lang    string
	Title   string
	Agency  string
	Path    string // the request's path and query, for the language switch
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
		"field": func(errs map[string]string, name string) string { return errs[name] },
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
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

// Weekday returns the translated weekday name.
func (p Page) Weekday(d time.Weekday) string { return p.T(fmt.Sprintf("weekday.%d", int(d))) }

// LongDate formats a day as "quarta-feira, 2 de dezembro de 2026" / "Wednesday 2 December 2026".
func (p Page) LongDate(t time.Time) string {
	return p.T("format.long_date", p.Weekday(t.Weekday()), t.Day(), p.T(fmt.Sprintf("month.%d", int(t.Month()))), t.Year())
}

// ShortDate formats a day as "qua., 2 dez." / "Wed 2 Dec".
func (p Page) ShortDate(t time.Time) string {
	return p.T("format.short_date", p.T(fmt.Sprintf("weekday_short.%d", int(t.Weekday()))), t.Day(),
		p.T(fmt.Sprintf("month_short.%d", int(t.Month()))))
}

// Clock formats a time of day as 24-hour HH:MM.
func (p Page) Clock(t time.Time) string { return t.Format("15:04") }
