package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gongkai/gongkai/services/internal/portalsim"
)

const simUsage = `usage: gongkai sim serve [--agencies N] [--seed S] [--registry-out FILE] [--latency D]
                         [--fault-rate F] [--slow-faults] [--as-of YYYY-MM-DD] [--demo]`

// cmdSim serves a simulated fleet of agency websites on loopback and writes
// the registry that points at it.
func cmdSim(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "serve" {
		fmt.Fprintln(stderr, simUsage)
		return 2
	}
	fs := flag.NewFlagSet("gongkai sim serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("agencies", 100, "number of simulated agencies")
	seed := fs.Uint64("seed", 1, "seed: the same seed gives the same fleet")
	regOut := fs.String("registry-out", "", "write the fleet's agency registry (YAML) to this file (default: stdout)")
	latency := fs.Duration("latency", 0, "delay every response by this much, e.g. 20ms")
	faultRate := fs.Float64("fault-rate", 0.2, "share of agencies given one fault (0 for none)")
	slow := fs.Bool("slow-faults", false, "include time-outs and slow responses among the faults")
	asOf := fs.String("as-of", "", "date the fleet is generated for (default: 2026-02-10)")
	demo := fs.Bool("demo", false, "serve the four-agency fleet of gongkai demo instead")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	opts := portalsim.GenOptions{Agencies: *n, Seed: *seed, Latency: *latency, FaultRate: *faultRate, SlowFaults: *slow}
	if *faultRate == 0 {
		opts.FaultRate = -1
	}
	if *asOf != "" {
		t, err := time.ParseInLocation("2006-01-02", *asOf, time.FixedZone("CST", 8*3600))
		if err != nil {
			fmt.Fprintf(stderr, "gongkai sim serve: --as-of %q: want YYYY-MM-DD\n", *asOf)
			return 2
		}
		opts.AsOf = t.Add(9 * time.Hour)
	}
	spec := portalsim.Generate(opts)
	if *demo {
		at := opts.AsOf
		if at.IsZero() {
			at = time.Now()
		}
		spec = portalsim.Demo(at)
		spec.Latency = *latency
	}
	fleet, err := portalsim.Start(spec)
	if err != nil {
		fmt.Fprintln(stderr, "gongkai sim serve:", err)
		return 1
	}
	defer fleet.Close()
	var buf bytes.Buffer
	if err := fleet.WriteRegistry(&buf); err != nil {
		fmt.Fprintln(stderr, "gongkai sim serve:", err)
		return 1
	}
	if *regOut == "" {
		_, _ = stdout.Write(buf.Bytes())
	} else if err := os.WriteFile(*regOut, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintln(stderr, "gongkai sim serve:", err)
		return 1
	}
	fmt.Fprintf(stderr, "serving %d simulated agencies on %d loopback hosts; registry %s; Ctrl-C stops\n",
		len(spec.Sites), fleet.Hosts(), map[bool]string{true: "on stdout", false: *regOut}[*regOut == ""])
	<-ctx.Done()
	return 0
}
