// Command gongkai-notifier runs the notifier (findings to immediate notices,
// daily digests and webhooks, with a sent-ledger) against an existing NATS
// cluster. Any number of replicas may run: they share the findings
// consumer and the buckets, and send each notice once.
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
	var nf notifier.Flags
	nf.Register(fs)
	fs.StringVar(&nf.Outbox, "outbox", daemon.Env("GONGKAI_OUTBOX", ""), "write .eml files to this directory instead of SMTP")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "gongkai-notifier:", err)
		return 2
	}
	if (nf.SMTPURL == "") == (nf.Outbox == "") {
		return fail(fmt.Errorf("give exactly one of --smtp-url and --outbox"))
	}
	tr, err := nf.Transport("")
	if err != nil {
		return fail(err)
	}
	rt, err := c.Open("notifier", stderr)
	if err != nil {
		return fail(err)
	}
	opts := notifier.Options{
		JetStream: rt.JS, Topology: rt.Topology, Registry: rt.Registry, Transport: tr,
		Logger: rt.Log, Registerer: rt.Metrics,
	}
	if err := nf.Apply(&opts); err != nil {
		rt.Conn.Close()
		return fail(err)
	}
	svc, err := notifier.New(opts)
	if err != nil {
		rt.Conn.Close()
		return fail(err)
	}
	return rt.Serve(c.HTTP, svc.Run, svc.Ready, stderr)
}
