package auth

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/boombuler/barcode/qr"
)

// qrPixels is the side of the drawn code in CSS pixels: it fits a phone's screen and
// leaves each module at least 3 pixels wide.
const qrPixels = 256

// qrQuiet is the light margin around a QR code, in modules (ISO/IEC 18004 asks for 4).
const qrQuiet = 4

// QRCodeSVG draws text as a QR code (error correction M) in SVG, to put inline in a page:
// one path of dark modules on a white square, labelled for screen readers. Nothing leaves
// the server to draw it.
func QRCodeSVG(text, label string) (template.HTML, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return "", fmt.Errorf("draw QR code: %w", err)
	}
	n := code.Bounds().Dx()
	size := n + 2*qrQuiet
	var path strings.Builder
	for y := 0; y < n; y++ {
		for x := 0; x < n; {
			if !dark(code.At(x, y)) {
				x++
				continue
			}
			run := 1
			for x+run < n && dark(code.At(x+run, y)) {
				run++
			}
			fmt.Fprintf(&path, "M%d %dh%dv1h-%dz", x+qrQuiet, y+qrQuiet, run, run)
			x += run
		}
	}
	svg := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s" shape-rendering="crispEdges">`+
		`<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="%s"/></svg>`,
		size, size, qrPixels, qrPixels, template.HTMLEscapeString(label), size, size, path.String())
	return template.HTML(svg), nil
}

func dark(c interface{ RGBA() (r, g, b, a uint32) }) bool {
	r, _, _, _ := c.RGBA()
	return r < 0x8000
}
