package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/internal/portalsim"
	"github.com/gongkai/gongkai/services/internal/smtptest"
)

// natsServerBinary finds the pinned nats-server that `make tools` installs.
// Outside CI the test is skipped when it is missing; in CI it must be there.
func natsServerBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("GONGKAI_NATS_SERVER"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("nats-server"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("nats-server not found: run `make tools` (GONGKAI_NATS_SERVER)")
	}
	t.Skip("nats-server not found; `make test` installs it")
	return ""
}

// freePort returns a loopback port for a child process to listen on. The
// port is free when checked but held by nobody until the child binds it,
// so it is drawn at random from below the kernel's ephemeral range: the
// ports that listeners on port 0 (every test server in the other packages
// running alongside) are given come from that range, and cannot take it in
// the meantime.
func freePort(t testing.TB) int {
	t.Helper()
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	if low > 11000 {
		for range 100 {
			port := 10000 + rand.IntN(low-10000)
			if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
				ln.Close()
				return port
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

type proc struct {
	name string
	cmd  *exec.Cmd
	out  *bytes.Buffer
}

func startProc(t testing.TB, name, bin string, args ...string) *proc {
	t.Helper()
	return startProcEnv(t, name, nil, bin, args...)
}

// startProcEnv is startProc with extra environment variables.
func startProcEnv(t testing.TB, name string, env []string, bin string, args ...string) *proc {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, out: &out}
	t.Cleanup(func() { p.stop(t) })
	return p
}

func (p *proc) stop(t testing.TB) {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil && t.Failed() {
			t.Logf("%s exited: %v\n%s", p.name, err, p.out)
		}
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
		t.Errorf("%s did not stop on SIGINT within 20 s\n%s", p.name, p.out)
	}
}

func waitHTTP(t testing.TB, url string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not ready within %v", url, timeout)
}

// The per-service binaries against a separately started nats-server: the
// same audit, the same verdicts, the same emails as the in-process test.
func TestServiceBinariesAgainstExternalNATS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds four binaries")
	}
	natsBin := natsServerBinary(t)
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+string(os.PathSeparator),
		"../cmd/gongkai", "../cmd/gongkai-ingest", "../cmd/gongkai-checker", "../cmd/gongkai-notifier")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	port := freePort(t)
	natsURL := fmt.Sprintf("nats://127.0.0.1:%d", port)
	startProc(t, "nats-server", natsBin, "-a", "127.0.0.1", "-p", fmt.Sprint(port), "-js", "-sd", t.TempDir())
	deadline := time.Now().Add(10 * time.Second)
	for {
		nc, err := nats.Connect(natsURL)
		if err == nil {
			nc.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server not reachable: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The binaries run on the real clock, so the fleet is dated from it.
	now := time.Now()
	fleet, err := portalsim.Start(portalsim.Demo(now))
	if err != nil {
		t.Fatal(err)
	}
	defer fleet.Close()
	regPath := filepath.Join(t.TempDir(), "registry.yaml")
	var buf bytes.Buffer
	if err := fleet.WriteRegistry(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(regPath, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	smtp := smtptest.Start(t)

	common := []string{"--nats-url", natsURL, "--registry", regPath, "--log-level", "warn"}
	httpN, httpC, httpI := freePort(t), freePort(t), freePort(t)
	startProc(t, "notifier", filepath.Join(bin, "gongkai-notifier"), append(common, "--http", fmt.Sprintf("127.0.0.1:%d", httpN), "--smtp-url", smtp.URL(), "--from", "gongkai@test.example")...)
	startProc(t, "checker", filepath.Join(bin, "gongkai-checker"), append(common, "--http", fmt.Sprintf("127.0.0.1:%d", httpC), "--no-tick", "--dashboard", "127.0.0.1:0")...)
	startProc(t, "ingest", filepath.Join(bin, "gongkai-ingest"), append(common, "--http", fmt.Sprintf("127.0.0.1:%d", httpI), "--no-schedule")...)
	for _, p := range []int{httpN, httpC, httpI} {
		waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/readyz", p), 30*time.Second)
	}

	out, err := exec.Command(filepath.Join(bin, "gongkai"), append([]string{"audit", "now"}, common[:4]...)...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "4 audit jobs queued") {
		t.Fatalf("gongkai audit now: %v\n%s", err, out)
	}

	// Expected verdicts on the real clock: the missing report is overdue,
	// or escalated once more than the escalation delay has passed.
	h := newHarness(t, now)
	year := portalsim.LastDueYear(now)
	r, ok := h.rules.Lookup(&h.reg.Agencies[2], "cn-ogi-2019", "CN-R19-AR-DEPT")
	if !ok {
		t.Fatal("rule CN-R19-AR-DEPT not found")
	}
	clk, _, err := r.Clock(fmt.Sprint(year), &h.reg.Agencies[2], "")
	if err != nil {
		t.Fatal(err)
	}
	missing := "【逾期】"
	if !now.Before(clk.EscalateAt) {
		missing = "【逾期督办】"
	}
	// The missing report is sent at once (critical), and on escalation to
	// the supervising body too; the late one waits for tomorrow's digest.
	tail := fmt.Sprintf("已逾期，请尽快公开（截止%d-01-31）", year+1)
	if missing == "【逾期督办】" {
		tail = fmt.Sprintf("逾期未公开，请立即公开（截止%d-01-31）", year+1)
	}
	subject := fmt.Sprintf("%s示范市卫生健康委员会：本行政机关上一年度政府信息公开工作年度报告（%d）%s", missing, year, tail)
	want := []string{"gongkai@wjw.demo.example | " + subject}
	if missing == "【逾期督办】" {
		want = append([]string{"gongkai@gov.demo.example | " + subject}, want...)
	}
	if !smtp.WaitFor(len(want), 60*time.Second) {
		t.Fatalf("emails: %v", received(t, smtp))
	}
	// Let anything extra arrive before comparing.
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		c, err := js.Consumer(ctx, events.StreamFindings, events.ConsumerNotifier)
		if err != nil {
			t.Fatal(err)
		}
		ci, err := c.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ci.NumPending == 0 && ci.NumAckPending == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	equal(t, "emails", received(t, smtp), want)

	// Every observation is evaluated (the emails above may come from the
	// first one alone).
	deadline = time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", httpC))
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		_, _ = body.ReadFrom(resp.Body)
		resp.Body.Close()
		if strings.Contains(body.String(), "gongkai_checker_observations_total 4") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("checker metrics do not show 4 observations:\n%s", grep(body.String(), "gongkai_checker"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
