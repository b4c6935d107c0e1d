package bench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

// ConsoleOptions sizes the console benchmark.
type ConsoleOptions struct {
	// Journeys are started through the sandbox and left waiting, spread
	// over Contacts numbers: they fill visibility.
	Journeys, Contacts int
	// Events are inserted straight into the message event log.
	Events int
	// Requests is how many times each page is asked for.
	Requests int
}

// Console seeds visibility and the event log, then times the console's
// customer page and journeys list against the queries they are made of
// (the store's reads and one visibility page), asked for directly: the
// ratio is what the console adds. It returns each page's p50/p95/p99, and
// notes: the visibility query of each page and the database's plan for a
// contact's newest events (the index that serves them).
func (e *Env) Console(ctx context.Context, o ConsoleOptions) ([]Result, []string, error) {
	numbers, err := e.startContactJourneys(ctx, o.Journeys, o.Contacts)
	if err != nil {
		return nil, nil, err
	}
	if err := e.insertEvents(ctx, o.Events, numbers); err != nil {
		return nil, nil, err
	}
	h, err := app.ConsoleHandler(app.ConsoleOptions{Client: e.Client, Config: e.Config, Store: e.store,
		Exempt: func(*http.Request) bool { return true }})
	if err != nil {
		return nil, nil, fmt.Errorf("bench: console: %w", err)
	}
	key := e.Config.ContactKeyOrDefault()
	customerQuery := func(i int) string {
		return journeys.ContactAttr.GetName() + " = '" + journeys.ContactKey(key, numbers[i%len(numbers)]) + "'"
	}
	listQuery := "WorkflowType = '" + journeys.WorkflowType + "'"
	customer := e.timePages(o.Requests, func(i int) error {
		return get(h, "/console/customers/"+journeys.ContactKey(key, numbers[i%len(numbers)]))
	})
	customerRaw := e.timePages(o.Requests, func(i int) error {
		return e.customerReads(ctx, journeys.ContactKey(key, numbers[i%len(numbers)]), customerQuery(i))
	})
	list := e.timePages(o.Requests, func(int) error { return get(h, "/console/journeys") })
	listRaw := e.timePages(o.Requests, func(int) error { return e.visibilityPage(ctx, listQuery) })
	plan, err := e.contactEventsPlan(ctx, journeys.ContactKey(key, numbers[0]))
	if err != nil {
		return nil, nil, err
	}
	notes := []string{
		"customer page: one visibility page per view: " + customerQuery(0),
		"journeys list: one visibility page per view: " + listQuery,
		"a contact's newest events: " + plan,
	}
	return []Result{
		pageResult("console_customer", o, customer, customerRaw),
		pageResult("console_journeys", o, list, listRaw),
	}, notes, nil
}

// pageResult is a page's timing and its ratio to the raw reads.
func pageResult(name string, o ConsoleOptions, page, raw Stats) Result {
	ratio := 0.0
	if p := raw.Percentile(95); p > 0 {
		ratio = round(float64(page.Percentile(95)) / float64(p))
	}
	return Result{Name: name, Fields: []Field{
		{"journeys", float64(o.Journeys)}, {"events", float64(o.Events)}, {"n", float64(page.N)}, {"errors", float64(page.Errors)},
		{"p50_ms", ms(page.Percentile(50))}, {"p95_ms", ms(page.Percentile(95))}, {"p99_ms", ms(page.Percentile(99))},
		{"raw_p95_ms", ms(raw.Percentile(95))}, {"p95_vs_raw", ratio},
	}}
}

// timePages runs n requests one after the other, as a support agent's
// clicks come.
func (e *Env) timePages(n int, op func(i int) error) Stats { return concurrently(n, 1, op) }

// get asks h for path and fails on anything but 200.
func get(h http.Handler, path string) error {
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.RemoteAddr = "127.0.0.1:1"
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	return nil
}

// customerReads makes the reads a customer page is built from.
func (e *Env) customerReads(ctx context.Context, key, query string) error {
	if _, err := e.store.Contact(ctx, key); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if _, err := e.store.ConsentHistory(ctx, key); err != nil {
		return err
	}
	if _, err := e.store.Suppressions(ctx, key); err != nil {
		return err
	}
	if _, err := e.store.Reachabilities(ctx, key); err != nil {
		return err
	}
	return e.visibilityPage(ctx, query)
}

// visibilityPage lists one page of 20 journeys that query selects.
func (e *Env) visibilityPage(ctx context.Context, query string) error {
	_, err := e.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, PageSize: 20})
	return err
}

// startContactJourneys starts n abandoned_cart journeys over contacts
// numbers, 16 at a time, and returns the numbers.
func (e *Env) startContactJourneys(ctx context.Context, n, contacts int) ([]string, error) {
	j, err := journeys.Builtin("abandoned_cart", app.Channels())
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	numbers := make([]string, max(contacts, 1))
	for i := range numbers {
		numbers[i] = fmt.Sprintf("+1555%07d", 2000000+i)
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	st := concurrently(n, 16, func(i int) error {
		_, _, err := journeys.Start(ctx, e.Client, journeys.StartOptions{
			Journey: j, To: numbers[i%len(numbers)], ID: "bench-console-" + run + "-" + strconv.Itoa(i),
			ContactKey: e.Config.ContactKeyOrDefault(), Vars: map[string]string{"cart_url": "https://shop.example/cart/" + strconv.Itoa(i)},
		})
		return err
	})
	if st.Errors > 0 {
		return nil, fmt.Errorf("bench: %d of %d journeys did not start: %s", st.Errors, n, st.FirstError)
	}
	return numbers, nil
}

// eventColumns are the event log's columns the benchmark fills.
const eventColumns = "provider, message_id, status, journey, workflow_id, step, attempt, channel, template, contact_key, error_code, error_reason, pricing_category, at"

// insertEvents inserts n message events straight into the event log, in
// batches, spread over numbers' contact keys and the last 30 days.
func (e *Env) insertEvents(ctx context.Context, n int, numbers []string) error {
	db, dialect, err := e.rawStore()
	if err != nil {
		return err
	}
	defer db.Close()
	key := e.Config.ContactKeyOrDefault()
	keys := make([]string, len(numbers))
	for i, num := range numbers {
		keys[i] = journeys.ContactKey(key, num)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Now().UTC()
	const batch = 500
	for start := 0; start < n; start += batch {
		size := min(batch, n-start)
		var sb strings.Builder
		args := make([]any, 0, size*14)
		sb.WriteString("INSERT INTO message_events (" + eventColumns + ") VALUES ")
		for i := range size {
			if i > 0 {
				sb.WriteString(",")
			}
			sb.WriteString(placeholders(dialect, len(args), 14))
			id := start + i
			at := now.Add(-time.Duration(rng.Int64N(int64(30 * 24 * time.Hour))))
			args = append(args, "whatsapp", "wamid.bench"+strconv.Itoa(id/4), []string{"accepted", "sent", "delivered", "read"}[id%4],
				"abandoned_cart", "bench-events-"+strconv.Itoa(id/4), "first_reminder", 1, "whatsapp", "cart_reminder",
				keys[rng.IntN(len(keys))], "", "", "marketing", at.Format(storeTime))
		}
		if _, err := db.ExecContext(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("bench: insert events: %w", err)
		}
	}
	return nil
}

// rawStore opens the store's database directly, and names its dialect.
func (e *Env) rawStore() (*sql.DB, string, error) {
	if u := e.Config.DatabaseURL; u != "" {
		db, err := sql.Open("pgx", u)
		return db, "postgres", err
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(e.Config.DataDir, app.StoreFile)+"?_pragma=busy_timeout(10000)")
	return db, "sqlite", err
}

// placeholders returns "(?, ...)" or "($k+1, ...)" for n values after k.
func placeholders(dialect string, k, n int) string {
	p := make([]string, n)
	for i := range p {
		p[i] = "?"
		if dialect == "postgres" {
			p[i] = "$" + strconv.Itoa(k+i+1)
		}
	}
	return "(" + strings.Join(p, ", ") + ")"
}

// storeTime is the store's time layout (fixed width, so that text
// comparisons follow time order on SQLite).
const storeTime = "2006-01-02T15:04:05.000000Z"

// contactEventsPlan returns, on Postgres, the plan of reading a contact's
// newest events (as `contacts show` does); on SQLite, SQLite's.
func (e *Env) contactEventsPlan(ctx context.Context, contactKey string) (string, error) {
	db, dialect, err := e.rawStore()
	if err != nil {
		return "", err
	}
	defer db.Close()
	q := "SELECT id FROM message_events WHERE contact_key = " + strings.Trim(placeholders(dialect, 0, 1), "()") + " ORDER BY at DESC LIMIT 20"
	explain := "EXPLAIN QUERY PLAN "
	if dialect == "postgres" {
		explain = "EXPLAIN "
	}
	rows, err := db.QueryContext(ctx, explain+q, contactKey)
	if err != nil {
		return "", fmt.Errorf("bench: explain: %w", err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		lines = append(lines, fmt.Sprint(vals[len(vals)-1]))
	}
	return strings.Join(lines, " | "), rows.Err()
}

var _ = stdlib.GetDefaultDriver // registers the "pgx" driver
