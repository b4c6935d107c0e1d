package cluster

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestProcess(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep program")
	}
	p := &Process{Name: "sleeper", Path: sleep, Args: []string{"60"}, Log: filepath.Join(t.TempDir(), "sleeper.log")}
	t.Cleanup(func() { p.Kill() })
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err == nil {
		t.Error("a second Start of a running process succeeded")
	}
	if m := p.Memory(); m.RSS <= 0 || m.Peak < m.RSS {
		t.Errorf("Memory() = %+v, want a positive RSS and a peak at least as high", m)
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if p.Running() || p.Pid() != 0 {
		t.Error("running after Stop")
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	log := p.Tail(10)
	for _, want := range []string{"start sleeper", "signal: terminated", "signal: killed"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

func TestFreePorts(t *testing.T) {
	ports, err := freePorts(4)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p < 20000 || p > 32767 || seen[p] {
			t.Errorf("ports %v: want 4 distinct ports in 20000-32767 (a smallint)", ports)
		}
		seen[p] = true
	}
}
