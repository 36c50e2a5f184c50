package console

import (
	"errors"
	"net/http"
	"sort"

	"balcao/internal/auth"
	"balcao/internal/directory"
	"balcao/internal/httpx"
	"balcao/internal/store"
)

// boardPage is the supervisor's board: the queues, and the agents by where they serve.
type boardPage struct {
	staffPage
	Queues  []queueRow
	Groups  []boardGroup
	Places  []option // where an agent can be moved
	Moves   []string
	LiveURL string
}

type boardGroup struct {
	ID, Name string
	Summary  string
	Agents   []boardAgent
}

type boardAgent struct {
	ID, Name, Status, StatusKey, Since, Serving, Home string
	Places                                            []option
}

// board is GET /staff/board.
func (h *Web) board(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	sp := h.page(r, "console.board.title")
	pg := sp.Page
	data := boardPage{staffPage: sp, LiveURL: "/staff/board/live"}
	services, err := directory.Services(ctx, h.db)
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, s := range services {
		names[s.ID] = s.Name.In(pg.Lang)
	}
	boards, err := h.queue.Boards(ctx)
	if err != nil {
		return err
	}
	for _, b := range boards {
		data.Queues = append(data.Queues, queueRow{ServiceID: b.ServiceID, Name: names[b.ServiceID], Waiting: b.Waiting,
			Priority: b.Priority, Longest: pg.T("console.minutes", minutes(b.LongestWait))})
	}
	places, err := h.placeNames(r, pg.Lang)
	if err != nil {
		return err
	}
	locs, err := h.svc.Locations(ctx)
	if err != nil {
		return err
	}
	order := []string{}
	for _, l := range locs {
		order = append(order, l.ID)
	}
	order = append(order, PoolNational)
	agents, err := h.svc.Agents(ctx)
	if err != nil {
		return err
	}
	groups := map[string]*boardGroup{}
	counts := map[string]map[string]int{}
	for _, id := range order {
		groups[id] = &boardGroup{ID: id, Name: places[id]}
		counts[id] = map[string]int{}
	}
	staffNames, err := h.svc.StaffNames(ctx)
	if err != nil {
		return err
	}
	for _, a := range agents {
		g := groups[a.ServesAt()]
		if g == nil {
			continue
		}
		row := boardAgent{ID: a.StaffID, Name: a.Name, StatusKey: a.Status, Status: pg.T("console.status." + a.Status),
			Since: h.clock(a.Since), Home: places[a.LocationID]}
		if a.Kind != "" {
			row.Serving = pg.T("console.serving.kind." + a.Kind)
		}
		for _, id := range order {
			label := places[id]
			if id == a.LocationID {
				label = pg.T("console.board.home", label)
			}
			row.Places = append(row.Places, option{Value: id, Label: label, Selected: id == a.ServesAt()})
		}
		g.Agents = append(g.Agents, row)
		counts[a.ServesAt()][a.Status]++
	}
	for _, id := range order {
		g := groups[id]
		c := counts[id]
		g.Summary = pg.T("console.board.count", c[StatusAvailable], c[StatusInCall], c[StatusWrapUp], c[StatusBreak], c[StatusOffline])
		data.Groups = append(data.Groups, *g)
	}
	moves, err := h.svc.Moves(ctx, 10)
	if err != nil {
		return err
	}
	sort.SliceStable(moves, func(i, j int) bool { return moves[i].At.After(moves[j].At) })
	for _, m := range moves {
		from, to := places[m.From], places[m.To]
		if m.From == "" {
			from = pg.T("console.board.own")
		}
		if m.To == "" {
			to = pg.T("console.board.own")
		}
		by := staffNames[m.By]
		if by == "" {
			by = m.By
		}
		data.Moves = append(data.Moves, pg.T("console.board.move_item", pg.ShortDate(m.At.In(h.svc.loc))+" "+h.clock(m.At),
			staffNames[m.StaffID], from, to, by))
	}
	return h.view.Render(w, http.StatusOK, "console_board", data)
}

// move is POST /staff/board/move: an agent to another location, the national pool, or
// back to their own location.
func (h *Web) move(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	staff, _ := auth.StaffFromRequest(r)
	err := h.svc.Move(r.Context(), r.PostForm.Get("agent"), r.PostForm.Get("to"), staff.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound(err)
	case errors.Is(err, ErrUnknownPlace):
		return httpx.Errorf(http.StatusUnprocessableEntity, "invalid", "console.error.place", err)
	case err != nil:
		return err
	}
	return back(w, r, "/staff/board", "agent_moved")
}
