package access_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"balcao/internal/access"
	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/demo"
	"balcao/internal/store"
	"balcao/internal/store/storetest"
)

var (
	admin      = access.Staff{ID: "adm", Role: access.Administrator, LocationID: "lisboa"}
	supLisboa  = access.Staff{ID: "sup", Role: access.Supervisor, LocationID: "lisboa", Services: []string{"pensoes", "familia"}}
	agentPens  = access.Staff{ID: "ana", Role: access.Agent, LocationID: "lisboa", Services: []string{"pensoes"}}
	agentOther = access.Staff{ID: "diogo", Role: access.Agent, LocationID: "braganca", Services: []string{"pensoes"}}
	interp     = access.Staff{ID: "filipe", Role: access.Interpreter, LocationID: "lisboa"}
	nobody     = access.Staff{}
)

func TestCanSeeAppointment(t *testing.T) {
	own := access.Appointment{ServiceID: "pensoes", LocationID: "lisboa", AgentID: "ana", InterpreterID: "filipe"}
	colleague := access.Appointment{ServiceID: "pensoes", LocationID: "lisboa", AgentID: "bruno"}
	otherService := access.Appointment{ServiceID: "contribuicoes", LocationID: "lisboa", AgentID: "bruno"}
	elsewhere := access.Appointment{ServiceID: "pensoes", LocationID: "braganca", AgentID: "diogo"}
	for _, tc := range []struct {
		name  string
		staff access.Staff
		appt  access.Appointment
		want  bool
	}{
		{"administrator, anywhere", admin, elsewhere, true},
		{"supervisor, own location", supLisboa, otherService, true},
		{"supervisor, other location", supLisboa, elsewhere, false},
		{"agent, own appointment", agentPens, own, true},
		{"agent, colleague's of a service served", agentPens, colleague, true},
		{"agent, service not served", agentPens, otherService, false},
		{"agent, other location", agentPens, elsewhere, false},
		{"agent of the other location, served service", agentOther, colleague, false},
		{"agent, own appointment at another location", agentOther, elsewhere, true},
		{"interpreter, booked", interp, own, true},
		{"interpreter, not booked", interp, colleague, false},
		{"no role", nobody, own, false},
		{"supervisor without location", access.Staff{ID: "x", Role: access.Supervisor}, access.Appointment{}, false},
	} {
		if got := access.CanSeeAppointment(tc.staff, tc.appt); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCanSeeTicket(t *testing.T) {
	waiting := access.Ticket{ServiceID: "pensoes"}
	waitingOther := access.Ticket{ServiceID: "informacoes"}
	calledHere := access.Ticket{ServiceID: "pensoes", AgentID: "bruno", LocationID: "lisboa"}
	calledThere := access.Ticket{ServiceID: "pensoes", AgentID: "diogo", LocationID: "braganca"}
	for _, tc := range []struct {
		name   string
		staff  access.Staff
		ticket access.Ticket
		want   bool
	}{
		{"administrator", admin, calledThere, true},
		{"supervisor, waiting, service of the location", supLisboa, waiting, true},
		{"supervisor, waiting, other service", supLisboa, waitingOther, false},
		{"supervisor, called here", supLisboa, calledHere, true},
		{"supervisor, called elsewhere", supLisboa, calledThere, false},
		{"agent, waiting, served", agentPens, waiting, true},
		{"agent, waiting, not served", agentPens, waitingOther, false},
		{"agent, called by a colleague here", agentPens, calledHere, true},
		{"agent, called elsewhere", agentPens, calledThere, false},
		{"agent, called by them", agentOther, calledThere, true},
		{"interpreter", interp, waiting, false},
	} {
		if got := access.CanSeeTicket(tc.staff, tc.ticket); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCanSeeCitizenAndJoinCall(t *testing.T) {
	c := access.Citizen{Appointments: []access.Appointment{{ServiceID: "pensoes", LocationID: "braganca", AgentID: "diogo"}},
		Tickets: []access.Ticket{{ServiceID: "familia"}}}
	for _, tc := range []struct {
		staff access.Staff
		want  bool
	}{{admin, true}, {supLisboa, true}, {agentPens, false}, {agentOther, true}, {interp, false}} {
		if got := access.CanSeeCitizen(tc.staff, c); got != tc.want {
			t.Errorf("CanSeeCitizen(%s) = %v, want %v", tc.staff.ID, got, tc.want)
		}
	}
	call := access.Call{AgentID: "ana", Invited: []string{"filipe"}}
	for _, tc := range []struct {
		staff access.Staff
		want  bool
	}{{agentPens, true}, {interp, true}, {admin, false}, {supLisboa, false}, {agentOther, false}, {nobody, false}} {
		if got := access.CanJoinCall(tc.staff, call); got != tc.want {
			t.Errorf("CanJoinCall(%s) = %v, want %v", tc.staff.ID, got, tc.want)
		}
	}
}

func TestConfigurationRights(t *testing.T) {
	areas := []string{access.AreaServices, access.AreaLocations, access.AreaStaff, access.AreaClosures, access.AreaBranding,
		access.AreaSettings, access.AreaAudit}
	want := map[string][]bool{
		access.Administrator: {true, true, true, true, true, true, true},
		access.Supervisor:    {true, true, true, true, false, false, false},
		access.Agent:         {false, false, false, false, false, false, false},
		access.Interpreter:   {false, false, false, false, false, false, false},
	}
	for role, rights := range want {
		for i, area := range areas {
			if got := access.CanConfigure(access.Staff{ID: "x", Role: role}, area); got != rights[i] {
				t.Errorf("CanConfigure(%s, %s) = %v", role, area, got)
			}
		}
	}
	for _, tc := range []struct {
		name string
		got  bool
		want bool
	}{
		{"supervisor, own location", access.CanManageLocation(supLisboa, "lisboa"), true},
		{"supervisor, other location", access.CanManageLocation(supLisboa, "braganca"), false},
		{"supervisor, new location", access.CanManageLocation(supLisboa, ""), false},
		{"administrator, new location", access.CanManageLocation(admin, ""), true},
		{"supervisor, agency-wide closure", access.CanManageClosure(supLisboa, ""), false},
		{"agent, closure", access.CanManageClosure(agentPens, "lisboa"), false},
		{"supervisor, agent here", access.CanManageStaff(supLisboa, agentPens), true},
		{"supervisor, interpreter here", access.CanManageStaff(supLisboa, interp), true},
		{"supervisor, agent elsewhere", access.CanManageStaff(supLisboa, agentOther), false},
		{"supervisor, another supervisor", access.CanManageStaff(supLisboa, access.Staff{Role: access.Supervisor, LocationID: "lisboa"}), false},
		{"supervisor, administrator", access.CanManageStaff(supLisboa, admin), false},
		{"administrator, anyone", access.CanManageStaff(admin, supLisboa), true},
		{"agent, anyone", access.CanManageStaff(agentPens, agentPens), false},
		{"supervisor gives supervisor", access.CanGiveRole(supLisboa, access.Supervisor, "lisboa"), false},
		{"supervisor gives agent here", access.CanGiveRole(supLisboa, access.Agent, "lisboa"), true},
		{"supervisor gives agent elsewhere", access.CanGiveRole(supLisboa, access.Agent, "braganca"), false},
		{"administrator gives administrator", access.CanGiveRole(admin, access.Administrator, "braganca"), true},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

// TestLoadFromTheDemoAgency reads the rules' values from the database and checks them
// against a booked appointment.
func TestLoadFromTheDemoAgency(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := demo.LoadIfEmpty(ctx, db); err != nil {
			t.Fatal(err)
		}
		ana, err := access.LoadStaff(ctx, db, "ana-martins")
		if err != nil || ana.Role != access.Agent || ana.LocationID != "lisboa" || len(ana.Services) != 2 ||
			ana.Services[0] != "informacoes" || ana.Services[1] != "pensoes" {
			t.Fatalf("ana: %+v %v", ana, err)
		}
		graca, err := access.LoadStaff(ctx, db, "graca-pinto")
		if err != nil || graca.Role != access.Supervisor || len(graca.Services) != 4 {
			t.Fatalf("graca: %+v %v", graca, err)
		}
		if _, err := access.LoadStaff(ctx, db, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown staff: %v", err)
		}
		now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
		svc := booking.NewService(db, func() time.Time { return now })
		day := calendar.DateOf(now.In(calendar.Lisbon()))
		slots, err := svc.Availability(ctx, "pensao-velhice", day, day.AddDays(7), false)
		if err != nil || len(slots) == 0 {
			t.Fatalf("no slots: %v", err)
		}
		b, err := svc.Book(ctx, booking.Request{ThemeID: "pensao-velhice", Start: slots[0].Start,
			Citizen: booking.Citizen{Name: "Rita", Email: "rita@example.pt", Language: "pt-PT"}})
		if err != nil {
			t.Fatal(err)
		}
		a, err := access.LoadAppointment(ctx, db, b.ID)
		if err != nil || a.ServiceID != "pensoes" || a.AgentID != b.AgentID {
			t.Fatalf("appointment: %+v %v", a, err)
		}
		diogo, _ := access.LoadStaff(ctx, db, "diogo-ferreira")
		carla, _ := access.LoadStaff(ctx, db, "carla-sousa")
		helder, _ := access.LoadStaff(ctx, db, "helder-alves")
		see := map[string]bool{"graca": access.CanSeeAppointment(graca, a), "helder": access.CanSeeAppointment(helder, a),
			"carla": access.CanSeeAppointment(carla, a)}
		// The agent is picked at random among those free, in Lisbon or Bragança: the Lisbon
		// supervisor sees the appointment only when it is in Lisbon.
		if see["graca"] != (a.LocationID == "lisboa") || !see["helder"] || see["carla"] {
			t.Errorf("who sees an appointment of pensoes in %s: %v", a.LocationID, see)
		}
		if a.LocationID == "lisboa" && access.CanSeeAppointment(diogo, a) {
			t.Error("an agent of Bragança sees an appointment in Lisbon")
		}
		if _, err := access.LoadTicket(ctx, db, "none"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown ticket: %v", err)
		}
	})
}
