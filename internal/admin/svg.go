package admin

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// An uploaded SVG logo is parsed and written out again keeping only a safe subset:
// shapes, paths, groups, gradients, clip paths and text, with presentation attributes.
// Everything that could run code, load something or carry CSS is dropped or refused:
// scripts, event handlers, links (href), foreignObject, images, style elements and
// attributes, animations, DOCTYPEs and entities, and url() values other than a
// reference to an element of the same file.

// svgElements are the elements kept.
var svgElements = map[string]bool{
	"svg": true, "g": true, "path": true, "rect": true, "circle": true, "ellipse": true, "line": true, "polyline": true,
	"polygon": true, "title": true, "desc": true, "defs": true, "linearGradient": true, "radialGradient": true, "stop": true,
	"clipPath": true, "text": true, "tspan": true,
}

// svgAttributes are the attributes kept (on any kept element).
var svgAttributes = map[string]bool{
	"id": true, "viewBox": true, "width": true, "height": true, "x": true, "y": true, "x1": true, "y1": true, "x2": true,
	"y2": true, "cx": true, "cy": true, "r": true, "rx": true, "ry": true, "fx": true, "fy": true, "d": true, "points": true,
	"fill": true, "fill-opacity": true, "fill-rule": true, "stroke": true, "stroke-width": true, "stroke-opacity": true,
	"stroke-linecap": true, "stroke-linejoin": true, "stroke-miterlimit": true, "stroke-dasharray": true,
	"stroke-dashoffset": true, "opacity": true, "transform": true, "clip-path": true, "clip-rule": true, "offset": true,
	"stop-color": true, "stop-opacity": true, "gradientUnits": true, "gradientTransform": true, "spreadMethod": true,
	"preserveAspectRatio": true, "version": true, "font-family": true, "font-size": true, "font-weight": true,
	"font-style": true, "text-anchor": true, "dominant-baseline": true, "letter-spacing": true, "dx": true, "dy": true,
	"role": true, "aria-label": true, "aria-hidden": true,
}

// dangerous are elements whose presence refuses the file outright: dropping them could
// leave a logo that looks different from what was uploaded without anyone noticing.
var dangerous = map[string]bool{
	"script": true, "foreignObject": true, "iframe": true, "object": true, "embed": true, "image": true, "use": true,
	"a": true, "style": true, "animate": true, "animateTransform": true, "animateMotion": true, "set": true,
	"handler": true, "listener": true,
}

const svgNS = "http://www.w3.org/2000/svg"

var (
	localURL  = regexp.MustCompile(`^url\(\s*#[A-Za-z_][A-Za-z0-9_.-]*\s*\)$`)
	errUnsafe = errors.New("unsafe SVG")
)

// Limits of an SVG logo.
const (
	maxSVGDepth    = 32
	maxSVGElements = 5000
)

// sanitizeSVG returns the safe subset of an SVG file, or errUnsafe (wrapped) when it holds
// something that cannot be kept.
func sanitizeSVG(in []byte) ([]byte, error) {
	dec := xml.NewDecoder(bytes.NewReader(in))
	dec.Strict = true
	dec.Entity = nil
	var out bytes.Buffer
	var stack []bool // whether each open element is written
	elements, root := 0, false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errUnsafe, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			elements++
			if elements > maxSVGElements || len(stack) >= maxSVGDepth {
				return nil, fmt.Errorf("%w: too large", errUnsafe)
			}
			name := t.Name.Local
			if t.Name.Space != "" && t.Name.Space != svgNS {
				return nil, fmt.Errorf("%w: element %s:%s", errUnsafe, t.Name.Space, name)
			}
			if dangerous[name] {
				return nil, fmt.Errorf("%w: element %s", errUnsafe, name)
			}
			if !root {
				if name != "svg" {
					return nil, fmt.Errorf("%w: the root is not svg", errUnsafe)
				}
				root = true
			}
			keep := svgElements[name] && (len(stack) == 0 || stack[len(stack)-1])
			stack = append(stack, keep)
			if !keep {
				continue
			}
			out.WriteString("<" + name)
			if len(stack) == 1 {
				out.WriteString(` xmlns="` + svgNS + `"`)
			}
			for _, a := range t.Attr {
				an := a.Name.Local
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && an == "xmlns") {
					continue // namespace declarations: the root gets the one it needs
				}
				lower := strings.ToLower(an)
				if strings.HasPrefix(lower, "on") || lower == "href" || lower == "style" || a.Name.Space != "" && a.Name.Space != svgNS {
					if strings.HasPrefix(lower, "on") || lower == "href" || lower == "style" {
						return nil, fmt.Errorf("%w: attribute %s", errUnsafe, an)
					}
					continue // xml:space and the like
				}
				if !svgAttributes[an] {
					continue
				}
				v := a.Value
				lv := strings.ToLower(v)
				if strings.Contains(lv, "url(") && !localURL.MatchString(strings.TrimSpace(v)) ||
					strings.Contains(lv, "javascript:") || strings.Contains(lv, "expression(") || len(v) > 100000 {
					return nil, fmt.Errorf("%w: value of %s", errUnsafe, an)
				}
				out.WriteString(" " + an + `="`)
				xml.EscapeText(&out, []byte(v))
				out.WriteString(`"`)
			}
			out.WriteString(">")
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, fmt.Errorf("%w: unbalanced", errUnsafe)
			}
			keep := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if keep {
				out.WriteString("</" + t.Name.Local + ">")
			}
		case xml.CharData:
			if len(stack) > 0 && stack[len(stack)-1] {
				xml.EscapeText(&out, t)
			}
		case xml.Directive:
			return nil, fmt.Errorf("%w: DOCTYPE or other directive", errUnsafe)
		case xml.ProcInst:
			if t.Target != "xml" {
				return nil, fmt.Errorf("%w: processing instruction %s", errUnsafe, t.Target)
			}
		case xml.Comment:
			// dropped
		}
	}
	if !root || len(stack) != 0 {
		return nil, fmt.Errorf("%w: not a complete SVG document", errUnsafe)
	}
	return out.Bytes(), nil
}
