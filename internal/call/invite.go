package call

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"balcao/internal/httpx"
)

// GuestPath is the page of an invited interpreter; the invitation link is this path
// with the join token as its fragment.
const GuestPath = "/call/guest"

// maxGuestName is the longest name the agent may give an invited interpreter.
const maxGuestName = 80

// invitation is the answer to the agent's request for an interpreter's link.
type invitation struct {
	// Path is the link without the scheme and host, which the page knows: GuestPath
	// and the token as the fragment.
	Path    string    `json:"path"`
	Expires time.Time `json:"expires"`
}

// invite is POST /staff/call/{id}/invite, from the agent's call page: it signs a join
// token for a new guest interpreter, bound to this call's room and valid until the
// call's lobby closes (at most TokenTTL). Nothing is stored: the link is the
// invitation, and the guest still waits in the lobby until the agent admits them.
func (s *Server) invite(w http.ResponseWriter, r *http.Request) error {
	a, role, _, _, err := s.staffAppointment(r)
	if err != nil {
		return err
	}
	if role != RoleAgent {
		return httpx.Errorf(http.StatusForbidden, "forbidden", "call.error.refused", nil)
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	name := cleanName(r.PostFormValue("name"), maxGuestName)
	id := make([]byte, 8)
	if _, err := rand.Read(id); err != nil {
		return httpx.Internal(err)
	}
	until := s.now().Add(TokenTTL)
	if end := a.End.Add(ClosesAfter); end.Before(until) {
		until = end
	}
	c := Claims{Room: a.ID, Participant: "guest-" + hex.EncodeToString(id), Role: RoleInterpreter, Name: name, Guest: true}
	token, err := s.tokens.IssueUntil(c, until)
	if err != nil {
		return httpx.Internal(err)
	}
	s.log.Info("interpreter invited", "call", a.ID, "participant", c.Participant)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(invitation{Path: GuestPath + "#" + token, Expires: until.UTC()})
}
