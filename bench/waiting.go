package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/sandbox"
)

// waitingJourney is the journey of the waiting benchmark, in YAML. The
// abandoned_cart journey, whose first step is a wait, does not exist yet:
// this one sends once on WhatsApp to a recipient that never reports back
// (sandbox.WhatsAppSilent) and then waits a day for a status, so each
// journey holds a timer and a signal channel as a waiting cart would.
const waitingJourney = `
name: bench_waiting
purpose: utility
params:
  - {name: code}
expire: 48h
steps:
  - send:
      id: reminder
      attempts:
        - channel: whatsapp
          template: {name: cart_reminder, language: en_US, body: ["{{.code}}"]}
          within: 24h
`

// Waiting starts n WaitingJourney journeys, par starts at a time, waits
// until every one has sent its message (and so sits in its wait), and
// reports the start rate and what the waiting journeys cost in process RSS
// and database size. The journeys are left running: Close the Env.
func (e *Env) Waiting(ctx context.Context, n, par int) (Result, error) {
	if e.InMemory {
		return Result{}, errors.New("bench: the waiting benchmark needs a file-backed Env (Options.DataDir)")
	}
	j, err := journeys.Parse("bench_waiting.yaml", []byte(waitingJourney))
	if err != nil {
		return Result{}, fmt.Errorf("bench: %w", err)
	}
	key := e.Config.ContactKeyOrDefault()
	sentBefore := len(e.Sandbox.Sent())
	debug.FreeOSMemory()
	rss0, db0 := rssBytes(), e.databaseBytes()

	begin := time.Now()
	st := concurrently(n, par, func(i int) error {
		_, _, err := journeys.Start(ctx, e.Client, journeys.StartOptions{
			Journey: j, To: sandbox.WhatsAppSilent, Vars: map[string]string{"code": strconv.Itoa(i)}, ContactKey: key,
		})
		return err
	})
	if st.Errors > 0 {
		return Result{}, fmt.Errorf("bench: %d of %d waiting journeys did not start: %s", st.Errors, n, st.FirstError)
	}
	for len(e.Sandbox.Sent())-sentBefore < n {
		select {
		case <-ctx.Done():
			return Result{}, fmt.Errorf("bench: %d of %d waiting journeys sent: %w", len(e.Sandbox.Sent())-sentBefore, n, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	settled := time.Since(begin)
	time.Sleep(2 * time.Second) // let the last workflow tasks and the WAL settle
	debug.FreeOSMemory()
	rss1, db1 := rssBytes(), e.databaseBytes()
	per := 1000 / float64(n)
	const mib = 1 << 20
	return Result{Name: "waiting", Fields: []Field{
		{"n", float64(n)},
		{"starts_per_s", round(st.PerSecond())},
		{"sent_per_s", round(float64(n) / settled.Seconds())},
		{"rss_mib_per_1000", round(float64(rss1-rss0) / mib * per)},
		{"db_mib_per_1000", round(float64(db1-db0) / mib * per)},
		{"rss_mib", round(float64(rss1) / mib)},
		{"db_mib", round(float64(db1) / mib)},
	}}, nil
}

// databaseBytes returns the size of Temporal's database files.
func (e *Env) databaseBytes() int64 {
	var total int64
	for _, f := range e.TemporalFiles() {
		fi, err := os.Stat(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil {
			total += fi.Size()
		}
	}
	return total
}

// rssBytes returns this process's resident set size (Linux), or 0.
func rssBytes() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}
