// Command gongkai-checker runs the checker (obligation state, findings and
// the daily clock) against an existing NATS cluster. Replicas compete for
// observations; optimistic concurrency on the state bucket and
// de-duplicated finding ids keep them from announcing anything twice.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gongkai/gongkai/services/checker"
	"github.com/gongkai/gongkai/services/internal/daemon"
	"github.com/gongkai/gongkai/services/internal/obligation"
	"github.com/gongkai/gongkai/services/internal/telemetry"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("gongkai-checker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c daemon.Common
	c.Flags(fs, "127.0.0.1:9466")
	packs := fs.String("packs", daemon.Env("GONGKAI_PACKS", ""), "comma-separated rule pack files added to the embedded packs")
	noTick := fs.Bool("no-tick", false, "do not publish the daily clock tick from this replica")
	dashAddr := fs.String("dashboard", daemon.Env("GONGKAI_DASHBOARD", "127.0.0.1:8080"), "address of the dashboard and read API (empty disables)")
	dashToken := fs.String("dashboard-token", daemon.Env("GONGKAI_DASHBOARD_TOKEN", ""), "bearer token (or basic-auth password) for the dashboard; required off loopback")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rt, err := c.Open("checker", stderr)
	if err != nil {
		fmt.Fprintln(stderr, "gongkai-checker:", err)
		return 2
	}
	var files []string
	for _, f := range strings.Split(*packs, ",") {
		if f = strings.TrimSpace(f); f != "" {
			files = append(files, f)
		}
	}
	cat, err := obligation.LoadFiles(files...)
	if err != nil {
		fmt.Fprintln(stderr, "gongkai-checker:", err)
		return 2
	}
	svc, err := checker.New(checker.Options{
		JetStream: rt.JS, Topology: rt.Topology, Registry: rt.Registry, Rules: checker.NewRules(cat),
		NoTick: *noTick, DashboardToken: *dashToken, Logger: rt.Log, Registerer: rt.Metrics,
	})
	if err != nil {
		fmt.Fprintln(stderr, "gongkai-checker:", err)
		return 2
	}
	var extra []daemon.Server
	if *dashAddr != "" {
		if err := telemetry.CheckExposure(*dashAddr, *dashToken != ""); err != nil {
			fmt.Fprintln(stderr, "gongkai-checker: --dashboard:", err)
			return 2
		}
		h, err := svc.Handler()
		if err != nil {
			fmt.Fprintln(stderr, "gongkai-checker:", err)
			return 2
		}
		extra = append(extra, daemon.Server{Addr: *dashAddr, Handler: h})
	}
	return rt.Serve(c.HTTP, svc.Run, svc.Ready, stderr, extra...)
}
