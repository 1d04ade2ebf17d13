package ingest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/pkg/events/eventstest"
	"github.com/gongkai/gongkai/services/internal/portalsim"
	"github.com/gongkai/gongkai/services/internal/registry"
)

// The benchmark's simulated fleet runs in a child process (this test
// binary, re-executed with GONGKAI_BENCH_SIM set), so that the CPU time
// and memory measured are ingest's and the embedded NATS server's, not the
// simulator's.
const (
	envSim     = "GONGKAI_BENCH_SIM"     // number of agencies
	envSimDir  = "GONGKAI_BENCH_SIM_DIR" // where the child writes registry.yaml and pages.txt
	benchSeed  = 42
	benchDelay = 20 * time.Millisecond
)

func TestMain(m *testing.M) {
	if n := os.Getenv(envSim); n != "" {
		os.Exit(serveBenchFleet(n, os.Getenv(envSimDir)))
	}
	os.Exit(m.Run())
}

func benchAsOf() time.Time { return time.Date(2026, 2, 10, 9, 0, 0, 0, cst) }

func serveBenchFleet(n, dir string) int {
	agencies, err := strconv.Atoi(n)
	if err != nil || dir == "" {
		fmt.Fprintln(os.Stderr, "bad benchmark fleet settings")
		return 2
	}
	fleet, err := portalsim.Start(portalsim.Generate(portalsim.GenOptions{
		Agencies: agencies, Seed: benchSeed, AsOf: benchAsOf(), Latency: benchDelay,
	}))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer fleet.Close()
	var reg bytes.Buffer
	if err := fleet.WriteRegistry(&reg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := os.WriteFile(filepath.Join(dir, "registry.yaml"), reg.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := os.WriteFile(filepath.Join(dir, "pages.txt"), []byte(strings.Join(fleet.Pages(), "\n")), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("ready %d hosts\n", fleet.Hosts())
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes stdin
	return 0
}

type simChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	reg   *registry.Registry
	pages []string
	hosts string
}

func startSimChild(b *testing.B, n int) *simChild {
	b.Helper()
	dir := b.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envSim+"="+strconv.Itoa(n), envSimDir+"="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready") {
		b.Fatalf("simulator: %q %v", line, err)
	}
	reg, err := registry.Load(filepath.Join(dir, "registry.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	pages, err := os.ReadFile(filepath.Join(dir, "pages.txt"))
	if err != nil {
		b.Fatal(err)
	}
	return &simChild{cmd: cmd, stdin: stdin, reg: reg, pages: strings.Split(string(pages), "\n"), hosts: strings.Fields(line)[1]}
}

func (c *simChild) stop() {
	_ = c.stdin.Close()
	_ = c.cmd.Wait()
}

type usage struct {
	wall time.Duration
	cpu  time.Duration
}

func rusage() (cpu time.Duration, maxRSSKiB int64) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), ru.Maxrss
}

func measure(f func()) usage {
	c0, _ := rusage()
	t0 := time.Now()
	f()
	c1, _ := rusage()
	return usage{wall: time.Since(t0), cpu: c1 - c0}
}

// baseline GETs the pages an audit reads with the same per-host limit and
// the same number of concurrent agencies, without parsing, evidence or NATS.
func baseline(b *testing.B, pages []string, workers, perHost int) int {
	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: perHost, MaxIdleConns: 1024}}
	var mu sync.Mutex
	slots := map[string]chan struct{}{}
	slot := func(h string) chan struct{} {
		mu.Lock()
		defer mu.Unlock()
		if s, ok := slots[h]; ok {
			return s
		}
		s := make(chan struct{}, perHost)
		slots[h] = s
		return s
	}
	// One queue entry per agency (its base URL), as the audit has.
	byAgency := map[string][]string{}
	var order []string
	for _, p := range pages {
		u, err := url.Parse(p)
		if err != nil || p == "" {
			continue
		}
		segs := strings.SplitN(strings.TrimPrefix(u.Path, "/"), "/", 2)
		key := u.Host + "/" + segs[0]
		if _, ok := byAgency[key]; !ok {
			order = append(order, key)
		}
		byAgency[key] = append(byAgency[key], p)
	}
	jobs := make(chan string)
	var wg sync.WaitGroup
	var okN, n int
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for key := range jobs {
				for _, p := range byAgency[key] {
					u, _ := url.Parse(p)
					s := slot(u.Host)
					s <- struct{}{}
					resp, err := client.Get(p)
					if err == nil {
						_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 8<<20))
						resp.Body.Close()
					}
					<-s
					mu.Lock()
					n++
					if err == nil && resp.StatusCode == 200 {
						okN++
					}
					mu.Unlock()
				}
			}
		}()
	}
	// Interleave agencies by host, as the audit's scheduler does.
	byHost := map[string][]string{}
	var hosts []string
	for _, k := range order {
		h, _, _ := strings.Cut(k, "/")
		if _, ok := byHost[h]; !ok {
			hosts = append(hosts, h)
		}
		byHost[h] = append(byHost[h], k)
	}
	for sent := 0; sent < len(order); {
		for _, h := range hosts {
			if q := byHost[h]; len(q) > 0 {
				jobs <- q[0]
				byHost[h] = q[1:]
				sent++
			}
		}
	}
	close(jobs)
	wg.Wait()
	client.CloseIdleConnections() // its connections must not weigh on the audit measured next
	return n
}

// BenchmarkAudit audits a simulated fleet (20 ms per response, per-host
// limit 2, 20% of the agencies with a fault, the simulator in a child
// process) once per iteration, after a baseline of plain GETs of the same
// pages. Run one size per process so that the peak RSS is that size's:
//
//	go test ./ingest/ -run '^$' -bench 'Audit/agencies=1000$' -benchtime 1x
func BenchmarkAudit(b *testing.B) {
	for _, n := range []int{100, 1000, 5000} {
		b.Run(fmt.Sprintf("agencies=%d", n), func(b *testing.B) { benchAudit(b, n) })
	}
}

func benchAudit(b *testing.B, n int) {
	workers, perHost := benchWorkers(), 2
	sim := startSimChild(b, n)
	defer sim.stop()

	base := measure(func() { baseline(b, sim.pages, workers, perHost) })
	pages := len(sim.pages)
	sim.pages = nil // the harness holds nothing during the audit it measures

	srv := eventstest.RunServer(b, "")
	_, js := eventstest.Connect(b, srv.URL)
	reg := prometheus.NewRegistry()
	svc, err := New(Options{
		JetStream: js, Registry: sim.reg, NoSchedule: true, Workers: workers,
		Fetch:  FetchOptions{PerHost: perHost},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registerer: reg,
		Now: benchAsOf,
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for svc.Ready(ctx) != nil {
		time.Sleep(10 * time.Millisecond)
	}

	// Sample the Go heap during the audit (RSS is a process-wide peak): the
	// peak heap in use, and the GC's heap goal — about twice the heap live
	// after the last GC — whose mean is steadier than any peak on a shared
	// machine. With GONGKAI_BENCH_HEAPPROFILE=PREFIX, a heap profile is
	// written every 2 s to PREFIX.<seconds>.<goal MiB>: its inuse_space
	// shows what was live at the last GC.
	heapProfile := os.Getenv("GONGKAI_BENCH_HEAPPROFILE")
	var lastProfile time.Time
	var peakHeap, peakSys uint64
	var goalSum, goalN, goalMax uint64
	t0 := time.Now()
	sampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peakHeap, peakSys = max(peakHeap, ms.HeapInuse), max(peakSys, ms.Sys-ms.HeapReleased)
			goalSum, goalN, goalMax = goalSum+ms.NextGC, goalN+1, max(goalMax, ms.NextGC)
			if heapProfile != "" && time.Since(lastProfile) > 2*time.Second {
				lastProfile = time.Now()
				if f, err := os.Create(fmt.Sprintf("%s.%02d.%d", heapProfile, int(time.Since(t0).Seconds()), ms.NextGC>>20)); err == nil {
					_ = pprof.WriteHeapProfile(f)
					_ = f.Close()
				}
			}
			select {
			case <-sampling:
				return
			case <-t.C:
			}
		}
	}()
	b.ResetTimer()
	var audit usage
	for i := 0; i < b.N; i++ {
		at := benchAsOf().Add(time.Duration(i) * time.Hour)
		audit = measure(func() {
			runID, _, err := svc.PublishRun(ctx, "manual", at, nil)
			if err != nil {
				b.Fatal(err)
			}
			if err := WatchRun(ctx, js, runID, n, time.Now().Add(-time.Minute), func(Progress) {}); err != nil {
				b.Fatal(err)
			}
		})
	}
	b.StopTimer()
	close(sampling)
	<-sampled
	fetches := 0.0
	for _, o := range outcomes() {
		fetches += testutil.ToFloat64(svc.metrics.fetches.WithLabelValues(o))
	}
	fetches /= float64(b.N)
	_, rss := rusage()
	b.ReportMetric(audit.wall.Seconds(), "audit-s")
	b.ReportMetric(base.wall.Seconds(), "baseline-s")
	b.ReportMetric(audit.wall.Seconds()/base.wall.Seconds(), "ratio")
	b.ReportMetric(fetches, "fetches")
	b.ReportMetric(float64(pages), "baseline-pages")
	b.ReportMetric(float64(audit.cpu.Microseconds())/fetches, "cpu-µs/fetch")
	b.ReportMetric(float64(base.cpu.Microseconds())/float64(pages), "baseline-cpu-µs/page")
	b.ReportMetric(float64(rss)/1024, "peak-rss-MiB")
	b.ReportMetric(testutil.ToFloat64(svc.metrics.evidenceBytes)/(1<<20), "evidence-MiB")
	for name, metric := range map[string]string{"OBJ_" + events.ObjectStoreEvidence: "evidence-stored-MiB", events.StreamObservations: "observations-MiB"} {
		if st, err := js.Stream(ctx, name); err == nil {
			if info, err := st.Info(ctx); err == nil {
				b.ReportMetric(float64(info.State.Bytes)/(1<<20), metric)
			}
		}
	}
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MiB")
	if goalN > 0 {
		b.ReportMetric(float64(goalSum/goalN)/(1<<20), "mean-gc-goal-MiB")
		b.ReportMetric(float64(goalMax)/(1<<20), "max-gc-goal-MiB")
	}
	b.Logf("%d agencies on %s hosts: audit %v (cpu %v, %.0f fetches), baseline %v (cpu %v, %d pages), peak RSS %d MiB (this process: ingest + NATS + baseline client), peak Go heap in use %d MiB, Go runtime memory %d MiB",
		n, sim.hosts, audit.wall.Round(time.Millisecond), audit.cpu.Round(time.Millisecond), fetches,
		base.wall.Round(time.Millisecond), base.cpu.Round(time.Millisecond), pages, rss/1024, peakHeap>>20, peakSys>>20)
	_ = events.OutcomeOK
}

// benchWorkers is the number of concurrent agency audits (and baseline
// workers): GONGKAI_BENCH_WORKERS, default 32.
func benchWorkers() int {
	if n, err := strconv.Atoi(os.Getenv("GONGKAI_BENCH_WORKERS")); err == nil && n > 0 {
		return n
	}
	return 32
}
