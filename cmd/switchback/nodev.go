//go:build nodev

package main

import (
	"context"
	"errors"
)

// errNoDev is the answer of the commands that need the embedded Temporal
// server in a binary built without it.
var errNoDev = errors.New("not in this build: the production binary (-tags nodev) leaves out the embedded Temporal server; run the default build instead (go run ./cmd/switchback dev)")

// runDev stands in for `switchback dev` in a nodev build.
func runDev(context.Context, *env, []string) error { return errNoDev }

// runBench stands in for `switchback bench` in a nodev build.
func runBench(context.Context, *env, []string) error { return errNoDev }
