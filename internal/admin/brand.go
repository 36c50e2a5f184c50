package admin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"balcao/internal/access"
	"balcao/internal/directory"
	"balcao/internal/httpx"
	"balcao/internal/store"
	"balcao/internal/view"
)

// Branding: the agency's name, its colour (the --brand colour of the stylesheet, served
// by /branding.css) and its logo (PNG or SVG, stored in the database after sanitising,
// served by /branding/logo). Every page links both with a version in the URL.

const (
	settingColour = "branding.colour"
	logoAsset     = "logo"
	maxLogo       = 512 << 10 // bytes of an uploaded logo
	maxLogoSide   = 2048      // pixels of a PNG logo's side
	brandTTL      = 10 * time.Second
)

// DefaultColour is the stylesheet's own --brand colour.
const DefaultColour = "#0b5cad"

var colourPattern = regexp.MustCompile(`^#[0-9a-f]{6}$`)

// brandCache keeps the branding every page links to, read again every brandTTL (other
// servers may change it) and at once after a change here.
type brandCache struct {
	db  *store.DB
	log *slog.Logger

	mu    sync.Mutex
	brand view.Brand
	read  time.Time
}

func newBrandCache(db *store.DB, log *slog.Logger) *brandCache { return &brandCache{db: db, log: log} }

func (c *brandCache) get(ctx context.Context) view.Brand {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.read.IsZero() && time.Since(c.read) < brandTTL {
		return c.brand
	}
	b, err := readBrand(ctx, c.db)
	if err != nil {
		c.log.Error("read branding", "error", err)
		return c.brand
	}
	c.brand, c.read = b, time.Now()
	return b
}

func (c *brandCache) invalidate() {
	c.mu.Lock()
	c.read = time.Time{}
	c.mu.Unlock()
}

func readBrand(ctx context.Context, q store.Queryer) (view.Brand, error) {
	var b view.Brand
	colour, err := readSetting(ctx, q, settingColour)
	if err != nil {
		return b, err
	}
	if colour != "" {
		sum := sha256.Sum256([]byte(colour))
		b.StyleURL = "/branding.css?v=" + hex.EncodeToString(sum[:6])
	}
	var sha string
	err = q.QueryRow(ctx, "SELECT sha256 FROM brand_assets WHERE name = ?", logoAsset).Scan(&sha)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return b, fmt.Errorf("read logo: %w", err)
	}
	if sha != "" {
		b.LogoURL = "/branding/logo?v=" + sha[:16]
	}
	return b, nil
}

// Brand is the branding of the page answering r, for view.Renderer.SetBrand.
func (h *Admin) Brand(r *http.Request) view.Brand { return h.brand.get(r.Context()) }

func readSetting(ctx context.Context, q store.Queryer, key string) (string, error) {
	var v string
	err := q.QueryRow(ctx, "SELECT value FROM settings WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read setting %s: %w", key, err)
	}
	return v, nil
}

func writeSetting(ctx context.Context, q store.Queryer, key, value string) error {
	if _, err := q.Exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value); err != nil {
		return fmt.Errorf("write setting %s: %w", key, err)
	}
	return nil
}

// versioned sets how long an answer may be cached: a year when the URL carries the
// current version, otherwise revalidated each time.
func versioned(w http.ResponseWriter, r *http.Request, version string) {
	if v := r.URL.Query().Get("v"); v != "" && strings.HasPrefix(version, v) {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("ETag", `"`+version+`"`)
}

// logo serves the uploaded logo, with a policy that runs nothing even if it is opened
// on its own.
func (h *Admin) logo(w http.ResponseWriter, r *http.Request) error {
	var contentType, sha string
	var body []byte
	err := h.db.QueryRow(r.Context(), "SELECT content_type, body, sha256 FROM brand_assets WHERE name = ?", logoAsset).Scan(&contentType, &body, &sha)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(err)
	}
	if err != nil {
		return err
	}
	versioned(w, r, sha)
	if match := r.Header.Get("If-None-Match"); match == `"`+sha+`"` {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, err = w.Write(body)
	return err
}

// brandStyle serves the stylesheet that sets the agency's colour.
func (h *Admin) brandStyle(w http.ResponseWriter, r *http.Request) error {
	colour, err := readSetting(r.Context(), h.db, settingColour)
	if err != nil {
		return err
	}
	if !colourPattern.MatchString(colour) {
		colour = DefaultColour
	}
	sum := sha256.Sum256([]byte(colour))
	versioned(w, r, hex.EncodeToString(sum[:]))
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	_, err = fmt.Fprintf(w, ":root{--brand:%s}\n", colour)
	return err
}

// contrast is the WCAG 2 contrast ratio of a colour (#rrggbb) against white.
func contrast(colour string) float64 {
	lin := func(hex string) float64 {
		v, _ := strconv.ParseUint(hex, 16, 8)
		c := float64(v) / 255
		if c <= 0.04045 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	l := 0.2126*lin(colour[1:3]) + 0.7152*lin(colour[3:5]) + 0.0722*lin(colour[5:7])
	return 1.05 / (l + 0.05)
}

// sanitizeLogo checks an uploaded logo and returns what is stored: a PNG decoded and
// encoded again (which drops every chunk but the image's), or an SVG reduced to its safe
// subset. The problem is a message key for the form.
func sanitizeLogo(data []byte) (contentType string, out []byte, problem string) {
	if len(data) > maxLogo {
		return "", nil, "admin.error.logo_size"
	}
	if bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		if err != nil || cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxLogoSide || cfg.Height > maxLogoSide {
			return "", nil, "admin.error.logo_png"
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			return "", nil, "admin.error.logo_png"
		}
		var buf bytes.Buffer
		if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img); err != nil {
			return "", nil, "admin.error.logo_png"
		}
		return "image/png", buf.Bytes(), ""
	}
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	if bytes.HasPrefix(trimmed, []byte("<")) {
		clean, err := sanitizeSVG(trimmed)
		if err != nil {
			return "", nil, "admin.error.logo_svg"
		}
		return "image/svg+xml", clean, ""
	}
	return "", nil, "admin.error.logo_type"
}

func brandValues(ctx context.Context, q store.Queryer) (url.Values, error) {
	name, err := directory.AgencyName(ctx, q)
	if err != nil {
		return nil, err
	}
	colour, err := readSetting(ctx, q, settingColour)
	if err != nil {
		return nil, err
	}
	if colour == "" {
		colour = DefaultColour
	}
	v := url.Values{"colour": {colour}}
	setText(v, "agency", name)
	return v, nil
}

func (h *Admin) brandingPage(r *http.Request, me access.Staff, values url.Values, probs problems) (*page, error) {
	p := h.newPage(r, me, "admin.branding.title")
	pg := p.Page
	b := newBuilder(pg, values, probs)
	fields := b.texts("text", "agency", "admin.field.agency_name", true)
	fields = append(fields, b.hinted("text", "colour", "admin.field.colour", "admin.field.colour_hint", required, maxlength(7), autocomplete("off")))
	logo := b.hinted("file", "logo", "admin.field.logo", "admin.field.logo_hint")
	logo.Accept = "image/png,image/svg+xml"
	fields = append(fields, logo)
	brand, err := readBrand(r.Context(), h.db)
	if err != nil {
		return nil, err
	}
	current := block{Heading: pg.T("admin.branding.current_logo"), Empty: pg.T("admin.branding.no_logo")}
	if brand.LogoURL != "" {
		current.Image, current.ImageAlt = brand.LogoURL, pg.T("admin.branding.logo_alt")
		fields = append(fields, b.choice("checks", "remove_logo", "admin.field.remove_logo", []string{"yes"}, []string{pg.T("admin.field.remove_logo_yes")}))
	} else {
		current.Text = pg.T("admin.branding.no_logo")
	}
	p.Errors = b.errors()
	p.Blocks = []block{
		{Text: pg.T("admin.branding.lead")},
		current,
		{Form: &form{Action: "/staff/admin/branding", Multipart: true, CSRF: p.CSRF, Sections: []section{{Fields: fields}},
			Submit: saveButton(pg, "admin.save")}},
	}
	return p, nil
}

func (h *Admin) branding(w http.ResponseWriter, r *http.Request) error {
	me, err := h.allowed(r, access.AreaBranding)
	if err != nil {
		return err
	}
	values, err := brandValues(r.Context(), h.db)
	if err != nil {
		return err
	}
	p, err := h.brandingPage(r, me, values, nil)
	if err != nil {
		return err
	}
	return h.render(w, http.StatusOK, p)
}

// saveBranding saves the agency's name and colour and a new (or no) logo.
func (h *Admin) saveBranding(w http.ResponseWriter, r *http.Request) error {
	me, err := h.allowed(r, access.AreaBranding)
	if err != nil {
		return err
	}
	if err := r.ParseMultipartForm(maxLogo * 2); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return httpx.Errorf(http.StatusRequestEntityTooLarge, "too_large", "admin.error.logo_size", err)
	}
	ctx := r.Context()
	probs := problems{}
	v := r.PostForm
	name := probs.text(v, "agency", true, 200)
	colour := strings.ToLower(strings.TrimSpace(v.Get("colour")))
	switch {
	case !colourPattern.MatchString(colour):
		probs.add("colour", "admin.error.colour")
	case contrast(colour) < 4.5:
		probs.add("colour", "admin.error.colour_contrast")
	}
	var logoType string
	var logo []byte
	if f, _, err := r.FormFile("logo"); err == nil {
		data, err := io.ReadAll(io.LimitReader(f, maxLogo+1))
		f.Close()
		if err != nil {
			return err
		}
		if len(data) > 0 {
			var problem string
			if logoType, logo, problem = sanitizeLogo(data); problem != "" {
				probs.add("logo", problem)
			}
		}
	}
	old, err := brandValues(ctx, h.db)
	if err != nil {
		return err
	}
	if len(probs) > 0 {
		p, err := h.brandingPage(r, me, v, probs)
		if err != nil {
			return err
		}
		return h.render(w, http.StatusUnprocessableEntity, p)
	}
	details := "op=update fields=" + changed(old, v)
	removeLogo := v.Get("remove_logo") == "yes"
	if logo != nil {
		details += " logo=" + logoType
	} else if removeLogo {
		details += " logo=removed"
	}
	err = h.inTx(ctx, record(r, me, "branding", details), func(tx *store.Tx) error {
		if err := directory.SetAgencyName(ctx, tx, name); err != nil {
			return err
		}
		if err := writeSetting(ctx, tx, settingColour, colour); err != nil {
			return err
		}
		switch {
		case logo != nil:
			sum := sha256.Sum256(logo)
			_, err := tx.Exec(ctx, `INSERT INTO brand_assets (name, content_type, body, sha256, updated_at) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (name) DO UPDATE SET content_type = excluded.content_type, body = excluded.body,
					sha256 = excluded.sha256, updated_at = excluded.updated_at`,
				logoAsset, logoType, logo, hex.EncodeToString(sum[:]), h.now().Unix())
			return err
		case removeLogo:
			_, err := tx.Exec(ctx, "DELETE FROM brand_assets WHERE name = ?", logoAsset)
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	h.brand.invalidate()
	return seeOther(w, r, "/staff/admin/branding", "saved")
}
