// Command gongkai is the all-in-one binary: it runs the whole pipeline with
// an embedded NATS server (run), a self-contained demonstration against
// simulated agency websites (demo), and the command-line tools (audit,
// check-report, workdays, obligations, config check).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `gongkai — audits whether public bodies publish what the law requires, on time

Usage:
  gongkai run [flags]            run the pipeline (embedded NATS unless --nats-url)
  gongkai demo [--once]          audit a simulated fleet of agency websites end to end
  gongkai audit now [flags]      start an audit run now on a running pipeline
  gongkai check-report FILE...   check an annual report's sections, tables and arithmetic
  gongkai workdays [flags]       working-day arithmetic on the embedded calendars
  gongkai obligations list|due   the obligations of the embedded rule packs
  gongkai config check [flags]   validate a registry file and rule packs
  gongkai agencies import FILE   convert a spreadsheet (CSV) export into a registry
  gongkai requests import FILE   publish a register of requests for information to be judged
  gongkai sim serve [flags]      serve a simulated fleet of agency websites
  gongkai evidence get HASH      retrieve a fetched body from the evidence store
  gongkai version

Run "gongkai COMMAND -h" for the flags of a command.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type command func(ctx context.Context, args []string, stdout, stderr io.Writer) int

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	commands := map[string]command{
		"run":          cmdRun,
		"demo":         cmdDemo,
		"audit":        cmdAudit,
		"check-report": cmdCheckReport,
		"workdays":     cmdWorkdays,
		"obligations":  cmdObligations,
		"config":       cmdConfig,
		"agencies":     cmdAgencies,
		"requests":     cmdRequests,
		"sim":          cmdSim,
		"evidence":     cmdEvidence,
		"version": func(_ context.Context, _ []string, stdout, _ io.Writer) int {
			fmt.Fprintln(stdout, "gongkai", version)
			return 0
		},
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "gongkai: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	// Only main handles signals: the first SIGINT/SIGTERM cancels the
	// context and the services drain; a second one exits at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // restore default handling: a second signal kills
	}()
	return cmd(ctx, args[1:], stdout, stderr)
}
