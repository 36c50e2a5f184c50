package admin

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
)

func TestSanitizeSVGKeepsShapesAndDropsTheRest(t *testing.T) {
	in := `<?xml version="1.0" encoding="UTF-8"?>
<!-- made by hand -->
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 100 40" width="100" height="40" data-x="1" xml:space="preserve">
  <title>Instituto</title>
  <defs><linearGradient id="g"><stop offset="0" stop-color="#0b5cad"/><stop offset="1" stop-color="#fff"/></linearGradient></defs>
  <g fill="url(#g)" transform="translate(2 2)"><rect width="36" height="36" rx="4"/><path d="M5 5 L30 30"/></g>
  <text x="44" y="26" font-family="sans-serif" font-size="18">IAP &amp; Co</text>
  <metadata><rdf>whatever</rdf></metadata>
</svg>`
	out, err := sanitizeSVG([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	for _, want := range []string{`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 40" width="100" height="40">`,
		`<title>Instituto</title>`, `<stop offset="0" stop-color="#0b5cad"></stop>`, `<g fill="url(#g)" transform="translate(2 2)">`,
		`<text x="44" y="26" font-family="sans-serif" font-size="18">IAP &amp; Co</text>`} {
		if !strings.Contains(got, want) {
			t.Errorf("the result lacks %s:\n%s", want, got)
		}
	}
	for _, gone := range []string{"data-x", "xml:space", "xlink", "metadata", "whatever", "made by hand", "<?xml"} {
		if strings.Contains(got, gone) {
			t.Errorf("the result keeps %q:\n%s", gone, got)
		}
	}
	if again, err := sanitizeSVG(out); err != nil || !bytes.Equal(again, out) {
		t.Errorf("sanitising twice changes the file: %v\n%s", err, again)
	}
}

func TestSanitizeSVGRefusesWhatCouldRunOrLoad(t *testing.T) {
	for name, in := range map[string]string{
		"script":            `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`,
		"event handler":     `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>`,
		"handler on shape":  `<svg xmlns="http://www.w3.org/2000/svg"><rect ONCLICK="alert(1)"/></svg>`,
		"foreignObject":     `<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>x</p></foreignObject></svg>`,
		"xlink href":        `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><use xlink:href="http://evil/x.svg#a"/></svg>`,
		"href on a":         `<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><rect/></a></svg>`,
		"image":             `<svg xmlns="http://www.w3.org/2000/svg"><image href="http://tracker/pixel.png"/></svg>`,
		"style element":     `<svg xmlns="http://www.w3.org/2000/svg"><style>rect{fill:url(http://evil/)}</style></svg>`,
		"style attribute":   `<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:red"/></svg>`,
		"remote url()":      `<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(http://evil/#g)"/></svg>`,
		"javascript value":  `<svg xmlns="http://www.w3.org/2000/svg"><rect fill="javascript:alert(1)"/></svg>`,
		"doctype":           `<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg"><text>&a;</text></svg>`,
		"external entity":   `<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg><text>&x;</text></svg>`,
		"unknown entity":    `<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>`,
		"animation":         `<svg xmlns="http://www.w3.org/2000/svg"><set attributeName="href" to="javascript:alert(1)"/></svg>`,
		"not svg":           `<html><body>hello</body></html>`,
		"html namespace":    `<svg xmlns="http://www.w3.org/2000/svg"><h:p xmlns:h="http://www.w3.org/1999/xhtml">x</h:p></svg>`,
		"processing instr.": `<?xml-stylesheet href="http://evil/x.css"?><svg xmlns="http://www.w3.org/2000/svg"/>`,
		"unclosed":          `<svg xmlns="http://www.w3.org/2000/svg"><rect>`,
		"too deep":          `<svg>` + strings.Repeat("<g>", 40) + strings.Repeat("</g>", 40) + `</svg>`,
	} {
		if out, err := sanitizeSVG([]byte(in)); err == nil {
			t.Errorf("%s: accepted as\n%s", name, out)
		}
	}
}

func TestSanitizeLogo(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 40, 20))
	img.Set(3, 3, color.RGBA{R: 11, G: 92, B: 173, A: 255})
	var buf bytes.Buffer
	png.Encode(&buf, img)
	// A tEXt chunk after the image data: re-encoding drops it.
	withText := append(bytes.Clone(buf.Bytes()[:buf.Len()-12]), []byte("\x00\x00\x00\x07tEXtkey\x00val\x00\x00\x00\x00")...)
	withText = append(withText, buf.Bytes()[buf.Len()-12:]...)
	ct, out, problem := sanitizeLogo(buf.Bytes())
	if ct != "image/png" || problem != "" {
		t.Fatalf("a PNG: %q %q", ct, problem)
	}
	if decoded, err := png.Decode(bytes.NewReader(out)); err != nil || decoded.Bounds().Dx() != 40 {
		t.Fatalf("the stored PNG: %v", err)
	}
	if _, out, _ := sanitizeLogo(withText); bytes.Contains(out, []byte("tEXt")) {
		t.Error("the stored PNG keeps a text chunk")
	}
	big := image.NewGray(image.Rect(0, 0, 3000, 10))
	buf.Reset()
	png.Encode(&buf, big)
	for name, tc := range map[string]struct {
		data    []byte
		problem string
	}{
		"too wide":  {buf.Bytes(), "admin.error.logo_png"},
		"too large": {bytes.Repeat([]byte("x"), maxLogo+1), "admin.error.logo_size"},
		"a GIF":     {[]byte("GIF89a...."), "admin.error.logo_type"},
		"a bad SVG": {[]byte(`<svg><script/></svg>`), "admin.error.logo_svg"},
		"broken":    {[]byte("\x89PNG\r\n\x1a\nnot really"), "admin.error.logo_png"},
	} {
		if _, _, problem := sanitizeLogo(tc.data); problem != tc.problem {
			t.Errorf("%s: %q, want %q", name, problem, tc.problem)
		}
	}
}

func TestContrast(t *testing.T) {
	for colour, want := range map[string]float64{"#000000": 21, "#ffffff": 1, "#0b5cad": 6.67, "#767676": 4.54} {
		if got := contrast(colour); got < want-0.05 || got > want+0.05 {
			t.Errorf("contrast(%s) = %.2f, want %.2f", colour, got, want)
		}
	}
}
