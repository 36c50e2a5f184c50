package call

import (
	"context"
	"strings"
	"time"
)

// A call's chat lives in the room's memory only, unless the agent asks to keep it with
// the contact record: then the room hands a copy of it to the ChatKeeper (the agent
// console, which writes it into the contact record when the agent finishes).

// ChatKeeper keeps a copy of a call's chat for the contact record of room, at the request
// of the agent staffID. It runs on a goroutine of its own; ctx is the agent's
// connection's, which carries who asks for the audit log.
type ChatKeeper func(ctx context.Context, room, staffID string, chat []ChatMessage) error

// keepTimeout bounds a keeper's write: the agent's page waits for its answer.
const keepTimeout = 10 * time.Second

// OnKeepChat sets the function that keeps a chat. Without one, the agent's request is
// refused. Set it before serving.
func (s *Server) OnKeepChat(fn ChatKeeper) { s.keeper.Store(&fn) }

// keepChat hands a copy of the chat so far to the keeper, at the request of the agent
// of the call, and tells everyone in the call how many messages were kept. The copy is taken on
// the room's goroutine; the write happens off it, so the call never waits on the
// database.
func (r *room) keepChat(ctx context.Context, c *conn) {
	if r.conns[c.claims.Participant] != c || c.claims.Role != RoleAgent || !c.admitted.Load() {
		c.send(outMsg{Type: "error", Code: "keep_refused"})
		return
	}
	keeper := r.srv.keeper.Load()
	if keeper == nil {
		c.send(outMsg{Type: "error", Code: "keep_refused"})
		return
	}
	if r.keeping {
		return // one write at a time: the agent hears when it is done
	}
	r.keeping = true
	chat := r.lobby.Chat()
	staffID := strings.TrimPrefix(c.claims.Participant, RoleAgent+"-")
	room := r.id
	r.srv.wg.Add(1) // Close waits for the write, not the database for a closed server
	go func() {
		defer r.srv.wg.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), keepTimeout)
		defer cancel()
		err := (*keeper)(ctx, room, staffID, chat)
		r.post(func() { r.keeping = false })
		if err != nil {
			r.log.Warn("keep chat", "agent", staffID, "error", err)
			c.send(outMsg{Type: "error", Code: "keep_failed"})
			return
		}
		r.log.Info("chat kept", "agent", staffID, "messages", len(chat))
		// Everyone admitted hears it: the citizen was told the chat is not kept unless
		// the agent keeps it.
		r.post(func() {
			out := outMsg{Type: "chat_kept", Count: len(chat)}
			for id, o := range r.conns {
				if m, ok := r.lobby.Member(id); ok && m.State == StateAdmitted {
					o.send(out)
				}
			}
		})
	}()
}
