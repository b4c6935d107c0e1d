package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/store"
)

// segmentTests are the segment tests of the suite.
var segmentTests = []suiteTest{
	{"SegmentFilter", testSegmentFilter},
	{"SegmentList", testSegmentList},
	{"SegmentPaging", testSegmentPaging},
	{"SegmentSaveInvalid", testSegmentSaveInvalid},
}

// seedSegmentContacts stores contacts whose names say what they match:
// only "match" contacts and "regranted" pass segmentFilter at t0.
func seedSegmentContacts(t *testing.T, ctx context.Context, s store.Store) {
	t.Helper()
	at := t0()
	wa, mk := channels.WhatsApp, "marketing"
	consent := func(key string, granted bool, when time.Time) {
		must(t, s.RecordConsent(ctx, store.Consent{ContactKey: key, Channel: wa, Purpose: mk, Granted: granted, Source: "test", At: when}))
	}
	for _, c := range []store.Contact{
		{Key: "match-1", Locale: "de_DE", TimeZone: "Europe/Berlin"},
		{Key: "match-2", Locale: "de_DE", TimeZone: "Europe/Berlin"},
		{Key: "withdrawn", Locale: "de_DE", TimeZone: "Europe/Berlin"},
		{Key: "regranted", Locale: "de_DE", TimeZone: "Europe/Berlin"},
		{Key: "no-consent", Locale: "de_DE", TimeZone: "Europe/Berlin"},
		{Key: "sms-consent", Locale: "de_DE", TimeZone: "Europe/Berlin"},
		{Key: "other-locale", Locale: "en_US", TimeZone: "Europe/Berlin"},
		{Key: "other-tz", Locale: "de_DE", TimeZone: "Europe/Vienna"},
		{Key: "old-inbound", Locale: "de_DE", TimeZone: "Europe/Berlin"},
		{Key: "untagged", Locale: "de_DE", TimeZone: "Europe/Berlin"},
		{Key: "sms-inbound", Locale: "de_DE", TimeZone: "Europe/Berlin"},
	} {
		if c.Key != "untagged" {
			c.Tags = []string{"vip", "beta"}
		}
		must(t, s.UpsertContact(ctx, c))
		switch c.Key {
		case "no-consent":
		case "sms-consent":
			must(t, s.RecordConsent(ctx, store.Consent{ContactKey: c.Key, Channel: channels.SMS, Purpose: mk, Granted: true, Source: "test", At: at}))
		case "withdrawn":
			consent(c.Key, true, at.Add(-48*time.Hour))
			consent(c.Key, false, at.Add(-24*time.Hour))
		case "regranted":
			consent(c.Key, false, at.Add(-48*time.Hour))
			consent(c.Key, true, at.Add(-24*time.Hour))
		default:
			consent(c.Key, true, at.Add(-72*time.Hour))
		}
		inbound, ch := at.Add(-6*24*time.Hour), wa
		switch c.Key {
		case "old-inbound":
			inbound = at.Add(-8 * 24 * time.Hour)
		case "sms-inbound":
			ch = channels.SMS
		}
		must(t, s.RecordInbound(ctx, c.Key, ch, inbound))
	}
}

var segmentFilter = store.ContactFilter{
	Tags:     []string{"vip", "beta"},
	Consent:  &store.ConsentFilter{Channel: channels.WhatsApp, Purpose: "marketing"},
	Locale:   "de_DE",
	TimeZone: "Europe/Berlin",
	Inbound:  &store.InboundFilter{Channel: channels.WhatsApp, Within: 7 * 24 * time.Hour},
}

func memberKeys(t *testing.T, ctx context.Context, s store.Store, name string, at time.Time) []string {
	t.Helper()
	cs, err := s.SegmentMembers(ctx, name, at, "", 1000)
	if err != nil {
		t.Fatalf("SegmentMembers %s: %v", name, err)
	}
	var keys []string
	for _, c := range cs {
		keys = append(keys, c.Key)
	}
	return keys
}

func wantSegment(t *testing.T, ctx context.Context, s store.Store, name string, at time.Time, want ...string) {
	t.Helper()
	if got := memberKeys(t, ctx, s, name, at); !slices.Equal(got, want) {
		t.Errorf("segment %s members at %s = %q, want %q", name, at, got, want)
	}
	n, err := s.SegmentSize(ctx, name, at)
	if err != nil {
		t.Fatalf("SegmentSize %s: %v", name, err)
	}
	if n != len(want) {
		t.Errorf("segment %s size = %d, want %d", name, n, len(want))
	}
}

// testSegmentFilter: a saved filter selects exactly the contacts whose
// latest consent is granted, with the locale and time zone, who wrote
// within the window; it reads back as saved.
func testSegmentFilter(t *testing.T, ctx context.Context, s store.Store) {
	seedSegmentContacts(t, ctx, s)
	seg := store.Segment{Name: "berlin", Kind: store.SegmentFilter, Filter: segmentFilter, CreatedAt: t0()}
	must(t, s.SaveSegment(ctx, seg, nil))
	got, err := s.Segment(ctx, "berlin")
	must(t, err)
	if got.Kind != seg.Kind || !got.CreatedAt.Equal(seg.CreatedAt) || *got.Filter.Consent != *seg.Filter.Consent ||
		*got.Filter.Inbound != *seg.Filter.Inbound || got.Filter.Locale != "de_DE" || !slices.Equal(got.Filter.Tags, seg.Filter.Tags) || got.Filter.TimeZone != "Europe/Berlin" {
		t.Errorf("Segment = %+v, want %+v", got, seg)
	}
	wantSegment(t, ctx, s, "berlin", t0(), "match-1", "match-2", "regranted")
	page, err := s.SegmentMembers(ctx, "berlin", t0(), "match-1", 1)
	must(t, err)
	if len(page) != 1 || page[0].Key != "match-2" || !slices.Equal(page[0].Tags, []string{"beta", "vip"}) {
		t.Errorf("SegmentMembers after match-1 = %+v, want match-2 with tags beta and vip", page)
	}
	// A day later the inbound messages of six days ago left the window.
	wantSegment(t, ctx, s, "berlin", t0().Add(24*time.Hour+time.Second))

	must(t, s.SaveSegment(ctx, store.Segment{Name: "all", Kind: store.SegmentFilter, CreatedAt: t0()}, nil))
	if n, err := s.SegmentSize(ctx, "all", t0()); err != nil || n != 11 {
		t.Errorf("SegmentSize(all) = %d, %v; want 11", n, err)
	}
	segs, err := s.Segments(ctx)
	must(t, err)
	if len(segs) != 2 || segs[0].Name != "all" || segs[1].Name != "berlin" {
		t.Errorf("Segments = %+v, want all and berlin", segs)
	}
	_, err = s.Segment(ctx, "nope")
	wantNotFound(t, "Segment(nope)", err)
	_, err = s.SegmentSize(ctx, "nope", t0())
	wantNotFound(t, "SegmentSize(nope)", err)
}

// testSegmentList: a list segment holds its members that its filter
// matches; saving it again replaces its members.
func testSegmentList(t *testing.T, ctx context.Context, s store.Store) {
	seedSegmentContacts(t, ctx, s)
	list := store.Segment{Name: "vip", Kind: store.SegmentList, CreatedAt: t0()}
	must(t, s.SaveSegment(ctx, list, []string{"withdrawn", "match-2", "other-tz", "match-2"}))
	wantSegment(t, ctx, s, "vip", t0(), "match-2", "other-tz", "withdrawn")

	list.Filter = store.ContactFilter{Consent: segmentFilter.Consent}
	must(t, s.SaveSegment(ctx, list, []string{"withdrawn", "other-tz", "no-consent"}))
	wantSegment(t, ctx, s, "vip", t0(), "other-tz")
}

// testSegmentPaging: paging by the last key returned visits every
// member once.
func testSegmentPaging(t *testing.T, ctx context.Context, s store.Store) {
	var members []string
	for i := range 1234 {
		key := fmt.Sprintf("k%05d", (i*7919)%1234)
		must(t, s.UpsertContact(ctx, store.Contact{Key: key}))
		if i%3 != 0 {
			members = append(members, key)
		}
	}
	must(t, s.SaveSegment(ctx, store.Segment{Name: "big", Kind: store.SegmentList, CreatedAt: t0()}, members))
	seen := map[string]bool{}
	after := ""
	for {
		page, err := s.SegmentMembers(ctx, "big", t0(), after, 100)
		must(t, err)
		if len(page) == 0 {
			break
		}
		for _, c := range page {
			if seen[c.Key] {
				t.Fatalf("member %s returned twice", c.Key)
			}
			seen[c.Key] = true
		}
		after = page[len(page)-1].Key
	}
	if len(seen) != len(members) {
		t.Errorf("paging returned %d members, want %d", len(seen), len(members))
	}
	for _, m := range members {
		if !seen[m] {
			t.Fatalf("member %s never returned", m)
		}
	}
}

// testSegmentSaveInvalid: invalid segments are refused with the field
// named, and nothing is saved.
func testSegmentSaveInvalid(t *testing.T, ctx context.Context, s store.Store) {
	for _, c := range []struct {
		seg  store.Segment
		want string
	}{
		{store.Segment{Name: "", Kind: store.SegmentFilter}, "segment name"},
		{store.Segment{Name: "x", Kind: "query"}, "kind"},
		{store.Segment{Name: "x", Kind: store.SegmentFilter, Filter: store.ContactFilter{Consent: &store.ConsentFilter{Channel: "Fax!", Purpose: "marketing"}}}, "consent channel"},
		{store.Segment{Name: "x", Kind: store.SegmentFilter, Filter: store.ContactFilter{Consent: &store.ConsentFilter{Channel: "sms", Purpose: "promo"}}}, "consent purpose"},
		{store.Segment{Name: "x", Kind: store.SegmentFilter, Filter: store.ContactFilter{TimeZone: "Mars/Base"}}, "timezone"},
		{store.Segment{Name: "x", Kind: store.SegmentFilter, Filter: store.ContactFilter{Tags: []string{"VIP"}}}, "tag"},
		{store.Segment{Name: "x", Kind: store.SegmentFilter, Filter: store.ContactFilter{Inbound: &store.InboundFilter{Channel: "sms"}}}, "inbound within"},
	} {
		err := s.SaveSegment(ctx, c.seg, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("SaveSegment(%+v) = %v, want an error naming %q", c.seg, err, c.want)
		}
	}
	_, err := s.Segment(ctx, "x")
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an invalid segment was saved: %v", err)
	}
}
