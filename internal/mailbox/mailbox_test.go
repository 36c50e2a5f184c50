package mailbox

import "testing"

func TestMailbox(t *testing.T) {
	m := New()
	ran := 0
	m.Post(func() { ran++ })
	m.Post(func() { ran++ })
	<-m.Wake()
	for _, fn := range m.Take() {
		fn()
	}
	m.Post(func() { ran += 10 })
	m.Close()
	if m.Post(func() { ran += 100 }) {
		t.Error("posted to a closed mailbox")
	}
	for _, fn := range m.Take() {
		fn()
	}
	if ran != 12 || len(m.Take()) != 0 {
		t.Fatalf("ran %d", ran)
	}
}
