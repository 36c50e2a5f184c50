package api_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzBookingBody posts arbitrary bodies to the booking endpoint: whatever arrives, the
// answer is never a server error and is always a JSON body.
func FuzzBookingBody(f *testing.F) {
	f.Add(bookBody(wednesday, "Maria"))
	f.Add(`{"theme":"pensao-velhice","start":"2026-12-02T09:00:00+00:00","citizen":{"name":"Zé","email":"ze@exemplo.pt"}}`)
	f.Add(`{"theme":null,"start":[],"citizen":"x","needs":{"sign_language":"yes"}}`)
	f.Add(`{"citizen":{"name":"\u202eabc","email":"a@b.pt","nif":"１２３４５６７８９"}}`)
	f.Add(`{"start":"9999-99-99T99:99:99Z"}`)
	f.Add(`[1,2,3]`)
	f.Add("\xff\xfe{}")
	s := newSite(f, "")
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", "/api/v1/appointments", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.app.Handler().ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("body %q: status %d %s", body, rec.Code, rec.Body.String())
		}
		var v map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("body %q: answer is not JSON: %s", body, rec.Body.String())
		}
	})
}
