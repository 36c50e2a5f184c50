package secret

import "testing"

func TestTokens(t *testing.T) {
	a, ha := New()
	b, _ := New()
	if a == b || len(a) != 32 || !Matches(a, ha) || Matches(b, ha) || Matches("", Hash("")) {
		t.Fatalf("tokens %q %q", a, b)
	}
}
