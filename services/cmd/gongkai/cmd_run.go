package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/checker"
	"github.com/gongkai/gongkai/services/ingest"
	"github.com/gongkai/gongkai/services/internal/daemon"
	"github.com/gongkai/gongkai/services/internal/obligation"
	"github.com/gongkai/gongkai/services/internal/pipeline"
	"github.com/gongkai/gongkai/services/internal/registry"
	"github.com/gongkai/gongkai/services/notifier"
)

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// loadRules loads the embedded rule packs plus the operator's pack files.
func loadRules(packFiles string) (*obligation.Catalog, checker.Rules, error) {
	var files []string
	for _, f := range strings.Split(packFiles, ",") {
		if f = strings.TrimSpace(f); f != "" {
			files = append(files, f)
		}
	}
	cat, err := obligation.LoadFiles(files...)
	if err != nil {
		return nil, nil, err
	}
	return cat, checker.NewRules(cat), nil
}

func cmdRun(ctx context.Context, args []string, _, stderr io.Writer) int {
	fs := flag.NewFlagSet("gongkai run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", daemon.Env("GONGKAI_DATA", "gongkai-data"), "data directory: JetStream store and outbox (env GONGKAI_DATA)")
	regPath := fs.String("registry", daemon.Env("GONGKAI_REGISTRY", ""), "agency registry YAML file (env GONGKAI_REGISTRY; required)")
	packs := fs.String("packs", daemon.Env("GONGKAI_PACKS", ""), "comma-separated rule pack files added to (or replacing) the embedded packs")
	natsURL := fs.String("nats-url", daemon.Env("GONGKAI_NATS_URL", ""), "connect to this NATS cluster instead of running the embedded server")
	natsHost := fs.String("nats-host", "127.0.0.1", "embedded NATS client listen host")
	natsPort := fs.Int("nats-port", 4222, "embedded NATS client port")
	replicas := fs.Int("replicas", 1, "replicas of every stream and bucket (3 on a three-node cluster)")
	httpAddr := fs.String("http", daemon.Env("GONGKAI_HTTP", "127.0.0.1:9464"), "address of /metrics, /healthz and /readyz")
	dashAddr := fs.String("dashboard", daemon.Env("GONGKAI_DASHBOARD", "127.0.0.1:8080"), "address of the dashboard and read API (empty disables)")
	dashToken := fs.String("dashboard-token", daemon.Env("GONGKAI_DASHBOARD_TOKEN", ""), "bearer token (or basic-auth password) required by the dashboard; needed off loopback")
	var nf notifier.Flags // --smtp-url (default: .eml files in DATA/outbox), --from, --digest-at, --immediate, --webhook-url …
	nf.Register(fs)
	schedule := fs.String("schedule", "0 2 * * *", "audit schedule, cron expression in Asia/Shanghai")
	workers := fs.Int("workers", 8, "agencies audited concurrently")
	perHost := fs.Int("per-host", 2, "concurrent requests per website host")
	ratePerHost := fs.Float64("rate-per-host", 0, "requests per second started per website host (0: limited by --per-host only)")
	def := events.DefaultTopology()
	evidenceMaxAge := fs.Duration("evidence-max-age", def.EvidenceMaxAge, "how long fetched bodies are kept in the evidence store")
	evidenceMaxBytes := fs.Int64("evidence-max-bytes", def.EvidenceMaxBytes, "cap on the evidence store's size in bytes (-1: unlimited)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log, err := newLogger(stderr, *logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "gongkai run:", err)
		return 2
	}
	if *regPath == "" {
		fmt.Fprintln(stderr, "gongkai run: --registry is required (a YAML agency registry; see docs/registry.md)")
		return 2
	}
	reg, err := registry.Load(*regPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	_, rules, err := loadRules(*packs)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	opts := pipeline.Options{
		DataDir: *dataDir, NATSURL: *natsURL, NATSHost: *natsHost, NATSPort: *natsPort,
		Ingest: true, Checker: true, Notifier: true,
		Registry: reg, Rules: rules, AuditSchedule: *schedule, Workers: *workers,
		HTTPAddr: *httpAddr, Logger: log,
		DashboardAddr: *dashAddr, DashboardToken: *dashToken,
	}
	if nf.DashboardURL == "" && *dashAddr != "" {
		nf.DashboardURL = "http://" + *dashAddr
	}
	tr, err := nf.Transport(filepath.Join(*dataDir, "outbox"))
	if err != nil {
		fmt.Fprintln(stderr, "gongkai run:", err)
		return 2
	}
	opts.NotifyTransport, opts.Notify = tr, nf.Apply
	opts.Topology = events.DefaultTopology()
	opts.Topology.Replicas = *replicas
	opts.Topology.EvidenceMaxAge, opts.Topology.EvidenceMaxBytes = *evidenceMaxAge, *evidenceMaxBytes
	opts.Fetch = ingest.FetchOptions{PerHost: *perHost, RatePerHost: *ratePerHost}
	if err := opts.Topology.Validate(); err != nil {
		fmt.Fprintln(stderr, "gongkai run:", err)
		return 2
	}
	p, err := pipeline.Start(opts)
	if err != nil {
		fmt.Fprintln(stderr, "gongkai run:", err)
		return 1
	}
	log.Info("gongkai running", "agencies", len(reg.Agencies), "schedule", *schedule)
	<-ctx.Done()
	log.Info("shutting down")
	p.Stop()
	if err := p.Err(); err != nil {
		fmt.Fprintln(stderr, "gongkai run:", err)
		return 1
	}
	return 0
}
