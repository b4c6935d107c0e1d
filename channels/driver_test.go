package channels_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchbackhq/switchback/channels"
)

type fakeDriver struct {
	name channels.Channel
	addr channels.AddressKind
}

func (d fakeDriver) Channel() channels.Channel     { return d.name }
func (d fakeDriver) Address() channels.AddressKind { return d.addr }
func (fakeDriver) DefaultRate() float64            { return 1 }
func (d fakeDriver) Unreachable(code string) bool  { return code == "gone" }
func (fakeDriver) Parse(channels.Fields) (channels.Content, error) {
	return nil, channels.FieldErrors{{Msg: "fake"}}
}
func (fakeDriver) Awaits() []channels.Status { return channels.ReceiptAwaits() }

func TestRegistry(t *testing.T) {
	reg, err := channels.NewRegistry(fakeDriver{"push", "token"}, fakeDriver{"sms", channels.AddressPhone}, fakeDriver{"whatsapp", channels.AddressPhone})
	if err != nil {
		t.Fatal(err)
	}
	if got := reg.Channels(channels.AddressPhone); len(got) != 2 || got[0] != "sms" || got[1] != "whatsapp" {
		t.Errorf("phone channels = %v, want [sms whatsapp] in registration order", got)
	}
	if got := reg.Channels(""); len(got) != 3 || got[0] != "push" {
		t.Errorf("all channels = %v", got)
	}
	if !reg.Unreachable("sms", "gone") || reg.Unreachable("sms", "late") || reg.Unreachable("fax", "gone") {
		t.Error("Unreachable does not ask the channel's driver, or answers for an unknown channel")
	}
	if _, ok := reg.Lookup("fax"); ok {
		t.Error("Lookup found an unregistered channel")
	}
}

func TestRegistryRefusesBadLists(t *testing.T) {
	_, err := channels.NewRegistry(fakeDriver{"sms", channels.AddressPhone}, fakeDriver{"sms", channels.AddressPhone}, fakeDriver{"", channels.AddressEmail})
	if err == nil || !strings.Contains(err.Error(), `"sms" is registered twice`) || !strings.Contains(err.Error(), "has no name") {
		t.Errorf("NewRegistry with a duplicate and a nameless driver: %v", err)
	}
}

func TestFieldsDecode(t *testing.T) {
	type button struct {
		ID string `json:"id"`
	}
	type spec struct {
		Text    string   `json:"text"`
		Buttons []button `json:"buttons"`
	}
	tests := []struct {
		name   string
		fields channels.Fields
		field  string // "" when it decodes
	}{
		{"ok", channels.Fields{"text": "hi", "buttons": []any{map[string]any{"id": "a"}}}, ""},
		{"unknown top field", channels.Fields{"txt": "hi"}, ".txt"},
		{"unknown nested field", channels.Fields{"buttons": []any{map[string]any{"id": "a", "title": "x"}}}, ".buttons[0].title"},
		{"wrong type", channels.Fields{"text": 3}, ".text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s spec
			err := tt.fields.Decode(&s)
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				if s.Text != "hi" || len(s.Buttons) != 1 || s.Buttons[0].ID != "a" {
					t.Errorf("decoded %+v", s)
				}
				return
			}
			var fe channels.FieldErrors
			if !errors.As(err, &fe) || len(fe) == 0 || fe[0].Field != tt.field {
				t.Errorf("Decode: %v, want a problem of %s", err, tt.field)
			}
		})
	}
}
