// Package pipeline composes the ingest, checker and notifier runtimes into
// one process — the single-machine deployment with an embedded NATS server,
// or any subset of the services against an external NATS cluster — with an
// ordered lifecycle: sinks start before sources (notifier, checker, ingest)
// and sources stop first; then the connection drains and, last, the
// embedded server shuts down.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/checker"
	"github.com/gongkai/gongkai/services/ingest"
	"github.com/gongkai/gongkai/services/internal/natsembed"
	"github.com/gongkai/gongkai/services/internal/registry"
	"github.com/gongkai/gongkai/services/internal/telemetry"
	"github.com/gongkai/gongkai/services/notifier"
)

// Options configures a pipeline process.
type Options struct {
	// DataDir holds the embedded JetStream store (DataDir/jetstream) and
	// the outbox (DataDir/outbox). Required for the embedded server and
	// for the outbox.
	DataDir string
	// NATSURL connects to an existing NATS cluster; empty runs the
	// embedded server.
	NATSURL string
	// NATSHost and NATSPort are the embedded server's client address;
	// default 127.0.0.1:4222 (-1 picks a free port).
	NATSHost string
	NATSPort int
	// Topology is provisioned by every service; default
	// events.DefaultTopology().
	Topology events.Topology

	// Ingest, Checker and Notifier select the services to run.
	Ingest, Checker, Notifier bool

	// Registry is the agency registry. Required.
	Registry *registry.Registry
	// Rules are the checker's obligations. Required with Checker.
	Rules checker.Rules

	// AuditSchedule is ingest's cron expression; NoSchedule disables it.
	AuditSchedule string
	NoSchedule    bool
	// Workers is the number of concurrent agency audits.
	Workers int
	// Fetch tunes ingest's politeness (per-host concurrency and rate).
	Fetch ingest.FetchOptions
	// NoTick disables the checker's daily clock cron.
	NoTick bool
	// FailureThreshold is passed to the checker.
	FailureThreshold int

	// SMTPURL selects SMTP delivery; empty writes .eml files to
	// DataDir/outbox.
	SMTPURL string
	// From is the notices' sender address; default gongkai@localhost.
	From string
	// DashboardURL is linked from notices.
	DashboardURL string
	// Notify, when set, adjusts the notifier's options (digest time,
	// immediate severities, webhooks …) after the pipeline filled them in;
	// NotifyTransport, when set, replaces the SMTP URL and outbox.
	Notify          func(*notifier.Options) error
	NotifyTransport notifier.Transport

	// HTTPAddr serves /metrics, /healthz and /readyz; empty disables.
	HTTPAddr string
	// DashboardAddr serves the checker's read API and dashboard; empty
	// disables. A non-loopback address requires DashboardToken.
	DashboardAddr  string
	DashboardToken string

	Logger *slog.Logger
	// Registry of metrics; default a new one with Go and process collectors.
	Metrics *prometheus.Registry
	// Now is the clock of every service; default time.Now.
	Now func() time.Time
}

// Pipeline is a running process.
type Pipeline struct {
	opts    Options
	log     *slog.Logger
	embed   *natsembed.Server
	nc      *nats.Conn
	js      jetstream.JetStream
	http    *telemetry.Server
	dash    *telemetry.Server
	metrics *prometheus.Registry

	ingest   *ingest.Service
	checker  *checker.Service
	notifier *notifier.Service
	outbox   string

	stops []stopper
	errMu sync.Mutex
	errs  []error
}

type stopper struct {
	name   string
	cancel context.CancelFunc
	done   chan struct{}
}

// Start starts the selected services and returns once each has been
// launched; use Ready to wait until they have provisioned their streams.
func Start(opts Options) (p *Pipeline, err error) {
	if opts.Registry == nil {
		return nil, errors.New("pipeline: registry is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if opts.Metrics == nil {
		opts.Metrics = telemetry.NewRegistry()
	}
	if opts.Topology.Replicas == 0 {
		opts.Topology = events.DefaultTopology()
	}
	if opts.From == "" {
		opts.From = "gongkai@localhost"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Checker && opts.Rules == nil {
		return nil, errors.New("pipeline: the checker needs rules")
	}
	p = &Pipeline{opts: opts, log: opts.Logger, metrics: opts.Metrics}
	defer func() {
		if err != nil {
			p.Stop()
		}
	}()

	url := opts.NATSURL
	if url == "" {
		if opts.DataDir == "" {
			return nil, errors.New("pipeline: a data directory is required for the embedded NATS server")
		}
		port := opts.NATSPort
		if port == 0 {
			port = 4222
		}
		p.embed, err = natsembed.Start(natsembed.Options{
			StoreDir: filepath.Join(opts.DataDir, "jetstream"), Host: opts.NATSHost, Port: port, Logger: opts.Logger,
		})
		if err != nil {
			return nil, err
		}
		url = p.embed.ClientURL()
		p.log.Info("embedded nats started", "url", url, "store", filepath.Join(opts.DataDir, "jetstream"))
	}
	p.nc, err = nats.Connect(url,
		nats.Name("gongkai"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				p.log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { p.log.Info("nats reconnected", "url", c.ConnectedUrlRedacted()) }),
	)
	if err != nil {
		return nil, fmt.Errorf("pipeline: connect %s: %w", url, err)
	}
	// Async publishes (the checker's findings) must time out, or one whose
	// acknowledgement died with a cluster node would never be retried.
	p.js, err = jetstream.New(p.nc, jetstream.WithPublishAsyncTimeout(10*time.Second))
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}

	var checks []telemetry.Check
	checks = append(checks, func(context.Context) error {
		if !p.nc.IsConnected() {
			return errors.New("nats not connected")
		}
		return nil
	})

	// Sinks first: a finding published during start-up has a notifier.
	if opts.Notifier {
		tr := opts.NotifyTransport
		switch {
		case tr != nil:
			if o, ok := tr.(*notifier.Outbox); ok {
				p.outbox = o.Dir()
			}
		case opts.SMTPURL != "":
			tr, err = notifier.NewSMTP(opts.SMTPURL)
		default:
			if opts.DataDir == "" {
				return nil, errors.New("pipeline: the outbox needs a data directory (or set an SMTP URL)")
			}
			p.outbox = filepath.Join(opts.DataDir, "outbox")
			tr, err = notifier.NewOutbox(p.outbox)
		}
		if err != nil {
			return nil, fmt.Errorf("pipeline: %w", err)
		}
		no := notifier.Options{
			JetStream: p.js, Topology: opts.Topology, Registry: opts.Registry, Transport: tr,
			From: opts.From, DashboardURL: opts.DashboardURL, Logger: opts.Logger,
			Registerer: opts.Metrics, Now: opts.Now,
		}
		if opts.Notify != nil {
			if err := opts.Notify(&no); err != nil {
				return nil, fmt.Errorf("pipeline: notifier: %w", err)
			}
		}
		p.notifier, err = notifier.New(no)
		if err != nil {
			return nil, err
		}
		p.launch("notifier", p.notifier.Run)
		checks = append(checks, p.notifier.Ready)
	}
	if opts.Checker {
		p.checker, err = checker.New(checker.Options{
			JetStream: p.js, Topology: opts.Topology, Registry: opts.Registry, Rules: opts.Rules,
			FailureThreshold: opts.FailureThreshold, NoTick: opts.NoTick, DashboardToken: opts.DashboardToken,
			Logger: opts.Logger, Registerer: opts.Metrics, Now: opts.Now,
		})
		if err != nil {
			return nil, err
		}
		p.launch("checker", p.checker.Run)
		checks = append(checks, p.checker.Ready)
		if opts.DashboardAddr != "" {
			if err := telemetry.CheckExposure(opts.DashboardAddr, opts.DashboardToken != ""); err != nil {
				return nil, fmt.Errorf("pipeline: dashboard: %w", err)
			}
			h, err := p.checker.Handler()
			if err != nil {
				return nil, err
			}
			p.dash, err = telemetry.Listen(opts.DashboardAddr, h, opts.Logger)
			if err != nil {
				return nil, fmt.Errorf("pipeline: dashboard: %w", err)
			}
			p.launch("dashboard", p.dash.Run)
			p.log.Info("dashboard listening", "addr", "http://"+p.dash.Addr())
		}
	}
	if opts.Ingest {
		p.ingest, err = ingest.New(ingest.Options{
			JetStream: p.js, Topology: opts.Topology, Registry: opts.Registry,
			Schedule: opts.AuditSchedule, NoSchedule: opts.NoSchedule, Workers: opts.Workers, Fetch: opts.Fetch,
			Logger: opts.Logger, Registerer: opts.Metrics, Now: opts.Now,
		})
		if err != nil {
			return nil, err
		}
		p.launch("ingest", p.ingest.Run)
		checks = append(checks, p.ingest.Ready)
	}
	// JetStream figures for /metrics: consumer lag, stream and evidence
	// store sizes (read in the background, see telemetry.JetStreamCollector).
	jsm, err := telemetry.NewJetStreamCollector(telemetry.JetStreamOptions{JetStream: p.js, Topology: opts.Topology, Logger: opts.Logger})
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	if err := opts.Metrics.Register(jsm); err != nil {
		return nil, fmt.Errorf("pipeline: register jetstream metrics: %w", err)
	}
	p.launch("jetstream-metrics", jsm.Run)
	if opts.HTTPAddr != "" {
		p.http, err = telemetry.Listen(opts.HTTPAddr, telemetry.Mux(opts.Metrics, checks...), opts.Logger)
		if err != nil {
			return nil, fmt.Errorf("pipeline: %w", err)
		}
		p.launch("http", p.http.Run)
		p.log.Info("telemetry listening", "addr", "http://"+p.http.Addr())
	}
	return p, nil
}

func (p *Pipeline) launch(name string, run func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	st := stopper{name: name, cancel: cancel, done: make(chan struct{})}
	p.stops = append(p.stops, st)
	go func() {
		defer close(st.done)
		if err := run(ctx); err != nil {
			p.log.Error("service stopped with an error", "service", name, "err", err)
			p.errMu.Lock()
			p.errs = append(p.errs, fmt.Errorf("%s: %w", name, err))
			p.errMu.Unlock()
		}
	}()
}

// Ready waits until every started service is ready or ctx ends.
func (p *Pipeline) Ready(ctx context.Context) error {
	for {
		err := p.readyOnce(ctx)
		if err == nil {
			return nil
		}
		if e := p.Err(); e != nil {
			return e
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pipeline not ready: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (p *Pipeline) readyOnce(ctx context.Context) error {
	if p.notifier != nil {
		if err := p.notifier.Ready(ctx); err != nil {
			return err
		}
	}
	if p.checker != nil {
		if err := p.checker.Ready(ctx); err != nil {
			return err
		}
	}
	if p.ingest != nil {
		if err := p.ingest.Ready(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Err returns the errors of services that stopped on their own.
func (p *Pipeline) Err() error {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return errors.Join(p.errs...)
}

// Stop stops the services in reverse start order (sources first), drains
// the connection and shuts down the embedded server. It is idempotent.
func (p *Pipeline) Stop() {
	for i := len(p.stops) - 1; i >= 0; i-- {
		st := p.stops[i]
		st.cancel()
		<-st.done
	}
	p.stops = nil
	if p.nc != nil {
		if err := p.nc.Drain(); err == nil {
			for !p.nc.IsClosed() {
				time.Sleep(10 * time.Millisecond)
			}
		}
		p.nc.Close()
		p.nc = nil
	}
	if p.embed != nil {
		p.embed.Shutdown()
		p.embed = nil
	}
}

// Notifier returns the notifier, or nil when not running here.
func (p *Pipeline) Notifier() *notifier.Service { return p.notifier }

// Ingest returns the ingest service, or nil when not running here.
func (p *Pipeline) Ingest() *ingest.Service { return p.ingest }

// Checker returns the checker, or nil when not running here.
func (p *Pipeline) Checker() *checker.Service { return p.checker }

// JetStream returns the pipeline's JetStream context.
func (p *Pipeline) JetStream() jetstream.JetStream { return p.js }

// Conn returns the pipeline's NATS connection.
func (p *Pipeline) Conn() *nats.Conn { return p.nc }

// Outbox returns the outbox directory, or "" when mail goes over SMTP.
func (p *Pipeline) Outbox() string { return p.outbox }

// HTTPAddr returns the telemetry address, or "" when disabled.
func (p *Pipeline) HTTPAddr() string {
	if p.http == nil {
		return ""
	}
	return p.http.Addr()
}

// DashboardAddr returns the dashboard address, or "" when disabled.
func (p *Pipeline) DashboardAddr() string {
	if p.dash == nil {
		return ""
	}
	return p.dash.Addr()
}
