package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/gongkai/gongkai/services/internal/registry"
)

// cmdAgencies converts a spreadsheet (CSV) export into a registry.
func cmdAgencies(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "import" {
		fmt.Fprintln(stderr, "usage: gongkai agencies import FILE.csv [-o registry.yaml]")
		return 2
	}
	fs := flag.NewFlagSet("gongkai agencies import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the registry to this file (default: stdout)")
	// The file may come before or after the flags.
	file, ok := parseOperand(fs, args[1:])
	if !ok {
		return 2
	}
	if file == "" {
		fmt.Fprintln(stderr, "usage: gongkai agencies import FILE.csv [-o registry.yaml]")
		return 2
	}
	data, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(stderr, "gongkai agencies import:", err)
		return 1
	}
	y, err := registry.ImportCSV(file, data)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *out == "" {
		_, _ = stdout.Write(y)
		return 0
	}
	if err := os.WriteFile(*out, y, 0o644); err != nil {
		fmt.Fprintln(stderr, "gongkai agencies import:", err)
		return 1
	}
	return 0
}
