package admin

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"

	"balcao/internal/access"
	"balcao/internal/auth"
	"balcao/internal/view"
)

// page is the data of admin_page, the one template of the configuration pages: a
// heading and blocks, in order.
type page struct {
	view.Page
	CSRF    string
	Nav     []link
	Heading string
	Notice  string
	Errors  view.FormErrors
	Blocks  []block
}

// link is a link, the current page's marked.
type link struct {
	Href, Label string
	Current     bool
}

// block is one part of a page: a heading, a paragraph, an alert, a list, a table or a
// form, each optional.
type block struct {
	Heading  string
	Text     string
	Alert    string // said at once (role=alert)
	Items    []item // a list
	Empty    string // what to say when the list is empty
	Image    string // an image's URL, shown with ImageAlt
	ImageAlt string
	Table    *table
	Form     *form
	Links    []link // links after the rest (a "new" button, "back")
}

// item is a line of a list: a link or a text, with a note, and perhaps a button.
type item struct {
	Label, Href, Meta string
	Button            *form
}

// table is a table with a caption and column headings.
type table struct {
	Caption string
	Head    []string
	Rows    [][]string
}

// form is a form: hidden values, sections of fields (a fieldset each when it has a
// legend) and a submit button. A form without fields is a lone button.
type form struct {
	Method    string // "get" or "post" (the default)
	Action    string
	Multipart bool
	CSRF      string
	Hidden    []hidden
	Sections  []section
	Submit    button
}

type hidden struct{ Name, Value string }

type section struct {
	Legend string
	Fields []field
}

// button is a submit button; Context is read by screen readers after Label, to tell
// apart the buttons of a list.
type button struct {
	ID, Name, Value, Label, Context string
	Danger, Secondary               bool
}

// field is an input with its label, hint and error.
type field struct {
	ID, Name, Kind     string // Kind: text, email, password, number, date, time, textarea, select, radios, checks, file
	Label, Hint, Error string
	Value              string
	Lang               string // the language of the value, for a text in one language
	Options            []option
	Required           bool
	Autocomplete       string
	Inputmode          string
	Min, Max, Step     string
	Accept             string
	Maxlength          int
}

// Described is the input's aria-describedby: its error and hint.
func (f field) Described() string {
	out := ""
	if f.Error != "" {
		out = "e-" + f.ID
	}
	if f.Hint != "" {
		if out != "" {
			out += " "
		}
		out += "h-" + f.ID
	}
	return out
}

// Group tells whether the field is a group of radio buttons or checkboxes.
func (f field) Group() bool { return f.Kind == "radios" || f.Kind == "checks" }

type option struct {
	ID, Value, Label string
	Selected         bool
}

// newPage starts a configuration page for the signed-in staff member, with the areas
// they may open and the notice of the change just made.
func (h *Admin) newPage(r *http.Request, me access.Staff, titleKey string, args ...any) *page {
	pg := h.basePage(r, titleKey, args...)
	p := &page{Page: pg, Heading: pg.Title}
	if sess, ok := auth.SessionFromRequest(r); ok {
		p.CSRF = sess.CSRF
	}
	current := r.URL.Path
	for _, a := range areas {
		if a.area != "" && !access.CanConfigure(me, a.area) {
			continue
		}
		p.Nav = append(p.Nav, link{Href: a.path, Label: pg.T(a.key), Current: current == a.path})
	}
	if done := r.URL.Query().Get("done"); done != "" && noticeKeys[done] {
		n, _ := strconv.Atoi(r.URL.Query().Get("cancelled"))
		p.Notice = pg.T("admin.notice." + done)
		if n > 0 {
			p.Notice += " " + pg.T("admin.notice.cancelled", n)
		}
	}
	return p
}

// noticeKeys are the notices a redirect may ask for (admin.notice.KEY).
var noticeKeys = map[string]bool{"saved": true, "created": true, "withdrawn": true, "removed": true, "added": true, "disabled": true,
	"enabled": true, "deleted": true, "walk_in_closed": true}

// areas are the parts of the configuration pages, in the order of the menu.
var areas = []struct{ area, path, key string }{
	{"", "/staff/admin/", "admin.nav.home"},
	{access.AreaServices, "/staff/admin/services", "admin.nav.services"},
	{access.AreaLocations, "/staff/admin/locations", "admin.nav.locations"},
	{access.AreaStaff, "/staff/admin/staff", "admin.nav.staff"},
	{access.AreaClosures, "/staff/admin/closures", "admin.nav.closures"},
	{access.AreaBranding, "/staff/admin/branding", "admin.nav.branding"},
	{access.AreaSettings, "/staff/admin/settings", "admin.nav.settings"},
	{access.AreaAudit, "/staff/admin/audit", "admin.nav.audit"},
}

func (h *Admin) render(w http.ResponseWriter, status int, p *page) error {
	return h.view.Render(w, status, "admin_page", p)
}

// show renders a page that could not be made without reading the database: the error of
// making it, if any, else the page.
func (h *Admin) show(w http.ResponseWriter, status int, p *page, err error) error {
	if err != nil {
		return err
	}
	return h.render(w, status, p)
}

// builder makes the fields of a form from its values and problems, remembering their
// order for the error summary.
type builder struct {
	pg       view.Page
	values   url.Values
	problems map[string]string
	order    []view.Field
}

func newBuilder(pg view.Page, values url.Values, problems map[string]string) *builder {
	if values == nil {
		values = url.Values{}
	}
	return &builder{pg: pg, values: values, problems: problems}
}

// mod changes a field as it is made.
type mod func(*field)

func required(f *field)         { f.Required = true }
func autocomplete(v string) mod { return func(f *field) { f.Autocomplete = v } }
func numberRange(min, max, step int) mod {
	return func(f *field) {
		f.Min, f.Max, f.Step, f.Inputmode = strconv.Itoa(min), strconv.Itoa(max), strconv.Itoa(step), "numeric"
	}
}
func maxlength(n int) mod { return func(f *field) { f.Maxlength = n } }

// field makes an input named name, labelled by the message labelKey.
func (b *builder) field(kind, name, labelKey string, mods ...mod) field {
	b.order = append(b.order, view.Field{Name: name, LabelKey: labelKey})
	f := field{ID: "f-" + name, Name: name, Kind: kind, Label: b.pg.T(labelKey), Value: b.values.Get(name)}
	if k, ok := b.problems[name]; ok {
		f.Error = b.pg.T(k)
	}
	for _, m := range mods {
		m(&f)
	}
	return f
}

// entityForm starts the form of a service, theme or location: its page, titled newKey for
// a new one and editKey (with its Portuguese name) otherwise, its builder and its first
// fields: the id of a new one, then the name in both languages.
func (h *Admin) entityForm(r *http.Request, me access.Staff, values url.Values, probs problems, isNew bool, newKey, editKey string) (*page, *builder, []field) {
	titleKey, args := newKey, []any(nil)
	if !isNew {
		titleKey, args = editKey, []any{values.Get("name_pt")}
	}
	p := h.newPage(r, me, titleKey, args...)
	b := newBuilder(p.Page, values, probs)
	var fields []field
	if isNew {
		fields = append(fields, b.hinted("text", "id", "admin.field.id", "admin.field.id_hint", required, maxlength(64), autocomplete("off")))
	}
	return p, b, append(fields, b.texts("text", "name", "admin.field.name", true)...)
}

// hinted is field with a hint.
func (b *builder) hinted(kind, name, labelKey, hintKey string, mods ...mod) field {
	f := b.field(kind, name, labelKey, mods...)
	f.Hint = b.pg.T(hintKey)
	return f
}

// texts makes a pair of inputs for a text in Portuguese (name_pt) and in English
// (name_en).
func (b *builder) texts(kind, name, labelKey string, ptRequired bool) []field {
	pt := b.field(kind, name+"_pt", labelKey, maxlength(maxText(kind)))
	pt.Label, pt.Lang, pt.Required = b.pg.T("admin.in_pt", b.pg.T(labelKey)), "pt-PT", ptRequired
	b.order[len(b.order)-1].LabelKey = labelKey
	en := b.field(kind, name+"_en", labelKey, maxlength(maxText(kind)))
	en.Label, en.Lang = b.pg.T("admin.in_en", b.pg.T(labelKey)), "en"
	return []field{pt, en}
}

func maxText(kind string) int {
	if kind == "textarea" {
		return 2000
	}
	return 200
}

// choice makes a select, radio group or checkbox group from values and their labels;
// the selected ones are those among the field's values.
func (b *builder) choice(kind, name, labelKey string, values, labels []string, mods ...mod) field {
	f := b.field(kind, name, labelKey, mods...)
	chosen := map[string]bool{}
	for _, v := range b.values[name] {
		chosen[v] = true
	}
	for i, v := range values {
		f.Options = append(f.Options, option{ID: "f-" + name + "-" + v, Value: v, Label: labels[i], Selected: chosen[v]})
	}
	return f
}

// errors is the summary of the form's problems, in the order of its fields.
func (b *builder) errors() view.FormErrors { return b.pg.Errors(b.problems, b.order) }

// saveButton is a form's main button.
func saveButton(pg view.Page, key string) button {
	return button{ID: "save", Name: "action", Value: "save", Label: pg.T(key)}
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
