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

	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/sandbox"
)

// Waiting starts n abandoned_cart journeys, par starts at a time, waits
// until they sit in their first wait (an hour), and reports the start rate
// and what the waiting journeys cost in process RSS and database size. The
// journeys are left running: Close the Env.
func (e *Env) Waiting(ctx context.Context, n, par int) (Result, error) {
	if e.InMemory || e.Remote {
		return Result{}, errors.New("bench: the waiting benchmark needs a file-backed embedded server (Options.DataDir, no TemporalAddress)")
	}
	j, err := journeys.Builtin("abandoned_cart", app.Channels())
	if err != nil {
		return Result{}, fmt.Errorf("bench: %w", err)
	}
	key := e.Config.ContactKeyOrDefault()
	debug.FreeOSMemory()
	rss0, db0 := rssBytes(), e.databaseBytes()
	begin := time.Now()
	ids := make([]string, n)
	st := concurrently(n, par, func(i int) error {
		ids[i] = fmt.Sprintf("bench-cart-%d-%d", begin.UnixNano(), i)
		_, _, err := journeys.Start(ctx, e.Client, journeys.StartOptions{
			Journey: j, To: sandbox.DefaultRecipient, ID: ids[i], ContactKey: key,
			Vars: map[string]string{"cart_url": "https://shop.example/cart/" + strconv.Itoa(i)},
		})
		return err
	})
	if st.Errors > 0 {
		return Result{}, fmt.Errorf("bench: %d of %d waiting journeys did not start: %s", st.Errors, n, st.FirstError)
	}
	// Journeys run their first workflow task in the order they started:
	// when the last ones wait, all do.
	for _, id := range ids[max(0, n-10):] {
		for {
			tl, err := journeys.GetTimeline(ctx, e.Client, id)
			if err == nil && len(tl.Events) > 1 && tl.Events[1].Kind == journeys.EventWait {
				break
			}
			select {
			case <-ctx.Done():
				return Result{}, fmt.Errorf("bench: journey %s not waiting: %w", id, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	settled := time.Since(begin)
	time.Sleep(2 * time.Second) // let the last workflow tasks and the WAL settle
	debug.FreeOSMemory()
	rss1, db1 := rssBytes(), e.databaseBytes()
	per := 1000 / float64(n)
	const mib = 1 << 20
	fields := []Field{
		{"n", float64(n)},
		{"starts_per_s", round(st.PerSecond())},
		{"waiting_per_s", round(float64(n) / settled.Seconds())},
		{"rss_mib_per_1000", round(float64(rss1-rss0) / mib * per)},
		{"db_mib_per_1000", round(float64(db1-db0) / mib * per)},
		{"rss_mib", round(float64(rss1) / mib)},
		{"db_mib", round(float64(db1) / mib)},
	}
	if w := e.WorkerRSS(); w > 0 {
		// The workers in their own process: this one is the server.
		fields = append(fields, Field{"worker_rss_mib", round(float64(w) / mib)}, Field{"server_rss_mib", round(float64(rss1) / mib)})
	}
	return Result{Name: "waiting", Fields: fields}, nil
}

// databaseBytes returns the size of Temporal's database files.
func (e *Env) databaseBytes() int64 { return filesBytes(e.TemporalFiles()...) }

// filesBytes returns the total size of the files that exist.
func filesBytes(files ...string) int64 {
	var total int64
	for _, f := range files {
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
func rssBytes() int64 { return processRSS(os.Getpid()) }

// processRSS returns process pid's resident set size (Linux), or 0.
func processRSS(pid int) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
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
