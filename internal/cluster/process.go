package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopTimeout bounds a graceful stop before the process is killed.
const stopTimeout = 30 * time.Second

// Process is one long-running program of the cluster, started again after
// each stop with the same command line and environment. Its output is
// appended to its log file.
type Process struct {
	// Name names the process in errors and logs, e.g. "worker-1".
	Name string
	// Path and Args are the program and its arguments.
	Path string
	Args []string
	// Env is the whole environment, NAME=value.
	Env []string
	// Log is the file output goes to.
	Log string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Start starts the process. It is an error to start a running one.
func (p *Process) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return fmt.Errorf("%s: already running", p.Name)
	}
	out, err := os.OpenFile(p.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("%s: log: %w", p.Name, err)
	}
	fmt.Fprintf(out, "\n==== %s: start %s\n", time.Now().Format(time.RFC3339Nano), p.Name)
	cmd := exec.Command(p.Path, p.Args...)
	cmd.Env = p.Env
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("%s: start: %w", p.Name, err)
	}
	done := make(chan struct{})
	go func() {
		err := cmd.Wait()
		fmt.Fprintf(out, "==== %s: exit %s: %v\n", time.Now().Format(time.RFC3339Nano), p.Name, err)
		out.Close()
		close(done)
	}()
	p.cmd, p.done = cmd, done
	return nil
}

// Running reports whether the process has been started and not stopped.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil
}

// Exited reports whether a started process has ended on its own.
func (p *Process) Exited() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Kill ends the process with SIGKILL, as a crash would, and waits for it.
func (p *Process) Kill() error { return p.signal(syscall.SIGKILL, stopTimeout) }

// Stop asks the process to end with SIGTERM, as an orchestrator does,
// and kills it if it has not ended after stopTimeout.
func (p *Process) Stop() error { return p.signal(syscall.SIGTERM, stopTimeout) }

func (p *Process) signal(sig syscall.Signal, timeout time.Duration) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd, p.done = nil, nil
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("%s: %s: %w", p.Name, sig, err)
	}
	select {
	case <-done:
		return nil
	case <-time.After(timeout):
	}
	_ = cmd.Process.Kill()
	<-done
	return fmt.Errorf("%s: still running %s after %s: killed", p.Name, timeout, sig)
}

// Pid returns the process id, or 0 when it is not running.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Memory is a process's resident memory, from /proc/PID/status.
type Memory struct {
	RSS  int64 // VmRSS, bytes
	Peak int64 // VmHWM: the highest RSS, bytes
}

// Memory reads the process's memory; zero when it is not running or the
// system has no /proc.
func (p *Process) Memory() Memory {
	pid := p.Pid()
	if pid == 0 {
		return Memory{}
	}
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return Memory{}
	}
	defer f.Close()
	var m Memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(value)
		if len(fields) != 2 || fields[1] != "kB" {
			continue
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "VmRSS":
			m.RSS = kb << 10
		case "VmHWM":
			m.Peak = kb << 10
		}
	}
	return m
}

// Tail returns the last n lines of the process's log.
func (p *Process) Tail(n int) string {
	b, err := os.ReadFile(p.Log)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// waitFor calls ready every 100ms until it returns nil or ctx ends, and
// returns how long that took.
func waitFor(ctx context.Context, what string, ready func(context.Context) error) (time.Duration, error) {
	start := time.Now()
	for {
		tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := ready(tctx)
		cancel()
		if err == nil {
			return time.Since(start), nil
		}
		select {
		case <-ctx.Done():
			return time.Since(start), fmt.Errorf("waiting for %s: %w (last error: %v)", what, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
