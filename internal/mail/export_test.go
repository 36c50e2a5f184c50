package mail

import "time"

// SetIdle changes how long a session is kept open between messages.
func SetIdle(s *Sender, d time.Duration) { s.idle = d }
