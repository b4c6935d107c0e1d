package deploy_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// stage is one FROM section of a Dockerfile.
type stage struct {
	image, name  string
	instructions []string // the stage's instructions after FROM, joined across line continuations
}

// parseDockerfile splits a Dockerfile into its stages. It knows comments,
// line continuations and FROM image [AS name]; that is all these checks
// need.
func parseDockerfile(text string) []stage {
	var stages []stage
	var logical []string
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		if rest, ok := strings.CutSuffix(trimmed, "\\"); ok {
			cur.WriteString(rest + " ")
			continue
		}
		cur.WriteString(trimmed)
		logical = append(logical, cur.String())
		cur.Reset()
	}
	for _, ins := range logical {
		fields := strings.Fields(ins)
		if len(fields) == 0 {
			continue
		}
		if strings.EqualFold(fields[0], "FROM") {
			s := stage{}
			for _, f := range fields[1:] {
				if !strings.HasPrefix(f, "--") {
					s.image = f
					break
				}
			}
			if n := len(fields); n >= 4 && strings.EqualFold(fields[n-2], "AS") {
				s.name = fields[n-1]
			}
			stages = append(stages, s)
			continue
		}
		if len(stages) > 0 {
			stages[len(stages)-1].instructions = append(stages[len(stages)-1].instructions, ins)
		}
	}
	return stages
}

// checkDockerfile returns every way the Dockerfile and .dockerignore miss
// the production image's rules. buildTags receives the -tags of the go
// build line.
func checkDockerfile(f files, fx facts) (problems []string, buildTags string) {
	stages := parseDockerfile(f.dockerfile)
	if len(stages) < 2 {
		return []string{fmt.Sprintf("Dockerfile has %d stages, want a builder and a final stage", len(stages))}, ""
	}
	for _, s := range stages {
		if _, tag := splitImage(s.image); !strings.Contains(s.image, "@sha256:") && (tag == "" || tag == "latest") {
			problems = append(problems, fmt.Sprintf("Dockerfile: FROM %s is not pinned to a version tag", s.image))
		}
	}

	var builder *stage
	for i, s := range stages[:len(stages)-1] {
		if slices.ContainsFunc(s.instructions, func(ins string) bool { return regexp.MustCompile(`\bgo build\b`).MatchString(ins) }) {
			builder = &stages[i]
		}
	}
	if builder == nil {
		return append(problems, "Dockerfile: no stage before the last runs go build"), ""
	}
	repo, tag := splitImage(builder.image)
	if repo != "golang" || !(tag == fx.goVersion || strings.HasPrefix(tag, fx.goVersion+"-")) {
		problems = append(problems, fmt.Sprintf("Dockerfile: builder FROM %s, want golang:%s (go.mod's go line)", builder.image, fx.goVersion))
	}
	all := strings.Join(builder.instructions, "\n")
	if !regexp.MustCompile(`\bCGO_ENABLED=0\b`).MatchString(all) {
		problems = append(problems, "Dockerfile: the builder does not set CGO_ENABLED=0: the binary would not be static")
	}
	for _, flag := range []string{"-trimpath", `-ldflags "-s -w"`} {
		if !strings.Contains(all, flag) {
			problems = append(problems, fmt.Sprintf("Dockerfile: go build lacks %s", flag))
		}
	}
	if m := regexp.MustCompile(`go build\b[^\n]*?-tags[ =]([\w,]+)`).FindStringSubmatch(all); m != nil {
		buildTags = m[1]
	} else {
		problems = append(problems, "Dockerfile: go build has no -tags: the embedded dev server would be in the image")
	}
	if !regexp.MustCompile(`COPY go\.mod go\.sum[^\n]*\nRUN go mod download`).MatchString(all) {
		problems = append(problems, "Dockerfile: go.mod and go.sum are not copied and downloaded before the source: every edit would download all modules again")
	}

	final := stages[len(stages)-1]
	user := ""
	for _, ins := range final.instructions {
		if fields := strings.Fields(ins); len(fields) == 2 && strings.EqualFold(fields[0], "USER") {
			user = fields[1]
		}
	}
	if uid, _, _ := strings.Cut(user, ":"); user == "" || uid == "0" || uid == "root" {
		problems = append(problems, fmt.Sprintf("Dockerfile: the final stage runs as %q, want a non-root USER", user))
	}
	if !slices.ContainsFunc(final.instructions, func(ins string) bool {
		return strings.HasPrefix(ins, "ENTRYPOINT") && strings.Contains(ins, `"/usr/local/bin/switchback"`)
	}) {
		problems = append(problems, "Dockerfile: the final stage's ENTRYPOINT is not /usr/local/bin/switchback, the path the compose health checks run")
	}

	ignored := strings.Fields(f.dockerignore)
	for _, want := range []string{".git", ".env", ".switchback"} {
		if !slices.Contains(ignored, want) {
			problems = append(problems, fmt.Sprintf(".dockerignore does not leave out %s", want))
		}
	}
	return problems, buildTags
}

func TestDockerfile(t *testing.T) {
	problems, tags := checkDockerfile(readFiles(t), readFacts(t))
	for _, p := range problems {
		t.Error(p)
	}
	if tags == "" {
		return
	}
	// The image's build leaves out the embedded Temporal server and UI.
	deps := goCmd(t, "list", "-deps", "-tags", tags, "./cmd/switchback")
	for _, dep := range strings.Fields(deps) {
		if strings.HasPrefix(dep, "go.temporal.io/server") || strings.HasPrefix(dep, "github.com/temporalio/ui-server") ||
			dep == "github.com/switchbackhq/switchback/internal/devstack" {
			t.Errorf("go build -tags %s ./cmd/switchback links %s", tags, dep)
			break
		}
	}
	if testing.Short() {
		return
	}
	// And it compiles: nothing else builds this tag.
	goCmd(t, "vet", "-tags", tags, "./cmd/switchback")
}

// TestDockerfileChecksFail breaks the Dockerfile one way at a time: each
// must be reported.
func TestDockerfileChecksFail(t *testing.T) {
	good, fx := readFiles(t), readFacts(t)
	tests := []struct {
		name, old, new, want string
	}{
		{"one stage", "FROM gcr.io/distroless/static-debian12:nonroot\n", "", "stages"},
		{"go version", "golang:" + fx.goVersion, "golang:1.25.3", "go.mod's go line"},
		{"latest", "gcr.io/distroless/static-debian12:nonroot", "gcr.io/distroless/static-debian12:latest", "not pinned"},
		{"cgo", "CGO_ENABLED=0", "CGO_ENABLED=1", "CGO_ENABLED=0"},
		{"root", "USER 65532:65532", "USER 0:0", "non-root"},
		{"no user", "USER 65532:65532\n", "", "non-root"},
		{"no tags", "-tags nodev ", "", "no -tags"},
		{"module layer", "COPY go.mod go.sum ./\n", "", "downloaded before the source"},
		{"entrypoint", `ENTRYPOINT ["/usr/local/bin/switchback"]`, `ENTRYPOINT ["/switchback"]`, "ENTRYPOINT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := good
			if !strings.Contains(f.dockerfile, tt.old) {
				t.Fatalf("Dockerfile has no %q to break", tt.old)
			}
			f.dockerfile = strings.Replace(f.dockerfile, tt.old, tt.new, 1)
			problems, _ := checkDockerfile(f, fx)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Errorf("no problem mentions %q; got %q", tt.want, problems)
			}
		})
	}
	f := good
	f.dockerignore = strings.Replace(f.dockerignore, ".env\n", "", 1)
	if problems, _ := checkDockerfile(f, fx); !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, "leave out .env") }) {
		t.Errorf(".dockerignore without .env is not reported: %q", problems)
	}
}
