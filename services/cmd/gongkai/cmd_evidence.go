package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gongkai/gongkai/services/internal/daemon"
	"github.com/gongkai/gongkai/services/internal/evidence"
)

// cmdEvidence retrieves a fetched body from the evidence store by its
// SHA-256, printing its provenance to stderr.
func cmdEvidence(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "get" {
		fmt.Fprintln(stderr, "usage: gongkai evidence get HASH [--nats-url URL] [-o FILE]")
		return 2
	}
	fs := flag.NewFlagSet("gongkai evidence get", flag.ContinueOnError)
	fs.SetOutput(stderr)
	natsURL := fs.String("nats-url", daemon.Env("GONGKAI_NATS_URL", "nats://127.0.0.1:4222"), "NATS server of the running pipeline (env GONGKAI_NATS_URL)")
	out := fs.String("o", "", "write the body to this file instead of stdout")
	// The hash may come before or after the flags.
	sum, ok := parseOperand(fs, args[1:])
	if !ok {
		return 2
	}
	if sum == "" {
		fmt.Fprintln(stderr, "usage: gongkai evidence get HASH [--nats-url URL] [-o FILE]")
		return 2
	}
	if !evidence.ValidSum(sum) {
		fmt.Fprintf(stderr, "gongkai evidence get: %q is not a SHA-256 (64 lower-case hex digits)\n", sum)
		return 2
	}
	nc, err := nats.Connect(*natsURL, nats.Name("gongkai evidence get"), nats.Timeout(5*time.Second))
	if err != nil {
		fmt.Fprintf(stderr, "gongkai evidence get: connect %s: %v\n", *natsURL, err)
		return 1
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		fmt.Fprintln(stderr, "gongkai evidence get:", err)
		return 1
	}
	st, err := evidence.Open(ctx, js)
	if err != nil {
		fmt.Fprintln(stderr, "gongkai evidence get:", err)
		return 1
	}
	body, m, err := st.Get(ctx, sum)
	if err != nil {
		fmt.Fprintln(stderr, "gongkai evidence get:", err)
		return 1
	}
	fmt.Fprintf(stderr, "sha256:       %s\nurl:          %s\nfetched at:   %s\nstatus:       %d\ncontent type: %s\nsize:         %d bytes\n",
		sum, m.URL, m.FetchedAt.Format(time.RFC3339), m.Status, m.ContentType, m.Size)
	if m.ETag != "" {
		fmt.Fprintf(stderr, "etag:         %s\n", m.ETag)
	}
	if m.LastModified != "" {
		fmt.Fprintf(stderr, "last modified: %s\n", m.LastModified)
	}
	if m.DerivedFrom != "" {
		fmt.Fprintf(stderr, "derived from: %s (text extracted from that document)\n", m.DerivedFrom)
	}
	if *out != "" {
		if err := os.WriteFile(*out, body, 0o644); err != nil {
			fmt.Fprintln(stderr, "gongkai evidence get:", err)
			return 1
		}
		return 0
	}
	if _, err := stdout.Write(body); err != nil {
		fmt.Fprintln(stderr, "gongkai evidence get:", err)
		return 1
	}
	return 0
}
