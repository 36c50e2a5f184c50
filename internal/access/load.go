package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"balcao/internal/store"
)

// LoadStaff reads a staff member for the rules: their role, location and services.
func LoadStaff(ctx context.Context, q store.Queryer, id string) (Staff, error) {
	s := Staff{ID: id}
	err := q.QueryRow(ctx, "SELECT role, location_id FROM staff WHERE id = ?", id).Scan(&s.Role, &s.LocationID)
	if errors.Is(err, sql.ErrNoRows) {
		return Staff{}, fmt.Errorf("staff %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return Staff{}, fmt.Errorf("read staff %q for access: %w", id, err)
	}
	var query string
	var args []any
	switch s.Role {
	case Agent:
		query, args = `SELECT DISTINCT t.service_id FROM staff_themes st JOIN themes t ON t.id = st.theme_id
			WHERE st.staff_id = ? ORDER BY t.service_id`, []any{id}
	case Supervisor:
		query, args = `SELECT DISTINCT t.service_id FROM staff_themes st JOIN themes t ON t.id = st.theme_id
			JOIN staff a ON a.id = st.staff_id WHERE a.location_id = ? AND a.active ORDER BY t.service_id`, []any{s.LocationID}
	default:
		return s, nil
	}
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return Staff{}, fmt.Errorf("read services of %q: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var svc string
		if err := rows.Scan(&svc); err != nil {
			return Staff{}, fmt.Errorf("read services of %q: %w", id, err)
		}
		s.Services = append(s.Services, svc)
	}
	return s, rows.Err()
}

// LoadAppointment reads an appointment for the rules: its service and its agent's
// location.
func LoadAppointment(ctx context.Context, q store.Queryer, id string) (Appointment, error) {
	a := Appointment{ID: id}
	err := q.QueryRow(ctx, `SELECT t.service_id, s.location_id, a.agent_id, COALESCE(a.interpreter_id, '')
		FROM appointments a JOIN themes t ON t.id = a.theme_id JOIN staff s ON s.id = a.agent_id WHERE a.id = ?`, id).
		Scan(&a.ServiceID, &a.LocationID, &a.AgentID, &a.InterpreterID)
	if errors.Is(err, sql.ErrNoRows) {
		return Appointment{}, fmt.Errorf("appointment %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return Appointment{}, fmt.Errorf("read appointment %q for access: %w", id, err)
	}
	return a, nil
}

// LoadTicket reads a ticket for the rules: its service and, once called, its agent and
// their location.
func LoadTicket(ctx context.Context, q store.Queryer, id string) (Ticket, error) {
	t := Ticket{ID: id}
	err := q.QueryRow(ctx, `SELECT t.service_id, COALESCE(t.agent_id, ''), COALESCE(s.location_id, '')
		FROM tickets t LEFT JOIN staff s ON s.id = t.agent_id WHERE t.id = ?`, id).Scan(&t.ServiceID, &t.AgentID, &t.LocationID)
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, fmt.Errorf("ticket %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return Ticket{}, fmt.Errorf("read ticket %q for access: %w", id, err)
	}
	return t, nil
}
