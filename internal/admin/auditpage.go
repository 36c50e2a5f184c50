package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"balcao/internal/access"
	"balcao/internal/audit"
	"balcao/internal/calendar"
	"balcao/internal/directory"
)

// auditPageSize is how many entries the audit page shows at a time.
const auditPageSize = 100

// auditFilter reads the search form (a GET form: the query string).
func auditFilter(v url.Values, probs problems) audit.Filter {
	loc := calendar.Lisbon()
	f := audit.Filter{Actor: strings.TrimSpace(v.Get("actor")), Object: strings.TrimSpace(v.Get("object")), Limit: auditPageSize}
	if a := v.Get("action"); a != "" {
		if slices.Contains(audit.Actions, a) {
			f.Action = a
		} else {
			probs.add("action", "admin.error.choice")
		}
	}
	for _, d := range []struct {
		name string
		t    *time.Time
		add  int
	}{{"from", &f.From, 0}, {"to", &f.To, 1}} {
		if s := strings.TrimSpace(v.Get(d.name)); s != "" {
			day, err := calendar.ParseDate(s)
			if err != nil {
				probs.add(d.name, "error.date")
				continue
			}
			*d.t = day.AddDays(d.add).Start(loc)
		}
	}
	if before, err := strconv.ParseInt(v.Get("before"), 10, 64); err == nil && before > 0 {
		f.Before = before
	}
	return f
}

// auditLog is the search form and the entries it finds, newest first, a page at a time.
func (h *Admin) auditLog(w http.ResponseWriter, r *http.Request) error {
	me, err := h.allowed(r, access.AreaAudit)
	if err != nil {
		return err
	}
	ctx := r.Context()
	q := r.URL.Query()
	probs := problems{}
	f := auditFilter(q, probs)
	p := h.newPage(r, me, "admin.audit.title")
	pg := p.Page
	b := newBuilder(pg, q, probs)
	actions := append([]string{""}, audit.Actions...)
	labels := []string{pg.T("admin.audit.any_action")}
	for _, a := range audit.Actions {
		labels = append(labels, pg.T("admin.audit.action."+a))
	}
	fields := []field{
		b.hinted("text", "actor", "admin.field.actor", "admin.field.actor_hint", maxlength(100), autocomplete("off")),
		b.choice("select", "action", "admin.field.action", actions, labels),
		b.hinted("text", "object", "admin.field.object", "admin.field.object_hint", maxlength(200), autocomplete("off")),
		b.field("date", "from", "admin.field.from"),
		b.field("date", "to", "admin.field.to"),
	}
	p.Errors = b.errors()
	status := http.StatusOK
	search := block{Text: pg.T("admin.audit.lead"), Form: &form{Method: "get", Action: "/staff/admin/audit",
		Sections: []section{{Legend: pg.T("admin.audit.search"), Fields: fields}},
		Submit:   button{ID: "search", Label: pg.T("admin.audit.search_button")}}}
	p.Blocks = []block{search}
	if len(probs) > 0 {
		return h.render(w, http.StatusUnprocessableEntity, p)
	}
	entries, err := h.audit.Search(ctx, f)
	if err != nil {
		return err
	}
	names := map[string]string{}
	if list, err := directory.StaffList(ctx, h.db); err == nil {
		for _, s := range list {
			names[s.ID] = s.Name
		}
	}
	loc := calendar.Lisbon()
	t := &table{Caption: pg.T("admin.audit.caption"), Head: []string{pg.T("admin.audit.col.seq"), pg.T("admin.audit.col.at"),
		pg.T("admin.audit.col.actor"), pg.T("admin.audit.col.action"), pg.T("admin.audit.col.object"), pg.T("admin.audit.col.contact"),
		pg.T("admin.audit.col.ip"), pg.T("admin.audit.col.details")}}
	for _, e := range entries {
		who := e.Actor
		if n, ok := names[e.Actor]; ok {
			who = fmt.Sprintf("%s (%s)", n, e.Actor)
		}
		at := e.At.In(loc)
		t.Rows = append(t.Rows, []string{strconv.FormatInt(e.Seq, 10), at.Format("2006-01-02 15:04:05"), who,
			pg.T("admin.audit.action." + e.Action), e.Object, e.Contact, e.IP, e.Details})
	}
	export := url.Values{}
	for _, k := range []string{"actor", "action", "object", "from", "to"} {
		if v := q.Get(k); v != "" {
			export.Set(k, v)
		}
	}
	results := block{Heading: pg.T("admin.audit.results", len(entries)), Empty: pg.T("admin.audit.empty")}
	if len(entries) > 0 {
		results.Table = t
	} else {
		results.Text = pg.T("admin.audit.empty")
	}
	links := []link{{Href: "/staff/admin/audit.csv?" + export.Encode(), Label: pg.T("admin.audit.export")}}
	if len(entries) == auditPageSize {
		older := url.Values{}
		for k, v := range export {
			older[k] = v
		}
		older.Set("before", strconv.FormatInt(entries[len(entries)-1].Seq, 10))
		links = append(links, link{Href: "/staff/admin/audit?" + older.Encode(), Label: pg.T("admin.audit.older")})
	}
	results.Links = links
	p.Blocks = append(p.Blocks, results)
	return h.render(w, status, p)
}

// auditExport writes the entries the search selects as CSV, and records the export.
func (h *Admin) auditExport(w http.ResponseWriter, r *http.Request) error {
	me, err := h.allowed(r, access.AreaAudit)
	if err != nil {
		return err
	}
	probs := problems{}
	f := auditFilter(r.URL.Query(), probs)
	f.Limit, f.Before = 0, 0
	if len(probs) > 0 {
		return errorf(http.StatusBadRequest, "bad_filter", "admin.error.filter")
	}
	var details []string
	for _, k := range []string{"actor", "action", "object", "from", "to"} {
		if v := r.URL.Query().Get(k); v != "" {
			details = append(details, k+"="+strings.ReplaceAll(v, " ", "_"))
		}
	}
	if _, err := h.audit.Append(r.Context(), audit.Entry{Actor: me.ID, Action: audit.ExportLog, Object: "audit_log",
		IP: audit.ClientIP(r), Details: strings.Join(details, " ")}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="audit-%s.csv"`, h.now().UTC().Format("20060102-150405")))
	w.Header().Set("Cache-Control", "no-store")
	_, err = h.audit.WriteCSV(r.Context(), w, f)
	return err
}
