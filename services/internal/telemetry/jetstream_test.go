package telemetry

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/pkg/events/eventstest"
)

func TestJetStreamCollector(t *testing.T) {
	srv := eventstest.RunServer(t, "")
	_, js := eventstest.Connect(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// Three audit jobs queued; the ingest consumer takes one and does not
	// acknowledge it yet: lag 3, of which 1 ack pending.
	for _, a := range []string{"a1", "a2", "a3"} {
		if _, err := js.Publish(ctx, events.AuditJobSubject(a), []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := js.Consumer(ctx, events.StreamAudit, events.ConsumerIngest)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for range batch.Messages() {
	}
	obj, err := js.ObjectStore(ctx, events.ObjectStoreEvidence)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obj.PutBytes(ctx, "sha256-x", []byte(strings.Repeat("evidence ", 1000))); err != nil {
		t.Fatal(err)
	}

	c, err := NewJetStreamCollector(JetStreamOptions{JetStream: js, Now: func() time.Time { return time.Unix(1_800_000_000, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)

	// Before the first read: only the collector's own health.
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 3 {
		t.Fatalf("before the first read: %d series, %v; want up, refreshed and errors", n, err)
	}
	if err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP gongkai_jetstream_consumer_lag_messages Consumer lag: messages not yet delivered (num_pending) plus delivered and not yet acknowledged (num_ack_pending).
# TYPE gongkai_jetstream_consumer_lag_messages gauge
gongkai_jetstream_consumer_lag_messages{consumer="checker",stream="GONGKAI_OBSERVATIONS"} 0
gongkai_jetstream_consumer_lag_messages{consumer="checker-ticks",stream="GONGKAI_TICKS"} 0
gongkai_jetstream_consumer_lag_messages{consumer="ingest",stream="GONGKAI_AUDIT"} 3
gongkai_jetstream_consumer_lag_messages{consumer="notifier",stream="GONGKAI_FINDINGS"} 0
# HELP gongkai_jetstream_consumer_ack_pending_messages Messages delivered to the consumer and not yet acknowledged (being worked on, or waiting for redelivery).
# TYPE gongkai_jetstream_consumer_ack_pending_messages gauge
gongkai_jetstream_consumer_ack_pending_messages{consumer="checker",stream="GONGKAI_OBSERVATIONS"} 0
gongkai_jetstream_consumer_ack_pending_messages{consumer="checker-ticks",stream="GONGKAI_TICKS"} 0
gongkai_jetstream_consumer_ack_pending_messages{consumer="ingest",stream="GONGKAI_AUDIT"} 1
gongkai_jetstream_consumer_ack_pending_messages{consumer="notifier",stream="GONGKAI_FINDINGS"} 0
# HELP gongkai_jetstream_info_up 1 if the last read of JetStream information succeeded, 0 if it failed (the other gongkai_jetstream_* series then hold the last successful read).
# TYPE gongkai_jetstream_info_up gauge
gongkai_jetstream_info_up 1
# HELP gongkai_jetstream_info_refreshed_timestamp_seconds When the JetStream information reported was read (Unix time); 0 before the first successful read.
# TYPE gongkai_jetstream_info_refreshed_timestamp_seconds gauge
gongkai_jetstream_info_refreshed_timestamp_seconds 1.8e+09
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"gongkai_jetstream_consumer_lag_messages", "gongkai_jetstream_consumer_ack_pending_messages",
		"gongkai_jetstream_info_up", "gongkai_jetstream_info_refreshed_timestamp_seconds"); err != nil {
		t.Error(err)
	}

	// Every stream of the topology is reported, the buckets' and the
	// object store's included, with its replicas.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	streams := map[string]map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "stream" && strings.HasPrefix(mf.GetName(), "gongkai_jetstream_stream_") {
					if streams[l.GetValue()] == nil {
						streams[l.GetValue()] = map[string]float64{}
					}
					streams[l.GetValue()][mf.GetName()] = m.GetGauge().GetValue()
				}
			}
		}
	}
	for _, name := range []string{
		events.StreamAudit, events.StreamObservations, events.StreamFindings, events.StreamNotices, events.StreamTicks,
		"KV_" + events.BucketObligations, "KV_" + events.BucketSentLedger, "KV_" + events.BucketPendingNotices,
		"OBJ_" + events.ObjectStoreEvidence,
	} {
		s := streams[name]
		if s == nil {
			t.Errorf("stream %s not reported", name)
			continue
		}
		if s["gongkai_jetstream_stream_replicas"] != 1 || s["gongkai_jetstream_stream_replicas_current"] != 1 {
			t.Errorf("stream %s: replicas %v current %v, want 1 and 1", name,
				s["gongkai_jetstream_stream_replicas"], s["gongkai_jetstream_stream_replicas_current"])
		}
	}
	if got := streams[events.StreamAudit]["gongkai_jetstream_stream_messages"]; got != 3 {
		t.Errorf("audit stream messages = %v, want 3", got)
	}
	if got := streams["OBJ_"+events.ObjectStoreEvidence]["gongkai_jetstream_stream_bytes"]; got <= 0 {
		t.Errorf("evidence store bytes = %v, want > 0", got)
	}
	if got := streams["OBJ_"+events.ObjectStoreEvidence]["gongkai_jetstream_stream_max_bytes"]; got != -1 {
		t.Errorf("evidence store max bytes = %v, want -1 (unlimited)", got)
	}
	// The audit queue is busy, the other consumers idle: only they have a
	// last idle time.
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP gongkai_jetstream_consumer_last_idle_timestamp_seconds Last read (Unix time) at which the consumer had nothing outstanding (lag 0); absent until this process has seen it so. For the ingest consumer, time() minus this is how long the audit queue has been busy: the running audit is not complete.
# TYPE gongkai_jetstream_consumer_last_idle_timestamp_seconds gauge
gongkai_jetstream_consumer_last_idle_timestamp_seconds{consumer="checker",stream="GONGKAI_OBSERVATIONS"} 1.8e+09
gongkai_jetstream_consumer_last_idle_timestamp_seconds{consumer="checker-ticks",stream="GONGKAI_TICKS"} 1.8e+09
gongkai_jetstream_consumer_last_idle_timestamp_seconds{consumer="notifier",stream="GONGKAI_FINDINGS"} 1.8e+09
`), "gongkai_jetstream_consumer_last_idle_timestamp_seconds"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(c, "gongkai_jetstream_account_storage_bytes"); n != 1 {
		t.Errorf("account storage series = %d, want 1", n)
	}
}

// A failed read keeps the last figures and says so.
func TestJetStreamCollectorKeepsLastReadOnFailure(t *testing.T) {
	srv := eventstest.RunServer(t, "")
	nc, js := eventstest.Connect(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := NewJetStreamCollector(JetStreamOptions{JetStream: js, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	if err := c.Refresh(ctx); err == nil {
		t.Fatal("refresh on a closed connection succeeded")
	}
	if got := testutil.ToFloat64(c.errs); got != 1 {
		t.Errorf("errors = %v, want 1", got)
	}
	if n := testutil.CollectAndCount(c, "gongkai_jetstream_consumer_lag_messages"); n != 4 {
		t.Errorf("lag series after a failed read = %d, want the 4 of the last read", n)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP gongkai_jetstream_info_up 1 if the last read of JetStream information succeeded, 0 if it failed (the other gongkai_jetstream_* series then hold the last successful read).
# TYPE gongkai_jetstream_info_up gauge
gongkai_jetstream_info_up 0
`), "gongkai_jetstream_info_up"); err != nil {
		t.Error(err)
	}
}

func TestJetStreamCollectorNeedsJetStream(t *testing.T) {
	if _, err := NewJetStreamCollector(JetStreamOptions{}); err == nil {
		t.Fatal("no error without a JetStream connection")
	}
}
