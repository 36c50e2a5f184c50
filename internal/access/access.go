// Package access holds who may see and change what, as plain functions over plain
// values: an agent sees the appointments, tickets and citizens of the services they
// serve at their location; a supervisor those of their location; an administrator
// everything; an interpreter only the calls they are booked or invited for. The
// configuration pages are for supervisors (their location's staff, hours and closures,
// and the services' texts and rules) and administrators (everything, and branding,
// retention and the audit log).
//
// Routes check the role first (auth.RequireRole); handlers then check the object with
// these functions and answer 404 for an object the staff member may not see, as for
// one that does not exist. Load reads the values from the database.
package access

import (
	"slices"

	"balcao/internal/directory"
)

// Roles, as package directory has them.
const (
	Agent         = directory.RoleAgent
	Interpreter   = directory.RoleInterpreter
	Supervisor    = directory.RoleSupervisor
	Administrator = directory.RoleAdministrator
)

// Staff is a member of staff as the rules see them.
type Staff struct {
	ID         string
	Role       string
	LocationID string
	// Services are, for an agent, the services of the themes they serve; for a
	// supervisor, the services that the agents of their location serve.
	Services []string
}

// Appointment is what the rules need of an appointment.
type Appointment struct {
	ID            string
	ServiceID     string // of its theme
	LocationID    string // its agent's
	AgentID       string
	InterpreterID string
}

// Ticket is what the rules need of a walk-in ticket.
type Ticket struct {
	ID         string
	ServiceID  string
	AgentID    string // the agent who called it; "" while it waits
	LocationID string // that agent's location; "" while it waits
}

// Call is a video call: its agent and the staff invited to it (the appointment's
// interpreter, or anyone the agent invited).
type Call struct {
	AgentID string
	Invited []string
}

// Citizen is a citizen as their contacts with the agency show them.
type Citizen struct {
	Appointments []Appointment
	Tickets      []Ticket
}

// CanSeeAppointment tells whether s may see a (and its citizen's personal data).
func CanSeeAppointment(s Staff, a Appointment) bool {
	switch s.Role {
	case Administrator:
		return true
	case Supervisor:
		return s.LocationID != "" && a.LocationID == s.LocationID
	case Agent:
		return a.AgentID == s.ID || (a.LocationID == s.LocationID && slices.Contains(s.Services, a.ServiceID))
	case Interpreter:
		return a.InterpreterID != "" && a.InterpreterID == s.ID
	}
	return false
}

// CanSeeTicket tells whether s may see t. A waiting ticket belongs to no location yet: it
// is seen by the agents who serve its service, and the supervisors whose location does.
func CanSeeTicket(s Staff, t Ticket) bool {
	switch s.Role {
	case Administrator:
		return true
	case Supervisor:
		if t.LocationID == "" {
			return slices.Contains(s.Services, t.ServiceID)
		}
		return t.LocationID == s.LocationID
	case Agent:
		if t.AgentID == s.ID {
			return true
		}
		return slices.Contains(s.Services, t.ServiceID) && (t.LocationID == "" || t.LocationID == s.LocationID)
	}
	return false
}

// CanSeeCitizen tells whether s may see a citizen's record: when they may see one of the
// citizen's contacts.
func CanSeeCitizen(s Staff, c Citizen) bool {
	if s.Role == Administrator {
		return true
	}
	for _, a := range c.Appointments {
		if CanSeeAppointment(s, a) {
			return true
		}
	}
	for _, t := range c.Tickets {
		if CanSeeTicket(s, t) {
			return true
		}
	}
	return false
}

// CanJoinCall tells whether s may join a call: its agent and the staff invited to it.
// Seeing an appointment is not enough to enter its call.
func CanJoinCall(s Staff, c Call) bool {
	return s.ID != "" && (c.AgentID == s.ID || slices.Contains(c.Invited, s.ID))
}

// Areas of the configuration pages.
const (
	AreaServices  = "services"  // services and themes
	AreaLocations = "locations" // locations and opening hours
	AreaStaff     = "staff"     // staff, their themes, hours and absences
	AreaClosures  = "closures"  // holidays and closures
	AreaBranding  = "branding"
	AreaSettings  = "settings" // retention periods and sign-in rules
	AreaAudit     = "audit"    // search and export the audit log
)

// CanConfigure tells whether s may open an area of the configuration pages.
func CanConfigure(s Staff, area string) bool {
	switch s.Role {
	case Administrator:
		return true
	case Supervisor:
		switch area {
		case AreaServices, AreaLocations, AreaStaff, AreaClosures:
			return true
		}
	}
	return false
}

// CanManageLocation tells whether s may change a location (its name, its opening hours);
// "" is a new location, which only administrators create.
func CanManageLocation(s Staff, locationID string) bool {
	switch s.Role {
	case Administrator:
		return true
	case Supervisor:
		return locationID != "" && locationID == s.LocationID
	}
	return false
}

// CanManageClosure tells whether s may add or remove a closure of a location, or of the
// whole agency (locationID "").
func CanManageClosure(s Staff, locationID string) bool {
	return CanManageLocation(s, locationID)
}

// CanManageStaff tells whether s may change a staff member: an administrator anyone; a
// supervisor the agents and interpreters of their location.
func CanManageStaff(s Staff, target Staff) bool {
	switch s.Role {
	case Administrator:
		return true
	case Supervisor:
		return target.LocationID == s.LocationID && (target.Role == Agent || target.Role == Interpreter)
	}
	return false
}

// CanGiveRole tells whether s may make someone a member of staff with role at location:
// a supervisor only agents and interpreters, at their own location.
func CanGiveRole(s Staff, role, locationID string) bool {
	return CanManageStaff(s, Staff{Role: role, LocationID: locationID})
}
