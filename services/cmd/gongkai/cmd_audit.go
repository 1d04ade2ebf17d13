package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gongkai/gongkai/services/ingest"
	"github.com/gongkai/gongkai/services/internal/daemon"
	"github.com/gongkai/gongkai/services/internal/registry"
)

const auditUsage = "usage: gongkai audit now [--agency ID,...] --registry FILE [--nats-url URL] [--wait [--timeout D]]"

func cmdAudit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "now" {
		fmt.Fprintln(stderr, auditUsage)
		return 2
	}
	fs := flag.NewFlagSet("gongkai audit now", flag.ContinueOnError)
	fs.SetOutput(stderr)
	regPath := fs.String("registry", daemon.Env("GONGKAI_REGISTRY", ""), "agency registry YAML file (env GONGKAI_REGISTRY; required)")
	natsURL := fs.String("nats-url", daemon.Env("GONGKAI_NATS_URL", "nats://127.0.0.1:4222"), "NATS server of the running pipeline")
	agencies := fs.String("agency", "", "comma-separated agency ids (default: every agency in the registry)")
	wait := fs.Bool("wait", false, "follow the run, printing \"audited N/M …\", until every agency is audited")
	timeout := fs.Duration("timeout", 2*time.Hour, "with --wait: give up waiting after this long (the run goes on)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *regPath == "" {
		fmt.Fprintln(stderr, "gongkai audit now: --registry is required")
		return 2
	}
	reg, err := registry.Load(*regPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	var ids []string
	for _, id := range strings.Split(*agencies, ",") {
		if id = strings.TrimSpace(id); id != "" {
			if _, ok := reg.Get(id); !ok {
				fmt.Fprintf(stderr, "gongkai audit now: agency %q is not in %s\n", id, *regPath)
				return 2
			}
			ids = append(ids, id)
		}
	}
	nc, err := nats.Connect(*natsURL, nats.Name("gongkai audit now"))
	if err != nil {
		fmt.Fprintf(stderr, "gongkai audit now: connect %s: %v\n", *natsURL, err)
		return 1
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		fmt.Fprintln(stderr, "gongkai audit now:", err)
		return 1
	}
	svc, err := ingest.New(ingest.Options{
		JetStream: js, Registry: reg, NoSchedule: true, NoWorkers: true, NoExtract: true,
		Logger: slog.New(slog.DiscardHandler), Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		fmt.Fprintln(stderr, "gongkai audit now:", err)
		return 1
	}
	at := time.Now().Truncate(time.Second)
	size := len(ids)
	if size == 0 {
		size = len(reg.Agencies)
	}
	runID, n, err := svc.PublishRun(ctx, "manual", at, ids)
	if err != nil {
		fmt.Fprintln(stderr, "gongkai audit now:", err)
		return 1
	}
	fmt.Fprintf(stdout, "run %s: %d audit jobs queued\n", runID, n)
	if !*wait {
		return 0
	}
	wctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	last := time.Time{}
	var final ingest.Progress
	err = ingest.WatchRun(wctx, js, runID, size, at.Add(-time.Second), func(p ingest.Progress) {
		final = p
		if p.Done == p.Size || time.Since(last) >= time.Second {
			last = time.Now()
			fmt.Fprintln(stdout, p)
		}
	})
	if err != nil {
		fmt.Fprintf(stderr, "gongkai audit now: %v (%s)\n", err, final)
		return 1
	}
	return 0
}
