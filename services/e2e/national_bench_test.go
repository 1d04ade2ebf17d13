package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/checker"
)

// BenchmarkNationalChecker loads a national audit's state — 15,000 agencies
// × 40 obligations = 600,000 instances — into the obligations bucket of a
// separately started nats-server, starts the gongkai-checker binary on it,
// and reports the checker's peak RSS once its state is loaded and the
// median time to serve the dashboard's matrix page and the region roll-up
// over loopback. A baseline in the same run: the time to fetch /healthz,
// which does no work.
//
//	GONGKAI_NATS_SERVER=$PWD/../bin/nats-server go test ./e2e/ -run '^$' -bench National -benchtime 1x
func BenchmarkNationalChecker(b *testing.B) {
	const agencies, obligations = 15000, 40
	natsBin := natsServerBinary(b)
	bin := b.TempDir()
	if out, err := exec.Command("go", "build", "-o", bin+string(os.PathSeparator), "../cmd/gongkai-checker").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	for range b.N {
		port := freePort(b)
		url := fmt.Sprintf("nats://127.0.0.1:%d", port)
		startProc(b, "nats-server", natsBin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", b.TempDir())
		nc := connectRetry(b, url)
		js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(50000))
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		if err := events.Provision(ctx, js, events.DefaultTopology()); err != nil {
			b.Fatal(err)
		}

		// The registry: 15,000 agencies over 31 provinces.
		var reg strings.Builder
		reg.WriteString("agencies:\n")
		for i := range agencies {
			fmt.Fprintf(&reg, "  - {id: a%05d, name: 机构%05d, level: city, kind: department, region: 省%02d/市%02d, website: \"http://a%d.example/\"}\n", i, i, i%31, i%97, i)
		}
		regPath := filepath.Join(b.TempDir(), "registry.yaml")
		if err := os.WriteFile(regPath, []byte(reg.String()), 0o644); err != nil {
			b.Fatal(err)
		}

		// 600,000 instances, published asynchronously onto the bucket.
		start := time.Now()
		due := time.Date(2026, 1, 31, 23, 59, 59, 0, cst)
		for i := range agencies {
			for o := range obligations {
				in := checker.Instance{AgencyID: fmt.Sprintf("a%05d", i), PackID: "cn-website-2019", ObligationID: fmt.Sprintf("OB-%02d", o),
					Period: "2025", State: events.States[(i+o)%len(events.States)], Since: due, DueAt: due,
					Evidence: []string{strings.Repeat("ab", 32)}}
				body, _ := json.Marshal(in)
				if _, err := js.PublishAsync("$KV."+events.BucketObligations+"."+in.Key(), body); err != nil {
					b.Fatal(err)
				}
			}
			if i%500 == 499 {
				select {
				case <-js.PublishAsyncComplete():
				case <-time.After(60 * time.Second):
					b.Fatal("publishing the state stalled")
				}
			}
		}
		<-js.PublishAsyncComplete()
		loadTime := time.Since(start)

		httpPort, dashPort := freePort(b), freePort(b)
		// GONGKAI_CHECKER_GOMEMLIMIT, when set, is passed to the checker
		// as GOMEMLIMIT (the Go runtime's soft memory limit).
		var env []string
		if v := os.Getenv("GONGKAI_CHECKER_GOMEMLIMIT"); v != "" {
			env = []string{"GOMEMLIMIT=" + v}
		}
		p := startProcEnv(b, "checker", env, filepath.Join(bin, "gongkai-checker"), "--nats-url", url, "--registry", regPath,
			"--http", fmt.Sprintf("127.0.0.1:%d", httpPort), "--dashboard", fmt.Sprintf("127.0.0.1:%d", dashPort), "--no-tick", "--log-level", "warn")
		start = time.Now()
		waitHTTP(b, fmt.Sprintf("http://127.0.0.1:%d/readyz", httpPort), 5*time.Minute)
		ready := time.Since(start)

		median := func(path string, port int) time.Duration {
			var ds []time.Duration
			for range 21 {
				t0 := time.Now()
				resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
				if err != nil {
					b.Fatal(err)
				}
				_, _ = bufio.NewReader(resp.Body).WriteTo(devNull{})
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("%s: %d", path, resp.StatusCode)
				}
				ds = append(ds, time.Since(t0))
			}
			sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
			return ds[len(ds)/2]
		}
		health := median("/healthz", httpPort)
		matrix := median("/", dashPort)
		region := median("/?region=省07", dashPort)
		rss := peakRSS(b, p.cmd.Process.Pid)
		p.stop(b)
		nc.Close()

		b.ReportMetric(float64(agencies*obligations), "instances")
		b.ReportMetric(loadTime.Seconds(), "s-to-publish-state")
		b.ReportMetric(ready.Seconds(), "s-to-ready")
		b.ReportMetric(float64(rss)/(1<<20), "checker-peak-RSS-MiB")
		b.ReportMetric(float64(matrix.Microseconds())/1000, "matrix-median-ms")
		b.ReportMetric(float64(region.Microseconds())/1000, "region-median-ms")
		b.ReportMetric(float64(health.Microseconds())/1000, "healthz-median-ms")
	}
}

type devNull struct{}

func (devNull) Write(p []byte) (int, error) { return len(p), nil }

// peakRSS reads a process's peak resident set size (VmHWM) in bytes.
func peakRSS(t testing.TB, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

func connectRetry(t testing.TB, url string) *nats.Conn {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		nc, err := nats.Connect(url)
		if err == nil {
			return nc
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server %s not reachable: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
