package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/gongkai/gongkai/services/internal/daemon"
	"github.com/gongkai/gongkai/services/internal/registry"
)

func cmdConfig(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, "usage: gongkai config check [--registry FILE] [--packs FILE,...]")
		return 2
	}
	fs := flag.NewFlagSet("gongkai config check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	regPath := fs.String("registry", daemon.Env("GONGKAI_REGISTRY", ""), "agency registry YAML file")
	packs := fs.String("packs", daemon.Env("GONGKAI_PACKS", ""), "comma-separated rule pack files")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	failed := false
	cat, _, err := loadRules(*packs)
	if err != nil {
		fmt.Fprintln(stderr, err)
		failed = true
	} else {
		fmt.Fprintf(stdout, "rule packs: %d packs ok\n", len(cat.Packs()))
	}
	if *regPath != "" {
		reg, err := registry.Load(*regPath)
		if err != nil {
			fmt.Fprintln(stderr, err)
			failed = true
		} else {
			fmt.Fprintf(stdout, "%s: %d agencies ok\n", *regPath, len(reg.Agencies))
		}
	}
	if failed {
		return 1
	}
	return 0
}
