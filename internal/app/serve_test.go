package app_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/internal/app"
)

// A client that trickles its body, a byte a second, is cut off at
// app.ReadTimeout instead of holding the connection as long as it likes.
func TestServeCutsOffTrickledBody(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- app.Serve(ctx, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.Copy(io.Discard, r.Body); err != nil {
				http.Error(w, "body", http.StatusRequestTimeout)
			}
		}))
	}()
	t.Cleanup(func() { cancel(); <-done })

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The whole body would take four times the read timeout to arrive.
	size := int(4 * app.ReadTimeout / time.Second)
	fmt.Fprintf(conn, "POST /webhooks/twilio/status HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n", size)
	start := time.Now()
	for range size {
		_, err := conn.Write([]byte{'a'})
		if err != nil || connClosed(conn) {
			// Cut off: the server answered or closed the connection.
			if elapsed := time.Since(start); elapsed < app.ReadTimeout/2 {
				t.Fatalf("cut off after %v, well before the read timeout %v", elapsed, app.ReadTimeout)
			}
			return
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("the server read a body trickled over %v; ReadTimeout is %v", time.Since(start), app.ReadTimeout)
}

// connClosed reports whether the server has answered or closed conn.
func connClosed(conn net.Conn) bool {
	conn.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	defer conn.SetReadDeadline(time.Time{})
	var b [1]byte
	_, err := conn.Read(b[:])
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return true
}
