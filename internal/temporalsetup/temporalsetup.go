// Package temporalsetup prepares a self-hosted Temporal cluster for
// Switchback: it waits for the frontend, registers the namespace with its
// retention, adds Switchback's custom search attributes (Keyword) and waits
// until the frontend lists them. Every step is idempotent, so it can run on
// each deployment: `switchback setup` (the compose file's temporal-setup
// service) and the cluster test both run it.
package temporalsetup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Defaults for zero Options fields.
const (
	DefaultRetention = 7 * 24 * time.Hour
	DefaultWait      = 2 * time.Minute
)

// retryEvery is the pause between tries while the cluster is not ready.
const retryEvery = time.Second

// Options configure Run.
type Options struct {
	// Client are the options of the client to the frontend; its Namespace
	// is the namespace to set up.
	Client client.Options
	// Retention is how long closed workflows stay visible. Zero means
	// DefaultRetention. An existing namespace keeps its retention.
	Retention time.Duration
	// SearchAttributes are the names of the custom search attributes to
	// add, all of type Keyword (journeys.SearchAttributeNames).
	SearchAttributes []string
	// Wait bounds the whole setup, waits for the frontend included. Zero
	// means DefaultWait.
	Wait time.Duration
	// Logger receives a line per change made. Nil: discarded.
	Logger *slog.Logger
}

// TypeError reports a search attribute that exists with another type than
// Keyword: renaming or dropping it is a decision for a person.
type TypeError struct {
	Name string
	Type enumspb.IndexedValueType
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("search attribute %s exists as %s, want Keyword", e.Name, e.Type)
}

// Run sets up the namespace and search attributes of opts, waiting for
// the frontend to serve first.
func Run(ctx context.Context, opts Options) error {
	if opts.Client.Namespace == "" {
		return errors.New("temporal setup: no namespace")
	}
	if opts.Retention == 0 {
		opts.Retention = DefaultRetention
	}
	if opts.Wait == 0 {
		opts.Wait = DefaultWait
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Wait)
	defer cancel()
	c, err := dial(ctx, opts.Client)
	if err != nil {
		return err
	}
	defer c.Close()
	s := &setup{c: c, opts: opts}
	if err := s.namespace(ctx); err != nil {
		return err
	}
	return s.searchAttributes(ctx)
}

// setup is one run of Run.
type setup struct {
	c    client.Client
	opts Options
}

// dial connects to the frontend, trying again until it answers or ctx ends.
func dial(ctx context.Context, opts client.Options) (client.Client, error) {
	return retry(ctx, "the Temporal frontend at "+opts.HostPort, func() (client.Client, error) {
		return client.DialContext(ctx, opts)
	})
}

// namespace registers the namespace unless it exists, then waits until
// the frontend describes it (its namespace cache refreshes on a timer).
func (s *setup) namespace(ctx context.Context) error {
	ns := s.opts.Client.Namespace
	_, err := s.c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace:                        ns,
		WorkflowExecutionRetentionPeriod: durationpb.New(s.opts.Retention),
	})
	var exists *serviceerror.NamespaceAlreadyExists
	switch {
	case err == nil:
		s.opts.Logger.Info("temporal setup: namespace created", "namespace", ns, "retention", s.opts.Retention)
	case errors.As(err, &exists):
	default:
		return fmt.Errorf("register namespace %s: %w", ns, err)
	}
	_, err = retry(ctx, "namespace "+ns, func() (*workflowservice.DescribeNamespaceResponse, error) {
		return s.c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
	})
	return err
}

// searchAttributes adds the missing search attributes, then waits until
// the frontend lists every one. It adds only missing ones: on some
// visibility stores adding one that exists is an error.
func (s *setup) searchAttributes(ctx context.Context) error {
	have, err := s.list(ctx)
	if err != nil {
		return err
	}
	missing, err := s.missing(have)
	if err != nil || len(missing) == 0 {
		if err != nil {
			return err
		}
		return s.usable(ctx)
	}
	add := make(map[string]enumspb.IndexedValueType, len(missing))
	for _, name := range missing {
		add[name] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	}
	_, err = retry(ctx, "adding search attributes", func() (*operatorservice.AddSearchAttributesResponse, error) {
		return s.c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
			Namespace: s.opts.Client.Namespace, SearchAttributes: add,
		})
	})
	if err != nil {
		return err
	}
	s.opts.Logger.Info("temporal setup: search attributes added", "namespace", s.opts.Client.Namespace, "names", missing)
	for {
		if have, err = s.list(ctx); err != nil {
			return err
		}
		if missing, err = s.missing(have); err != nil {
			return err
		}
		if len(missing) == 0 {
			return s.usable(ctx)
		}
		if err := pause(ctx); err != nil {
			return fmt.Errorf("search attributes %v are not listed yet: %w", missing, err)
		}
	}
}

// usable waits until the frontend takes a visibility query on every
// search attribute. Listed is not enough: the frontend maps a namespace's
// attributes from its namespace cache, which refreshes on a timer, and
// until then a start that sets them fails.
func (s *setup) usable(ctx context.Context) error {
	terms := make([]string, len(s.opts.SearchAttributes))
	for i, name := range s.opts.SearchAttributes {
		terms[i] = name + " = ''"
	}
	req := &workflowservice.CountWorkflowExecutionsRequest{Namespace: s.opts.Client.Namespace, Query: strings.Join(terms, " AND ")}
	for {
		_, err := s.c.WorkflowService().CountWorkflowExecutions(ctx, req)
		var invalid *serviceerror.InvalidArgument
		switch {
		case err == nil:
			return nil
		case !errors.As(err, &invalid) && !transient(err):
			return fmt.Errorf("query the search attributes: %w", err)
		}
		if err := pause(ctx); err != nil {
			return fmt.Errorf("search attributes are listed but not usable in queries yet: %w", err)
		}
	}
}

// list returns the namespace's custom search attributes.
func (s *setup) list(ctx context.Context) (map[string]enumspb.IndexedValueType, error) {
	resp, err := retry(ctx, "listing search attributes", func() (*operatorservice.ListSearchAttributesResponse, error) {
		return s.c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{
			Namespace: s.opts.Client.Namespace,
		})
	})
	if err != nil {
		return nil, err
	}
	return resp.GetCustomAttributes(), nil
}

// missing returns the wanted names that have lacks, in order, or a
// *TypeError for one that has the wrong type.
func (s *setup) missing(have map[string]enumspb.IndexedValueType) ([]string, error) {
	var out []string
	for _, name := range s.opts.SearchAttributes {
		typ, ok := have[name]
		switch {
		case !ok:
			out = append(out, name)
		case typ != enumspb.INDEXED_VALUE_TYPE_KEYWORD:
			return nil, &TypeError{Name: name, Type: typ}
		}
	}
	return slices.Clip(out), nil
}

// retry calls f until it succeeds, fails for good, or ctx ends; what names
// what is waited for, in the error.
func retry[T any](ctx context.Context, what string, f func() (T, error)) (T, error) {
	for {
		v, err := f()
		if err == nil || !transient(err) {
			if err != nil {
				return v, fmt.Errorf("%s: %w", what, err)
			}
			return v, nil
		}
		if perr := pause(ctx); perr != nil {
			return v, fmt.Errorf("waiting for %s: %w (last error: %v)", what, perr, err)
		}
	}
}

// transient reports whether err may go away on its own while the cluster
// starts: the frontend is not serving yet, or a new namespace is not in
// its cache yet.
func transient(err error) bool {
	var notFound *serviceerror.NamespaceNotFound
	var unavailable *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	var internal *serviceerror.Internal
	return errors.As(err, &notFound) || errors.As(err, &unavailable) || errors.As(err, &deadline) ||
		errors.As(err, &internal) || !isServiceError(err)
}

// isServiceError reports whether err is an answer of the server rather
// than a failure to reach it (a dial error, a context error).
func isServiceError(err error) bool {
	var se serviceerror.ServiceError
	return errors.As(err, &se)
}

// pause waits retryEvery, or returns ctx's error.
func pause(ctx context.Context) error {
	t := time.NewTimer(retryEvery)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
