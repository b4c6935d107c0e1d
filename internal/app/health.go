package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"
)

// HealthChecker checks that Temporal's frontend answers; a Temporal client
// is one.
type HealthChecker interface {
	CheckHealth(ctx context.Context, request *client.CheckHealthRequest) (*client.CheckHealthResponse, error)
}

// pinger checks that the store answers; a store.Store is one.
type pinger interface {
	Ping(ctx context.Context) error
}

// readyTimeout bounds each check of /readyz.
const readyTimeout = 3 * time.Second

// Readiness is the JSON body of /readyz.
type Readiness struct {
	// Ready is true when every check passed.
	Ready bool `json:"ready"`
	// Checks maps each dependency ("temporal", "store") to "ok" or
	// "unreachable".
	Checks map[string]string `json:"checks"`
	// Down names the dependencies that failed, sorted; empty when ready.
	Down []string `json:"down,omitempty"`
}

// readyHandler answers 200 when Temporal (when temporal is not nil) and the
// store (when st is not nil) are reachable, else 503; the body names what
// is down. The errors go to logger, not to the caller.
func readyHandler(temporal HealthChecker, st pinger, logger *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		checks := map[string]func(context.Context) error{}
		if temporal != nil {
			checks["temporal"] = func(ctx context.Context) error {
				_, err := temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
				return err
			}
		}
		if st != nil {
			checks["store"] = st.Ping
		}
		res := Readiness{Ready: true, Checks: map[string]string{}}
		for _, name := range []string{"store", "temporal"} {
			check, ok := checks[name]
			if !ok {
				continue
			}
			ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
			err := check(ctx)
			cancel()
			if err != nil {
				res.Ready = false
				res.Checks[name] = "unreachable"
				res.Down = append(res.Down, name)
				if logger != nil {
					logger.Warn("readiness check failed", "dependency", name, "error", err)
				}
				continue
			}
			res.Checks[name] = "ok"
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if !res.Ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(res)
	}
}

// healthz answers GET /healthz: 200 while the process runs.
func healthz(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) }
