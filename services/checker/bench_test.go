package checker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

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
// evaluation. Two checker figures: the first audit (every observation
// creates an instance and publishes a finding: three server round trips)
// and the next, unchanged audit (a read and, at most daily, a write).
//
//	go test ./checker/ -run XXX -bench Throughput -benchtime 1x
func BenchmarkThroughput(b *testing.B) {
	const n = 5000
	for range b.N {
		srv := eventstest.RunServer(b, "")
		_, js := eventstest.Connect(b, srv.URL)
		ctx := context.Background()
		reg := testRegistry(b, n)
		at := time.Date(2026, 2, 3, 9, 0, 0, 0, cst)
		var size int
		for i := range n {
			pub := ""
			if i%3 == 0 {
				pub = "2026-01-20"
			}
			o := observation(fmt.Sprintf("a%05d", i), "bench", at, pub)
			ev, err := events.New("bench", fmt.Sprintf("obs-%d", i), o.AgencyID, at, o)
			if err != nil {
				b.Fatal(err)
			}
			body, _ := ev.Marshal()
			size += len(body)
			if _, err := events.Publish(ctx, js, events.ObservationSubject(o.AgencyID), ev); err != nil {
				b.Fatal(err)
			}
		}
		avg := size / n

		// Baseline: a durable consumer over the same stream, 32 workers like
		// the checker, each message acknowledged after a synchronous
		// publish of a same-size message to another stream.
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "BENCH", Subjects: []string{"bench.>"}, Storage: jetstream.FileStorage}); err != nil {
			b.Fatal(err)
		}
		cons, err := js.CreateOrUpdateConsumer(ctx, events.StreamObservations, jetstream.ConsumerConfig{Durable: "bench-raw", AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 1024})
		if err != nil {
			b.Fatal(err)
		}
		payload := make([]byte, avg)
		start := time.Now()
		done := make(chan struct{}, n)
		lanes := make([]chan jetstream.Msg, 32)
		for i := range lanes {
			lanes[i] = make(chan jetstream.Msg, 64)
			go func() {
				for m := range lanes[i] {
					if _, err := js.Publish(ctx, "bench.out", payload); err != nil {
						b.Error(err)
					}
					_ = m.Ack()
					done <- struct{}{}
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
		raw := time.Since(start)
		cc.Stop()
		for _, l := range lanes {
			close(l)
		}

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
		start = time.Now()
		c := startChecker(b, js, reg, r, func() time.Time { return at })
		waitConsumed(b, js)
		for streamMsgs(b, js, events.StreamFindings) < n { // findings are published asynchronously
			time.Sleep(5 * time.Millisecond)
		}
		checked := time.Since(start)
		firstFindings := streamMsgs(b, js, events.StreamFindings) // CN-R19-AR-DEPT and CN-R19-AR-GOV do not both apply: one per observation
		if got := arFindings(b, js); got != n {
			b.Fatalf("%d annual-report findings, want %d", got, n)
		}

		// Steady state: the next audit observes the same facts; nothing
		// transitions, so nothing is published. The checker is stopped
		// while the audit is published and timed from its restart.
		c.stop(b)
		for i := range n {
			pub := ""
			if i%3 == 0 {
				pub = "2026-01-20"
			}
			o := observation(fmt.Sprintf("a%05d", i), "bench-2", at, pub)
			ev, err := events.New("bench", fmt.Sprintf("obs2-%d", i), o.AgencyID, at, o)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := events.Publish(ctx, js, events.ObservationSubject(o.AgencyID), ev); err != nil {
				b.Fatal(err)
			}
		}
		c = startChecker(b, js, reg, r, func() time.Time { return at })
		start = time.Now() // from the moment it consumes (its recovery republishing runs alongside)
		waitConsumed(b, js)
		steady := time.Since(start)
		c.stop(b)
		if got := streamMsgs(b, js, events.StreamFindings); got != firstFindings {
			b.Fatalf("%d findings after the unchanged audit, want still %d", got, firstFindings)
		}
		b.ReportMetric(float64(firstFindings)/float64(n), "findings/obs")
		b.ReportMetric(float64(avg), "bytes/msg")
		b.ReportMetric(float64(n)/raw.Seconds(), "raw-msgs/s")
		b.ReportMetric(float64(n)/checked.Seconds(), "new-obs/s")
		b.ReportMetric(float64(firstFindings)/checked.Seconds(), "new-findings/s")
		b.ReportMetric(raw.Seconds()/checked.Seconds(), "new-ratio")
		b.ReportMetric(float64(n)/steady.Seconds(), "steady-obs/s")
		b.ReportMetric(raw.Seconds()/steady.Seconds(), "steady-ratio")
	}
}
