package channels_test

import (
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
