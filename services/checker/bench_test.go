package checker_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/pkg/events/eventstest"
	"github.com/gongkai/gongkai/services/checker"
	"github.com/gongkai/gongkai/services/internal/obligation"
)

// BenchmarkThroughput measures, on one embedded JetStream server, the
// checker consuming observations, evaluating them, writing state and
// publishing findings, against a raw JetStream baseline measured in the
// same run: consume + ack + publish of messages of the same size with no
// evaluation. Three checker figures: the first audit (every observation
// creates an instance and publishes a finding: the observation, the state
// write and the finding go through the server, and the watch on the bucket
// delivers the write), the next, unchanged audit (evaluated on the view,
// nothing written), and a nightly audit in which one observation in thirty
// brings a transition (a report newly found). Besides throughput it reports the process's CPU time
// per message and, as references for the first audit, the same JetStream
// work without any checker code (serverFloor), and the work of a design
// with one stored message per transition (singleWriteFloor).
//
// Each audit is timed from the checker's readiness (its start-up is
// reported apart) to the moment its last observation's acknowledgement is
// seen, and, where it publishes findings, they are all stored. BENCH_N sets
// the number of agencies (default 5,000).
//
//	go test ./checker/ -run '^$' -bench Throughput -benchtime 3x
//	BENCH_N=20000 go test ./checker/ -run '^$' -bench Throughput -benchtime 3x
func BenchmarkThroughput(b *testing.B) {
	n := 5000
	if v, _ := strconv.Atoi(os.Getenv("BENCH_N")); v > 0 {
		n = v
	}
	for range b.N {
		srv := eventstest.RunServer(b, "")
		nc, js := eventstest.Connect(b, srv.URL)
		acks := countAcks(b, nc)
		ctx := context.Background()
		reg := testRegistry(b, n)
		at := time.Date(2026, 2, 3, 9, 0, 0, 0, cst)
		// One agency in three has published its report on time.
		published := func(i int) string {
			if i%3 == 0 {
				return "2026-01-20"
			}
			return ""
		}
		avg := publishAudit(b, js, n, "bench", func(i int) events.Observation {
			return observation(fmt.Sprintf("a%05d", i), "bench", at, published(i))
		})

		// Baseline: a durable consumer over the same stream, 32 workers like
		// the checker, each message acknowledged after a synchronous
		// publish of a same-size message to another stream.
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "BENCH", Subjects: []string{"bench.>"}, Storage: jetstream.FileStorage}); err != nil {
			b.Fatal(err)
		}
		payload := make([]byte, avg)
		raw, rawCPU := consumeInLanes(b, js, "bench-raw", n, func(_ jetstream.Msg, done func()) {
			if _, err := js.Publish(ctx, "bench.out", payload); err != nil {
				b.Error(err)
			}
			done()
		}, nil)

		// One obligation (the department annual report of cn-ogi-2019), so
		// that each observation makes one transition and one finding.
		all, err := obligation.LoadEmbedded()
		if err != nil {
			b.Fatal(err)
		}
		p, _ := all.Pack("cn-ogi-2019")
		cat, err := obligation.New(p)
		if err != nil {
			b.Fatal(err)
		}
		r := checker.NewRules(cat)
		start := time.Now()
		c := startChecker(b, js, reg, r, func() time.Time { return at })
		startup := time.Since(start) // provisioning the topology and loading the view, reported apart
		start, cpu0 := time.Now(), cpuTime()
		end := acks.until(b, n)
		end = findingsStored(b, js, n, end)
		checked, checkedCPU := end.Sub(start), cpuTime()-cpu0
		firstFindings := streamMsgs(b, js, events.StreamFindings) // CN-R19-AR-DEPT and CN-R19-AR-GOV do not both apply: one per observation
		if got := arFindings(b, js); got != n {
			b.Fatalf("%d annual-report findings, want %d", got, n)
		}

		// Steady state: the next audit observes the same facts; nothing
		// transitions, so nothing is published. The checker is stopped
		// while the audit is published and timed from its restart.
		c.stop(b)
		publishAudit(b, js, n, "bench-2", func(i int) events.Observation {
			return observation(fmt.Sprintf("a%05d", i), "bench-2", at, published(i))
		})
		c = startChecker(b, js, reg, r, func() time.Time { return at })
		start, cpu0 = time.Now(), cpuTime() // from the moment it consumes (its recovery republishing runs alongside)
		steady, steadyCPU := acks.until(b, 2*n).Sub(start), cpuTime()-cpu0
		c.stop(b)
		if got := streamMsgs(b, js, events.StreamFindings); got != firstFindings {
			b.Fatalf("%d findings after the unchanged audit, want still %d", got, firstFindings)
		}

		// A nightly audit: the same facts for most agencies, a report newly
		// found (two days late) for one in twenty, so a few per cent of the
		// observations make a transition and a finding, as on an ordinary
		// night once a fleet is known.
		changed := 0
		publishAudit(b, js, n, "bench-3", func(i int) events.Observation {
			pub := published(i)
			if pub == "" && i%20 == 1 {
				pub, changed = "2026-02-02", changed+1
			}
			return observation(fmt.Sprintf("a%05d", i), "bench-3", at, pub)
		})
		c = startChecker(b, js, reg, r, func() time.Time { return at })
		start, cpu0 = time.Now(), cpuTime()
		end = findingsStored(b, js, int(firstFindings)+changed, acks.until(b, 3*n))
		nightly, nightlyCPU := end.Sub(start), cpuTime()-cpu0
		c.stop(b)
		if got := streamMsgs(b, js, events.StreamFindings); got != firstFindings+uint64(changed) {
			b.Fatalf("%d findings after the nightly audit, want %d", got, firstFindings+uint64(changed))
		}
		stateSize, findingSize := storedSizes(b, js)
		floor, floorCPU := serverFloor(b, js, n, stateSize, findingSize)
		single, singleCPU := singleWriteFloor(b, js, n, stateSize+findingSize)

		b.ReportMetric(float64(firstFindings)/float64(n), "findings/obs")
		b.ReportMetric(float64(avg), "bytes/msg")
		b.ReportMetric(float64(n)/raw.Seconds(), "raw-msgs/s")
		b.ReportMetric(float64(n)/checked.Seconds(), "new-obs/s")
		b.ReportMetric(float64(firstFindings)/checked.Seconds(), "new-findings/s")
		b.ReportMetric(raw.Seconds()/checked.Seconds(), "new-ratio")
		b.ReportMetric(float64(startup.Microseconds())/1000, "new-startup-ms")
		b.ReportMetric(float64(n)/steady.Seconds(), "steady-obs/s")
		b.ReportMetric(raw.Seconds()/steady.Seconds(), "steady-ratio")
		b.ReportMetric(raw.Seconds()/nightly.Seconds(), "nightly-ratio")
		b.ReportMetric(float64(nightlyCPU.Microseconds())/float64(n), "nightly-cpu-µs/obs")
		b.ReportMetric(float64(changed)/float64(n), "nightly-findings/obs")
		// CPU time of the whole process (checker, client and server) per
		// message: less sensitive than throughput to other load on a
		// shared machine.
		b.ReportMetric(float64(rawCPU.Microseconds())/float64(n), "raw-cpu-µs/msg")
		b.ReportMetric(float64(checkedCPU.Microseconds())/float64(n), "new-cpu-µs/obs")
		b.ReportMetric(float64(steadyCPU.Microseconds())/float64(n), "steady-cpu-µs/obs")
		b.ReportMetric(raw.Seconds()/floor.Seconds(), "floor-ratio")
		b.ReportMetric(float64(floorCPU.Microseconds())/float64(n), "floor-cpu-µs/msg")
		b.ReportMetric(raw.Seconds()/single.Seconds(), "single-write-ratio")
		b.ReportMetric(float64(singleCPU.Microseconds())/float64(n), "single-write-cpu-µs/msg")
	}
}

// publishAudit publishes the observations obs(0) … obs(n-1) of one audit
// run and returns their mean encoded size.
func publishAudit(b *testing.B, js jetstream.JetStream, n int, run string, obs func(i int) events.Observation) int {
	size := 0
	for i := range n {
		o := obs(i)
		ev, err := events.New("bench", fmt.Sprintf("obs-%s-%d", run, i), o.AgencyID, o.ObservedAt, o)
		if err != nil {
			b.Fatal(err)
		}
		body, err := ev.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		size += len(body)
		if _, err := events.Publish(context.Background(), js, events.ObservationSubject(o.AgencyID), ev); err != nil {
			b.Fatal(err)
		}
	}
	return size / n
}

// ackCounter counts the acknowledgements the checker's observation consumer
// receives, with a core subscription on their subject: the moment the last
// observation of an audit is acknowledged, to the millisecond, without
// polling the server.
type ackCounter struct {
	n    atomic.Int64
	last atomic.Int64 // time of the last, Unix nanoseconds
}

func countAcks(b *testing.B, nc *nats.Conn) *ackCounter {
	a := &ackCounter{}
	sub, err := nc.Subscribe("$JS.ACK."+events.StreamObservations+"."+events.ConsumerChecker+".>", func(m *nats.Msg) {
		if string(m.Data) != "+ACK" { // a nak or progress report: not done yet
			return
		}
		a.last.Store(time.Now().UnixNano())
		a.n.Add(1)
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sub.Unsubscribe() })
	return a
}

// until returns when n acknowledgements in all have been received, and the
// time the last of them was.
func (a *ackCounter) until(b *testing.B, n int) time.Time {
	deadline := time.Now().Add(2 * time.Minute)
	for a.n.Load() < int64(n) {
		if time.Now().After(deadline) {
			b.Fatalf("%d observations acknowledged, want %d", a.n.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Unix(0, a.last.Load())
}

// findingsStored returns the later of after and the moment the findings
// stream is seen to hold n findings (polled every millisecond).
func findingsStored(b *testing.B, js jetstream.JetStream, n int, after time.Time) time.Time {
	deadline := time.Now().Add(time.Minute)
	for streamMsgs(b, js, events.StreamFindings) < uint64(n) {
		if time.Now().After(deadline) {
			b.Fatalf("%d findings, want %d", streamMsgs(b, js, events.StreamFindings), n)
		}
		time.Sleep(time.Millisecond)
	}
	if now := time.Now(); now.After(after) {
		return now
	}
	return after
}

// storedSizes returns the size of a stored instance (the annual report of
// a00001) and of the first finding.
func storedSizes(b *testing.B, js jetstream.JetStream) (state, finding int) {
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, events.BucketObligations)
	if err != nil {
		b.Fatal(err)
	}
	e, err := kv.Get(ctx, checker.Key("a00001", "cn-ogi-2019", "CN-R19-AR-DEPT", "2025"))
	if err != nil {
		b.Fatal(err)
	}
	st, err := js.Stream(ctx, events.StreamFindings)
	if err != nil {
		b.Fatal(err)
	}
	m, err := st.GetMsg(ctx, 1)
	if err != nil {
		b.Fatal(err)
	}
	return len(e.Value()), len(m.Data)
}

// serverFloor measures, as a reference for the first audit, what it asks
// of JetStream without decoding or evaluating anything, pipelined as the
// checker pipelines it: n observations consumed by the same lanes, each
// sending a compare-and-set create of a state-sized value to the bucket
// asynchronously; when the server answers, a finding-sized message is
// published with a message id (not waited for) and the observation is
// acknowledged — while a watch on the bucket receives every write.
func serverFloor(b *testing.B, js jetstream.JetStream, n, stateSize, findingSize int) (time.Duration, time.Duration) {
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, events.BucketObligations)
	if err != nil {
		b.Fatal(err)
	}
	w, err := kv.WatchAll(ctx, jetstream.UpdatesOnly())
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = w.Stop() }()
	go func() {
		for range w.Updates() {
		}
	}()
	pub := newCallbackPublisher(b, js)
	state, finding := make([]byte, stateSize), make([]byte, findingSize)
	return consumeInLanes(b, js, "bench-floor", n, func(m jetstream.Msg, done func()) {
		md, _ := m.Metadata()
		key := fmt.Sprintf("floor%d.p.o.2025", md.Sequence.Stream)
		sm := nats.NewMsg("$KV." + events.BucketObligations + "." + key)
		sm.Data = state
		pub.publish(b, sm, func() {
			f := nats.NewMsg(events.FindingSubject("floor"))
			f.Data = finding
			pub.publish(b, f, nil, jetstream.WithMsgID(key))
			done()
		}, jetstream.WithExpectLastSequencePerSubject(0))
	}, pub.settle)
}

// singleWriteFloor measures the JetStream work of a transition in a
// design the checker does not have: one stored message per transition, the
// state and the finding together (size bytes), published with a message id
// on a subject of its own instance, compare-and-set by the expected last
// sequence of that subject, pipelined like serverFloor — no state bucket
// and no watch. It is the reference for the storage change
// docs/benchmarks.md discusses.
func singleWriteFloor(b *testing.B, js jetstream.JetStream, n, size int) (time.Duration, time.Duration) {
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "BENCH_SINGLE", Subjects: []string{"single.>"},
		Storage: jetstream.FileStorage, Duplicates: 24 * time.Hour}); err != nil {
		b.Fatal(err)
	}
	pub := newCallbackPublisher(b, js)
	body := make([]byte, size)
	return consumeInLanes(b, js, "bench-single", n, func(m jetstream.Msg, done func()) {
		md, _ := m.Metadata()
		key := fmt.Sprintf("single.a%d.p.o.2025", md.Sequence.Stream)
		sm := nats.NewMsg(key)
		sm.Data = body
		pub.publish(b, sm, done, jetstream.WithMsgID(key), jetstream.WithExpectLastSequencePerSubject(0))
	}, pub.settle)
}

// callbackPublisher publishes asynchronously with the server's answers
// delivered to callbacks, as the checker's state writes and findings are.
type callbackPublisher struct {
	js   jetstream.JetStream
	mu   sync.Mutex
	then map[*nats.Msg]func()
}

func newCallbackPublisher(b *testing.B, js jetstream.JetStream) *callbackPublisher {
	p := &callbackPublisher{then: map[*nats.Msg]func(){}}
	answered := func(m *nats.Msg) {
		p.mu.Lock()
		f := p.then[m]
		delete(p.then, m)
		p.mu.Unlock()
		if f != nil {
			f()
		}
	}
	var err error
	p.js, err = jetstream.New(js.Conn(),
		jetstream.WithPublishAsyncAckHandler(func(_ jetstream.JetStream, m *nats.Msg, _ *jetstream.PubAck) { answered(m) }),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, m *nats.Msg, err error) {
			b.Error(err)
			answered(m)
		}))
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// publish sends m and calls then, if given, when the server has stored it.
func (p *callbackPublisher) publish(b *testing.B, m *nats.Msg, then func(), opts ...jetstream.PublishOpt) {
	if then != nil {
		p.mu.Lock()
		p.then[m] = then
		p.mu.Unlock()
	}
	if _, err := p.js.PublishMsgAsync(m, opts...); err != nil {
		b.Error(err)
	}
}

// settle waits for every publish to be answered.
func (p *callbackPublisher) settle() { <-p.js.PublishAsyncComplete() }

// consumeInLanes consumes the first n observations with a new durable
// consumer and 32 workers, as the checker does; handle is given each
// message and a function to call once it is handled (which acknowledges
// it), possibly after handle has returned. It returns the time and the
// process CPU time until the n-th acknowledgement and, when given, until
// settle returns.
func consumeInLanes(b *testing.B, js jetstream.JetStream, durable string, n int, handle func(m jetstream.Msg, done func()), settle func()) (time.Duration, time.Duration) {
	ctx := context.Background()
	cons, err := js.CreateOrUpdateConsumer(ctx, events.StreamObservations, jetstream.ConsumerConfig{Durable: durable, AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 1024})
	if err != nil {
		b.Fatal(err)
	}
	start, cpu0 := time.Now(), cpuTime()
	done := make(chan struct{}, n)
	var taken atomic.Int64
	var lanesDone sync.WaitGroup
	lanes := make([]chan jetstream.Msg, 32)
	for i := range lanes {
		lanes[i] = make(chan jetstream.Msg, 64)
		lanesDone.Add(1)
		go func() {
			defer lanesDone.Done()
			for m := range lanes[i] {
				if taken.Add(1) > int64(n) {
					continue // beyond the n measured
				}
				handle(m, func() {
					_ = m.Ack()
					done <- struct{}{}
				})
			}
		}()
	}
	k := 0
	cc, err := cons.Consume(func(m jetstream.Msg) { lanes[k%32] <- m; k++ }, jetstream.PullMaxMessages(256))
	if err != nil {
		b.Fatal(err)
	}
	for range n {
		<-done
	}
	cc.Stop()
	<-cc.Closed() // no callback runs after this: the lanes can be closed
	if settle != nil {
		settle()
	}
	d, cpu := time.Since(start), cpuTime()-cpu0
	for _, l := range lanes {
		close(l)
	}
	lanesDone.Wait()
	return d, cpu
}

// cpuTime is the process's CPU time so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFirstAuditAllPacks measures what the scale asks of a
// first audit: every embedded pack applies, and each agency's observation
// names all its columns (the annual report found, budgets not, the other
// columns present and fresh), so each observation creates some twenty
// instances and as many findings. It reports the instances created per
// second from the checker's readiness to the last acknowledgement, and
// what that rate makes of a national first audit (600,000 instances). No
// baseline: this is the absolute figure behind the throughput ratio.
//
//	go test ./checker/ -run '^$' -bench FirstAuditAllPacks -benchtime 1x -count 3
func BenchmarkFirstAuditAllPacks(b *testing.B) {
	n := 1000
	if v, _ := strconv.Atoi(os.Getenv("BENCH_N")); v > 0 {
		n = v
	}
	at := time.Date(2026, 2, 3, 9, 0, 0, 0, cst)
	for range b.N {
		srv := eventstest.RunServer(b, "")
		nc, js := eventstest.Connect(b, srv.URL)
		acks := countAcks(b, nc)
		ctx := context.Background()
		reg := testRegistry(b, n)
		publishAudit(b, js, n, "bench", func(i int) events.Observation { return fullObservation(fmt.Sprintf("a%05d", i), at) })
		all, err := obligation.LoadEmbedded()
		if err != nil {
			b.Fatal(err)
		}
		c := startChecker(b, js, reg, checker.NewRules(all), func() time.Time { return at })
		start, cpu0 := time.Now(), cpuTime()
		end := acks.until(b, n)
		took, cpu := end.Sub(start), cpuTime()-cpu0
		c.stop(b)
		kv, err := js.KeyValue(ctx, events.BucketObligations)
		if err != nil {
			b.Fatal(err)
		}
		st, err := kv.Status(ctx)
		if err != nil {
			b.Fatal(err)
		}
		instances := st.Values()
		findings := streamMsgs(b, js, events.StreamFindings)
		if findings != instances {
			b.Fatalf("%d findings for %d new instances", findings, instances)
		}
		perSec := float64(instances) / took.Seconds()
		b.ReportMetric(float64(instances)/float64(n), "instances/obs")
		b.ReportMetric(perSec, "instances/s")
		b.ReportMetric(float64(n)/took.Seconds(), "obs/s")
		b.ReportMetric(float64(cpu.Microseconds())/float64(instances), "cpu-µs/instance")
		b.ReportMetric(600000/perSec, "national-first-audit-s")
	}
}

// fullObservation is an agency's observation naming every column the
// embedded packs judge: the 2025 annual report found (on time), no budget
// or final accounts, every other column present with a recent item.
func fullObservation(agency string, at time.Time) events.Observation {
	ev := strings.Repeat("e", 64)
	col := func(key string) events.Column {
		return events.Column{Key: key, URL: "http://x.example/" + key + "/", Outcome: events.OutcomeOK, Evidence: ev,
			Newest: "2026-02-01", ItemCount: 1,
			Items: []events.Item{{Title: "通知", URL: "http://x.example/" + key + "/1.html", Date: "2026-02-01"}}}
	}
	o := events.Observation{AgencyID: agency, RunID: "bench", ObservedAt: at, Site: "http://x.example/", Outcome: events.OutcomeOK,
		HomeNewest: "2026-02-02", HomeEvidence: ev}
	for _, k := range []string{"leaders", "news", "notices", "ogi_catalogue", "ogi_guide", "ogi_request", "ogi_rules",
		"org_intro", "personnel_planning", "policy_interpretation", "statutory_disclosure"} {
		o.Columns = append(o.Columns, col(k))
	}
	ar := col(events.ColumnAnnualReport)
	ar.Items = []events.Item{{Title: "测试局2025年政府信息公开工作年度报告", URL: "http://x.example/ndbg/1.html", Date: "2026-01-20", Year: 2025}}
	o.Columns = append(o.Columns, ar, events.Column{Key: events.ColumnBudget, URL: "http://x.example/yjs/", Outcome: events.OutcomeOK, Evidence: ev})
	return o
}
