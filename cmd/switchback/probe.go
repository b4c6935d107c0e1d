package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// defaultProbeTimeout bounds one probe; a container health check has its
// own timeout on top.
const defaultProbeTimeout = 5 * time.Second

// runProbe GETs a URL and succeeds on a 2xx answer. It is the health check
// of the container image, which has no shell, curl or wget.
func runProbe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "probe", "probe [--timeout 5s] URL")
	timeout := fs.Duration("timeout", defaultProbeTimeout, "give up after this long")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{"give one URL, e.g. http://127.0.0.1:9464/healthz"}
	}
	u, err := url.Parse(pos[0])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &usageError{fmt.Sprintf("%q: want an absolute http or https URL", pos[0])}
	}
	if *timeout <= 0 {
		return &usageError{"--timeout must be positive"}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("probe %s: %w", u.Redacted(), err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err // a *url.Error: it names the method and the URL
	}
	defer resp.Body.Close()
	// The body says why a check fails; keep a little of it for the message.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &exitError{code: 1, msg: fmt.Sprintf("probe %s: %s %s", u.Redacted(), resp.Status, trimBody(body))}
	}
	return nil
}

// trimBody returns the first line of body, for a one-line message.
func trimBody(body []byte) string {
	for i, b := range body {
		if b == '\n' || b == '\r' {
			return string(body[:i])
		}
	}
	return string(body)
}
