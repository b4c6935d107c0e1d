package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/internal/logging"
	"github.com/switchbackhq/switchback/store"
)

const segmentUsage = "save NAME [filters] | import NAME FILE.csv [filters] | show NAME [--first 10] | list"

func runSegment(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return &usageError{"give a subcommand: " + segmentUsage}
	}
	switch args[0] {
	case "save":
		return runSegmentSave(ctx, e, args[1:])
	case "import":
		return runSegmentImport(ctx, e, args[1:])
	case "show":
		return runSegmentShow(ctx, e, args[1:])
	case "list":
		return runSegmentList(ctx, e, args[1:])
	}
	return &usageError{fmt.Sprintf("unknown subcommand %q: want save, import, show or list", args[0])}
}

// filterFlags are the command-line flags of a contact filter.
type filterFlags struct {
	tags, consent, locale, timezone, inboundWithin, inboundChannel *string
}

func addFilterFlags(fs *flag.FlagSet) filterFlags {
	return filterFlags{
		tags:           fs.String("tags", "", "keep contacts with every one of these tags, e.g. vip,beta"),
		consent:        fs.String("consent", "", "keep contacts whose consent in force is granted: CHANNEL:PURPOSE, e.g. whatsapp:marketing"),
		locale:         fs.String("locale", "", "keep contacts with this locale, e.g. de_DE"),
		timezone:       fs.String("timezone", "", "keep contacts in this IANA time zone, e.g. Europe/Berlin"),
		inboundWithin:  fs.String("inbound-within", "", "keep contacts who wrote within this long (30d, 12h)"),
		inboundChannel: fs.String("inbound-channel", string(channels.WhatsApp), "the channel of --inbound-within"),
	}
}

// filter returns the contact filter of the flags, or a usage error naming
// the flag that is wrong.
func (ff filterFlags) filter() (store.ContactFilter, error) {
	tags, err := parseTags(*ff.tags)
	if err != nil {
		return store.ContactFilter{}, &usageError{"--" + err.Error()}
	}
	f := store.ContactFilter{Tags: tags, Locale: *ff.locale, TimeZone: *ff.timezone}
	if *ff.consent != "" {
		ch, purpose, ok := strings.Cut(*ff.consent, ":")
		if !ok {
			return f, &usageError{fmt.Sprintf("--consent %q: want CHANNEL:PURPOSE, e.g. whatsapp:marketing", *ff.consent)}
		}
		if !knownChannel(channels.Channel(ch)) {
			return f, &usageError{fmt.Sprintf("--consent %q: consent channel %q is not one of %s", *ff.consent, ch, app.ChannelNames())}
		}
		f.Consent = &store.ConsentFilter{Channel: channels.Channel(ch), Purpose: purpose}
	}
	if *ff.inboundWithin != "" {
		w, err := config.ParseWindow(*ff.inboundWithin)
		if err != nil {
			return f, &usageError{"--inbound-within: " + err.Error()}
		}
		f.Inbound = &store.InboundFilter{Channel: channels.Channel(*ff.inboundChannel), Within: w}
	}
	if err := f.Validate(); err != nil {
		return f, &usageError{err.Error()}
	}
	return f, nil
}

// parseSegmentArgs adds the filter flags to fs, parses args, which must
// hold n arguments (else a usage error saying want), and returns them and
// the filter.
func parseSegmentArgs(fs *flag.FlagSet, args []string, n int, want string) ([]string, store.ContactFilter, error) {
	ff := addFilterFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return nil, store.ContactFilter{}, err
	}
	if len(pos) != n {
		return nil, store.ContactFilter{}, &usageError{want}
	}
	f, err := ff.filter()
	return pos, f, err
}

// saveSegment checks seg, saves it with its members and prints its size.
func saveSegment(ctx context.Context, e *env, st store.Store, seg store.Segment, members []string) error {
	if err := seg.Validate(); err != nil {
		return &usageError{err.Error()}
	}
	if err := st.SaveSegment(ctx, seg, members); err != nil {
		return err
	}
	n, err := st.SegmentSize(ctx, seg.Name, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "saved segment %s (%s): %d contacts now\n", seg.Name, seg.Filter, n)
	return nil
}

func runSegmentSave(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "segment save", "segment save NAME [--tags T,U] [--consent CHANNEL:PURPOSE] [--locale L] [--timezone TZ] [--inbound-within 30d [--inbound-channel C]]")
	pos, f, err := parseSegmentArgs(fs, args, 1, "give one segment name")
	if err != nil {
		return err
	}
	st, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	seg := store.Segment{Name: pos[0], Kind: store.SegmentFilter, Filter: f, CreatedAt: time.Now().UTC()}
	return saveSegment(ctx, e, st, seg, nil)
}

func runSegmentImport(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "segment import", "segment import NAME FILE.csv [--source SOURCE] [filters as for segment save]")
	source := fs.String("source", "", `consent source of rows without a source column (default "import FILE")`)
	pos, f, err := parseSegmentArgs(fs, args, 2, "give a segment name and a CSV file")
	if err != nil {
		return err
	}
	st, key, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	rows, err := readContactsFile(pos[1], key, *source)
	if err != nil {
		return err
	}
	seg := store.Segment{Name: pos[0], Kind: store.SegmentList, Filter: f, CreatedAt: time.Now().UTC()}
	if err := seg.Validate(); err != nil {
		return &usageError{err.Error()}
	}
	changed, err := saveContacts(ctx, st, rows)
	if err != nil {
		return err
	}
	members := make([]string, len(rows))
	for i, r := range rows {
		members[i] = r.contact.Key
	}
	fmt.Fprintf(e.stdout, "imported %d contacts, %d consent changes\n", len(rows), changed)
	return saveSegment(ctx, e, st, seg, members)
}

func runSegmentShow(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "segment show", "segment show NAME [--first 10]")
	first := fs.Int("first", 10, "how many of the segment's contacts to show")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{"give one segment name"}
	}
	if *first < 1 {
		return &usageError{fmt.Sprintf("--first %d: want 1 or more", *first)}
	}
	st, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	seg, err := st.Segment(ctx, pos[0])
	if err != nil {
		return err
	}
	now := time.Now()
	n, err := st.SegmentSize(ctx, seg.Name, now)
	if err != nil {
		return err
	}
	cs, err := st.SegmentMembers(ctx, seg.Name, now, "", *first)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "segment   %s\nkind      %s\nfilter    %s\ncreated   %s\nsize      %d contacts\n",
		seg.Name, seg.Kind, seg.Filter, stamp(seg.CreatedAt), n)
	var rows [][]string
	for _, c := range cs {
		rows = append(rows, []string{c.Key, logging.Mask(c.Number), logging.Mask(c.Email), c.Locale, c.TimeZone, strings.Join(c.Tags, " ")})
	}
	section(e.stdout, fmt.Sprintf("first %d contacts (masked)", len(cs)), []string{"KEY", "NUMBER", "EMAIL", "LOCALE", "TIME ZONE", "TAGS"}, rows)
	return nil
}

func runSegmentList(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "segment list", "segment list")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return &usageError{"segment list takes no arguments"}
	}
	st, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	segs, err := st.Segments(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	var rows [][]string
	for _, seg := range segs {
		n, err := st.SegmentSize(ctx, seg.Name, now)
		if err != nil {
			return err
		}
		rows = append(rows, []string{seg.Name, string(seg.Kind), fmt.Sprint(n), stamp(seg.CreatedAt), seg.Filter.String()})
	}
	section(e.stdout, "segments", []string{"NAME", "KIND", "SIZE", "CREATED", "FILTER"}, rows)
	return nil
}
