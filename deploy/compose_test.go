package deploy_test

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/config"
)

// root is the repository root, seen from this package's directory.
const root = ".."

// Services of docker-compose.yml. One-shot services run to completion
// before the services that depend on them start.
var (
	longRunning = []string{"postgres", "temporal", "temporal-ui", "worker", "serve"}
	oneShot     = []string{"temporal-schema", "temporal-setup"}
)

// testSecrets fill the settings that .env.example leaves empty and the
// compose file requires.
var testSecrets = map[string]string{
	"POSTGRES_PASSWORD":         "test-password",
	"SWITCHBACK_CONTACT_KEY":    "test-contact-key",
	"SWITCHBACK_ENCRYPTION_KEY": "test:QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=",
}

// files are the deployment files under test, as text, so that a test can
// break one and see the checks fail.
type files struct {
	compose, envExample, dockerfile, dockerignore string
}

func readFiles(t *testing.T) files {
	t.Helper()
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return files{
		compose:      read("docker-compose.yml"),
		envExample:   read(".env.example"),
		dockerfile:   read("Dockerfile"),
		dockerignore: read(".dockerignore"),
	}
}

// facts are what the deployment files must agree with, read from the code.
type facts struct {
	goVersion      string          // go.mod's go line
	temporalServer string          // go.temporal.io/server version, without v
	uiServer       string          // github.com/temporalio/ui-server/v2 version, without v
	envNames       map[string]bool // variables internal/config reads
}

func readFacts(t *testing.T) facts {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	f := facts{envNames: configEnvNames()}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) == 2 && fields[0] == "go":
			f.goVersion = fields[1]
		case len(fields) >= 2 && fields[0] == "go.temporal.io/server":
			f.temporalServer = strings.TrimPrefix(fields[1], "v")
		case len(fields) >= 2 && fields[0] == "github.com/temporalio/ui-server/v2":
			f.uiServer = strings.TrimPrefix(fields[1], "v")
		}
	}
	if f.goVersion == "" || f.temporalServer == "" || f.uiServer == "" {
		t.Fatalf("go.mod: go %q, go.temporal.io/server %q, ui-server %q: want all three", f.goVersion, f.temporalServer, f.uiServer)
	}
	return f
}

// configEnvNames returns every variable config.FromEnv asks for. A
// provider's optional variables are read only once the provider is
// configured, so FromEnv runs with nothing set, with everything set, and
// with WhatsApp through Twilio; its errors do not matter here.
func configEnvNames() map[string]bool {
	names := map[string]bool{}
	for _, value := range []func(string) string{
		func(string) string { return "" },
		func(string) string { return "x" },
		func(name string) string {
			if name == "WHATSAPP_PROVIDER" {
				return config.WhatsAppProviderTwilio
			}
			return "x"
		},
	} {
		trace := func(name string) string {
			names[name] = true
			return value(name)
		}
		config.FromEnv(trace)
		// Rates and the settings of channels that read their own are
		// read when the worker starts.
		cfg := config.Config{Getenv: trace}
		for _, d := range app.Channels().Drivers() {
			cfg.Rate(d)
			if c, ok := d.(channels.Configurable); ok {
				c.NewSender(channels.Env{Getenv: trace})
			}
		}
	}
	return names
}

// parseEnvExample returns the settings of .env.example in order, and
// reports lines that are not NAME=value or lack a comment line above.
func parseEnvExample(text string) (names []string, values map[string]string, problems []string) {
	values = map[string]string{}
	commented := false
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			commented = false
			continue
		case strings.HasPrefix(line, "#"):
			commented = true
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || !regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`).MatchString(name) {
			problems = append(problems, fmt.Sprintf(".env.example:%d: %q is not NAME=value", i+1, line))
			continue
		}
		if !commented {
			problems = append(problems, fmt.Sprintf(".env.example:%d: %s has no comment line above it", i+1, name))
		}
		if _, dup := values[name]; dup {
			problems = append(problems, fmt.Sprintf(".env.example:%d: %s is set twice", i+1, name))
		}
		names = append(names, name)
		values[name] = value
		commented = false
	}
	return names, values, problems
}

// loadCompose loads the compose file as `docker compose config` does:
// schema validation, interpolation with env, normalization and the
// consistency checks (such as depends_on naming a service).
func loadCompose(text string, env map[string]string) (*types.Project, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	return loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  abs,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(abs, "docker-compose.yml"), Content: []byte(text)}},
		Environment: env,
	})
}

// checkCompose returns every way the files disagree with each other or
// with the code.
func checkCompose(f files, fx facts) []string {
	names, values, problems := parseEnvExample(f.envExample)
	env := maps.Clone(values)
	maps.Copy(env, testSecrets)
	p, err := loadCompose(f.compose, env)
	if err != nil {
		return append(problems, fmt.Sprintf("docker-compose.yml does not load: %v", err))
	}

	// Every setting the code reads is named in .env.example, and every
	// ${VAR} of the compose file too.
	listed := map[string]bool{}
	for _, n := range names {
		listed[n] = true
	}
	for _, n := range slices.Sorted(maps.Keys(fx.envNames)) {
		if !listed[n] {
			problems = append(problems, fmt.Sprintf(".env.example does not name %s, which internal/config reads", n))
		}
	}
	for _, m := range regexp.MustCompile(`(?:^|[^$])\$\{([A-Za-z_][A-Za-z0-9_]*)`).FindAllStringSubmatch(f.compose, -1) {
		if !listed[m[1]] {
			problems = append(problems, fmt.Sprintf("docker-compose.yml uses ${%s}, which .env.example does not name", m[1]))
		}
	}

	want := append(slices.Clone(longRunning), oneShot...)
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		if !slices.Contains(want, name) {
			problems = append(problems, fmt.Sprintf("service %s is not one this test knows", name))
		}
	}
	for _, name := range want {
		s, ok := p.Services[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("service %s is missing", name))
			continue
		}
		problems = append(problems, checkImage(name, s.Image)...)
		problems = append(problems, checkDependsOn(p, name, s)...)
		if slices.Contains(longRunning, name) {
			if hc := s.HealthCheck; hc == nil || hc.Disable || len(hc.Test) == 0 {
				problems = append(problems, fmt.Sprintf("service %s runs for good but has no health check", name))
			}
			if s.Restart == "" || s.Restart == "no" {
				problems = append(problems, fmt.Sprintf("service %s runs for good but has no restart policy", name))
			}
		}
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				problems = append(problems, fmt.Sprintf("service %s mounts %s: %v", name, v.Source, err))
			}
		}
	}
	if slices.ContainsFunc(problems, func(p string) bool { return strings.HasSuffix(p, " is missing") }) {
		return problems
	}

	problems = append(problems, checkTemporal(p, fx)...)
	problems = append(problems, checkSwitchback(p, fx)...)
	return problems
}

// checkImage reports an image without a tag, or tagged latest.
func checkImage(service, image string) []string {
	if strings.Contains(image, "@sha256:") {
		return nil
	}
	if _, tag := splitImage(image); tag == "" || tag == "latest" {
		return []string{fmt.Sprintf("service %s: image %q is not pinned to a version tag", service, image)}
	}
	return nil
}

// splitImage splits "registry/repo:tag" into repository and tag.
func splitImage(image string) (repo, tag string) {
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return image, ""
	}
	return image[:i], image[i+1:]
}

// checkDependsOn reports dependencies that start a service too early: a
// one-shot service must have completed, a long-running one be healthy.
func checkDependsOn(p *types.Project, name string, s types.ServiceConfig) []string {
	var problems []string
	for _, dep := range slices.Sorted(maps.Keys(s.DependsOn)) {
		cond := s.DependsOn[dep].Condition
		target, ok := p.Services[dep]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("service %s depends on %s, which does not exist", name, dep))
		case slices.Contains(oneShot, dep) && cond != types.ServiceConditionCompletedSuccessfully:
			problems = append(problems, fmt.Sprintf("service %s depends on one-shot %s with condition %q, want %s", name, dep, cond, types.ServiceConditionCompletedSuccessfully))
		case !slices.Contains(oneShot, dep) && cond != types.ServiceConditionHealthy:
			problems = append(problems, fmt.Sprintf("service %s depends on %s with condition %q, want %s", name, dep, cond, types.ServiceConditionHealthy))
		case cond == types.ServiceConditionHealthy && target.HealthCheck == nil:
			problems = append(problems, fmt.Sprintf("service %s waits for %s to be healthy, which has no health check", name, dep))
		}
	}
	return problems
}

// checkTemporal checks the Temporal services against go.mod, the server's
// configuration template and the search attributes journeys use.
func checkTemporal(p *types.Project, fx facts) []string {
	var problems []string
	for service, want := range map[string]string{
		"temporal":        "temporalio/server:" + fx.temporalServer,
		"temporal-schema": "temporalio/admin-tools:" + fx.temporalServer,
		"temporal-ui":     "temporalio/ui:" + fx.uiServer,
	} {
		if got := p.Services[service].Image; got != want {
			problems = append(problems, fmt.Sprintf("service %s: image %s, want %s (the version in go.mod)", service, got, want))
		}
	}

	env := p.Services["temporal"].Environment
	if got := value(env, "DB"); got != "postgres12_pgx" {
		problems = append(problems, fmt.Sprintf("temporal: DB=%q, want postgres12_pgx", got))
	}
	dc := value(env, "DYNAMIC_CONFIG_FILE_PATH")
	mounted := false
	for _, v := range p.Services["temporal"].Volumes {
		mounted = mounted || v.Target == dc
	}
	if !mounted {
		problems = append(problems, fmt.Sprintf("temporal: DYNAMIC_CONFIG_FILE_PATH=%q is not a mounted file", dc))
	}

	return append(problems, checkSetup(p, fx)...)
}

// checkSetup checks the temporal-setup service: `switchback setup` (which
// creates journeys.SearchAttributeNames) from the worker's image, on the
// worker's Temporal and namespace.
func checkSetup(p *types.Project, fx facts) []string {
	var problems []string
	setup, worker := p.Services["temporal-setup"], p.Services["worker"]
	if setup.Image != worker.Image {
		problems = append(problems, fmt.Sprintf("temporal-setup: image %s, want the worker's %s (it runs `switchback setup`)", setup.Image, worker.Image))
	}
	if len(setup.Command) == 0 || setup.Command[0] != "setup" {
		problems = append(problems, fmt.Sprintf("temporal-setup: command %q, want switchback's setup", []string(setup.Command)))
	}
	for _, name := range slices.Sorted(maps.Keys(setup.Environment)) {
		if !fx.envNames[name] && !strings.HasPrefix(name, "OTEL_") {
			problems = append(problems, fmt.Sprintf("temporal-setup: environment %s is not a setting the code reads", name))
		}
	}
	for _, name := range []string{"SWITCHBACK_TEMPORAL_ADDRESS", "SWITCHBACK_TEMPORAL_NAMESPACE", "SWITCHBACK_TEMPORAL_TLS_CA", "SWITCHBACK_TEMPORAL_API_KEY"} {
		if got, want := value(setup.Environment, name), value(worker.Environment, name); got != want {
			problems = append(problems, fmt.Sprintf("temporal-setup: %s=%q, the worker uses %q", name, got, want))
		}
	}
	return problems
}

// checkSwitchback checks the worker and serve services: replicas, settings
// the code reads, and health checks on the addresses they listen on.
func checkSwitchback(p *types.Project, fx facts) []string {
	var problems []string
	if d := p.Services["worker"].Deploy; d == nil || d.Replicas == nil || *d.Replicas != 2 {
		problems = append(problems, "worker: want deploy.replicas 2")
	}
	for service, addrVar := range map[string]string{"worker": "SWITCHBACK_METRICS_ADDR", "serve": "SWITCHBACK_METRICS_ADDR"} {
		s := p.Services[service]
		for _, name := range slices.Sorted(maps.Keys(s.Environment)) {
			if !fx.envNames[name] && !strings.HasPrefix(name, "OTEL_") {
				problems = append(problems, fmt.Sprintf("%s: environment %s is not a setting the code reads", service, name))
			}
		}
		if cfg, err := config.FromEnv(func(k string) string { return value(s.Environment, k) }); err != nil {
			problems = append(problems, fmt.Sprintf("%s: the environment is not a valid configuration: %v", service, err))
		} else if cfg.DatabaseURL == "" {
			problems = append(problems, fmt.Sprintf("%s: no SWITCHBACK_DATABASE_URL: the store would be SQLite in the container", service))
		} else if err := cfg.CheckKeys(); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", service, err))
		}
		_, port, err := net.SplitHostPort(value(s.Environment, addrVar))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %s: %v", service, addrVar, err))
			continue
		}
		if s.HealthCheck == nil {
			continue // reported with the other services
		}
		test := strings.Join(s.HealthCheck.Test, " ")
		if !strings.Contains(test, " probe http://127.0.0.1:"+port+"/") {
			problems = append(problems, fmt.Sprintf("%s: health check %q does not probe port %s of %s", service, test, port, addrVar))
		}
	}
	return problems
}

func value(env types.MappingWithEquals, name string) string {
	if v := env[name]; v != nil {
		return *v
	}
	return ""
}

func TestCompose(t *testing.T) {
	for _, p := range checkCompose(readFiles(t), readFacts(t)) {
		t.Error(p)
	}
}

// TestComposeRequiresSecrets loads the compose file with .env.example as it
// is: the secrets it leaves empty must stop `docker compose up`.
func TestComposeRequiresSecrets(t *testing.T) {
	f := readFiles(t)
	_, values, _ := parseEnvExample(f.envExample)
	for name := range testSecrets {
		t.Run(name, func(t *testing.T) {
			env := maps.Clone(values)
			maps.Copy(env, testSecrets)
			delete(env, name)
			_, err := loadCompose(f.compose, env)
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("compose loads without %s: error %v", name, err)
			}
		})
	}
}

// TestComposeChecksFail breaks the files one way at a time: each must be
// reported.
func TestComposeChecksFail(t *testing.T) {
	good, fx := readFiles(t), readFacts(t)
	tests := []struct {
		name     string
		old, new string // replaced once in the compose file
		env      string // appended to .env.example
		want     string
	}{
		{name: "latest image", old: "temporalio/ui:", new: "temporalio/ui:latest #", want: "not pinned"},
		{name: "tagless image", old: "image: postgres:16.15", new: "image: postgres", want: "not pinned"},
		{name: "server version", old: "temporalio/server:", new: "temporalio/server:1.31.0 #", want: "the version in go.mod"},
		{name: "unknown setting", old: "      SWITCHBACK_METRICS_ADDR: 0.0.0.0:9464", new: "      SWITCHBACK_METRICS_ADDR: 0.0.0.0:9464\n      SWITCHBACK_TEMPORAL_ADRESS: temporal:7233", want: "SWITCHBACK_TEMPORAL_ADRESS is not a setting"},
		{name: "invalid setting", old: "SWITCHBACK_LOG_LEVEL: ${SWITCHBACK_LOG_LEVEL:-info}", new: "SWITCHBACK_LOG_LEVEL: loud", want: "not a valid configuration"},
		{name: "no health check", old: "    healthcheck:\n      test: [\"CMD\", \"wget\"", new: "    x-healthcheck:\n      test: [\"CMD\", \"wget\"", want: "temporal-ui runs for good but has no health check"},
		{name: "probe port", old: "http://127.0.0.1:9464/healthz", new: "http://127.0.0.1:9465/healthz", want: "does not probe port 9464"},
		{name: "replicas", old: "replicas: 2", new: "replicas: 1", want: "replicas 2"},
		{name: "depends on nothing", old: "      temporal-schema:\n        condition: service_completed_successfully", new: "      temporal-schemas:\n        condition: service_completed_successfully", want: "temporal-schemas"},
		{name: "one-shot started", old: "    temporal-setup:\n      condition: service_completed_successfully", new: "    temporal-setup:\n      condition: service_started", want: "one-shot temporal-setup"},
		{name: "setup command", old: `command: ["setup"`, new: `command: ["sleep"`, want: "want switchback's setup"},
		{name: "setup image", old: "image: switchback:${SWITCHBACK_IMAGE_TAG:-local}\n    build:\n      context: .\n    restart: on-failure:3", new: "image: temporalio/admin-tools:1.32.1\n    restart: on-failure:3", want: "want the worker's"},
		{name: "setup namespace", old: "      <<: *switchback-env\n\n  temporal-ui:", new: "      <<: *switchback-env\n      SWITCHBACK_TEMPORAL_NAMESPACE: other\n\n  temporal-ui:", want: `SWITCHBACK_TEMPORAL_NAMESPACE="other"`},
		{name: "undeclared variable", old: "${TEMPORAL_LOG_LEVEL:-warn}", new: "${TEMPORAL_LOGLEVEL:-warn}", want: "${TEMPORAL_LOGLEVEL}"},
		{name: "missing mount", old: "./deploy/temporal/dynamicconfig.yaml", new: "./deploy/temporal/dynamic.yaml", want: "dynamic.yaml"},
		{name: "schema error", old: "    restart: on-failure:3\n", new: "    restart: on-failure:3\n    replicas_typo: 1\n", want: "does not load"},
		{name: "uncommented setting", old: "", new: "", env: "\nSWITCHBACK_EXTRA=1\n", want: "no comment line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := good
			if tt.old != "" {
				if !strings.Contains(f.compose, tt.old) {
					t.Fatalf("docker-compose.yml has no %q to break", tt.old)
				}
				f.compose = strings.Replace(f.compose, tt.old, tt.new, 1)
			}
			f.envExample += tt.env
			problems := checkCompose(f, fx)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Errorf("no problem mentions %q; got %q", tt.want, problems)
			}
		})
	}

	// .env.example without a setting the code reads.
	f := good
	f.envExample = regexp.MustCompile(`(?m)^SWITCHBACK_RATE_SMS=.*$`).ReplaceAllString(f.envExample, "")
	if problems := checkCompose(f, fx); !slices.ContainsFunc(problems, func(p string) bool {
		return strings.Contains(p, ".env.example does not name SWITCHBACK_RATE_SMS")
	}) {
		t.Errorf("a missing setting is not reported: %q", problems)
	}
}

// TestTemporalEnvironment checks the temporal service's variables against
// the configuration template embedded in the server of go.mod's version,
// which the temporalio/server image of the same version renders.
func TestTemporalEnvironment(t *testing.T) {
	dir := goCmd(t, "list", "-m", "-f", "{{.Dir}}", "go.temporal.io/server")
	tmpl, err := os.ReadFile(filepath.Join(strings.TrimSpace(dir), "common", "config", "config_template_embedded.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	f := readFiles(t)
	_, values, _ := parseEnvExample(f.envExample)
	maps.Copy(values, testSecrets)
	p, err := loadCompose(f.compose, values)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range slices.Sorted(maps.Keys(p.Services["temporal"].Environment)) {
		if !strings.Contains(string(tmpl), `"`+name+`"`) {
			t.Errorf("temporal: %s is not read by the server's configuration template", name)
		}
	}
}

func goCmd(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}
