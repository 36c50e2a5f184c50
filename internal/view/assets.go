package view

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

// Assets are the static files, each served under a URL that carries a hash of its
// content, so browsers may cache them for a year and still never see a stale one.
type Assets struct {
	byName map[string]*asset // "app.css" -> asset
	byURL  map[string]*asset // "/static/app.1a2b3c4d5e.css" -> asset
}

type asset struct {
	url         string
	contentType string
	body        []byte
	gzipped     []byte
}

// LoadAssets reads every file under dir and precompresses the text ones.
func LoadAssets(fsys fs.FS, dir string) (*Assets, error) {
	a := &Assets{byName: map[string]*asset{}, byURL: map[string]*asset{}}
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, dir+"/")
		sum := sha256.Sum256(body)
		ext := path.Ext(name)
		it := &asset{
			url:         "/static/" + strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:5]) + ext,
			contentType: mime.TypeByExtension(ext),
			body:        body,
		}
		if ext == ".js" {
			it.contentType = "text/javascript; charset=utf-8"
		}
		if strings.HasPrefix(it.contentType, "text/") || ext == ".svg" || ext == ".json" {
			var buf bytes.Buffer
			gz, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			gz.Write(body)
			gz.Close()
			if buf.Len() < len(body) {
				it.gzipped = buf.Bytes()
			}
		}
		a.byName[name] = it
		a.byURL[it.url] = it
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load assets: %w", err)
	}
	return a, nil
}

// URL returns the hashed URL of the asset name; templates call it as {{asset "app.css"}}.
func (a *Assets) URL(name string) (string, error) {
	it, ok := a.byName[name]
	if !ok {
		return "", fmt.Errorf("no asset %q", name)
	}
	return it.url, nil
}

// ServeHTTP serves an asset by its hashed URL, compressed when the client accepts it.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	it, ok := a.byURL[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", it.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Add("Vary", "Accept-Encoding")
	body := it.body
	if it.gzipped != nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = it.gzipped
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}
