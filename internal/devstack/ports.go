package devstack

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"syscall"
)

// NamedAddr is a host:port address that a caller wants to listen on, with a
// human-readable name and, optionally, the command-line flag that sets it.
// The name and flag only make error messages clearer.
type NamedAddr struct {
	Name string // what listens there, e.g. "Temporal frontend"
	Addr string // host:port
	Flag string // optional flag that changes it, e.g. "--temporal-port"
}

// PortInUseError reports that an address cannot be listened on because
// something else already listens there.
type PortInUseError struct {
	Name string // what wanted the address, e.g. "Temporal Web UI"
	Addr string // host:port
	Flag string // optional flag that changes the address
	Err  error  // the error from net.Listen
}

// Error returns one line that names the address, what wanted it and, when
// known, the flag that changes it.
func (e *PortInUseError) Error() string {
	msg := "port " + e.Addr
	if e.Name != "" {
		msg += " (" + e.Name + ")"
	}
	msg += " is already in use"
	if e.Flag != "" {
		msg += "; choose another with " + e.Flag
	}
	return msg
}

// Unwrap returns the underlying listen error.
func (e *PortInUseError) Unwrap() error { return e.Err }

// CheckPorts tries to listen on every address in turn and closes each
// listener at once. For the first address already in use it returns a
// *PortInUseError; any other listen failure (a malformed address, a
// privileged port) is returned as an error naming the address. CheckPorts
// returns nil when every address can be listened on.
//
// A port can still be taken between CheckPorts and its real use; CheckPorts
// is a courtesy that turns the common mistake into a clear message.
func CheckPorts(addrs ...NamedAddr) error {
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a.Addr)
		if err != nil {
			if errors.Is(err, syscall.EADDRINUSE) {
				return &PortInUseError{Name: a.Name, Addr: a.Addr, Flag: a.Flag, Err: err}
			}
			if a.Name != "" {
				return fmt.Errorf("cannot listen on %s (%s): %w", a.Addr, a.Name, err)
			}
			return fmt.Errorf("cannot listen on %s: %w", a.Addr, err)
		}
		if err := ln.Close(); err != nil {
			return fmt.Errorf("closing test listener on %s: %w", a.Addr, err)
		}
	}
	return nil
}

// freePort returns a port on host that was free a moment ago and is not in
// exclude. Listeners on excluded ports stay open until it returns, so the
// kernel cannot hand the same port out again.
func freePort(host string, exclude ...int) (int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return 0, fmt.Errorf("finding a free port on %s: %w", host, err)
		}
		lns = append(lns, ln)
		p := ln.Addr().(*net.TCPAddr).Port
		if !slices.Contains(exclude, p) {
			return p, nil
		}
	}
}

// hostPort is a parsed listen address.
type hostPort struct {
	host string // an IP literal
	port int
}

// parseAddr parses a host:port listen address. An empty host and "localhost"
// mean 127.0.0.1; other hosts must be IP literals.
func parseAddr(addr string) (hostPort, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return hostPort{}, err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return hostPort{}, fmt.Errorf("invalid port %q", portStr)
	}
	switch host {
	case "", "localhost":
		host = "127.0.0.1"
	}
	if net.ParseIP(host) == nil {
		return hostPort{}, fmt.Errorf("host %q is not an IP address", host)
	}
	return hostPort{host: host, port: port}, nil
}

// String returns the address as host:port.
func (hp hostPort) String() string {
	return net.JoinHostPort(hp.host, strconv.Itoa(hp.port))
}

// dial returns the address a local client should dial to reach a listener on
// hp: the loopback address when hp listens on every interface.
func (hp hostPort) dial() hostPort {
	ip := net.ParseIP(hp.host)
	if ip.IsUnspecified() {
		if ip.To4() != nil {
			return hostPort{host: "127.0.0.1", port: hp.port}
		}
		return hostPort{host: "::1", port: hp.port}
	}
	return hp
}
