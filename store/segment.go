package store

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/channels"
)

// SegmentKind says how a segment's contacts are chosen.
type SegmentKind string

// Segment kinds.
const (
	// SegmentFilter selects the contacts of the store that its filter
	// matches.
	SegmentFilter SegmentKind = "filter"
	// SegmentList selects the contacts listed in it (imported from a
	// CSV) that its filter matches.
	SegmentList SegmentKind = "list"
)

// Segment is a named audience: a saved filter over the contacts, or a list
// of contacts narrowed by a filter.
type Segment struct {
	Name      string        `json:"name"`
	Kind      SegmentKind   `json:"kind"`
	Filter    ContactFilter `json:"filter"`
	CreatedAt time.Time     `json:"created_at"`
}

// ContactFilter selects contacts. Zero fields select every contact.
type ContactFilter struct {
	// Consent keeps contacts whose consent in force on the channel for
	// the purpose is granted.
	Consent *ConsentFilter `json:"consent,omitempty"`
	// Locale keeps contacts with exactly this locale, e.g. en_US.
	Locale string `json:"locale,omitempty"`
	// TimeZone keeps contacts with exactly this IANA time zone.
	TimeZone string `json:"timezone,omitempty"`
	// Tags keeps contacts that have every one of the tags.
	Tags []string `json:"tags,omitempty"`
	// Inbound keeps contacts who wrote on a channel recently.
	Inbound *InboundFilter `json:"inbound,omitempty"`
}

// ConsentFilter asks for consent granted on a channel for a purpose.
type ConsentFilter struct {
	Channel channels.Channel `json:"channel"`
	Purpose string           `json:"purpose"`
}

// InboundFilter asks for a last inbound message on a channel within a
// duration before the time the segment is evaluated at.
type InboundFilter struct {
	Channel channels.Channel `json:"channel"`
	Within  time.Duration    `json:"within"`
}

// segmentName is what a segment name may be: it appears in commands,
// URLs and workflow ids.
var segmentName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// tagForm is what a contact tag may be.
var tagForm = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,39}$`)

// ValidTag reports whether tag is a valid contact tag: 1 to 40 lower-case
// letters, digits, '.', '_' or '-', starting with a letter or digit.
func ValidTag(tag string) bool { return tagForm.MatchString(tag) }

// checkTags reports the first invalid tag, naming the field.
func checkTags(field string, tags []string) error {
	for _, t := range tags {
		if !ValidTag(t) {
			return fmt.Errorf("%s %q: want 1 to 40 lower-case letters, digits, '.', '_' or '-'", field, t)
		}
	}
	return nil
}

// CheckContact reports what is wrong with a contact to upsert.
func CheckContact(c Contact) error {
	if c.Key == "" {
		return errors.New("empty contact key")
	}
	return checkTags("tag", c.Tags)
}

// Validate reports what is wrong with a segment, naming the field.
func (s Segment) Validate() error {
	if !segmentName.MatchString(s.Name) {
		return fmt.Errorf("segment name %q: want 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", s.Name)
	}
	if s.Kind != SegmentFilter && s.Kind != SegmentList {
		return fmt.Errorf("segment %s: kind %q: want filter or list", s.Name, s.Kind)
	}
	if err := s.Filter.Validate(); err != nil {
		return fmt.Errorf("segment %s: %w", s.Name, err)
	}
	return nil
}

// Validate reports what is wrong with a filter, naming the field.
func (f ContactFilter) Validate() error {
	var errs []error
	if c := f.Consent; c != nil {
		if !c.Channel.Valid() {
			errs = append(errs, fmt.Errorf("consent channel %q: want a channel's name, such as whatsapp, sms or email", c.Channel))
		}
		switch c.Purpose {
		case "marketing", "utility", "authentication":
		default:
			errs = append(errs, fmt.Errorf("consent purpose %q: want marketing, utility or authentication", c.Purpose))
		}
	}
	if err := checkTags("tag", f.Tags); err != nil {
		errs = append(errs, err)
	}
	if f.TimeZone != "" {
		if _, err := time.LoadLocation(f.TimeZone); err != nil {
			errs = append(errs, fmt.Errorf("timezone %q: %w", f.TimeZone, err))
		}
	}
	if in := f.Inbound; in != nil {
		if !in.Channel.Valid() {
			errs = append(errs, fmt.Errorf("inbound channel %q: want a channel's name, such as whatsapp, sms or email", in.Channel))
		}
		if in.Within <= 0 {
			errs = append(errs, fmt.Errorf("inbound within %s: want a positive duration", in.Within))
		}
	}
	return errors.Join(errs...)
}

// String describes the filter for people, e.g. "consent whatsapp
// marketing, locale de_DE, inbound whatsapp within 7d"; "every contact"
// for the zero filter.
func (f ContactFilter) String() string {
	var parts []string
	if c := f.Consent; c != nil {
		parts = append(parts, fmt.Sprintf("consent %s %s", c.Channel, c.Purpose))
	}
	if f.Locale != "" {
		parts = append(parts, "locale "+f.Locale)
	}
	if f.TimeZone != "" {
		parts = append(parts, "timezone "+f.TimeZone)
	}
	if len(f.Tags) > 0 {
		parts = append(parts, "tags "+strings.Join(f.Tags, " "))
	}
	if in := f.Inbound; in != nil {
		within := in.Within.String()
		if day := 24 * time.Hour; in.Within%day == 0 {
			within = fmt.Sprintf("%dd", in.Within/day)
		}
		parts = append(parts, fmt.Sprintf("inbound %s within %s", in.Channel, within))
	}
	if len(parts) == 0 {
		return "every contact"
	}
	return strings.Join(parts, ", ")
}
