package push_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/channeltest"
	"github.com/switchbackhq/switchback/channels/push"
)

// sandboxSender returns a sender pointed at a lookalike served by
// httptest, as `switchback dev` points it (Env.Sandbox).
func sandboxSender(t *testing.T) *push.Sender {
	t.Helper()
	// Mounted as `switchback dev` mounts it: under the channel's name.
	mux := http.NewServeMux()
	mux.Handle("/push/", http.StripPrefix("/push", push.Driver{}.Sandbox()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s, err := push.NewSender(channels.Env{Getenv: func(string) string { return "" }, Sandbox: srv.URL})
	if err != nil || s == nil {
		t.Fatalf("NewSender with a sandbox: %v, %v", s, err)
	}
	return s
}

func message(tokens ...string) channels.Message {
	return channels.Message{Channel: push.Channel, Devices: tokens,
		Payload: json.RawMessage(`{"title":"Order 42","body":"is on its way","data":{"order_id":"42"}}`)}
}

func payload(t *testing.T, msg channels.Message) push.Payload {
	t.Helper()
	var p push.Payload
	if err := json.Unmarshal(msg.Payload, &p); err != nil {
		t.Fatalf("payload %s: %v", msg.Payload, err)
	}
	return p
}

func TestDriver(t *testing.T) {
	channeltest.Run(t, channeltest.Case{
		Driver:      push.Driver{},
		Unreachable: []string{"UNREGISTERED"},
		Reachable:   []string{"INVALID_ARGUMENT", "SENDER_ID_MISMATCH", "QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL", "THIRD_PARTY_AUTH_ERROR", "no_answer"},
		Specs:       specs,
		Send: channeltest.Send{
			Sender:      sandboxSender(t),
			Message:     func(to string) channels.Message { return message(to) },
			OK:          "device-token-0123456789",
			Permanent:   push.TokenRejected + "-1",
			Retryable:   push.TokenQuota + "-1",
			Unknown:     push.TokenHang + "-1",
			Unreachable: push.TokenUnregistered + "-1",
		},
	})
}

var specs = []channeltest.Spec{
	{
		Name:   "title body data",
		Fields: channels.Fields{"title": "Order {{.order_id}}", "body": "Hi {{.name}}, it ships today", "data": map[string]any{"order_id": "{{.order_id}}", "screen": "orders"}},
		Vars:   map[string]string{"order_id": "42", "name": "Ann"},
		Check: func(t *testing.T, msg channels.Message) {
			p := payload(t, msg)
			want := push.Payload{Title: "Order 42", Body: "Hi Ann, it ships today", Data: map[string]string{"order_id": "42", "screen": "orders"}}
			if p.Title != want.Title || p.Body != want.Body || !maps.Equal(p.Data, want.Data) {
				t.Errorf("payload %+v, want %+v", p, want)
			}
		},
	},
	{
		Name:   "no data",
		Fields: channels.Fields{"title": "Hello", "body": "World"},
		Check: func(t *testing.T, msg channels.Message) {
			if p := payload(t, msg); p.Data != nil || p.Body != "World" {
				t.Errorf("payload %+v, want body World and no data", p)
			}
		},
	},
	{Name: "title missing", Fields: channels.Fields{"body": "x"}, ParseErr: ".title"},
	{Name: "body missing", Fields: channels.Fields{"title": "x"}, ParseErr: ".body"},
	{Name: "unknown field", Fields: channels.Fields{"title": "x", "body": "y", "text": "z"}, ParseErr: ".text"},
	{Name: "data not strings", Fields: channels.Fields{"title": "x", "body": "y", "data": map[string]any{"n": map[string]any{"a": "b"}}}, ParseErr: ".data"},
	{Name: "reserved key from", Fields: channels.Fields{"title": "x", "body": "y", "data": map[string]any{"from": "a"}}, ParseErr: ".data.from"},
	{Name: "reserved key notification", Fields: channels.Fields{"title": "x", "body": "y", "data": map[string]any{"notification": "a"}}, ParseErr: ".data.notification"},
	{Name: "reserved key message_type", Fields: channels.Fields{"title": "x", "body": "y", "data": map[string]any{"message_type": "a"}}, ParseErr: ".data.message_type"},
	{Name: "reserved prefix google.", Fields: channels.Fields{"title": "x", "body": "y", "data": map[string]any{"google.c.a": "a"}}, ParseErr: ".data.google.c.a"},
	{Name: "reserved prefix gcm.", Fields: channels.Fields{"title": "x", "body": "y", "data": map[string]any{"gcm.n.e": "a"}}, ParseErr: ".data.gcm.n.e"},
	{
		Name:   "just under the limit",
		Fields: channels.Fields{"title": "t", "body": "{{.long}}", "data": map[string]any{"k": "v"}},
		Vars:   map[string]string{"long": strings.Repeat("x", push.MaxPayload-3)},
	},
	{
		Name:      "rendered data past the limit",
		Fields:    channels.Fields{"title": "t", "body": "{{.long}}", "data": map[string]any{"k": "vv"}},
		Vars:      map[string]string{"long": strings.Repeat("x", push.MaxPayload-3)},
		RenderErr: true,
	},
	{Name: "variable missing", Fields: channels.Fields{"title": "t", "body": "{{.nope}}"}, RenderErr: true},
}

func TestAwaitsAcceptedOnly(t *testing.T) {
	aw := push.Driver{}.Awaits()
	if len(aw) != 1 || aw[0] != channels.StatusAccepted {
		t.Errorf("Awaits = %v, want [accepted]: FCM sends no receipts", aw)
	}
}

func TestTexts(t *testing.T) {
	c, err := push.Driver{}.Parse(channels.Fields{"title": "a", "body": "b", "data": map[string]any{"z": "1", "a": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tx := range c.Texts() {
		got = append(got, tx.Field+"="+tx.Text)
	}
	if want := ".title=a .body=b .data.a=2 .data.z=1"; strings.Join(got, " ") != want {
		t.Errorf("Texts = %v, want %s", got, want)
	}
	if c.Describe() != "push notification" {
		t.Errorf("Describe = %q", c.Describe())
	}
}

func TestCheckToken(t *testing.T) {
	for _, ok := range []string{"dA1b:APA91bH-x_y.z+w/=", push.TokenQuota + "-1", strings.Repeat("a", 4096)} {
		if err := push.CheckToken(ok); err != nil {
			t.Errorf("CheckToken(%.20q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "two tokens", "a;b", "a,b", "tok\n", strings.Repeat("a", 4097), "tōken"} {
		if err := push.CheckToken(bad); err == nil {
			t.Errorf("CheckToken(%.20q): no error", bad)
		}
	}
	if err := push.CheckToken("secret-device-token with space"); err == nil || strings.Contains(err.Error(), "secret-device") {
		t.Errorf("CheckToken error %v: want one without the token", err)
	}
}
