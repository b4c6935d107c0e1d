package push_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/push"
)

func sendErr(t *testing.T, err error) *channels.SendError {
	t.Helper()
	var se *channels.SendError
	if !errors.As(err, &se) {
		t.Fatalf("Send: %v, want a *channels.SendError", err)
	}
	return se
}

// TestSendClasses sends to each magic token alone and checks the class
// of the answer, the code and the tokens retired.
func TestSendClasses(t *testing.T) {
	s := sandboxSender(t)
	tests := []struct {
		token                      string
		code                       string
		permanent, config, unknown bool
		retired                    bool
		retryAfter                 time.Duration
	}{
		{token: push.TokenUnregistered + "-a", code: "UNREGISTERED", permanent: true, retired: true},
		{token: push.TokenInvalid + "-a", code: "UNREGISTERED", permanent: true, retired: true},
		{token: push.TokenMismatch + "-a", code: "UNREGISTERED", permanent: true, retired: true},
		{token: push.TokenRejected + "-a", code: "INVALID_ARGUMENT", permanent: true},
		{token: push.TokenAuth + "-a", code: "THIRD_PARTY_AUTH_ERROR", permanent: true, config: true},
		{token: push.TokenQuota + "-a", code: "QUOTA_EXCEEDED", retryAfter: 2 * time.Second},
		{token: push.TokenUnavailable + "-a", code: "UNAVAILABLE", retryAfter: time.Second},
		{token: push.TokenInternal + "-a", code: "INTERNAL"},
		{token: push.TokenHang + "-a", code: "no_answer", unknown: true},
	}
	for _, tt := range tests {
		t.Run(tt.token, func(t *testing.T) {
			_, err := s.Send(context.Background(), message(tt.token))
			se := sendErr(t, err)
			if se.Code != tt.code || se.Permanent != tt.permanent || se.Config != tt.config || se.Unknown != tt.unknown || se.RetryAfter != tt.retryAfter {
				t.Errorf("got %+v, want code %s permanent %v config %v unknown %v retry after %v", se, tt.code, tt.permanent, tt.config, tt.unknown, tt.retryAfter)
			}
			if got := slices.Equal(se.Retired, []string{tt.token}); got != tt.retired {
				t.Errorf("retired %v, want the token retired: %v", se.Retired, tt.retired)
			}
			if strings.Contains(se.Error(), tt.token) {
				t.Errorf("error %q holds the token", se.Error())
			}
		})
	}
}

// TestSendSeveral: one accepted token makes the send accepted, with the
// dead tokens retired; without one, the most hopeful failure speaks.
func TestSendSeveral(t *testing.T) {
	s := sandboxSender(t)
	ctx := context.Background()
	dead1, dead2 := push.TokenUnregistered+"-1", push.TokenInvalid+"-2"
	res, err := s.Send(ctx, message(dead1, "good-token-1", dead2, "good-token-2", "good-token-1"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != channels.StatusAccepted || res.Provider != push.Provider || !strings.HasPrefix(res.MessageID, "projects/sandbox/messages/") {
		t.Errorf("result %+v, want accepted with a message name", res)
	}
	if !slices.Equal(res.Retired, []string{dead1, dead2}) {
		t.Errorf("retired %v, want %v", res.Retired, []string{dead1, dead2})
	}

	_, err = s.Send(ctx, message(dead1, push.TokenQuota+"-1", push.TokenRejected+"-1"))
	se := sendErr(t, err)
	if se.Permanent || se.Code != "QUOTA_EXCEEDED" || !slices.Equal(se.Retired, []string{dead1}) || se.RetryAfter != 2*time.Second {
		t.Errorf("got %+v, want retryable QUOTA_EXCEEDED after 2s with %s retired", se, dead1)
	}
	if strings.Contains(se.Error(), push.TokenQuota+"-1") || !strings.Contains(se.Error(), push.Mask(push.TokenQuota+"-1")) {
		t.Errorf("error %q: want the token masked", se.Error())
	}

	_, err = s.Send(ctx, message(dead1, push.TokenRejected+"-1"))
	if se := sendErr(t, err); !se.Permanent || se.Code != "INVALID_ARGUMENT" || len(se.Retired) != 1 {
		t.Errorf("got %+v, want a permanent INVALID_ARGUMENT with one token retired", se)
	}

	_, err = s.Send(ctx, message(dead1, dead2))
	if se := sendErr(t, err); !se.Permanent || se.Code != push.CodeUnregistered || len(se.Retired) != 2 || !(push.Driver{}).Unreachable(se.Code) {
		t.Errorf("got %+v, want a permanent UNREGISTERED with both tokens retired", se)
	}

	_, err = s.Send(ctx, message())
	if se := sendErr(t, err); !se.Permanent {
		t.Errorf("no tokens: got %+v, want permanent", se)
	}
}

// TestSendRefusedWithoutToken: a bearer token the lookalike did not issue
// is a configuration error, and retires nothing.
func TestSendRefusedWithoutToken(t *testing.T) {
	srv := httptest.NewServer(push.NewLookalike())
	defer srv.Close()
	s := push.New(push.Options{Project: "p", BaseURL: srv.URL, Tokens: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "forged"})})
	_, err := s.Send(context.Background(), message("good-token-1"))
	if se := sendErr(t, err); !se.Config || len(se.Retired) != 0 {
		t.Errorf("got %+v, want a configuration error", se)
	}
}

// TestServiceAccount runs the real oauth2/google path: a generated
// service-account key whose token_uri points at the lookalike. The token
// endpoint, in front of the lookalike, checks the JWT's signature with
// the key; the sender reads the key file from GOOGLE_APPLICATION_CREDENTIALS.
func TestServiceAccount(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	look := push.NewLookalike()
	var assertions int
	mux := http.NewServeMux()
	mux.Handle("/", look)
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if err := verifyJWT(r.PostFormValue("assertion"), &key.PublicKey); err != nil {
			t.Errorf("token request: %v", err)
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		assertions++
		look.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	path := filepath.Join(t.TempDir(), "sa.json")
	writeKey(t, path, key, srv.URL+"/token")
	env := map[string]string{push.EnvCredentials: path, push.EnvAPIURL: srv.URL}
	s, err := push.NewSender(channels.Env{Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		res, err := s.Send(context.Background(), message("good-token-1"))
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		// The project comes from the key's project_id.
		if !strings.HasPrefix(res.MessageID, "projects/key-project/messages/") {
			t.Errorf("send %d: message %q, want one of project key-project", i, res.MessageID)
		}
	}
	if assertions != 1 || look.Tokens.Load() != 1 {
		t.Errorf("%d signed assertions, %d tokens issued: want one, cached for the second send", assertions, look.Tokens.Load())
	}
}

// verifyJWT checks an RS256 JWT's signature and its scope.
func verifyJWT(jwt string, pub *rsa.PublicKey) error {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return errors.New("not a JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		return err
	}
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c push.Claims
	if err := json.Unmarshal(b, &c); err != nil || c.Scope != push.Scope || c.Iss != "sender@key-project.iam.gserviceaccount.com" {
		return errors.New("claims: " + string(b))
	}
	return nil
}

func writeKey(t *testing.T, path string, key *rsa.PrivateKey, tokenURI string) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     "key-project",
		"private_key_id": "k1",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   "sender@key-project.iam.gserviceaccount.com",
		"token_uri":      tokenURI,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestNewSenderSettings(t *testing.T) {
	dir := t.TempDir()
	notSA := filepath.Join(dir, "user.json")
	if err := os.WriteFile(notSA, []byte(`{"type":"authorized_user"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		sandbox string
		off     bool
		errHas  string
	}{
		{name: "unset", off: true},
		{name: "unset with a sandbox", sandbox: "http://127.0.0.1:1/sandbox"},
		{name: "project without credentials", env: map[string]string{push.EnvProject: "p"}, errHas: push.EnvCredentials},
		{name: "credentials missing", env: map[string]string{push.EnvCredentials: filepath.Join(dir, "none.json")}, errHas: push.EnvCredentials},
		{name: "not a service account", env: map[string]string{push.EnvCredentials: notSA, push.EnvProject: "p"}, errHas: "service_account"},
		{name: "bad API URL", env: map[string]string{push.EnvAPIURL: "fcm.example"}, errHas: push.EnvAPIURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := push.Driver{}.NewSender(channels.Env{Getenv: func(k string) string { return tt.env[k] }, Sandbox: tt.sandbox})
			switch {
			case tt.errHas != "":
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Errorf("NewSender: %v, want an error naming %s", err, tt.errHas)
				}
			case err != nil:
				t.Errorf("NewSender: %v", err)
			case tt.off != (s == nil):
				t.Errorf("NewSender = %v, want nil: %v", s, tt.off)
			}
		})
	}
}
