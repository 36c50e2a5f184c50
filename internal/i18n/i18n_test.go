package i18n

import (
	"net/http/httptest"
	"testing"
	"testing/fstest"
)

func TestNegotiate(t *testing.T) {
	cases := map[string]string{
		"":                        "pt-PT",
		"en":                      "en",
		"en-GB,en;q=0.9":          "en",
		"fr-FR,en;q=0.5,pt;q=0.8": "pt-PT",
		"de, en;q=0.3":            "en",
		"en;q=0, pt-BR;q=0.1":     "pt-PT",
		"zz;q=abc, en;q=0.2":      "en",
		";;;,,,q=":                "pt-PT",
		"EN-us":                   "en",
	}
	for header, want := range cases {
		if got := Negotiate(header); got != want {
			t.Errorf("Negotiate(%q) = %q, want %q", header, got, want)
		}
	}
}

func TestFromRequestPrefersTheCookie(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Accept-Language", "pt-PT")
	r.Header.Set("Cookie", LangCookie+"=en")
	if got := FromRequest(r); got != "en" {
		t.Fatalf("got %q, want en", got)
	}
}

func TestLoadRefusesCataloguesWithDifferentKeys(t *testing.T) {
	fsys := fstest.MapFS{
		"i18n/pt-PT.json": {Data: []byte(`{"a": "um", "b": "dois %d"}`)},
		"i18n/en.json":    {Data: []byte(`{"a": "one"}`)},
	}
	if _, err := Load(fsys, "i18n"); err == nil {
		t.Fatal("catalogues with different keys were accepted")
	}
	fsys["i18n/en.json"] = &fstest.MapFile{Data: []byte(`{"a": "one", "b": "two %d"}`)}
	c, err := Load(fsys, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.T("en", "b", 2); got != "two 2" {
		t.Errorf("T = %q", got)
	}
	if got := c.T("xx", "a"); got != "um" {
		t.Errorf("unknown language falls back to the default: got %q", got)
	}
	fsys["i18n/mail.pt-PT.json"] = &fstest.MapFile{Data: []byte(`{"m": "correio"}`)}
	fsys["i18n/mail.en.json"] = &fstest.MapFile{Data: []byte(`{"m": "mail"}`)}
	if c, err = Load(fsys, "i18n"); err != nil || c.T("en", "m") != "mail" || c.T("pt-PT", "a") != "um" {
		t.Fatalf("area catalogues not merged: %v", err)
	}
	if got := c.T("en", "nope"); got != "nope" {
		t.Errorf("unknown key: got %q", got)
	}
}
