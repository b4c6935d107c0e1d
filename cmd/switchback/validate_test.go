package main

import (
	"slices"
	"testing"
)

// The built-in journeys whose messages carry wa_link are the ones a worker
// without a business number warns of.
func TestWALinkBuiltins(t *testing.T) {
	if got, want := walinkBuiltins(), []string{"abandoned_cart", "order_update"}; !slices.Equal(got, want) {
		t.Errorf("walinkBuiltins() = %v, want %v", got, want)
	}
}
