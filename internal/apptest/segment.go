package apptest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

// SeedSegment stores n contacts with distinct numbers and one with only an
// email address, all tagged name, and the segment name of them (a filter
// on the tag); it returns the numbers.
func (s *Stack) SeedSegment(t *testing.T, name string, n int) []string {
	t.Helper()
	ctx := context.Background()
	key := s.Config.ContactKeyOrDefault()
	var numbers []string
	for i := range n {
		num := fmt.Sprintf("+1555700%04d", i)
		numbers = append(numbers, num)
		if err := s.Store.UpsertContact(ctx, store.Contact{Key: journeys.ContactKey(key, num), Number: num, Tags: []string{name}}); err != nil {
			t.Fatal(err)
		}
	}
	email := store.Contact{Key: "email-only-" + name, Email: name + "@example.com", Tags: []string{name}}
	if err := s.Store.UpsertContact(ctx, email); err != nil {
		t.Fatal(err)
	}
	seg := store.Segment{Name: name, Kind: store.SegmentFilter, Filter: store.ContactFilter{Tags: []string{name}}, CreatedAt: time.Now()}
	if err := s.Store.SaveSegment(ctx, seg, nil); err != nil {
		t.Fatal(err)
	}
	return numbers
}
