// Package i18n holds the translation catalogues (pt-PT, the default, and English) and
// picks the language of a request.
package i18n

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Default is the language used when nothing else is asked for.
const Default = "pt-PT"

// Languages are the interface languages, default first.
var Languages = []string{"pt-PT", "en"}

// Catalog holds every message in every language.
type Catalog struct {
	messages map[string]map[string]string // language -> key -> message
}

// Load reads the JSON catalogues of each language from dir — "pt-PT.json" and any
// "area.pt-PT.json" beside it (e-mails, say) — and checks that every language has exactly
// the same keys.
func Load(fsys fs.FS, dir string) (*Catalog, error) {
	c := &Catalog{messages: map[string]map[string]string{}}
	for _, lang := range Languages {
		files, err := fs.Glob(fsys, path.Join(dir, "*"+lang+".json"))
		if err != nil || len(files) == 0 {
			return nil, fmt.Errorf("load catalogue %s: no %s.json in %s", lang, lang, dir)
		}
		m := map[string]string{}
		for _, f := range files {
			if base := path.Base(f); base != lang+".json" && !strings.HasSuffix(base, "."+lang+".json") {
				continue
			}
			b, err := fs.ReadFile(fsys, f)
			if err != nil {
				return nil, fmt.Errorf("load catalogue %s: %w", f, err)
			}
			part := map[string]string{}
			if err := json.Unmarshal(b, &part); err != nil {
				return nil, fmt.Errorf("load catalogue %s: %w", f, err)
			}
			for k, v := range part {
				if _, dup := m[k]; dup {
					return nil, fmt.Errorf("load catalogue %s: key %q is defined twice", f, k)
				}
				m[k] = v
			}
		}
		c.messages[lang] = m
	}
	if missing := c.Missing(); len(missing) > 0 {
		return nil, fmt.Errorf("load catalogues: keys missing in a language: %s", strings.Join(missing, ", "))
	}
	return c, nil
}

// Missing lists "lang:key" for every key that one language has and another lacks.
func (c *Catalog) Missing() []string {
	var out []string
	for _, a := range Languages {
		for key := range c.messages[a] {
			for _, b := range Languages {
				if _, ok := c.messages[b][key]; !ok {
					out = append(out, b+":"+key)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// Has tells whether key exists.
func (c *Catalog) Has(key string) bool {
	_, ok := c.messages[Default][key]
	return ok
}

// T returns the message key in lang, formatted with args (fmt verbs; translations may
// reorder them with %[n]s). An unknown key comes back as itself, so that a missing
// translation shows up in tests instead of as a blank.
func (c *Catalog) T(lang, key string, args ...any) string {
	m, ok := c.messages[lang][key]
	if !ok {
		if m, ok = c.messages[Default][key]; !ok {
			return key
		}
	}
	if len(args) == 0 {
		return m
	}
	return fmt.Sprintf(m, args...)
}

// Supported returns the supported language matching tag ("en-GB" -> "en"), or "".
func Supported(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	for _, l := range Languages {
		if tag == strings.ToLower(l) {
			return l
		}
	}
	base, _, _ := strings.Cut(tag, "-")
	switch base {
	case "pt":
		return "pt-PT"
	case "en":
		return "en"
	}
	return ""
}

// Negotiate picks the best supported language from an Accept-Language header.
func Negotiate(header string) string {
	best, bestQ := Default, -1.0
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		if l := Supported(tag); l != "" && q > bestQ && q > 0 {
			best, bestQ = l, q
		}
	}
	return best
}

// LangCookie is the cookie that remembers the language a visitor chose.
const LangCookie = "lang"

// FromRequest picks a page's language: the visitor's choice (cookie), else the browser's
// Accept-Language, else the default.
func FromRequest(r *http.Request) string {
	if c, err := r.Cookie(LangCookie); err == nil {
		if l := Supported(c.Value); l != "" {
			return l
		}
	}
	return Negotiate(r.Header.Get("Accept-Language"))
}
