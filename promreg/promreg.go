// Package promreg registers Prometheus collectors that several parts of a
// process share: the journey counters of package activities and the HTTP
// counters of the process, on the process's one registry.
package promreg

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// CounterVec registers a counter vector on reg, or returns the one already
// registered there under the same name and labels, so that two parts of a
// process (or two handlers in one test) can ask for the same counters. A
// collector of another kind or with other labels under the name is an
// error that names the metric.
func CounterVec(reg prometheus.Registerer, opts prometheus.CounterOpts, labels ...string) (*prometheus.CounterVec, error) {
	c := prometheus.NewCounterVec(opts, labels)
	if err := reg.Register(c); err != nil {
		var dup prometheus.AlreadyRegisteredError
		if errors.As(err, &dup) {
			if existing, ok := dup.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing, nil
			}
		}
		return nil, fmt.Errorf("register %s: %w", opts.Name, err)
	}
	return c, nil
}

// GaugeVec registers a gauge vector on reg, or returns the one already
// registered there under the same name and labels, as CounterVec does.
func GaugeVec(reg prometheus.Registerer, opts prometheus.GaugeOpts, labels ...string) (*prometheus.GaugeVec, error) {
	g := prometheus.NewGaugeVec(opts, labels)
	if err := reg.Register(g); err != nil {
		var dup prometheus.AlreadyRegisteredError
		if errors.As(err, &dup) {
			if existing, ok := dup.ExistingCollector.(*prometheus.GaugeVec); ok {
				return existing, nil
			}
		}
		return nil, fmt.Errorf("register %s: %w", opts.Name, err)
	}
	return g, nil
}
