package console

import (
	"testing"

	"balcao/internal/booking"
	"balcao/internal/i18n"
	"balcao/internal/queue"
	"balcao/web"
)

// TestCatalogueHasEveryKey checks the keys the console builds from its values (a status,
// an outcome, a script step...), which no search for a literal key would find.
func TestCatalogueHasEveryKey(t *testing.T) {
	cat, err := i18n.Load(web.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	add := func(prefix string, values ...string) {
		for _, v := range values {
			keys = append(keys, prefix+v)
		}
	}
	add("console.status.", Statuses...)
	add("console.status.set_", StatusAvailable, StatusBreak, StatusOffline)
	add("console.presence.", AgendaUpcoming, AgendaLate, AgendaLobby, AgendaInCall, AgendaDone, AgendaNoShow, AgendaCanceled)
	add("console.presence.ticket_", queue.StatusWaiting, queue.StatusCalled, queue.StatusInCall, queue.StatusServed,
		queue.StatusAbandoned, queue.StatusNoAnswer)
	add("console.outcome.", append(Outcomes, OutcomeNoAnswer, OutcomeNoShow)...)
	add("console.result.", append(PhoneResults, ResultSent)...)
	add("console.channel.", ChannelVideo, ChannelPhone, ChannelEmail, ChannelInPerson, "sms")
	add("console.level.", AuthLevels...)
	add("console.person.", PersonSelf, PersonThirdParty)
	add("console.serving.kind.", KindAppointment, KindTicket)
	add("console.appointment.", booking.StatusBooked, booking.StatusCancelled, booking.StatusDone, booking.StatusNoShow)
	for n := range notices {
		add("console.notice.", n)
	}
	for _, s := range Script {
		add("console.script."+s.Key+".", "title", "hint")
		keys = append(keys, s.Phrases...)
	}
	for _, k := range keys {
		if !cat.Has(k) {
			t.Errorf("the catalogue lacks %s", k)
		}
	}
}
