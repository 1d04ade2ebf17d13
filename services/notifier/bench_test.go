package notifier

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/pkg/events/eventstest"
	"github.com/gongkai/gongkai/services/internal/calendar"
	"github.com/gongkai/gongkai/services/internal/registry"
	"github.com/gongkai/gongkai/services/internal/smtptest"
)

// TestDigestThroughput is the digest benchmark of docs/benchmarks.md: it
// records two findings for each of N digest-mode recipients, then renders
// and hands their N digests to the in-process SMTP server, and, in the same
// run, sends N pre-rendered identical messages through the same SMTP client
// as a baseline. It reports times, the ratio, the process's peak RSS and the
// ledger window; it asserts only that every digest arrived once (no
// wall-clock assertion). It runs only when GONGKAI_BENCH_RECIPIENTS is set:
//
//	cd services && GONGKAI_BENCH_RECIPIENTS=10000 GONGKAI_NATS_SERVER=/work/main/bin/nats-server \
//	  go test -run TestDigestThroughput -v -timeout 30m ./notifier/
//
// With GONGKAI_NATS_SERVER the JetStream server runs as a separate process,
// so the RSS measured is the notifier's (plus the test's SMTP server and
// harness); without it the server is embedded and counted too.
func TestDigestThroughput(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("GONGKAI_BENCH_RECIPIENTS"))
	if n <= 0 {
		t.Skip("set GONGKAI_BENCH_RECIPIENTS (for example 10000) to run the digest benchmark")
	}
	url := benchNATS(t)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := events.Provision(context.Background(), js, events.DefaultTopology()); err != nil {
		t.Fatal(err)
	}
	reg := benchRegistry(t, n)
	srv := smtptest.Start(t, smtptest.WithoutBodies())
	clk := &clock{t: at(2026, 3, 2, 10, 0)} // Monday
	tr, err := NewSMTP(srv.URL(), WithMaxIdle(DefaultWorkers))
	if err != nil {
		t.Fatal(err)
	}
	promReg := prometheus.NewRegistry()
	svc, err := New(Options{
		JetStream: js, Registry: reg, Transport: tr, From: "gongkai@notify.example", DashboardURL: "https://dash.example",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registerer: promReg, Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitUntil(t, "ready", func() bool { return svc.Ready(ctx) == nil })

	// Setup (the registry of N agencies parsed twice, by the test and by
	// nothing else) is done: collect it, and reset the peak RSS so that
	// VmHWM measures recording and sending only.
	runtime.GC()
	debug.FreeOSMemory()
	hwmSetup := procStatus("VmHWM")
	resetPeakRSS(t)
	peak := startMemorySampler()
	// Record: two findings per recipient (a deadline coming up, a report
	// published late), published as the checker would.
	start := time.Now()
	for _, id := range reg.IDs() {
		for _, f := range []struct {
			obl      string
			from, to events.State
			due      time.Time
		}{
			{"CN-R19-AR-DEPT", events.StateNotDue, events.StateDueSoon, at(2026, 3, 31, 23, 59)},
			{"CN-BUD-DEPT-BUDGET", "", events.StateSatisfiedLate, at(2026, 2, 20, 23, 59)},
		} {
			fid, fd := finding(id, f.obl, f.from, f.to, events.SeverityWarning, f.due, clk.Now())
			a, _ := reg.Get(id)
			fd.AgencyName = a.Name
			fd.Obligation = events.Text{ZH: "本行政机关上一年度政府信息公开工作年度报告（县级以上人民政府部门）", EN: "Annual report on open government information for the previous year"}
			fd.Explanation = events.Text{ZH: "应于2026-03-31前公开，截至2026-03-02尚未发现，请按时公开。", EN: "Due by 2026-03-31; not found as of 2026-03-02."}
			fd.URL = "https://" + id + ".example/zfxxgk/ndbg/2025.html"
			ev, err := events.New("gongkai/checker", fid, id, clk.Now(), fd)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := events.Publish(ctx, js, events.FindingSubject(id), ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	published := time.Since(start)
	if p := os.Getenv("GONGKAI_BENCH_HEAPPROFILE"); p != "" {
		runtime.GC()
		f, _ := os.Create(p + ".mid")
		_ = pprof.WriteHeapProfile(f)
		f.Close()
	}
	waitUntilFor(t, "recorded", 10*time.Minute, func() bool { return svc.mirror.size() == 2*n })
	recorded := time.Since(start)
	recordPeak := peak.stop()
	{
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		t.Logf("memory: live heap with %d pending digest items %.1f MiB", 2*n, float64(ms.HeapAlloc)/(1<<20))
	}
	peak = startMemorySampler()
	if p := os.Getenv("GONGKAI_BENCH_HEAPPROFILE"); p != "" {
		runtime.GC()
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.WriteHeapProfile(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}

	// The digests: the next working day at 08:30.
	clk.Set(at(2026, 3, 3, 8, 30))
	start = time.Now()
	svc.Digest(ctx)
	digestTime := time.Since(start)
	if got := srv.Count(); got != n {
		t.Fatalf("%d digests accepted, want %d", got, n)
	}
	to := map[string]bool{}
	for _, m := range srv.Messages() {
		if to[m.To[0]] {
			t.Fatalf("%s received two digests", m.To[0])
		}
		to[m.To[0]] = true
	}
	if svc.mirror.size() != 0 {
		t.Fatalf("%d items still pending", svc.mirror.size())
	}
	digestPeak := peak.stop()

	// Baseline: N pre-rendered identical messages through the same client,
	// with the same number of concurrent senders.
	hwmDigest := procStatus("VmHWM")
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("memory: live heap after the digests %.1f MiB", float64(ms.HeapAlloc)/(1<<20))
	resetPeakRSS(t)
	sample := srv.Messages()[0]
	rendered := baselineMessage(t, svc, reg)
	start = time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range DefaultWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				m, _, err := svc.compose(fmt.Sprintf("b-%d", i), sample.To[0], "基准", rendered)
				if err != nil {
					t.Error(err)
					return
				}
				if err := tr.Send(ctx, "b", m); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	baseline := time.Since(start)
	if got := srv.Count(); got != 2*n {
		t.Fatalf("baseline: %d messages accepted in all, want %d", got, 2*n)
	}

	hwm := procStatus("VmHWM")
	t.Logf("recipients %d, findings %d (published in %v, recorded in %v: %.0f findings/s)",
		n, 2*n, published.Round(time.Millisecond), recorded.Round(time.Millisecond), float64(2*n)/recorded.Seconds())
	t.Logf("digests: %d rendered and accepted in %v (%.0f/s)", n, digestTime.Round(time.Millisecond), float64(n)/digestTime.Seconds())
	t.Logf("baseline: %d pre-rendered identical messages in %v (%.0f/s); digest/baseline = %.2f",
		n, baseline.Round(time.Millisecond), float64(n)/baseline.Seconds(), digestTime.Seconds()/baseline.Seconds())
	t.Logf("memory: process peak RSS (VmHWM) during setup %s; during record+digest %s (reset after setup); during the baseline %s", hwmSetup, hwmDigest, hwm)
	t.Logf("memory: Go runtime peak while recording %.1f MiB (heap objects %.1f MiB), while sending digests %.1f MiB (heap objects %.1f MiB)",
		float64(recordPeak.total)/(1<<20), float64(recordPeak.heap)/(1<<20), float64(digestPeak.total)/(1<<20), float64(digestPeak.heap)/(1<<20))
	t.Logf("ledger window (transport accepted → ledger written): %s", windowSummary(t, promReg))
	t.Logf("machine: %d CPUs, GOMAXPROCS %d, %s", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
}

func dateOf(t time.Time) calendar.Date { return calendar.DateOf(t) }

func waitUntilFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// baselineMessage renders one digest of two items, the size of the
// benchmark's digests.
func baselineMessage(t *testing.T, s *Service, reg *registry.Registry) Message {
	t.Helper()
	id := reg.IDs()[0]
	var items []item
	for i, to := range []events.State{events.StateDueSoon, events.StateSatisfiedLate} {
		fid, f := finding(id, fmt.Sprint("O", i), events.StateNotDue, to, events.SeverityWarning, at(2026, 3, 31, 23, 59), at(2026, 3, 2, 10, 0))
		items = append(items, item{key: fid, p: pendingItem{Kind: kindDigest, Recipient: "x@x.example", Lang: "zh", Calendar: "cn", FindingID: fid, Finding: f}})
	}
	m, err := s.tpl.RenderDigest(s.digestData(items, "cn", dateOf(at(2026, 3, 3, 8, 30))))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// benchRegistry returns n departments with one digest-mode contact each,
// ten per mail domain (one in ten reads English).
func benchRegistry(t testing.TB, n int) *registry.Registry {
	t.Helper()
	var b strings.Builder
	b.WriteString("agencies:\n  - {id: gov, name: 示范省人民政府, level: province, kind: government, website: https://gov.example/}\n")
	for i := range n {
		lang := "zh"
		if i%10 == 9 {
			lang = "en"
		}
		fmt.Fprintf(&b, "  - {id: a%05d, name: 示范市第%d局, level: city, kind: department, parent: gov, website: https://a%05d.example/, contacts: [{name: 公开办%d, role: disclosure_office, email: c%05d@d%04d.example, lang: %s}]}\n",
			i, i, i, i, i, i/10, lang)
	}
	reg, err := registry.Parse("bench.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// benchNATS returns the URL of a JetStream server: a separate nats-server
// process when GONGKAI_NATS_SERVER names one, else an embedded server.
func benchNATS(t *testing.T) string {
	bin := os.Getenv("GONGKAI_NATS_SERVER")
	if bin == "" {
		return eventstest.RunServer(t, "").URL
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					t.Logf("memory: the nats-server process (not the notifier) peaked at %s", strings.TrimSpace(v))
				}
			}
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	waitUntil(t, "nats-server", func() bool {
		nc, err := nats.Connect(url)
		if err != nil {
			return false
		}
		nc.Close()
		return true
	})
	return url
}

type memPeak struct{ total, heap uint64 }

type memorySampler struct {
	stopC chan struct{}
	done  chan memPeak
}

// startMemorySampler samples the Go runtime's memory every 20 ms.
func startMemorySampler() *memorySampler {
	s := &memorySampler{stopC: make(chan struct{}), done: make(chan memPeak, 1)}
	go func() {
		samples := []rtmetrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
		var p memPeak
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			rtmetrics.Read(samples)
			p.total = max(p.total, samples[0].Value.Uint64())
			p.heap = max(p.heap, samples[1].Value.Uint64())
			select {
			case <-s.stopC:
				s.done <- p
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *memorySampler) stop() memPeak {
	close(s.stopC)
	return <-s.done
}

// resetPeakRSS resets the process's VmHWM to its current RSS (Linux:
// "5" to /proc/self/clear_refs).
func resetPeakRSS(t *testing.T) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Logf("cannot reset the peak RSS: %v", err)
	}
}

// procStatus returns a field of /proc/self/status ("VmHWM" is the peak
// resident set size).
func procStatus(field string) string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "n/a"
}

// windowSummary describes the ledger-window histogram.
func windowSummary(t *testing.T, reg *prometheus.Registry) string {
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "gongkai_notifier_ledger_window_seconds" {
			continue
		}
		h := mf.GetMetric()[0].GetHistogram()
		var parts []string
		for _, b := range h.GetBucket() {
			parts = append(parts, fmt.Sprintf("≤%gms %.1f%%", b.GetUpperBound()*1000, 100*float64(b.GetCumulativeCount())/float64(h.GetSampleCount())))
		}
		return fmt.Sprintf("%d samples, mean %.3f ms; %s", h.GetSampleCount(), 1000*h.GetSampleSum()/float64(h.GetSampleCount()), strings.Join(parts, ", "))
	}
	return "n/a"
}
