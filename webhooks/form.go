package webhooks

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
)

// parseForm parses an application/x-www-form-urlencoded body already read.
func parseForm(r *http.Request, body []byte) (url.Values, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, fmt.Errorf("content type %q, want application/x-www-form-urlencoded", ct)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("form body: %w", err)
	}
	return form, nil
}
