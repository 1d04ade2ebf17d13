// Package daemon is the composition plumbing of the per-service binaries
// (gongkai-ingest, gongkai-checker, gongkai-notifier) that run against an
// existing NATS cluster: common flags and environment variables, the logger,
// the NATS connection, the telemetry endpoints, and running one service
// until a signal arrives. It does not link the NATS server.
package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/internal/registry"
	"github.com/gongkai/gongkai/services/internal/telemetry"
)

// Env returns the value of an environment variable or a default.
func Env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// Common holds the settings every service binary takes.
type Common struct {
	NATSURL  string
	Registry string
	HTTP     string
	LogLevel string
	Replicas int
	// EvidenceMaxAge and EvidenceMaxBytes set the evidence store's
	// retention. Every service provisions the whole topology, so every
	// binary takes them: one started with other values would change it.
	EvidenceMaxAge   time.Duration
	EvidenceMaxBytes int64
}

// Flags registers the common flags on fs with defaultHTTP as the telemetry
// address.
func (c *Common) Flags(fs *flag.FlagSet, defaultHTTP string) {
	fs.StringVar(&c.NATSURL, "nats-url", Env("GONGKAI_NATS_URL", "nats://127.0.0.1:4222"), "NATS server URL(s), comma-separated (env GONGKAI_NATS_URL)")
	fs.StringVar(&c.Registry, "registry", Env("GONGKAI_REGISTRY", ""), "agency registry YAML file (env GONGKAI_REGISTRY; required)")
	fs.StringVar(&c.HTTP, "http", Env("GONGKAI_HTTP", defaultHTTP), "address of /metrics, /healthz and /readyz (env GONGKAI_HTTP)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.IntVar(&c.Replicas, "replicas", 1, "replicas of every stream and bucket (3 on a three-node cluster)")
	def := events.DefaultTopology()
	fs.DurationVar(&c.EvidenceMaxAge, "evidence-max-age", def.EvidenceMaxAge, "how long fetched bodies are kept in the evidence store (the same on every service)")
	fs.Int64Var(&c.EvidenceMaxBytes, "evidence-max-bytes", def.EvidenceMaxBytes, "cap on the evidence store's size in bytes, -1 unlimited (the same on every service)")
}

// Runtime is what a service needs from its process.
type Runtime struct {
	Log      *slog.Logger
	Metrics  *prometheus.Registry
	Registry *registry.Registry
	Conn     *nats.Conn
	JS       jetstream.JetStream
	Topology events.Topology
}

// Open validates c, loads the registry and connects to NATS.
func (c *Common) Open(name string, stderr io.Writer) (*Runtime, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", c.LogLevel)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl})).With("service", name)
	if c.Registry == "" {
		return nil, errors.New("--registry is required")
	}
	reg, err := registry.Load(c.Registry)
	if err != nil {
		return nil, err
	}
	top := events.DefaultTopology()
	top.Replicas = c.Replicas
	top.EvidenceMaxAge, top.EvidenceMaxBytes = c.EvidenceMaxAge, c.EvidenceMaxBytes
	if err := top.Validate(); err != nil {
		return nil, err
	}
	nc, err := nats.Connect(c.NATSURL,
		nats.Name("gongkai-"+name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted()) }),
	)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", c.NATSURL, err)
	}
	// Async publishes (the checker's findings) must time out, or one whose
	// acknowledgement died with a cluster node would never be retried.
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(10*time.Second))
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &Runtime{Log: log, Metrics: telemetry.NewRegistry(), Registry: reg, Conn: nc, JS: js, Topology: top}, nil
}

// Server is an extra HTTP server a service binary runs (the dashboard).
type Server struct {
	Addr    string
	Handler http.Handler
}

// Serve runs svc, the telemetry endpoints and any extra servers until
// SIGINT or SIGTERM, then stops the service, drains the connection and
// returns the exit code.
func (r *Runtime) Serve(httpAddr string, run func(context.Context) error, ready telemetry.Check, stderr io.Writer, extra ...Server) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	connected := func(context.Context) error {
		if !r.Conn.IsConnected() {
			return errors.New("nats not connected")
		}
		return nil
	}
	srv, err := telemetry.Listen(httpAddr, telemetry.Mux(r.Metrics, connected, ready), r.Log)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	hctx, hcancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = srv.Run(hctx) }()
	r.Log.Info("telemetry listening", "addr", "http://"+srv.Addr())
	// JetStream figures for /metrics: consumer lag, stream and evidence
	// store sizes (read in the background, see telemetry.JetStreamCollector).
	if jsm, err := telemetry.NewJetStreamCollector(telemetry.JetStreamOptions{JetStream: r.JS, Topology: r.Topology, Logger: r.Log}); err != nil {
		r.Log.Error("jetstream metrics disabled", "err", err)
	} else if err := r.Metrics.Register(jsm); err != nil {
		r.Log.Error("jetstream metrics disabled", "err", fmt.Errorf("register: %w", err))
	} else {
		wg.Add(1)
		go func() { defer wg.Done(); _ = jsm.Run(hctx) }()
	}
	for _, x := range extra {
		xs, err := telemetry.Listen(x.Addr, x.Handler, r.Log)
		if err != nil {
			hcancel()
			wg.Wait()
			fmt.Fprintln(stderr, err)
			return 1
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = xs.Run(hctx) }()
		r.Log.Info("listening", "addr", "http://"+xs.Addr())
	}
	code := 0
	if err := run(ctx); err != nil {
		r.Log.Error("service failed", "err", err)
		code = 1
	}
	hcancel()
	wg.Wait()
	if err := r.Conn.Drain(); err == nil {
		for !r.Conn.IsClosed() {
			time.Sleep(10 * time.Millisecond)
		}
	}
	r.Conn.Close()
	return code
}
