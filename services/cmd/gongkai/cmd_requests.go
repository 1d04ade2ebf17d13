package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/internal/daemon"
	"github.com/gongkai/gongkai/services/internal/registry"
	"github.com/gongkai/gongkai/services/internal/requests"
)

const requestsUsage = "usage: gongkai requests import FILE.csv --registry FILE [--nats-url URL] [--dry-run]"

// cmdRequests publishes a register of requests for information to a
// running pipeline, whose checker judges each case's answer deadline.
func cmdRequests(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "import" {
		fmt.Fprintln(stderr, requestsUsage)
		return 2
	}
	fs := flag.NewFlagSet("gongkai requests import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	regPath := fs.String("registry", daemon.Env("GONGKAI_REGISTRY", ""), "agency registry YAML file (env GONGKAI_REGISTRY; required)")
	natsURL := fs.String("nats-url", daemon.Env("GONGKAI_NATS_URL", "nats://127.0.0.1:4222"), "NATS server of the running pipeline")
	dryRun := fs.Bool("dry-run", false, "check the register and print what would be published, without publishing")
	// The file may come before or after the flags.
	file, ok := parseOperand(fs, args[1:])
	if !ok {
		return 2
	}
	if file == "" {
		fmt.Fprintln(stderr, requestsUsage)
		return 2
	}
	if *regPath == "" {
		fmt.Fprintln(stderr, "gongkai requests import: --registry is required")
		return 2
	}
	reg, err := registry.Load(*regPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	data, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(stderr, "gongkai requests import:", err)
		return 1
	}
	register, err := requests.Parse(file, data, func(id string) bool { _, ok := reg.Get(id); return ok })
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	evs := register.Events(filepath.Base(file), time.Now().Truncate(time.Second))
	if *dryRun {
		for _, ev := range evs {
			fmt.Fprintf(stdout, "%s: %d cases\n", ev.AgencyID, len(ev.Cases))
		}
		fmt.Fprintf(stdout, "%d cases of %d agencies; nothing published (--dry-run)\n", register.Len(), len(register.Agencies))
		return 0
	}
	nc, err := nats.Connect(*natsURL, nats.Name("gongkai requests import"))
	if err != nil {
		fmt.Fprintf(stderr, "gongkai requests import: connect %s: %v\n", *natsURL, err)
		return 1
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		fmt.Fprintln(stderr, "gongkai requests import:", err)
		return 1
	}
	published, unchanged := 0, 0
	for _, r := range evs {
		// The id is the content's hash: importing the same register twice
		// within the stream's duplicate window publishes it once.
		cases, _ := json.Marshal(r.Cases)
		sum := sha256.Sum256(append([]byte(r.AgencyID+"\x00"), cases...))
		ev, err := events.New("gongkai/requests-import", "requests-"+r.AgencyID+"-"+hex.EncodeToString(sum[:12]), r.AgencyID, r.RecordedAt, r)
		if err != nil {
			fmt.Fprintln(stderr, "gongkai requests import:", err)
			return 1
		}
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		ack, err := events.Publish(pctx, js, events.ObservationSubject(r.AgencyID), ev)
		cancel()
		if err != nil {
			fmt.Fprintf(stderr, "gongkai requests import: %v (%d of %d events published before it)\n", err, published+unchanged, len(evs))
			return 1
		}
		if ack.Duplicate {
			unchanged++
		} else {
			published++
		}
	}
	fmt.Fprintf(stdout, "%d cases of %d agencies: %d events published, %d already published\n",
		register.Len(), len(register.Agencies), published, unchanged)
	return 0
}
