package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/push"
	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

// openStore opens the store the environment selects.
func openStore(ctx context.Context, e *env) (store.Store, []byte, error) {
	cfg, err := loadConfig(e)
	if err != nil {
		return nil, nil, err
	}
	st, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return st, cfg.ContactKeyOrDefault(), nil
}

func runContacts(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return &usageError{"give a subcommand: import FILE.csv | show NUMBER"}
	}
	switch args[0] {
	case "import":
		return runContactsImport(ctx, e, args[1:])
	case "show":
		return runContactsShow(ctx, e, args[1:])
	}
	return &usageError{fmt.Sprintf("unknown subcommand %q: want import or show", args[0])}
}

// importRow is one valid line of a contacts CSV.
type importRow struct {
	contact  store.Contact
	consents []store.Consent
	// tokens are the contact's device tokens, added at the import's time.
	tokens []string
	at     time.Time
}

// consentColumn is a consent_CHANNEL_PURPOSE column of a contacts CSV.
type consentColumn struct {
	index   int
	channel channels.Channel
	purpose journeys.Purpose
}

func runContactsImport(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "contacts import", "contacts import FILE.csv [--source SOURCE]")
	source := fs.String("source", "", `consent source of rows without a source column (default "import FILE")`)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{"give one CSV file"}
	}
	st, key, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	rows, err := readContactsFile(pos[0], key, *source)
	if err != nil {
		return err
	}
	changed, err := saveContacts(ctx, st, rows)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "imported %d contacts, %d consent changes\n", len(rows), changed)
	return nil
}

// saveContacts upserts the contacts of rows and records their consent
// changes, and returns how many consents changed.
func saveContacts(ctx context.Context, st store.Store, rows []importRow) (int, error) {
	changed := 0
	for _, r := range rows {
		if err := st.UpsertContact(ctx, r.contact); err != nil {
			return changed, err
		}
		if len(r.tokens) > 0 {
			if err := st.AddDeviceTokens(ctx, r.contact.Key, r.tokens, r.at); err != nil {
				return changed, err
			}
		}
		for _, c := range r.consents {
			ok, err := store.ChangeConsent(ctx, st, c)
			if err != nil {
				return changed, err
			}
			if ok {
				changed++
			}
		}
	}
	return changed, nil
}

// readContactsFile reads the contacts CSV at path (see readContacts); an
// empty source stands for "import FILE".
func readContactsFile(path string, secret []byte, source string) ([]importRow, error) {
	if source == "" {
		source = "import " + filepath.Base(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := readContacts(f, secret, source, time.Now().UTC())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}

// readContacts reads a contacts CSV: a header naming number (required),
// email, locale, timezone, tags (see parseTags), push_tokens (see
// parsePushTokens), source, consent_at (RFC 3339) and any
// consent_CHANNEL_PURPOSE columns (yes/no, granted/withdrawn, true/false,
// 1/0; empty: nothing recorded). Every invalid line is reported, and then
// nothing is imported.
func readContacts(r io.Reader, secret []byte, source string, now time.Time) ([]importRow, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	cols := map[string]int{}
	var consentCols []consentColumn
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		cols[h] = i
		rest, ok := strings.CutPrefix(h, "consent_")
		if !ok || rest == "at" {
			continue
		}
		ch, purpose, _ := strings.Cut(rest, "_")
		cc := consentColumn{i, channels.Channel(ch), journeys.Purpose(purpose)}
		if !knownChannel(cc.channel) || !validPurpose(cc.purpose) {
			return nil, fmt.Errorf("column %q: want consent_CHANNEL_PURPOSE, channel %s, purpose marketing, utility or authentication", h, app.ChannelNames())
		}
		consentCols = append(consentCols, cc)
	}
	if _, ok := cols["number"]; !ok {
		return nil, errors.New(`the header has no "number" column`)
	}
	field := func(rec []string, name string) string {
		if i, ok := cols[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var rows []importRow
	var errs []error
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		row, err := contactRow(rec, field, consentCols, secret, source, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", line, err))
			continue
		}
		rows = append(rows, row)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("nothing imported:\n%w", err)
	}
	return rows, nil
}

// contactRow checks and converts one CSV record.
func contactRow(rec []string, field func([]string, string) string, consentCols []consentColumn, secret []byte, source string, now time.Time) (importRow, error) {
	number := field(rec, "number")
	if err := journeys.CheckRecipient(number); err != nil {
		return importRow{}, err
	}
	key := journeys.ContactKey(secret, number)
	row := importRow{contact: store.Contact{
		Key: key, Number: number, Email: field(rec, "email"), Locale: field(rec, "locale"),
		TimeZone: field(rec, "timezone") + field(rec, "time_zone"),
	}}
	tags, err := parseTags(field(rec, "tags"))
	if err != nil {
		return importRow{}, err
	}
	row.contact.Tags = tags
	if row.tokens, err = parsePushTokens(field(rec, "push_tokens")); err != nil {
		return importRow{}, err
	}
	row.at = now
	if tz := row.contact.TimeZone; tz != "" {
		if _, err := time.LoadLocation(tz); err != nil {
			return importRow{}, fmt.Errorf("timezone %q: %w", tz, err)
		}
	}
	if s := field(rec, "source"); s != "" {
		source = s
	}
	at := now
	if s := field(rec, "consent_at"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return importRow{}, fmt.Errorf("consent_at %q: want RFC 3339, e.g. 2026-01-31T12:00:00Z", s)
		}
		at = t
	}
	for _, cc := range consentCols {
		v := ""
		if cc.index < len(rec) {
			v = strings.ToLower(strings.TrimSpace(rec[cc.index]))
		}
		var granted bool
		switch v {
		case "":
			continue
		case "yes", "y", "true", "1", "granted":
			granted = true
		case "no", "n", "false", "0", "withdrawn":
		default:
			return importRow{}, fmt.Errorf("consent_%s_%s %q: want yes or no", cc.channel, cc.purpose, v)
		}
		row.consents = append(row.consents, store.Consent{ContactKey: key, Channel: cc.channel, Purpose: string(cc.purpose), Granted: granted, Source: source, At: at})
	}
	return row, nil
}

// parseTags parses a tags field: tags separated by spaces, commas,
// semicolons or bars, in any case.
func parseTags(s string) ([]string, error) {
	tags := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return r == ' ' || r == ',' || r == ';' || r == '|'
	})
	for _, t := range tags {
		if !store.ValidTag(t) {
			return nil, fmt.Errorf("tags: %q: want 1 to 40 letters, digits, '.', '_' or '-'", t)
		}
	}
	return tags, nil
}

// parsePushTokens parses a push_tokens field: device tokens separated by
// spaces or semicolons. They are added to the contact's; an import never
// removes one.
func parsePushTokens(s string) ([]string, error) {
	tokens := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ';' })
	for _, t := range tokens {
		if err := push.CheckToken(t); err != nil {
			return nil, fmt.Errorf("push_tokens: %w", err)
		}
	}
	return tokens, nil
}

// parseNumber parses a command line that names one E.164 phone number.
func parseNumber(fs *flag.FlagSet, args []string) (string, error) {
	pos, err := parse(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", &usageError{"give one phone number"}
	}
	if err := journeys.CheckRecipient(pos[0]); err != nil {
		return "", &usageError{err.Error()}
	}
	return pos[0], nil
}

func validPurpose(p journeys.Purpose) bool {
	return p == journeys.Marketing || p == journeys.Utility || p == journeys.Authentication
}

func runContactsShow(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "contacts show", "contacts show NUMBER [--events 20]")
	n := fs.Int("events", 20, "how many of the latest message events to show")
	number, err := parseNumber(fs, args)
	if err != nil {
		return err
	}
	st, secret, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	key := journeys.ContactKey(secret, number)
	c, err := st.Contact(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		c = store.Contact{Key: key, Number: number}
		fmt.Fprintln(e.stdout, "(no contact record)")
	} else if err != nil {
		return err
	}
	return showContact(ctx, e.stdout, st, c, *n, time.Now())
}

// showContact prints everything the store knows of a contact.
func showContact(ctx context.Context, w io.Writer, st store.Store, c store.Contact, events int, now time.Time) error {
	fmt.Fprintf(w, "contact   %s\nkey       %s\n", c.Number, c.Key)
	for _, f := range [][2]string{{"email", c.Email}, {"locale", c.Locale}, {"time zone", c.TimeZone}, {"tags", strings.Join(c.Tags, " ")}} {
		if f[1] != "" {
			fmt.Fprintf(w, "%-9s %s\n", f[0], f[1])
		}
	}
	hist, err := st.ConsentHistory(ctx, c.Key)
	if err != nil {
		return err
	}
	sups, err := st.Suppressions(ctx, c.Key)
	if err != nil {
		return err
	}
	reach, err := st.Reachabilities(ctx, c.Key)
	if err != nil {
		return err
	}
	evs, err := st.Events(ctx, store.EventFilter{ContactKey: c.Key, Newest: events})
	if err != nil {
		return err
	}
	tokens, err := st.DeviceTokens(ctx, c.Key)
	if err != nil {
		return err
	}
	var consent, suppressed, chans, devices, recent [][]string
	for _, h := range hist {
		consent = append(consent, []string{stamp(h.At), string(h.Channel), h.Purpose, h.State(), h.Source})
	}
	for _, s := range sups {
		suppressed = append(suppressed, []string{stamp(s.At), string(s.Channel), string(s.Reason), s.Source})
	}
	reg := app.Channels()
	for _, ch := range append(reg.Channels(channels.AddressPhone), reg.Channels(channels.AddressDevice)...) {
		last, window := "never", "-"
		if ch == channels.WhatsApp {
			window = "closed"
		}
		t, err := st.LastInbound(ctx, c.Key, ch)
		switch {
		case err == nil:
			last = stamp(t)
			if end := t.Add(activities.ServiceWindow); now.Before(end) && ch == channels.WhatsApp {
				window = "open until " + stamp(end)
			}
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		chans = append(chans, []string{string(ch), last, window, reachability(reach, ch)})
	}
	for _, d := range tokens {
		devices = append(devices, []string{push.Mask(d.Token), stamp(d.AddedAt)})
	}
	for _, ev := range evs {
		recent = append(recent, []string{stamp(ev.At), ev.WorkflowID, string(ev.Channel), string(ev.Status),
			strings.TrimSpace(ev.ErrorCode + " " + ev.ErrorReason)})
	}
	section(w, "consent (latest last)", []string{"TIME", "CHANNEL", "PURPOSE", "STATE", "SOURCE"}, consent)
	section(w, "suppressions", []string{"TIME", "CHANNEL", "REASON", "SOURCE"}, suppressed)
	section(w, "channels", []string{"CHANNEL", "LAST INBOUND", "WINDOW", "REACHABILITY"}, chans)
	section(w, "device tokens (push, latest first)", []string{"TOKEN", "ADDED"}, devices)
	section(w, fmt.Sprintf("last %d events", events), []string{"TIME", "JOURNEY", "CHANNEL", "STATUS", "DETAIL"}, recent)
	return nil
}

// section prints a titled table, or "none" under the title.
func section(w io.Writer, title string, header []string, rows [][]string) {
	fmt.Fprintf(w, "\n%s\n", title)
	if len(rows) == 0 {
		fmt.Fprintln(w, "  none")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  "+strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, "  "+strings.Join(r, "\t"))
	}
	tw.Flush()
}

func reachability(rs []store.Reachability, ch channels.Channel) string {
	for _, r := range rs {
		if r.Channel != ch {
			continue
		}
		if r.Reachable {
			return "reachable (" + stamp(r.At) + ")"
		}
		return strings.TrimSpace("unreachable: "+r.Code+" "+r.Reason) + " (" + stamp(r.At) + ")"
	}
	return "unknown"
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
