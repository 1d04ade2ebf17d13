// Command gongkai-notifier runs the notifier (findings to email, with a
// sent-ledger) against an existing NATS cluster.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/gongkai/gongkai/services/internal/daemon"
	"github.com/gongkai/gongkai/services/notifier"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("gongkai-notifier", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c daemon.Common
	c.Flags(fs, "127.0.0.1:9467")
	smtpURL := fs.String("smtp-url", daemon.Env("GONGKAI_SMTP_URL", ""), "SMTP server, smtp://user:pass@host:587 (env GONGKAI_SMTP_URL)")
	outbox := fs.String("outbox", daemon.Env("GONGKAI_OUTBOX", ""), "write .eml files to this directory instead of SMTP")
	from := fs.String("from", daemon.Env("GONGKAI_FROM", "gongkai@localhost"), "sender address of notices")
	dashboard := fs.String("dashboard-url", daemon.Env("GONGKAI_DASHBOARD_URL", ""), "dashboard base URL linked from notices")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if (*smtpURL == "") == (*outbox == "") {
		fmt.Fprintln(stderr, "gongkai-notifier: give exactly one of --smtp-url and --outbox")
		return 2
	}
	rt, err := c.Open("notifier", stderr)
	if err != nil {
		fmt.Fprintln(stderr, "gongkai-notifier:", err)
		return 2
	}
	var tr notifier.Transport
	if *smtpURL != "" {
		tr, err = notifier.NewSMTP(*smtpURL)
	} else {
		tr, err = notifier.NewOutbox(*outbox)
	}
	if err != nil {
		fmt.Fprintln(stderr, "gongkai-notifier:", err)
		return 2
	}
	svc, err := notifier.New(notifier.Options{
		JetStream: rt.JS, Topology: rt.Topology, Registry: rt.Registry, Transport: tr,
		From: *from, DashboardURL: *dashboard, Logger: rt.Log, Registerer: rt.Metrics,
	})
	if err != nil {
		fmt.Fprintln(stderr, "gongkai-notifier:", err)
		return 2
	}
	return rt.Serve(c.HTTP, svc.Run, svc.Ready, stderr)
}
