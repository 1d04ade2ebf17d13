package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/pkg/events/eventstest"
)

func TestRequestsImport(t *testing.T) {
	dir := t.TempDir()
	regPath := filepath.Join(dir, "registry.yaml")
	reg := "agencies:\n" +
		"  - {id: sim-0000-00, name: 测试局, level: city, kind: department, website: \"http://a.example/\"}\n" +
		"  - {id: sim-0000-01, name: 测试委, level: city, kind: department, website: \"http://b.example/\"}\n"
	if err := os.WriteFile(regPath, []byte(reg), 0o644); err != nil {
		t.Fatal(err)
	}
	register := "../../internal/requests/testdata/requests.csv"

	code, out, errOut := wdRun(t, cmdRequests, "import", register, "--registry", regPath, "--dry-run")
	if code != 0 || !strings.Contains(out, "3 cases of 2 agencies; nothing published") {
		t.Fatalf("dry run: %d\n%s%s", code, out, errOut)
	}

	srv := eventstest.RunServer(t, "")
	_, js := eventstest.Connect(t, srv.URL)
	if err := events.Provision(context.Background(), js, events.DefaultTopology()); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = wdRun(t, cmdRequests, "import", register, "--registry", regPath, "--nats-url", srv.URL)
	if code != 0 || !strings.Contains(out, "3 cases of 2 agencies: 2 events published, 0 already published") {
		t.Fatalf("import: %d\n%s%s", code, out, errOut)
	}
	// The same register again: the stream drops it as a duplicate.
	code, out, errOut = wdRun(t, cmdRequests, "import", register, "--registry", regPath, "--nats-url", srv.URL)
	if code != 0 || !strings.Contains(out, "0 events published, 2 already published") {
		t.Fatalf("second import: %d\n%s%s", code, out, errOut)
	}
	st, err := js.Stream(context.Background(), events.StreamObservations)
	if err != nil {
		t.Fatal(err)
	}
	if n := st.CachedInfo().State.Msgs; n != 2 {
		t.Fatalf("%d messages in the observations stream, want 2", n)
	}

	// Bad input: every problem named with its line, nothing published.
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("agency,case,received\nsim-0000-00,X-1,2026-02-30\nnobody,X-2,2026-02-02\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = wdRun(t, cmdRequests, "import", bad, "--registry", regPath, "--nats-url", srv.URL)
	if code != 1 || !strings.Contains(errOut, `bad.csv:2: column received: "2026-02-30" is not a date of the calendar`) ||
		!strings.Contains(errOut, `bad.csv:3: column agency: "nobody" is not in the registry`) {
		t.Fatalf("bad register: %d\n%s", code, errOut)
	}
	if code, _, errOut := wdRun(t, cmdRequests, "import", register); code != 2 || !strings.Contains(errOut, "--registry is required") {
		t.Fatalf("without a registry: %d %s", code, errOut)
	}
	if code, _, errOut := wdRun(t, cmdRequests, "export"); code != 2 || !strings.Contains(errOut, "usage: gongkai requests import") {
		t.Fatalf("unknown subcommand: %d %s", code, errOut)
	}
}
