package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.yaml.in/yaml/v3"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/internal/mailtext"
	"github.com/gongkai/gongkai/services/internal/portalsim"
	"github.com/gongkai/gongkai/services/internal/registry"
	"github.com/gongkai/gongkai/services/internal/smtptest"
)

// natsNode is one node of the test cluster.
type natsNode struct {
	name                   string
	client, route, monitor int
	store                  string
	proc                   *proc
}

// natsCluster is three nats-server processes started from
// deploy/nats/gongkai.conf, each with its own store, on loopback ports.
type natsCluster struct {
	t        *testing.T
	bin      string
	conf     string
	nodes    []*natsNode
	password string // the gongkai user's
	env      []string
}

func startNATSCluster(t *testing.T, bin string) *natsCluster {
	t.Helper()
	conf, err := filepath.Abs(filepath.Join(deployDir, "nats", "gongkai.conf"))
	if err != nil {
		t.Fatal(err)
	}
	c := &natsCluster{t: t, bin: bin, conf: conf, password: randomToken(t)}
	routePW := randomToken(t)
	for i := 1; i <= 3; i++ {
		c.nodes = append(c.nodes, &natsNode{
			name: fmt.Sprintf("nats-%d", i), client: freePort(t), route: freePort(t), monitor: freePort(t),
			store: t.TempDir(),
		})
	}
	c.env = []string{
		"GONGKAI_NATS_ROUTE_PASSWORD=" + routePW,
		"GONGKAI_NATS_PASSWORD=" + c.password,
		"GONGKAI_NATS_ADMIN_PASSWORD=" + randomToken(t),
	}
	for i, n := range c.nodes {
		c.env = append(c.env, fmt.Sprintf("GONGKAI_NATS_ROUTE_%d=nats-route://route:%s@127.0.0.1:%d", i+1, routePW, n.route))
	}
	for _, n := range c.nodes {
		c.start(n)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range c.nodes {
		c.waitHealthy(n, deadline)
	}
	c.waitMetaLeader(deadline)
	return c
}

// waitMetaLeader waits until every node names the same JetStream meta
// leader: before that, creating a stream can time out.
func (c *natsCluster) waitMetaLeader(deadline time.Time) {
	c.t.Helper()
	for {
		leaders := map[string]bool{}
		for _, n := range c.nodes {
			var jsz struct {
				Meta struct {
					Leader string `json:"leader"`
				} `json:"meta_cluster"`
			}
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/jsz", n.monitor))
			if err == nil {
				err = json.NewDecoder(resp.Body).Decode(&jsz)
				resp.Body.Close()
			}
			if err == nil {
				leaders[jsz.Meta.Leader] = true
			}
		}
		if len(leaders) == 1 && !leaders[""] {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no JetStream meta leader agreed by the three nodes: %v", leaders)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *natsCluster) start(n *natsNode) {
	c.t.Helper()
	env := append([]string{
		"GONGKAI_NATS_NAME=" + n.name,
		fmt.Sprintf("GONGKAI_NATS_LISTEN=127.0.0.1:%d", n.client),
		fmt.Sprintf("GONGKAI_NATS_MONITOR=127.0.0.1:%d", n.monitor),
		fmt.Sprintf("GONGKAI_NATS_CLUSTER_LISTEN=127.0.0.1:%d", n.route),
		"GONGKAI_NATS_STORE=" + n.store,
	}, c.env...)
	var out bytes.Buffer
	cmd := exec.Command(c.bin, "-c", c.conf)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("start %s: %v", n.name, err)
	}
	p := &proc{name: n.name, cmd: cmd, out: &out}
	c.t.Cleanup(func() { p.stop(c.t) })
	n.proc = p
}

// waitHealthy waits until the node's /healthz says JetStream is up and in
// contact with the cluster.
func (c *natsCluster) waitHealthy(n *natsNode, deadline time.Time) {
	c.t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz", n.monitor)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s not healthy: %v\n%s", n.name, err, n.proc.out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// URL returns the client URL of every node with the gongkai user's
// credentials, comma-separated, as the services take it.
func (c *natsCluster) URL() string {
	var urls []string
	for _, n := range c.nodes {
		urls = append(urls, fmt.Sprintf("nats://gongkai:%s@127.0.0.1:%d", c.password, n.client))
	}
	return strings.Join(urls, ",")
}

func (c *natsCluster) node(name string) *natsNode {
	for _, n := range c.nodes {
		if n.name == name {
			return n
		}
	}
	return nil
}

// kill stops a node the hard way (SIGKILL: no lame duck, no flush).
func (c *natsCluster) kill(n *natsNode) {
	c.t.Helper()
	if err := n.proc.cmd.Process.Kill(); err != nil {
		c.t.Fatal(err)
	}
	_ = n.proc.cmd.Wait()
}

func randomToken(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// readAll returns every message of a stream, in order. It retries while
// the cluster elects leaders (a request then finds no responder or times
// out) until ctx ends.
func readAll(ctx context.Context, js jetstream.JetStream, stream string) ([]jetstream.Msg, error) {
	for {
		out, err := readAllOnce(ctx, js, stream)
		if err == nil {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func readAllOnce(ctx context.Context, js jetstream.JetStream, stream string) ([]jetstream.Msg, error) {
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return nil, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return nil, err
	}
	want := int(info.State.Msgs)
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, err
	}
	var out []jetstream.Msg
	for len(out) < want {
		batch, err := cons.Fetch(min(want-len(out), 500), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return nil, err
		}
		n := 0
		for m := range batch.Messages() {
			out = append(out, m)
			n++
		}
		if err := batch.Error(); err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, fmt.Errorf("stream %s: %d of %d messages read", stream, len(out), want)
		}
	}
	return out, nil
}

// consumerIdle reports whether a durable consumer has nothing pending or
// unacknowledged.
func consumerIdle(ctx context.Context, js jetstream.JetStream, stream, consumer string) (bool, string, error) {
	c, err := js.Consumer(ctx, stream, consumer)
	if err != nil {
		return false, "", err
	}
	ci, err := c.Info(ctx)
	if err != nil {
		return false, "", err
	}
	return ci.NumPending == 0 && ci.NumAckPending == 0,
		fmt.Sprintf("%s/%s pending %d, ack pending %d", stream, consumer, ci.NumPending, ci.NumAckPending), nil
}

// A three-node JetStream cluster from deploy/nats/gongkai.conf, the
// per-service binaries with two ingest workers and --replicas 3, an audit
// of a simulated fleet of 150 agencies on 60 hosts — and in the middle of
// it the node leading the observations stream is killed. The audit
// completes on the two nodes left: every agency observed exactly once,
// every obligation instance's state announced by its findings with none
// doubled, every notice due delivered, and no email sent twice. The
// processes report the lost replica, and the node, restarted, catches up.
// Recovery waits for the audit queue's ack wait (jobs in flight to the
// dead node come back only then), so the test takes that long.
func TestClusterSurvivesNodeLossMidAudit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds four binaries and runs a three-node cluster")
	}
	natsBin := natsServerBinary(t)
	start := time.Now()
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+string(os.PathSeparator),
		"../cmd/gongkai", "../cmd/gongkai-ingest", "../cmd/gongkai-checker", "../cmd/gongkai-notifier")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("build: %v", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	// Everything after the build is bounded. A job delivered to a worker
	// over the connection to the node that dies is lost in flight and comes
	// back only when its ack wait expires, so the bound is the audit
	// queue's ack wait plus four minutes for the rest of the audit and
	// the checks after it (on a slow CI machine an audit that lost jobs in
	// flight took 2 minutes in all).
	var ackWait time.Duration
	for _, c := range events.DefaultTopology().Consumers() {
		if c.Config.Durable == events.ConsumerIngest {
			ackWait = c.Config.AckWait
		}
	}
	deadline := start.Add(ackWait + 4*time.Minute)

	cluster := startNATSCluster(t, natsBin)
	t.Logf("cluster of three healthy: %v", time.Since(start).Round(time.Millisecond))

	// 150 agencies on 60 hosts, every response delayed 30 ms: an audit
	// of some 20–30 seconds here, long enough to lose a node in it.
	const agencies = 150
	fleet, err := portalsim.Start(portalsim.Generate(portalsim.GenOptions{
		Agencies: agencies, Seed: 8, AsOf: time.Now(), Latency: 30 * time.Millisecond,
	}))
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

	common := []string{"--nats-url", cluster.URL(), "--registry", regPath, "--replicas", "3", "--log-level", "warn"}
	httpN, httpC, httpI1, httpI2, dash := freePort(t), freePort(t), freePort(t), freePort(t), freePort(t)
	// The notifier starts alone and provisions the replicated topology;
	// the others start once it is ready. (Four processes provisioning a
	// fresh cluster at the same instant time out: see docs/operations.md.)
	var services []*proc
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		// Stopped first (so their output is complete), logged last.
		for _, p := range services {
			p.stop(t)
			t.Logf("%s output (last 4 kB):\n%s", p.name, tail(p.out.String(), 4096))
		}
	})
	notifierProc := startProc(t, "notifier", filepath.Join(bin, "gongkai-notifier"), append(common, "--http", fmt.Sprintf("127.0.0.1:%d", httpN),
		"--smtp-url", smtp.URL(), "--from", "gongkai@test.example")...)
	services = append(services, notifierProc)
	waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/readyz", httpN), 60*time.Second)
	services = append(services,
		startProc(t, "checker", filepath.Join(bin, "gongkai-checker"), append(common, "--http", fmt.Sprintf("127.0.0.1:%d", httpC),
			"--no-tick", "--dashboard", fmt.Sprintf("127.0.0.1:%d", dash))...),
		startProc(t, "ingest-1", filepath.Join(bin, "gongkai-ingest"), append(common, "--http", fmt.Sprintf("127.0.0.1:%d", httpI1), "--no-schedule")...),
		startProc(t, "ingest-2", filepath.Join(bin, "gongkai-ingest"), append(common, "--http", fmt.Sprintf("127.0.0.1:%d", httpI2), "--no-schedule")...))
	for _, p := range []int{httpC, httpI1, httpI2} {
		waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/readyz", p), 60*time.Second)
	}
	t.Logf("services ready: %v", time.Since(start).Round(time.Millisecond))

	nc, err := nats.Connect(cluster.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	for _, name := range []string{events.StreamAudit, events.StreamObservations, events.StreamFindings, "KV_" + events.BucketObligations, "OBJ_" + events.ObjectStoreEvidence} {
		st, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if r := st.CachedInfo().Config.Replicas; r != 3 {
			t.Fatalf("stream %s has %d replicas, want 3", name, r)
		}
	}

	out, err := exec.Command(filepath.Join(bin, "gongkai"), "audit", "now", "--registry", regPath, "--nats-url", cluster.URL()).CombinedOutput()
	if err != nil || !strings.Contains(string(out), fmt.Sprintf("%d audit jobs queued", agencies)) {
		t.Fatalf("gongkai audit now: %v\n%s", err, out)
	}
	auditStart := time.Now()

	// Every call has its own time-out: a request in flight to the node
	// that dies gets no answer.
	call := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, 5*time.Second) }
	observed := func() (uint64, error) {
		cctx, cancel := call()
		defer cancel()
		st, err := js.Stream(cctx, events.StreamObservations)
		if err != nil {
			return 0, err
		}
		info, err := st.Info(cctx)
		if err != nil {
			return 0, err
		}
		return info.State.Msgs, nil
	}
	// A third of the way through, kill the node leading the observations
	// stream.
	var killed *natsNode
	for killed == nil {
		n, err := observed()
		if err == nil && n >= agencies/3 {
			cctx, cancel := call()
			st, err := js.Stream(cctx, events.StreamObservations)
			cancel()
			if err == nil && st.CachedInfo().Cluster != nil {
				killed = cluster.node(st.CachedInfo().Cluster.Leader)
			}
			if killed == nil {
				t.Fatalf("no leader of %s: %v", events.StreamObservations, err)
			}
			if n >= agencies {
				t.Fatalf("the audit was over (%d observations) before a node could be killed", n)
			}
			cluster.kill(killed)
			t.Logf("killed %s (leader of %s) after %d of %d observations, %v into the audit",
				killed.name, events.StreamObservations, n, agencies, time.Since(auditStart).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("audit did not progress: %d observations, %v", n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The audit completes on two nodes: every agency observed, the checker
	// and the notifier idle, nothing due left undelivered.
	notifierMetrics := fmt.Sprintf("http://127.0.0.1:%d/metrics", httpN)
	lastLog := time.Now()
	waitFor(t, "audit complete on the remaining nodes", deadline, func() (bool, string) {
		ok, state := func() (bool, string) {
			n, err := observed()
			if err != nil {
				return false, err.Error()
			}
			if n < agencies {
				cctx, cancel := call()
				_, state, err := consumerIdle(cctx, js, events.StreamAudit, events.ConsumerIngest)
				cancel()
				inflight := 0.0
				for _, p := range []int{httpI1, httpI2} {
					v, _ := gaugeValue(scrape(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", p)), "gongkai_ingest_audits_in_flight", nil)
					inflight += v
				}
				return false, fmt.Sprintf("%d of %d observations; %s %v; audits in flight %v", n, agencies, state, err, inflight)
			}
			for _, c := range [][2]string{{events.StreamAudit, events.ConsumerIngest}, {events.StreamObservations, events.ConsumerChecker}, {events.StreamFindings, events.ConsumerNotifier}} {
				cctx, cancel := call()
				idle, state, err := consumerIdle(cctx, js, c[0], c[1])
				cancel()
				if err != nil || !idle {
					return false, fmt.Sprint(state, err)
				}
			}
			due, ok := gaugeValue(scrape(t, notifierMetrics), "gongkai_notifier_pending_notices", nil)
			if !ok || due != 0 {
				return false, fmt.Sprintf("notices due and undelivered: %v", due)
			}
			return true, ""
		}()
		if !ok && time.Since(lastLog) > 30*time.Second {
			t.Logf("%v into the audit: %s", time.Since(auditStart).Round(time.Second), state)
			lastLog = time.Now()
		}
		return ok, state
	})
	t.Logf("audit complete %v after it started (one node down since the first third)", time.Since(auditStart).Round(time.Millisecond))

	// Every agency observed exactly once (the observations' message ids
	// de-duplicate a job redelivered after the node loss).
	rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
	defer rcancel()
	obsMsgs, err := readAll(rctx, js, events.StreamObservations)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, m := range obsMsgs {
		ev, err := events.Unmarshal(m.Data())
		if err != nil {
			t.Fatal(err)
		}
		o, err := events.Decode[events.Observation](ev)
		if err != nil {
			t.Fatal(err)
		}
		seen[o.AgencyID]++
	}
	for _, s := range fleet.Spec().Sites {
		if seen[s.AgencyID] != 1 {
			t.Errorf("agency %s observed %d times, want once", s.AgencyID, seen[s.AgencyID])
		}
	}

	// No finding lost, none doubled: for every obligation instance the
	// checker holds, its findings form one chain of transitions from
	// nothing to its current state, with no transition twice. The checker
	// publishes findings from an outbox and re-sends what was not
	// acknowledged every few seconds, so a finding may trail its state
	// for a while: wait up to a minute for the chains to close.
	var findings []events.Finding
	var problems []string
	// Each attempt has its own time-out within the test's deadline; the
	// problems of the first attempt are logged, so that a failure shows
	// what was wrong before the chains had time to close.
	settle := time.Now().Add(time.Minute)
	for attempt := 0; ; attempt++ {
		findings, problems = checkFindings(t, ctx, js, dash, agencies)
		if len(problems) == 0 || time.Now().After(settle) || time.Now().After(deadline) {
			break
		}
		if attempt == 0 {
			t.Logf("findings not settled yet (%d problems), first: %s", len(problems), problems[0])
		}
		time.Sleep(time.Second)
	}
	for _, p := range problems {
		t.Error(p)
	}
	byState := map[string]int{}
	for _, f := range findings {
		byState[string(f.To)+"/"+string(f.Severity)]++
	}
	t.Logf("findings by new state/severity: %v", byState)
	// Notices of late findings are recorded and sent after them.
	waitFor(t, "notifier idle after the findings", deadline, func() (bool, string) {
		cctx, cancel := call()
		idle, state, err := consumerIdle(cctx, js, events.StreamFindings, events.ConsumerNotifier)
		cancel()
		if err != nil || !idle {
			return false, fmt.Sprint(state, err)
		}
		due, ok := gaugeValue(scrape(t, notifierMetrics), "gongkai_notifier_pending_notices", nil)
		return ok && due == 0, fmt.Sprintf("notices due and undelivered: %v", due)
	})

	// No email twice, none missing: one message per Message-ID; as many
	// as the notifier counts sent; every critical finding (sent at once)
	// reached the agency's contact.
	msgs := smtp.Messages()
	ids := map[string]int{}
	subjects := map[string]bool{}
	for _, m := range msgs {
		mt, err := mailtext.Parse(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		ids[mt.MessageID]++
		subjects[strings.Join(m.To, ",")+" | "+mt.Subject] = true
	}
	for id, n := range ids {
		if n > 1 {
			t.Errorf("Message-ID %s sent %d times", id, n)
		}
	}
	nm := scrape(t, notifierMetrics)
	sent := 0.0
	for _, kind := range []string{"immediate", "digest"} {
		v, _ := gaugeValue(nm, "gongkai_notifier_notices_total", map[string]string{"kind": kind, "outcome": "sent"})
		sent += v
	}
	if int(sent) != len(msgs) || len(ids) != len(msgs) {
		t.Errorf("emails received %d (distinct Message-IDs %d), notifier counts %v sent", len(msgs), len(ids), sent)
	}
	critical := 0
	email := map[string]string{}
	for _, s := range fleet.Spec().Sites {
		email[s.AgencyID] = s.Email
	}
	for _, f := range findings {
		if f.Severity != events.SeverityCritical || email[f.AgencyID] == "" {
			continue
		}
		critical++
		found := false
		for s := range subjects {
			if strings.HasPrefix(s, email[f.AgencyID]+" | ") && strings.Contains(s, f.AgencyName) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("critical finding %s/%s/%s → %s: no email to %s", f.AgencyID, f.ObligationID, f.Period, f.To, email[f.AgencyID])
		}
	}
	if critical == 0 || len(msgs) == 0 {
		t.Errorf("the audit produced %d critical findings and %d emails; the fleet's faults should produce some", critical, len(msgs))
	}
	t.Logf("%d observations, %d findings, %d emails (%d critical findings)", len(obsMsgs), len(findings), len(msgs), critical)

	// The processes report the lost replica (gongkai_jetstream_*, read every
	// 15 s), and the node, restarted, catches up.
	ingestMetrics := fmt.Sprintf("http://127.0.0.1:%d/metrics", httpI1)
	waitFor(t, "the under-replicated stream in the metrics", deadline, func() (bool, string) {
		cur, ok := gaugeValue(scrape(t, ingestMetrics), "gongkai_jetstream_stream_replicas_current", map[string]string{"stream": events.StreamObservations})
		return ok && cur == 2, fmt.Sprintf("current replicas %v (%v)", cur, ok)
	})
	cluster.start(killed)
	cluster.waitHealthy(killed, deadline)
	waitFor(t, "the restarted node current again", deadline, func() (bool, string) {
		cctx, cancel := call()
		defer cancel()
		st, err := js.Stream(cctx, events.StreamObservations)
		if err != nil {
			return false, err.Error()
		}
		ci := st.CachedInfo().Cluster
		if ci == nil || ci.Leader == "" {
			return false, "no leader"
		}
		current := 1
		for _, p := range ci.Replicas {
			if p.Current && !p.Offline {
				current++
			}
		}
		return current == 3 && st.CachedInfo().State.Msgs == agencies, fmt.Sprintf("current %d, messages %d", current, st.CachedInfo().State.Msgs)
	})
	notifierProc.stop(t)
	t.Logf("cluster test: %v after the build", time.Since(start).Round(time.Millisecond))
}

// checkFindings reads every finding and every instance the checker holds
// (its read API on port dash) and returns the findings and what is wrong:
// instances whose findings do not lead to their state, transitions
// announced twice, findings about instances the checker does not hold.
func checkFindings(t *testing.T, ctx context.Context, js jetstream.JetStream, dash, atLeast int) ([]events.Finding, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	msgs, err := readAll(ctx, js, events.StreamFindings)
	if err != nil {
		return nil, []string{fmt.Sprintf("read findings: %v", err)}
	}
	findings := decodeFindings(t, msgs)
	chains := map[string][]events.Finding{}
	for _, f := range findings {
		k := f.AgencyID + "/" + f.PackID + "/" + f.ObligationID + "/" + f.Period
		chains[k] = append(chains[k], f)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/v1/obligations?limit=10000", dash))
	if err != nil {
		return findings, []string{fmt.Sprintf("checker read API: %v", err)}
	}
	var insts struct {
		Obligations []struct {
			AgencyID     string       `json:"agency_id"`
			PackID       string       `json:"pack_id"`
			ObligationID string       `json:"obligation_id"`
			Period       string       `json:"period"`
			State        events.State `json:"state"`
		} `json:"obligations"`
		Total int `json:"total"`
	}
	err = json.NewDecoder(resp.Body).Decode(&insts)
	resp.Body.Close()
	if err != nil {
		return findings, []string{fmt.Sprintf("checker read API: %v", err)}
	}
	if insts.Total != len(insts.Obligations) || insts.Total < atLeast {
		return findings, []string{fmt.Sprintf("checker read API: %d of %d instances", len(insts.Obligations), insts.Total)}
	}
	var problems []string
	for _, in := range insts.Obligations {
		k := in.AgencyID + "/" + in.PackID + "/" + in.ObligationID + "/" + in.Period
		if err := checkChain(chains[k], in.State); err != nil {
			problems = append(problems, fmt.Sprintf("instance %s: %v", k, err))
		}
		delete(chains, k)
	}
	for k, fs := range chains {
		problems = append(problems, fmt.Sprintf("findings about %s, which the checker does not hold: %d", k, len(fs)))
	}
	sort.Strings(problems)
	return findings, problems
}

// decodeFindings decodes findings in stream order.
func decodeFindings(t *testing.T, msgs []jetstream.Msg) []events.Finding {
	t.Helper()
	var out []events.Finding
	for _, m := range msgs {
		ev, err := events.Unmarshal(m.Data())
		if err != nil {
			t.Fatal(err)
		}
		f, err := events.Decode[events.Finding](ev)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// checkChain checks that the findings of one instance, in stream order,
// lead from nothing to state, each transition once.
func checkChain(fs []events.Finding, state events.State) error {
	if len(fs) == 0 {
		return fmt.Errorf("state %s was never announced: no finding", state)
	}
	var from events.State
	seen := map[string]bool{}
	var steps []string
	for _, f := range fs {
		step := string(f.From) + ">" + string(f.To)
		steps = append(steps, step)
		if seen[step] {
			return fmt.Errorf("transition %s announced twice: %v", step, steps)
		}
		seen[step] = true
		if f.From != from {
			return fmt.Errorf("transition %s does not follow %q: %v", step, from, steps)
		}
		from = f.To
	}
	if from != state {
		return fmt.Errorf("findings end in %s, the checker holds %s: %v", from, state, steps)
	}
	return nil
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// binaryFlags runs `bin -h` (or `bin sub -h`) and returns the flags its
// usage lists.
func binaryFlags(t *testing.T, bin string, sub ...string) map[string]bool {
	t.Helper()
	out, _ := exec.Command(bin, append(sub, "-h")...).CombinedOutput() // -h exits 0 or 2
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`).FindAllStringSubmatch(string(out), -1) {
		flags[m[1]] = true
	}
	if len(flags) < 3 {
		t.Fatalf("%s %v -h lists no flags:\n%s", bin, sub, out)
	}
	return flags
}

// envProbe tells whether a binary reads an environment variable as a
// flag's default: run with the variable set to a marker, its usage shows
// the marker as that default.
type envProbe struct {
	t    *testing.T
	bin  string
	sub  []string
	seen map[string]bool
}

func (p *envProbe) reads(name string) bool {
	p.t.Helper()
	if v, ok := p.seen[name]; ok {
		return v
	}
	const marker = "env-probe-3f9c"
	cmd := exec.Command(p.bin, append(p.sub, "-h")...)
	cmd.Env = append(os.Environ(), name+"="+marker)
	out, _ := cmd.CombinedOutput()
	p.seen[name] = bytes.Contains(out, []byte(marker))
	return p.seen[name]
}

// checkArgs checks that every --flag of args is one the binary takes.
func checkArgs(t *testing.T, where string, args []string, flags map[string]bool) {
	t.Helper()
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !flags[name] {
			t.Errorf("%s: flag %s is not a flag of the binary", where, a)
		}
	}
}

// The deployment files agree with the binaries they run: every flag in
// the systemd units and the Kubernetes manifests is one the binary takes,
// every GONGKAI_* variable they set is one it reads, every ${VAR} a unit
// expands is in its example environment file, the manifests' ports,
// probes, secrets and config maps line up, the example registry in the
// config map is a valid registry, and the Dockerfile's stages, sources and
// Go version match the repository. (Neither `docker build` nor a
// Kubernetes API server is available here: these are static checks. The
// units also go through `systemd-analyze verify` when it is installed.)
func TestClusterDeploymentFiles(t *testing.T) {
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+string(os.PathSeparator),
		"../cmd/gongkai", "../cmd/gongkai-ingest", "../cmd/gongkai-checker", "../cmd/gongkai-notifier")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	type binary struct {
		flags map[string]bool
		env   *envProbe
	}
	newBinary := func(name string, sub ...string) binary {
		path := filepath.Join(bin, name)
		return binary{binaryFlags(t, path, sub...), &envProbe{t: t, bin: path, sub: sub, seen: map[string]bool{}}}
	}
	bins := map[string]binary{
		"gongkai-ingest":   newBinary("gongkai-ingest"),
		"gongkai-checker":  newBinary("gongkai-checker"),
		"gongkai-notifier": newBinary("gongkai-notifier"),
		"gongkai run":      newBinary("gongkai", "run"),
	}

	t.Run("systemd", func(t *testing.T) {
		units, err := filepath.Glob(filepath.Join(deployDir, "systemd", "*.service"))
		if err != nil || len(units) < 5 {
			t.Fatalf("units: %v %v", units, err)
		}
		envFiles, _ := filepath.Glob(filepath.Join(deployDir, "systemd", "*.env.example"))
		defined := map[string]bool{}
		for _, f := range envFiles {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range regexp.MustCompile(`(?m)^#?\s*(GONGKAI_[A-Z0-9_]+)=`).FindAllSubmatch(data, -1) {
				defined[string(m[1])] = true
			}
		}
		for _, u := range units {
			data, err := os.ReadFile(u)
			if err != nil {
				t.Fatal(err)
			}
			exec := regexp.MustCompile(`(?m)^ExecStart=(\S+)\s*(.*)$`).FindSubmatch(data)
			if exec == nil {
				t.Errorf("%s: no ExecStart", u)
				continue
			}
			name := filepath.Base(string(exec[1]))
			args := strings.Fields(string(exec[2]))
			if name == "gongkai" && len(args) > 0 && args[0] == "run" {
				name, args = "gongkai run", args[1:]
			}
			for _, m := range regexp.MustCompile(`\$\{([A-Z0-9_]+)\}`).FindAllStringSubmatch(string(exec[2]), -1) {
				if !defined[m[1]] {
					t.Errorf("%s: ExecStart uses ${%s}, which no *.env.example defines", u, m[1])
				}
			}
			b, ok := bins[name]
			if name == "nats-server" {
				continue // its configuration is exercised by TestClusterSurvivesNodeLossMidAudit
			}
			if !ok {
				t.Errorf("%s: runs %s, not a gongkai binary", u, exec[1])
				continue
			}
			checkArgs(t, filepath.Base(u), args, b.flags)
		}
		for v := range defined {
			if !strings.HasPrefix(v, "GONGKAI_NATS_") || v == "GONGKAI_NATS_URL" {
				known := v == "GONGKAI_REPLICAS" || v == "GONGKAI_INGEST_WORKERS" // expanded in ExecStart
				for _, b := range bins {
					known = known || b.env.reads(v)
				}
				if !known {
					t.Errorf("an example environment file sets %s, which no binary reads", v)
				}
			}
		}
		// systemd's own check, with the binaries' paths pointed at stubs.
		sa, err := exec.LookPath("systemd-analyze")
		if err != nil {
			t.Log("systemd-analyze not installed: unit syntax not verified")
			return
		}
		dir, stubs := t.TempDir(), t.TempDir()
		for _, b := range []string{"gongkai", "gongkai-ingest", "gongkai-checker", "gongkai-notifier", "nats-server"} {
			if err := os.WriteFile(filepath.Join(stubs, b), []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		var copies []string
		for _, u := range units {
			data, _ := os.ReadFile(u)
			c := filepath.Join(dir, filepath.Base(u))
			if err := os.WriteFile(c, bytes.ReplaceAll(data, []byte("/usr/local/bin/"), []byte(stubs+"/")), 0o644); err != nil {
				t.Fatal(err)
			}
			copies = append(copies, c)
		}
		out, err := exec.Command(sa, append([]string{"verify", "--man=no"}, copies...)...).CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	})

	t.Run("kubernetes", func(t *testing.T) {
		files, err := filepath.Glob(filepath.Join(deployDir, "k8s", "*.yaml"))
		if err != nil || len(files) < 5 {
			t.Fatalf("manifests: %v %v", files, err)
		}
		type container struct {
			Name    string   `yaml:"name"`
			Command []string `yaml:"command"`
			Args    []string `yaml:"args"`
			Env     []struct {
				Name      string `yaml:"name"`
				ValueFrom *struct {
					SecretKeyRef *struct {
						Name string `yaml:"name"`
						Key  string `yaml:"key"`
					} `yaml:"secretKeyRef"`
				} `yaml:"valueFrom"`
			} `yaml:"env"`
			Ports []struct {
				Name string `yaml:"name"`
			} `yaml:"ports"`
			Probes map[string]any `yaml:",inline"`
		}
		type object struct {
			Kind     string `yaml:"kind"`
			Metadata struct {
				Name      string `yaml:"name"`
				Namespace string `yaml:"namespace"`
			} `yaml:"metadata"`
			Data       map[string]string `yaml:"data"`
			StringData map[string]string `yaml:"stringData"`
			Spec       struct {
				Selector map[string]any `yaml:"selector"`
				Ports    []struct {
					TargetPort string `yaml:"targetPort"`
				} `yaml:"ports"`
				Template struct {
					Metadata struct {
						Labels map[string]string `yaml:"labels"`
					} `yaml:"metadata"`
					Spec struct {
						Containers []container `yaml:"containers"`
					} `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"spec"`
		}
		var objs []object
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			dec := yaml.NewDecoder(bytes.NewReader(data))
			for {
				var o object
				if err := dec.Decode(&o); err != nil {
					if errors.Is(err, io.EOF) {
						break
					}
					t.Fatalf("%s: %v", f, err)
				}
				if o.Kind == "" {
					if filepath.Base(f) == "kustomization.yaml" {
						continue
					}
					t.Errorf("%s: a document without a kind", f)
				}
				if o.Kind != "Kustomization" && o.Kind != "Namespace" && o.Metadata.Namespace != "gongkai" {
					t.Errorf("%s: %s %s is not in namespace gongkai", f, o.Kind, o.Metadata.Name)
				}
				objs = append(objs, o)
			}
		}
		secrets := map[string]map[string]string{}
		deployments := map[string]object{}
		for _, o := range objs {
			switch o.Kind {
			case "Secret":
				secrets[o.Metadata.Name] = o.StringData
			case "ConfigMap":
				if reg, ok := o.Data["agencies.yaml"]; ok {
					if _, err := registry.Parse("configmap agencies.yaml", []byte(reg)); err != nil {
						t.Errorf("the config map's registry: %v", err)
					}
				}
			case "Deployment":
				deployments[o.Metadata.Name] = o
			}
		}
		for _, want := range []string{"gongkai-ingest", "gongkai-checker", "gongkai-notifier"} {
			d, ok := deployments[want]
			if !ok {
				t.Errorf("no Deployment %s", want)
				continue
			}
			for _, c := range d.Spec.Template.Spec.Containers {
				if len(c.Command) != 1 || c.Command[0] != want {
					t.Errorf("deployment %s runs %v", want, c.Command)
					continue
				}
				b := bins[want]
				checkArgs(t, "deployment "+want, c.Args, b.flags)
				if !slices.Contains(c.Args, "--replicas=3") {
					t.Errorf("deployment %s: not --replicas=3", want)
				}
				for _, e := range c.Env {
					if strings.HasPrefix(e.Name, "GONGKAI_") && !b.env.reads(e.Name) {
						t.Errorf("deployment %s sets %s, which %s does not read", want, e.Name, want)
					}
					if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
						ref := e.ValueFrom.SecretKeyRef
						if _, ok := secrets[ref.Name][ref.Key]; !ok {
							t.Errorf("deployment %s: secret %s has no key %s", want, ref.Name, ref.Key)
						}
					}
				}
			}
		}
		// The dashboard Service reaches the checker's dashboard port.
		for _, o := range objs {
			if o.Kind != "Service" || o.Metadata.Name != "gongkai-dashboard" {
				continue
			}
			ports := map[string]bool{}
			for _, c := range deployments["gongkai-checker"].Spec.Template.Spec.Containers {
				for _, p := range c.Ports {
					ports[p.Name] = true
				}
				if !slices.Contains(c.Args, "--dashboard=0.0.0.0:8080") {
					t.Errorf("the checker's dashboard does not listen off loopback: %v", c.Args)
				}
			}
			for _, p := range o.Spec.Ports {
				if !ports[p.TargetPort] {
					t.Errorf("service gongkai-dashboard targets port %q, which the checker does not name", p.TargetPort)
				}
			}
			return
		}
		t.Error("no Service gongkai-dashboard")
	})

	t.Run("dockerfile", func(t *testing.T) {
		path := filepath.Join(deployDir, "docker", "Dockerfile")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// Instructions, with continuation lines joined and comments dropped.
		var lines []string
		cur := ""
		for _, l := range strings.Split(string(data), "\n") {
			l = strings.TrimSpace(l)
			if strings.HasPrefix(l, "#") || (l == "" && cur == "") {
				continue
			}
			if c, ok := strings.CutSuffix(l, "\\"); ok {
				cur += c + " "
				continue
			}
			lines = append(lines, cur+l)
			cur = ""
		}
		known := map[string]bool{"FROM": true, "ARG": true, "WORKDIR": true, "ENV": true, "COPY": true, "RUN": true,
			"USER": true, "EXPOSE": true, "ENTRYPOINT": true, "CMD": true, "LABEL": true}
		stages := map[string]bool{}
		froms, goVersion := 0, ""
		for _, l := range lines {
			instr, rest, _ := strings.Cut(l, " ")
			if !known[instr] {
				t.Errorf("%s: unknown instruction %q", path, l)
				continue
			}
			f := strings.Fields(rest)
			switch instr {
			case "ARG":
				if v, ok := strings.CutPrefix(rest, "GO_VERSION="); ok {
					goVersion = v
				}
			case "FROM":
				froms++
				if len(f) == 3 && strings.EqualFold(f[1], "AS") {
					stages[f[2]] = true
				}
			case "COPY":
				var srcs []string
				from := ""
				for _, a := range f[:len(f)-1] {
					if v, ok := strings.CutPrefix(a, "--from="); ok {
						from = v
					} else if !strings.HasPrefix(a, "--") {
						srcs = append(srcs, a)
					}
				}
				if from != "" {
					if !stages[from] {
						t.Errorf("%s: COPY --from=%s: no such stage before it", path, from)
					}
					continue
				}
				for _, s := range srcs {
					matches, _ := filepath.Glob(filepath.Join("../..", s))
					if len(matches) == 0 && !strings.Contains(s, "*") {
						t.Errorf("%s: COPY %s: not in the repository", path, s)
					}
				}
			case "RUN":
				for _, m := range regexp.MustCompile(`\./cmd/[a-z-]+`).FindAllString(rest, -1) {
					if _, err := os.Stat(filepath.Join("..", m)); err != nil {
						t.Errorf("%s: builds %s, which does not exist", path, m)
					}
				}
			}
		}
		if froms < 2 {
			t.Errorf("%s: %d stages, want a multi-stage build", path, froms)
		}
		work, err := os.ReadFile("../../go.work")
		if err != nil {
			t.Fatal(err)
		}
		if m := regexp.MustCompile(`(?m)^go (\S+)`).FindSubmatch(work); m == nil || string(m[1]) != goVersion {
			t.Errorf("%s builds with Go %q; go.work says %q", path, goVersion, m)
		}
		if docker, err := exec.LookPath("docker"); err == nil {
			if out, err := exec.Command(docker, "info").CombinedOutput(); err == nil {
				out, err := exec.Command(docker, "build", "--check", "-f", path, "../..").CombinedOutput()
				if err != nil {
					t.Errorf("docker build --check: %v\n%s", err, out)
				}
			} else {
				t.Logf("docker daemon unavailable: the Dockerfile is checked statically only (%s)", firstLineOf(out))
			}
		}
	})
}

func firstLineOf(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}
