package admin_test

import (
	"context"
	"errors"
	"html"
	"net/http"
	"strings"
	"testing"

	"balcao/internal/app"
	"balcao/internal/audit"
	"balcao/internal/directory"
	"balcao/internal/store"
)

// TestEnableADisabledStaffAccount has the Lisbon supervisor disable an agent, who can then
// neither sign in nor be booked, and enable her again: she signs in with the password she
// had and is offered times once more. The supervisor cannot enable someone of another
// location.
func TestEnableADisabledStaffAccount(t *testing.T) {
	engines(t, func(t *testing.T, s *site) {
		ctx := context.Background()
		pt := messages(t, "pt-PT")
		sup := s.signIn(t, supervisorEmail)
		adm := s.signIn(t, adminEmail)
		const carla, page = "carla.sousa@demo.balcao.example", "/staff/admin/staff/carla-sousa"
		mustRedirect(t, "disable Carla", sup.post(page, "action", "disable"))
		if _, err := s.app.Auth.Login(ctx, carla, app.DemoPassword, authClient); err == nil {
			t.Fatal("a disabled account signs in")
		}
		a := sup.get(page)
		if !strings.Contains(a.body, `id="enable" name="action" value="enable"`) || strings.Contains(a.body, `id="disable"`) {
			t.Fatalf("a disabled account's page offers no way to enable it, or still one to disable it:\n%s", a.body)
		}
		if e, err := directory.StaffByID(ctx, s.app.DB, "carla-sousa", s.clock.Now()); err != nil || e.Active {
			t.Fatalf("Carla after disabling: %+v %v", e, err)
		}

		a = sup.post(page, "action", "enable")
		mustRedirect(t, "enable Carla", a)
		if got := sup.get(a.location); !strings.Contains(got.body, html.EscapeString(pt["admin.notice.enabled"])) || !strings.Contains(got.body, `id="disable"`) {
			t.Fatalf("the page after enabling:\n%s", got.body)
		}
		if _, err := s.app.Auth.Login(ctx, carla, app.DemoPassword, authClient); err != nil {
			t.Fatalf("Carla cannot sign in once enabled: %v", err)
		}
		if e, err := directory.StaffByID(ctx, s.app.DB, "carla-sousa", s.clock.Now()); err != nil || !e.Active {
			t.Fatalf("Carla after enabling: %+v %v", e, err)
		}
		entries, err := s.app.Audit.Search(ctx, audit.Filter{Action: audit.AccountChange, Object: "staff:carla-sousa"})
		if err != nil || len(entries) != 2 || entries[0].Details != "op=enable" || entries[0].Actor != "graca-pinto" || entries[0].IP != "127.0.0.1" {
			t.Fatalf("the account changes audited: %+v %v", entries, err)
		}

		// Another location's agent is not the supervisor's to enable.
		mustRedirect(t, "the administrator disables Diogo", adm.post("/staff/admin/staff/diogo-ferreira", "action", "disable"))
		if a := sup.post("/staff/admin/staff/diogo-ferreira", "action", "enable"); a.status != http.StatusNotFound {
			t.Fatalf("the Lisbon supervisor enables an agent of Bragança: %d", a.status)
		}
		if e, _ := directory.StaffByID(ctx, s.app.DB, "diogo-ferreira", s.clock.Now()); e.Active {
			t.Fatal("the refused request enabled Diogo")
		}
		if a := sup.post("/staff/admin/staff/nobody", "action", "enable"); a.status != http.StatusNotFound {
			t.Fatalf("enable nobody: %d", a.status)
		}
	})
}

// TestDeleteALocation has the administrator create a location and try to delete it while
// a closure to come refers to it, then delete it once the closure is removed. A location
// with staff is refused with what refers to it; supervisors cannot delete locations.
func TestDeleteALocation(t *testing.T) {
	engines(t, func(t *testing.T, s *site) {
		ctx := context.Background()
		pt := messages(t, "pt-PT")
		adm := s.signIn(t, adminEmail)
		sup := s.signIn(t, supervisorEmail)
		mustRedirect(t, "create Porto", adm.post("/staff/admin/locations", "id", "porto", "name_pt", "Porto", "hours_mon", "09:00-17:00"))
		mustRedirect(t, "close Porto on 10 December", adm.post("/staff/admin/closures", "action", "add", "day", "2026-12-10", "location", "porto"))
		if a := adm.get("/staff/admin/locations/porto"); !strings.Contains(a.body, `action="/staff/admin/locations/porto/delete"`) || !strings.Contains(a.body, `id="delete"`) {
			t.Fatalf("the administrator's location page has no delete button:\n%s", a.body)
		}
		if a := sup.get("/staff/admin/locations/lisboa"); strings.Contains(a.body, `id="delete"`) {
			t.Fatal("a supervisor is offered to delete a location")
		}

		for _, tc := range []struct {
			id   string
			uses []string
		}{
			{"porto", []string{strings.Replace(pt["admin.location.uses.closures"], "%d", "1", 1)}},
			{"braganca", []string{strings.Replace(pt["admin.location.uses.staff"], "%d", "2", 1)}},
		} {
			a := adm.post("/staff/admin/locations/"+tc.id+"/delete", "action", "delete")
			body := html.UnescapeString(a.body)
			if a.status != http.StatusConflict || a.alert() == "" {
				t.Fatalf("delete %s: %d, want 409 with an alert\n%s", tc.id, a.status, a.body)
			}
			for _, want := range tc.uses {
				if !strings.Contains(body, want) {
					t.Errorf("delete %s: the refusal does not say %q\n%s", tc.id, want, a.body)
				}
			}
			if _, err := directory.LocationByID(ctx, s.app.DB, tc.id); err != nil {
				t.Fatalf("the refused deletion deleted %s: %v", tc.id, err)
			}
		}
		if a := sup.post("/staff/admin/locations/porto/delete", "action", "delete"); a.status != http.StatusForbidden {
			t.Fatalf("a supervisor deletes a location: %d", a.status)
		}
		if a := adm.post("/staff/admin/locations/porto/delete"); a.status != http.StatusBadRequest {
			t.Fatalf("a deletion without its button's action: %d", a.status)
		}
		if a := adm.post("/staff/admin/locations/nowhere/delete", "action", "delete"); a.status != http.StatusNotFound {
			t.Fatalf("delete an unknown location: %d", a.status)
		}

		mustRedirect(t, "remove the closure", adm.post("/staff/admin/closures", "action", "remove", "location", "porto", "day", "2026-12-10"))
		a := adm.post("/staff/admin/locations/porto/delete", "action", "delete")
		mustRedirect(t, "delete Porto", a)
		if a.location != "/staff/admin/locations?done=deleted" {
			t.Fatalf("redirect to %s", a.location)
		}
		if list := adm.get(a.location); strings.Contains(list.body, "Porto") || !strings.Contains(list.body, pt["admin.notice.deleted"]) {
			t.Fatalf("the locations after deleting Porto:\n%s", list.body)
		}
		if _, err := directory.LocationByID(ctx, s.app.DB, "porto"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Porto after deleting: %v", err)
		}
		if a := adm.get("/staff/admin/locations/porto"); a.status != http.StatusNotFound {
			t.Fatalf("the deleted location's page: %d", a.status)
		}
		entries, err := s.app.Audit.Search(ctx, audit.Filter{Action: audit.ConfigChange, Object: "location:porto"})
		if err != nil || len(entries) != 2 || entries[0].Details != "op=delete" || entries[0].Actor != "helder-alves" {
			t.Fatalf("the location's audited changes: %+v %v", entries, err)
		}
	})
}
