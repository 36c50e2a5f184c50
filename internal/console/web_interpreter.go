package console

import (
	"net/http"
	"time"

	"balcao/internal/auth"
	"balcao/internal/calendar"
	"balcao/internal/call"
	"balcao/internal/directory"
)

// interpreterPage is a staff interpreter's page: the calls they are booked for.
type interpreterPage struct {
	staffPage
	Name         string
	OpensMinutes int // how long before its start a call opens
	Today, Later []interpreterRow
}

type interpreterRow struct {
	ID, When, Theme, Agent, Citizen, State, StateKey string
	JoinURL                                          string // while the call is open
	JoinLabel                                        string // names the call, for screen readers
	Opens                                            string // when it is not open yet
}

// interpreter is GET /staff/interpreter: today's and the coming days' appointments the
// signed-in interpreter is booked for, with a way into each call while it is open. The
// call page is the one the agent's call has (/staff/call/{id}), which lets in the
// appointment's own interpreter only and gives them their join token there.
func (h *Web) interpreter(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	staff, _ := auth.StaffFromRequest(r)
	sp := h.page(r, "console.interpreter.title")
	pg := sp.Page
	data := interpreterPage{staffPage: sp, Name: staff.Name, OpensMinutes: int(call.OpensBefore / time.Minute)}
	list, err := h.svc.InterpreterBookings(ctx, staff.ID)
	if err != nil {
		return err
	}
	services, err := directory.Services(ctx, h.db)
	if err != nil {
		return err
	}
	themes := map[string]string{}
	for _, s := range services {
		for _, th := range s.Themes {
			themes[th.ID] = s.Name.In(pg.Lang) + " · " + th.Name.In(pg.Lang)
		}
	}
	names, err := h.svc.StaffNames(ctx)
	if err != nil {
		return err
	}
	loc := h.svc.loc
	today := calendar.DateOf(h.svc.now().In(loc))
	shown := make([]string, 0, len(list))
	for _, b := range list {
		shown = append(shown, KindAppointment+":"+b.ID)
		row := interpreterRow{ID: b.ID, When: h.clock(b.Start) + "–" + h.clock(b.End), Theme: themes[b.ThemeID],
			Agent: names[b.AgentID], Citizen: b.FirstName, StateKey: b.State, State: pg.T("console.presence." + b.State)}
		day := calendar.DateOf(b.Start.In(loc))
		if day != today {
			row.When = pg.ShortDate(b.Start.In(loc)) + ", " + row.When
		}
		switch {
		case b.Open:
			row.JoinURL = "/staff/call/" + b.ID
			row.JoinLabel = pg.T("console.interpreter.join_item", h.clock(b.Start), row.Citizen)
		case b.State == AgendaUpcoming:
			row.Opens = pg.T("console.interpreter.opens", h.clock(b.OpensAt))
		}
		if day == today {
			data.Today = append(data.Today, row)
		} else {
			data.Later = append(data.Later, row)
		}
	}
	// The page shows each citizen's first name: a read of personal data, recorded once
	// a day for each appointment.
	if err := h.recordReads(r, staff.ID, ReadInterpreter, shown); err != nil {
		return err
	}
	return h.view.Render(w, http.StatusOK, "console_interpreter", data)
}
