package cluster

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/sandbox"
)

// unversioned runs the upgrade test as a plain rolling restart: no
// Worker Versioning, only GetVersion. The test is then expected to fail:
// it shows what versioning prevents.
var unversioned = flag.Bool("cluster.unversioned", false, "TestClusterUpgrade without Worker Versioning (a plain rolling restart; expected to fail)")

// The second build of the upgrade test: its workflow code records
// changeB (workflow.GetVersion) and then waits on a timer, a command
// build A's workers do not know; its built-in otp journey sends smsB
// instead of smsA.
const (
	deploymentName = "switchback"
	buildA, buildB = "a", "b"
	changeB        = "cluster-upgrade-b"
	smsA           = "Your verification code is {{.code}}. It expires in 10 minutes."
	smsB           = "Your code is {{.code}}, valid for 10 minutes."
	// propagation is how long after `switchback rollout` returned the
	// new routing may take to reach every task queue partition.
	propagation = 5 * time.Second
)

// TestClusterUpgrade rolls out a second worker build while journeys start
// through the API at a steady rate (README "Upgrading workers"): build
// A's two workers run as version a of the Worker Deployment; build B's
// two workers start, `switchback rollout b` makes B current, one of B's
// workers is killed (SIGKILL) and replaced while A's still run, A's
// workers are stopped with SIGTERM one after the other, and serve is
// restarted as build B. B differs from A in its workflow code, behind
// workflow.GetVersion, and in its built-in otp journey's SMS text.
//
// Every journey must end with its recipient's outcome, no attempt be
// sent twice (beyond the guarantee, for the killed worker), and no
// workflow task fail for nondeterminism. A journey whose first task ran
// on B, and only such a journey, records B's marker, and none of its
// tasks runs on A; journeys started before the rollout start on A, those
// started after it on B, and no task runs on A once the rollout has
// propagated.
// The definition is serve's (it resolves the built-in journeys the API
// starts): A's SMS text for journeys started before serve's upgrade, B's
// after it.
func TestClusterUpgrade(t *testing.T) {
	requireCluster(t)
	began := time.Now()
	ctx := testContext(t, 12*time.Minute)
	c, builtA := newCluster(t, ctx)
	bins := c.opts.Binaries
	binB, err := buildSecond(ctx, c.opts.Root, c.opts.Dir)
	if err != nil {
		t.Fatal(err)
	}
	builtB := time.Since(began) - builtA
	sb, env := startSandbox(t, c.PublicURL)
	envA, envB := env, env
	if !*unversioned {
		envA = append(env[:len(env):len(env)], "SWITCHBACK_WORKER_DEPLOYMENT="+deploymentName, "SWITCHBACK_WORKER_BUILD_ID="+buildA)
		envB = append(env[:len(env):len(env)], "SWITCHBACK_WORKER_DEPLOYMENT="+deploymentName, "SWITCHBACK_WORKER_BUILD_ID="+buildB)
	}
	if err := c.Start(ctx, envA); err != nil {
		t.Fatal(err)
	}
	if _, err := rollout(ctx, c, bins.Switchback, envA, buildA); err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster ready in %s (build a %s, build b %s), version a current", time.Since(began).Round(time.Millisecond),
		builtA.Round(time.Millisecond), builtB.Round(time.Millisecond))
	a := &apiClient{base: c.PublicURL, token: c.APIToken, http: &http.Client{}}

	l := startLoad(ctx, a, "upgrade", *rate)
	time.Sleep(settle)
	workersA := len(c.Workers)
	// Worker identities begin with the process id: they tell A's tasks
	// apart when the workers are not versioned.
	pidsA := map[string]bool{}
	for _, w := range c.Workers {
		pidsA[strconv.Itoa(w.Pid())] = true
	}
	for i := range 2 {
		if _, err := addWorker(ctx, c, fmt.Sprintf("worker-b%d", i+1), binB, envB); err != nil {
			t.Fatal(err)
		}
	}
	rolloutStart := time.Now()
	out, err := rollout(ctx, c, binB, envB, buildB)
	rolloutEnd := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("rollout of b took %s:\n%s", rolloutEnd.Sub(rolloutStart).Round(time.Millisecond), out)
	// A new worker crashes while the old ones still run: the journeys it
	// held go back to their task queue, where only B's workers may take
	// them.
	time.Sleep(propagation)
	crash := disruption{name: "worker", start: time.Now()}
	ready, err := c.KillWorker(ctx, workersA)
	crash.end = time.Now()
	if err != nil {
		t.Fatal(err)
	}
	stops := []string{fmt.Sprintf("%s_sigkill,replacement_ready_in_%s", c.Workers[workersA].Name, ready.Round(time.Millisecond))}
	for i := range workersA {
		time.Sleep(propagation)
		start := time.Now()
		if err := c.Workers[i].Stop(); err != nil {
			t.Error(err)
		}
		stops = append(stops, fmt.Sprintf("%s_stopped_in_%s", c.Workers[i].Name, time.Since(start).Round(time.Millisecond)))
	}
	// serve resolves the built-in journeys that the API starts (the worker
	// only those started by name): upgraded after the workers, it starts
	// journeys with B's definitions, which B's workers run.
	time.Sleep(propagation)
	serveStop := time.Now()
	c.Serve.Path = binB
	restart, err := c.RestartServe(ctx)
	if err != nil {
		t.Error(err)
	}
	serveReady := time.Now()
	stops = append(stops, fmt.Sprintf("serve_b_ready_in_%s", restart.Round(time.Millisecond)))
	time.Sleep(settle)
	rs := l.finish()
	waitCallbacks(t, sb)

	counts := check(t, rs)
	dups, allowed := duplicates(t, sb.Sent(), []disruption{crash})
	inFlight := 0
	for _, r := range rs {
		if r.started.Before(rolloutEnd) && (r.ended.IsZero() || r.ended.After(rolloutStart)) {
			inFlight++
		}
	}
	hs, err := readHistories(ctx, c, rs)
	if err != nil {
		t.Fatal(err)
	}
	u := checkUpgrade(t, rs, hs, sb.Sent(), span{rolloutStart, rolloutEnd}, span{serveStop, serveReady}, pidsA)
	t.Logf("upgrade: journeys=%d right=%d outcomes=%s duplicates=%d (within_guarantee=%d) sends=%d in_flight_during_rollout=%d rollout=%s first_task_a=%d first_task_b=%d marker_b=%d tasks_of_those_on_a=%d moved_a_to_b=%d sms_text_a=%d sms_text_b=%d tasks_a_after_rollout=%d workflow_task_failures=%d (nondeterminism=%d) api_retries=%d %s total=%s",
		len(rs), counts.right, counts.outcomes, dups, allowed, len(sb.Sent()), inFlight, rolloutEnd.Sub(rolloutStart).Round(time.Millisecond),
		u.first[buildA], u.first[buildB], u.markerB, u.markerBOnA, u.moved, u.sms[buildA], u.sms[buildB], u.tasksAAfter, u.taskFailures, u.nondeterminism,
		a.retries.Load(), strings.Join(stops, " "), time.Since(began).Round(time.Second))
}

// buildSecond builds build B of switchback into dir from the module at
// root, with go build -overlay: the package directories stay, so only
// workflows, journeys and what imports them compile again. It fails when
// the sources no longer have what it changes.
func buildSecond(ctx context.Context, root, dir string) (string, error) {
	ovl := filepath.Join(dir, "overlay")
	if err := os.MkdirAll(ovl, 0o755); err != nil {
		return "", err
	}
	replace := map[string]string{}
	edit := func(rel, old, new string) error {
		src, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			return err
		}
		if n := strings.Count(string(src), old); n != 1 {
			return fmt.Errorf("build b: %s has %q %d times, want once", rel, old, n)
		}
		return add(ovl, replace, filepath.Join(root, rel), strings.Replace(string(src), old, new, 1))
	}
	if err := edit(filepath.Join("workflows", "journey.go"), "\tr.setOwnSearchAttributes(ctx)\n",
		"\tr.setOwnSearchAttributes(ctx)\n\tr.upgradeB(ctx)\n"); err != nil {
		return "", err
	}
	if err := add(ovl, replace, filepath.Join(root, "workflows", "upgrade_b.go"), `package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// upgradeB is build B's change: a journey started on B records the
// marker and waits on a timer, a command that build A does not make.
func (r *run) upgradeB(ctx workflow.Context) {
	if workflow.GetVersion(ctx, "`+changeB+`", workflow.DefaultVersion, 1) == 1 {
		_ = workflow.Sleep(ctx, time.Millisecond)
	}
}
`); err != nil {
		return "", err
	}
	if err := edit(filepath.Join("journeys", "otp.yaml"), smsA, smsB); err != nil {
		return "", err
	}
	b, err := json.Marshal(map[string]any{"Replace": replace})
	if err != nil {
		return "", err
	}
	overlay := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlay, b, 0o600); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "switchback-b")
	args := []string{"build", "-tags", "nodev", "-overlay", overlay, "-o", bin, "./cmd/switchback"}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return bin, nil
}

// add writes content under ovl and maps path to it in replace.
func add(ovl string, replace map[string]string, path, content string) error {
	file := filepath.Join(ovl, fmt.Sprintf("%d-%s", len(replace), filepath.Base(path)))
	replace[path] = file
	return os.WriteFile(file, []byte(content), 0o600)
}

// addWorker starts one more `worker` process of the program binary, with
// env (the providers' and the version's settings) on top of the
// cluster's, and waits until it is ready. Close stops it with the rest.
func addWorker(ctx context.Context, c *Cluster, name, binary string, env []string) (time.Duration, error) {
	ports, err := freePorts(1)
	if err != nil {
		return 0, err
	}
	addr := loopback(ports[0])
	w := c.switchback(name, env, "SWITCHBACK_METRICS_ADDR="+addr)
	w.Path = binary
	c.Workers = append(c.Workers, w)
	c.workerMetrics = append(c.workerMetrics, addr)
	if err := w.Start(); err != nil {
		return 0, err
	}
	return c.WorkerReady(ctx, len(c.Workers)-1)
}

// rollout runs `switchback rollout build` of the program binary, and
// returns what it printed; with -cluster.unversioned, nothing.
func rollout(ctx context.Context, c *Cluster, binary string, env []string, build string) (string, error) {
	if *unversioned {
		return "(unversioned workers: no rollout)", nil
	}
	p := c.switchback("rollout", env)
	cmd := exec.CommandContext(ctx, binary, "rollout", "--wait", "1m", build)
	cmd.Env = p.Env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("switchback rollout %s: %w\n%s", build, err, out)
	}
	return string(out), nil
}

// history is what a journey's Temporal history tells of the upgrade.
type history struct {
	first   string // build id of the first completed workflow task
	builds  map[string]int
	markerB bool // the journey recorded changeB
	// tasks are the workflow tasks that completed or failed.
	tasks []task
	// failures are the causes of failed workflow tasks.
	failures []string
}

// task is a workflow task that completed, or failed.
type task struct {
	build  string // of a completed task
	pid    string // of the worker process
	at     time.Time
	failed bool
}

// readHistories reads every journey's history, a few at a time.
func readHistories(ctx context.Context, c *Cluster, rs []result) (map[string]history, error) {
	tc, err := c.Dial(ctx)
	if err != nil {
		return nil, err
	}
	defer tc.Close()
	hs := map[string]history{}
	var mu sync.Mutex
	var errs []error
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, r := range rs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			h, err := readHistory(ctx, tc, r.id)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("history of %s: %w", r.id, err))
				return
			}
			hs[r.id] = h
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return hs, nil
}

func readHistory(ctx context.Context, tc client.Client, id string) (history, error) {
	h := history{builds: map[string]int{}}
	it := tc.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return h, err
		}
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			b := e.GetWorkflowTaskCompletedEventAttributes().GetDeploymentVersion().GetBuildId()
			if h.first == "" {
				h.first = b
			}
			h.builds[b]++
			pid, _, _ := strings.Cut(e.GetWorkflowTaskCompletedEventAttributes().GetIdentity(), "@")
			h.tasks = append(h.tasks, task{build: b, pid: pid, at: e.GetEventTime().AsTime()})
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED:
			a := e.GetWorkflowTaskFailedEventAttributes()
			h.failures = append(h.failures, a.GetCause().String()+": "+a.GetFailure().GetMessage())
			pid, _, _ := strings.Cut(a.GetIdentity(), "@")
			h.tasks = append(h.tasks, task{pid: pid, at: e.GetEventTime().AsTime(), failed: true})
		case enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
			// GetVersion upserts TemporalChangeVersion (change-version), never
			// encrypted.
			f := e.GetUpsertWorkflowSearchAttributesEventAttributes().GetSearchAttributes().GetIndexedFields()["TemporalChangeVersion"]
			if strings.Contains(string(f.GetData()), changeB+"-1") {
				h.markerB = true
			}
		}
	}
	return h, nil
}

// upgrade sums up how the journeys went through the rollout.
type upgrade struct {
	first          map[string]int // journeys by the build of their first task
	sms            map[string]int // journeys by the build whose SMS text they sent
	moved          int            // journeys started on A with later tasks on B
	markerB        int            // journeys that recorded changeB
	markerBOnA     int            // their workflow tasks that ran on A
	tasksAAfter    int            // workflow tasks completed by A after the rollout propagated
	taskFailures   int
	nondeterminism int
}

// span is a time from start to end.
type span struct{ start, end time.Time }

// checkUpgrade reports every journey whose workflow code is not that of
// the build of its first task (B's marker), that started on the wrong
// build or ran a task on A after the rollout had propagated, or whose
// definition (its SMS text) is not that of the serve it was started
// through; and every workflow task that failed for nondeterminism.
func checkUpgrade(t *testing.T, rs []result, hs map[string]history, sent []sandbox.SentMessage, rollout, serve span, pidsA map[string]bool) upgrade {
	t.Helper()
	u := upgrade{first: map[string]int{}, sms: map[string]int{}}
	smsBuild := map[string]string{}
	prefixA, _, _ := strings.Cut(smsA, "{{")
	prefixB, _, _ := strings.Cut(smsB, "{{")
	for _, m := range sent {
		if m.Provider != sandbox.ProviderTwilio || m.Body == "" {
			continue
		}
		id, _, _ := strings.Cut(apptest.SendKey(m), "#")
		switch {
		case strings.HasPrefix(m.Body, prefixA):
			smsBuild[id] = buildA
		case strings.HasPrefix(m.Body, prefixB):
			smsBuild[id] = buildB
		default:
			t.Errorf("journey %s sent an SMS of neither build's text", id)
		}
	}
	for _, r := range rs {
		h, ok := hs[r.id]
		if !ok {
			continue
		}
		u.first[h.first]++
		if h.markerB {
			u.markerB++
			for _, tk := range h.tasks {
				if pidsA[tk.pid] {
					u.markerBOnA++
					t.Errorf("journey %s, started on build b: a workflow task ran on build a (failed: %v)", r.id, tk.failed)
				}
			}
		}
		if h.first == buildA && h.builds[buildB] > 0 {
			u.moved++
		}
		for _, f := range h.failures {
			u.taskFailures++
			if strings.Contains(f, "NON_DETERMINISTIC") || strings.Contains(strings.ToLower(f), "nondetermin") {
				u.nondeterminism++
				t.Errorf("journey %s: workflow task failed for nondeterminism: %s", r.id, f)
			} else {
				t.Logf("journey %s: workflow task failed: %s", r.id, f)
			}
		}
		if b, ok := smsBuild[r.id]; ok {
			u.sms[b]++
			switch {
			case r.started.Before(serve.start) && b != buildA:
				t.Errorf("journey %s started before serve's upgrade, SMS text of build %q", r.id, b)
			case r.started.After(serve.end) && b != buildB:
				t.Errorf("journey %s started after serve's upgrade, SMS text of build %q", r.id, b)
			}
		}
		if *unversioned {
			continue // the builds are not told apart
		}
		if h.first != buildA && h.first != buildB {
			t.Errorf("journey %s: first workflow task ran on build %q, want %q or %q", r.id, h.first, buildA, buildB)
		}
		if h.markerB != (h.first == buildB) {
			t.Errorf("journey %s: first task on build %q, marker of %s recorded: %v", r.id, h.first, changeB, h.markerB)
		}
		switch {
		case r.started.Before(rollout.start.Add(-propagation)) && h.first != buildA:
			t.Errorf("journey %s started %s before the rollout, first task on build %q", r.id, rollout.start.Sub(r.started).Round(time.Millisecond), h.first)
		case r.started.After(rollout.end.Add(propagation)) && h.first != buildB:
			t.Errorf("journey %s started %s after the rollout, first task on build %q", r.id, r.started.Sub(rollout.end).Round(time.Millisecond), h.first)
		}
		for _, tk := range h.tasks {
			if (tk.build == buildA || tk.failed && pidsA[tk.pid]) && tk.at.After(rollout.end.Add(propagation)) {
				u.tasksAAfter++
				t.Errorf("journey %s: a workflow task ran on build a %s after the rollout", r.id, tk.at.Sub(rollout.end).Round(time.Millisecond))
			}
		}
	}
	if len(hs) != len(rs) {
		t.Errorf("histories of %d journeys read, want %d", len(hs), len(rs))
	}
	if !*unversioned && (u.first[buildA] == 0 || u.first[buildB] == 0) || u.sms[buildA] == 0 || u.sms[buildB] == 0 {
		t.Errorf("journeys by the build of their first task %v, by SMS text %v: want some of each build", u.first, u.sms)
	}
	return u
}
