package httpx

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
)

// MaxJSONBody bounds the size of a JSON request body.
const MaxJSONBody = 64 << 10

// DecodeJSON reads a JSON request body into dst. A body that is not JSON, too large, of
// the wrong content type, or with a value of the wrong type comes back as an *Error.
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return Errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "error.media_type", err)
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxJSONBody))
	err := dec.Decode(dst)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON value")
	}
	if err == nil {
		return nil
	}
	var tooLarge *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooLarge):
		return Errorf(http.StatusRequestEntityTooLarge, "too_large", "error.too_large", err)
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid", Key: "error.invalid",
			Fields: map[string]string{typeErr.Field: "error.type"}, Cause: err}
	case errors.Is(err, io.EOF):
		return Errorf(http.StatusBadRequest, "bad_json", "error.bad_json", err)
	default:
		return Errorf(http.StatusBadRequest, "bad_json", "error.bad_json", err)
	}
}

// WriteJSON answers with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	return enc.Encode(v)
}
