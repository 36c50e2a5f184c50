package auth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"balcao/internal/auth"
	"balcao/internal/httpx"
)

func TestRequireRole(t *testing.T) {
	ok := func(w http.ResponseWriter, r *http.Request) error {
		staff, signed := auth.StaffFromRequest(r)
		if !signed {
			return errors.New("handler reached without a staff member")
		}
		w.Write([]byte("hello " + staff.ID))
		return nil
	}
	supervisor := auth.Staff{ID: "graca", Role: auth.RoleSupervisor, Active: true}
	full := auth.Session{ID: "s1", StaffID: "graca", Stage: auth.StageFull, CSRF: "token-of-s1"}
	for _, c := range []struct {
		name     string
		method   string
		session  *auth.Session
		roles    []string
		csrf     string
		status   int
		location string // redirect target, or the error code
	}{
		{"not signed in", "GET", nil, nil, "", http.StatusSeeOther, "/staff/login?next=%2Fstaff%2Fthing%3Fa%3D1"},
		{"waiting for the TOTP code", "GET", &auth.Session{Stage: auth.StageTOTP, CSRF: "x"}, nil, "", http.StatusSeeOther, "/staff/login/totp"},
		{"waiting for enrolment", "GET", &auth.Session{Stage: auth.StageEnrol, CSRF: "x"}, nil, "", http.StatusSeeOther, "/staff/account/totp"},
		{"any role", "GET", &full, nil, "", http.StatusOK, ""},
		{"listed role", "GET", &full, []string{auth.RoleSupervisor, auth.RoleAdministrator}, "", http.StatusOK, ""},
		{"other role", "GET", &full, []string{auth.RoleAdministrator}, "", http.StatusForbidden, "forbidden"},
		{"POST without token", "POST", &full, nil, "", http.StatusForbidden, "csrf"},
		{"POST with a wrong token", "POST", &full, nil, "token-of-s2", http.StatusForbidden, "csrf"},
		{"POST with the session's token", "POST", &full, nil, "token-of-s1", http.StatusOK, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			form := url.Values{}
			if c.csrf != "" {
				form.Set("csrf", c.csrf)
			}
			r := httptest.NewRequest(c.method, "/staff/thing?a=1", strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if c.session != nil {
				r = r.WithContext(auth.NewContext(r.Context(), *c.session, supervisor))
			}
			w := httptest.NewRecorder()
			err := auth.RequireRole(c.roles...)(ok)(w, r)
			status := w.Code
			where := w.Header().Get("Location")
			if err != nil {
				e := httpx.AsError(err)
				status, where = e.Status, e.Code
			}
			if status != c.status || where != c.location {
				t.Fatalf("%d %q, want %d %q", status, where, c.status, c.location)
			}
		})
	}
	// The token may come in a header, for scripts.
	r := httptest.NewRequest("POST", "/staff/thing", nil)
	r.Header.Set("X-CSRF-Token", "token-of-s1")
	r = r.WithContext(auth.NewContext(r.Context(), full, supervisor))
	if err := auth.RequireRole()(ok)(httptest.NewRecorder(), r); err != nil {
		t.Fatalf("token in X-CSRF-Token: %v", err)
	}
}
