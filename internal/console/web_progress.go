package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"balcao/internal/auth"
)

// progressFromForm reads the progress the outcome form carries: the script's ticks
// (done), the current step and the form's fields, for its subject.
func progressFromForm(r *http.Request) Progress {
	f := r.PostForm
	p := Progress{Subject: f.Get("subject"), Draft: Outcome{Reason: f.Get("reason"), ThemeID: f.Get("theme"),
		Code: f.Get("outcome"), Notes: f.Get("notes"), FollowUp: f.Get("follow_up"), AuthLevel: f.Get("auth_level"),
		Person: f.Get("person"), Representative: f.Get("representative")}}
	p.Draft.Stage, _ = strconv.Atoi(f.Get("stage"))
	p.Current, _ = strconv.Atoi(f.Get("current"))
	for _, v := range f["done"] {
		n, err := strconv.Atoi(v)
		if err != nil {
			n = -1 // refused by Validate, not dropped
		}
		p.Ticked = append(p.Ticked, n)
	}
	return p
}

// wantsJSON tells a request from console.js, which saves in the background, from a
// form posted by the browser.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// progressAnswer is what console.js is told when a save is refused.
type progressAnswer struct {
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"` // field -> message
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// saveProgress is POST /staff/console/progress: the script's ticks, the current step
// and the outcome form as typed, saved without finishing. console.js posts the form at
// each change and is answered 204 (409 when the contact is no longer the agent's, 422
// with the fields' messages); without the script, the form's "Save progress" button
// posts it and comes back to the console.
func (h *Web) saveProgress(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	staff, _ := auth.StaffFromRequest(r)
	p := progressFromForm(r)
	_, err := h.svc.SaveProgress(ctx, staff.ID, p)
	var invalid *InvalidError
	switch {
	case errors.As(err, &invalid):
		pg := h.page(r, "console.title").Page
		if wantsJSON(r) {
			ans := progressAnswer{Message: pg.T("console.progress.not_saved"), Fields: map[string]string{}}
			for field, key := range invalid.Fields {
				ans.Fields[field] = pg.T(key)
			}
			return writeJSON(w, http.StatusUnprocessableEntity, ans)
		}
		st, err := h.svc.State(ctx, staff.ID)
		if err != nil {
			return err
		}
		data, err := h.consoleData(r, staff, st, &p)
		if err != nil {
			return err
		}
		data.Errors = data.Page.Errors(invalid.Fields, finishFields)
		return h.view.Render(w, http.StatusUnprocessableEntity, "console_agent", data)
	case errors.Is(err, ErrNotServing):
		if wantsJSON(r) {
			return writeJSON(w, http.StatusConflict, progressAnswer{Message: h.page(r, "console.title").T("console.notice.stale")})
		}
		return back(w, r, "/staff/console", "stale")
	case err != nil:
		return err
	}
	if wantsJSON(r) {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return back(w, r, "/staff/console", "progress_saved")
}
