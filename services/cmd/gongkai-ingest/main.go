// Command gongkai-ingest runs the ingest service (audit scheduler and
// workers) against an existing NATS cluster. Run any number of them: they
// share the audit queue as competing consumers, and their schedulers publish
// each run once.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/gongkai/gongkai/services/ingest"
	"github.com/gongkai/gongkai/services/internal/daemon"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("gongkai-ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c daemon.Common
	c.Flags(fs, "127.0.0.1:9465")
	schedule := fs.String("schedule", "0 2 * * *", "audit schedule, cron expression in Asia/Shanghai")
	noSchedule := fs.Bool("no-schedule", false, "run workers only")
	workers := fs.Int("workers", 8, "agencies audited concurrently")
	perHost := fs.Int("per-host", 2, "concurrent requests per website host")
	ratePerHost := fs.Float64("rate-per-host", 0, "requests per second started per website host (0: limited by --per-host only)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rt, err := c.Open("ingest", stderr)
	if err != nil {
		fmt.Fprintln(stderr, "gongkai-ingest:", err)
		return 2
	}
	if err := rt.Topology.Validate(); err != nil {
		fmt.Fprintln(stderr, "gongkai-ingest:", err)
		return 2
	}
	svc, err := ingest.New(ingest.Options{
		JetStream: rt.JS, Topology: rt.Topology, Registry: rt.Registry,
		Schedule: *schedule, NoSchedule: *noSchedule, Workers: *workers,
		Fetch:  ingest.FetchOptions{PerHost: *perHost, RatePerHost: *ratePerHost},
		Logger: rt.Log, Registerer: rt.Metrics,
	})
	if err != nil {
		fmt.Fprintln(stderr, "gongkai-ingest:", err)
		return 2
	}
	return rt.Serve(c.HTTP, svc.Run, svc.Ready, stderr)
}
