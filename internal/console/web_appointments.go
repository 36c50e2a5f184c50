package console

import (
	"balcao/internal/audit"
	"errors"
	"net/http"
	"time"

	"balcao/internal/auth"
	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/directory"
	"balcao/internal/httpx"
	"balcao/internal/store"
)

// rescheduleDays is how far ahead the reschedule page offers times.
const rescheduleDays = 14

// changeable reads an appointment the signed-in staff member may change for the
// citizen, or answers 404 (403 would tell that the appointment exists).
func (h *Web) changeable(r *http.Request) (auth.Staff, booking.Appointment, error) {
	staff, _ := auth.StaffFromRequest(r)
	a, err := h.svc.booking.ByID(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return staff, a, notFound(err)
	}
	if err != nil {
		return staff, a, err
	}
	ok, err := h.svc.MayChange(r.Context(), staff.ID, staff.Role, a)
	if err != nil {
		return staff, a, err
	}
	if !ok {
		return staff, a, notFound(nil)
	}
	return staff, a, nil
}

// cancel cancels an appointment on the citizen's behalf, POST /staff/console/appointments/{id}/cancel.
func (h *Web) cancel(w http.ResponseWriter, r *http.Request) error {
	staff, a, err := h.changeable(r)
	if err != nil {
		return err
	}
	_, err = h.svc.booking.CancelByStaff(r.Context(), a.ID, staff.ID)
	if n := noticeOf(err); n != "" {
		return back(w, r, "/staff/console", n)
	}
	if err != nil {
		return err
	}
	if err := audit.Record(r.Context(), audit.ChangePersonalData, "appointment:"+a.ID, "appointment:"+a.ID, "cancelled"); err != nil {
		return err
	}
	h.log.Info("appointment cancelled for the citizen", "appointment", a.ID, "staff", staff.ID)
	h.svc.publish(r.Context(), AgentTopic(a.AgentID), AgentTopic(staff.ID))
	return back(w, r, "/staff/console", "cancelled")
}

type slotOption struct {
	Value, Label string
}

type slotDay struct {
	Label string
	Slots []slotOption
}

type reschedulePage struct {
	staffPage
	ID       string
	Citizen  string
	Theme    string
	Current  string
	Days     []slotDay
	Selected string
}

func (h *Web) rescheduleData(r *http.Request, a booking.Appointment) (reschedulePage, error) {
	sp := h.page(r, "console.reschedule.title")
	pg := sp.Page
	th, err := directory.ThemeByID(r.Context(), h.db, a.ThemeID)
	if err != nil {
		return reschedulePage{}, err
	}
	loc := h.svc.loc
	data := reschedulePage{staffPage: sp, ID: a.ID, Citizen: a.Citizen.Name, Theme: th.Name.In(pg.Lang),
		Current: pg.LongDate(a.Start.In(loc)) + ", " + h.clock(a.Start)}
	today := calendar.DateOf(h.svc.now().In(loc))
	slots, err := h.svc.booking.Availability(r.Context(), a.ThemeID, today, today.AddDays(rescheduleDays-1), a.SignLanguage)
	if err != nil {
		return data, err
	}
	for _, s := range slots {
		label := pg.LongDate(s.Start.In(loc))
		if len(data.Days) == 0 || data.Days[len(data.Days)-1].Label != label {
			data.Days = append(data.Days, slotDay{Label: label})
		}
		day := &data.Days[len(data.Days)-1]
		day.Slots = append(day.Slots, slotOption{Value: s.Start.UTC().Format(time.RFC3339), Label: h.clock(s.Start)})
	}
	return data, nil
}

// rescheduleForm offers the free times of the appointment's theme, GET
// /staff/console/appointments/{id}/reschedule.
func (h *Web) rescheduleForm(w http.ResponseWriter, r *http.Request) error {
	_, a, err := h.changeable(r)
	if err != nil {
		return err
	}
	if a.Status != booking.StatusBooked || !a.Start.After(h.svc.now()) {
		return back(w, r, "/staff/console", "not_changeable")
	}
	if err := audit.RecordRead(r, "appointment:"+a.ID); err != nil {
		return err
	}
	data, err := h.rescheduleData(r, a)
	if err != nil {
		return err
	}
	return h.view.Render(w, http.StatusOK, "console_reschedule", data)
}

// reschedule moves the appointment to the chosen time, POST
// /staff/console/appointments/{id}/reschedule.
func (h *Web) reschedule(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	staff, a, err := h.changeable(r)
	if err != nil {
		return err
	}
	start, perr := time.Parse(time.RFC3339, r.PostForm.Get("start"))
	if perr == nil {
		_, err = h.svc.booking.RescheduleByStaff(r.Context(), a.ID, staff.ID, start)
	}
	var invalid *booking.InvalidError
	if perr != nil || errors.Is(err, booking.ErrSlotTaken) || errors.Is(err, booking.ErrNoSuchSlot) || errors.As(err, &invalid) {
		data, derr := h.rescheduleData(r, a)
		if derr != nil {
			return derr
		}
		key := "console.error.start"
		if errors.Is(err, booking.ErrSlotTaken) {
			key = "error.slot_taken"
		}
		data.Errors = data.Page.Errors(map[string]string{"start": key}, nil)
		return h.view.Render(w, http.StatusUnprocessableEntity, "console_reschedule", data)
	}
	if n := noticeOf(err); n != "" {
		return back(w, r, "/staff/console", n)
	}
	if err != nil {
		return httpx.Internal(err)
	}
	if err := audit.Record(r.Context(), audit.ChangePersonalData, "appointment:"+a.ID, "appointment:"+a.ID, "rescheduled"); err != nil {
		return err
	}
	h.log.Info("appointment moved for the citizen", "appointment", a.ID, "staff", staff.ID)
	h.svc.publish(r.Context(), AgentTopic(a.AgentID), AgentTopic(staff.ID))
	return back(w, r, "/staff/console", "moved")
}
