package webhook

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/switchbackhq/switchback/internal/stdwebhook"
)

// SandboxSecret signs the webhooks that `switchback dev` sends to its
// sandbox Receiver when SWITCHBACK_WEBHOOK_SECRET is unset. It is public,
// not a secret: it never signs a request that leaves the process. A
// receiver of your own, run beside `switchback dev`, is reached by
// setting SWITCHBACK_WEBHOOK_SECRET instead.
const SandboxSecret = stdwebhook.SecretPrefix + "c3dpdGNoYmFjay1zYW5kYm94LXdlYmhvb2sta2V5ISE="

// sandboxKey is SandboxSecret's key.
func sandboxKey() []byte {
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(SandboxSecret, stdwebhook.SecretPrefix))
	return key
}

// Magic paths of the Receiver: a request whose path ends in one of them
// fails that way.
const (
	// PathStatus followed by a status code (".../status/503") answers it:
	// 429 and 503 with Retry-After: 1, a 3xx with a Location.
	PathStatus = "/status/"
	// PathHang never answers: the sender gives up (its timeout).
	PathHang = "/hang"
)

// Receiver limits.
const (
	// maxDeliveries is how many deliveries a Receiver keeps, the latest.
	maxDeliveries = 100
	// maxHang bounds a PathHang request, should its client never give up.
	maxHang = 2 * time.Minute
)

// Delivery is one request a Receiver got.
type Delivery struct {
	At   time.Time `json:"at"`
	Path string    `json:"path"`
	// ID is the request's webhook-id.
	ID string `json:"id"`
	// Verified says whether its signature checked out; a request whose
	// signature did not is answered 401.
	Verified bool `json:"verified"`
	// Status is the code answered, or 0 for a request left unanswered.
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// Receiver is the sandbox lookalike of a business's webhook endpoint: it
// checks each POST's signature with the Standard Webhooks library,
// answers 200 unless the path is magic (PathStatus, PathHang), and keeps
// the last 100 deliveries, which a GET lists as JSON (`switchback dev`
// serves it at /sandbox/webhook/).
type Receiver struct {
	wh  *standardwebhooks.Webhook
	now func() time.Time

	mu   sync.Mutex
	got  []Delivery
	hang time.Duration
}

// NewReceiver returns a Receiver that checks signatures made with secret,
// written whsec_<base64 key>.
func NewReceiver(secret string) (*Receiver, error) {
	if _, err := stdwebhook.NewSigner(secret); err != nil {
		return nil, err
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, stdwebhook.ErrBadSecret
	}
	return &Receiver{wh: wh, now: time.Now, hang: maxHang}, nil
}

func newReceiver(key []byte) *Receiver {
	wh, _ := standardwebhooks.NewWebhookRaw(key) // never fails
	return &Receiver{wh: wh, now: time.Now, hang: maxHang}
}

// Deliveries returns what the Receiver got, oldest first.
func (rc *Receiver) Deliveries() []Delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Delivery(nil), rc.got...)
}

// ServeHTTP receives a webhook (POST) or lists the deliveries (GET).
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"deliveries": rc.Deliveries()})
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "POST a webhook, or GET what was received", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodySize))
	if err != nil {
		http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	d := Delivery{At: rc.now(), Path: r.URL.Path, ID: r.Header.Get(stdwebhook.HeaderID), Headers: extraHeaders(r.Header)}
	if json.Valid(body) {
		d.Body = body
	}
	d.Verified = rc.wh.Verify(body, r.Header) == nil
	switch code, hang := magic(r.URL.Path); {
	case !d.Verified:
		d.Status = http.StatusUnauthorized
	case hang:
		rc.record(d)
		rc.wait(r)
		return
	default:
		d.Status = code
	}
	rc.record(d)
	answer(w, d.Status)
}

// magic returns the status a path asks for (200 when it asks none), or
// hang for PathHang.
func magic(path string) (code int, hang bool) {
	if strings.HasSuffix(path, PathHang) {
		return 0, true
	}
	if i := strings.LastIndex(path, PathStatus); i >= 0 {
		if n, err := strconv.Atoi(path[i+len(PathStatus):]); err == nil && n >= 200 && n <= 599 {
			return n, false
		}
	}
	return http.StatusOK, false
}

// answer writes status code, with the headers that go with it.
func answer(w http.ResponseWriter, code int) {
	switch {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
	case code >= 300 && code < 400:
		w.Header().Set("Location", "/moved")
	}
	if code == http.StatusOK {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, `{"received":true}`)
		return
	}
	http.Error(w, http.StatusText(code), code)
}

// wait holds a PathHang request until its client gives up.
func (rc *Receiver) wait(r *http.Request) {
	t := time.NewTimer(rc.hang)
	defer t.Stop()
	select {
	case <-r.Context().Done():
	case <-t.C:
	}
}

func (rc *Receiver) record(d Delivery) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.got = append(rc.got, d)
	if n := len(rc.got) - maxDeliveries; n > 0 {
		rc.got = append([]Delivery(nil), rc.got[n:]...)
	}
}

// extraHeaders returns the request's headers other than the signature's
// and the transport's, one value each.
func extraHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	skip := []string{stdwebhook.HeaderID, stdwebhook.HeaderTimestamp, stdwebhook.HeaderSignature, "Content-Length", "Accept-Encoding"}
	for name, vs := range h {
		if !slices.ContainsFunc(skip, func(s string) bool { return strings.EqualFold(s, name) }) {
			out[name] = strings.Join(vs, ", ")
		}
	}
	return out
}
