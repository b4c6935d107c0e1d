package promreg

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestCounterVecShared(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := prometheus.CounterOpts{Name: "test_total", Help: "A test counter."}
	a, err := CounterVec(reg, opts, "kind")
	if err != nil {
		t.Fatal(err)
	}
	b, err := CounterVec(reg, opts, "kind")
	if err != nil {
		t.Fatalf("second registration: %v", err)
	}
	if a != b {
		t.Error("the second registration made a counter of its own; want the first one")
	}
}

func TestCounterVecConflict(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "test_total", Help: "A gauge."}))
	_, err := CounterVec(reg, prometheus.CounterOpts{Name: "test_total", Help: "A counter."}, "kind")
	if err == nil || !strings.Contains(err.Error(), "test_total") {
		t.Errorf("counter over a gauge of the same name: err = %v, want one naming test_total", err)
	}
}
