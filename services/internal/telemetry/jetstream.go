package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gongkai/gongkai/pkg/events"
)

// Defaults of JetStreamOptions.
const (
	DefaultJetStreamInterval = 15 * time.Second
	DefaultJetStreamTimeout  = 5 * time.Second
)

// JetStreamOptions configures a JetStreamCollector.
type JetStreamOptions struct {
	// JetStream is the connection the collector reads stream and consumer
	// information on. Required.
	JetStream jetstream.JetStream
	// Topology names the streams, consumers, buckets and object stores to
	// report; default events.DefaultTopology(). The names are fixed by
	// pkg/events, so the collector's cardinality is bounded (about 50
	// series) whatever the number of agencies.
	Topology events.Topology
	// Interval between two reads; default DefaultJetStreamInterval.
	Interval time.Duration
	// Timeout of one read of every stream and consumer; default
	// DefaultJetStreamTimeout.
	Timeout time.Duration
	// Logger reports failed reads: once when a second read in a row
	// fails, and once when reads succeed again.
	Logger *slog.Logger
	// Now is the clock of the refresh timestamp; default time.Now.
	Now func() time.Time
}

// JetStreamCollector reports the state of gongkai's JetStream topology as
// Prometheus gauges: messages and bytes of every stream (including the
// streams behind the key-value buckets, KV_<bucket>, and the evidence
// object store, OBJ_<bucket>), the lag of every durable consumer, and the
// account's storage. It reads the information in the background every
// Interval (Run), so a scrape never waits on NATS and a slow or partitioned
// cluster does not stall /metrics; a scrape reports the last successful
// read and gongkai_jetstream_info_up says whether the last read failed.
//
// Every process of a deployment may run one: the figures are the same in
// each, and the rules aggregate them with max.
type JetStreamCollector struct {
	opts JetStreamOptions
	log  *slog.Logger

	mu       sync.Mutex
	snap     jsSnapshot
	failures int                  // consecutive failed reads
	lastIdle map[string]time.Time // stream/consumer → last read with lag 0

	errs prometheus.Counter

	streamMsgs, streamBytes, streamMaxBytes, streamReplicas, streamCurrent *prometheus.Desc
	consLag, consAckPending, consRedelivered, consWaiting, consLastIdle    *prometheus.Desc
	acctStore, acctMaxStore                                                *prometheus.Desc
	up, refreshed                                                          *prometheus.Desc
}

// jsSnapshot is one read of the topology; absent entries were not read.
type jsSnapshot struct {
	ok        bool
	at        time.Time
	streams   []streamSample
	consumers []consumerSample
	account   *jetstream.AccountInfo
}

type streamSample struct {
	name            string
	msgs, bytes     uint64
	maxBytes        int64
	replicas        int
	currentReplicas int
}

type consumerSample struct {
	stream, name                     string
	at                               time.Time // when read
	lag                              uint64
	ackPending, redelivered, waiting int
}

// NewJetStreamCollector returns a collector; register it on the process's
// registry and call Run.
func NewJetStreamCollector(opts JetStreamOptions) (*JetStreamCollector, error) {
	if opts.JetStream == nil {
		return nil, errors.New("jetstream collector: a JetStream connection is required")
	}
	if opts.Topology.Replicas == 0 {
		opts.Topology = events.DefaultTopology()
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultJetStreamInterval
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultJetStreamTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	stream := []string{"stream"}
	consumer := []string{"stream", "consumer"}
	return &JetStreamCollector{
		opts:     opts,
		log:      opts.Logger,
		lastIdle: map[string]time.Time{},
		errs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gongkai_jetstream_info_errors_total",
			Help: "Reads of JetStream stream, consumer or account information that failed.",
		}),
		streamMsgs: prometheus.NewDesc("gongkai_jetstream_stream_messages",
			"Messages stored in the stream (KV_<bucket> for key-value buckets: one per key and kept revision; OBJ_gongkai_evidence: evidence chunks and metadata).", stream, nil),
		streamBytes: prometheus.NewDesc("gongkai_jetstream_stream_bytes",
			"Bytes stored in the stream on each replica; OBJ_gongkai_evidence is the evidence store.", stream, nil),
		streamMaxBytes: prometheus.NewDesc("gongkai_jetstream_stream_max_bytes",
			"Configured size cap of the stream in bytes; -1 is unlimited (the evidence store's cap is --evidence-max-bytes).", stream, nil),
		streamReplicas: prometheus.NewDesc("gongkai_jetstream_stream_replicas",
			"Configured replicas of the stream (1 embedded, 3 on a cluster).", stream, nil),
		streamCurrent: prometheus.NewDesc("gongkai_jetstream_stream_replicas_current",
			"Replicas of the stream that are up to date: the leader and the current followers; below gongkai_jetstream_stream_replicas while a node is down or catching up, 0 without a leader.", stream, nil),
		consLag: prometheus.NewDesc("gongkai_jetstream_consumer_lag_messages",
			"Consumer lag: messages not yet delivered (num_pending) plus delivered and not yet acknowledged (num_ack_pending).", consumer, nil),
		consAckPending: prometheus.NewDesc("gongkai_jetstream_consumer_ack_pending_messages",
			"Messages delivered to the consumer and not yet acknowledged (being worked on, or waiting for redelivery).", consumer, nil),
		consRedelivered: prometheus.NewDesc("gongkai_jetstream_consumer_redelivered_messages",
			"Messages redelivered at least once and not yet acknowledged (failing work: retried deliveries, crashed workers).", consumer, nil),
		consLastIdle: prometheus.NewDesc("gongkai_jetstream_consumer_last_idle_timestamp_seconds",
			"Last read (Unix time) at which the consumer had nothing outstanding (lag 0); absent until this process has seen it so. For the ingest consumer, time() minus this is how long the audit queue has been busy: the running audit is not complete.", consumer, nil),
		consWaiting: prometheus.NewDesc("gongkai_jetstream_consumer_waiting_pulls",
			"Pull requests waiting on the consumer; 0 while messages are pending means no process is consuming.", consumer, nil),
		acctStore: prometheus.NewDesc("gongkai_jetstream_account_storage_bytes",
			"File storage used by every stream of the account (on each replica).", nil, nil),
		acctMaxStore: prometheus.NewDesc("gongkai_jetstream_account_max_storage_bytes",
			"File storage limit of the account; -1 is unlimited (then the server's max_file_store and the disk are the limit).", nil, nil),
		up: prometheus.NewDesc("gongkai_jetstream_info_up",
			"1 if the last read of JetStream information succeeded, 0 if it failed (the other gongkai_jetstream_* series then hold the last successful read).", nil, nil),
		refreshed: prometheus.NewDesc("gongkai_jetstream_info_refreshed_timestamp_seconds",
			"When the JetStream information reported was read (Unix time); 0 before the first successful read.", nil, nil),
	}, nil
}

// streamNames returns the streams of the topology: the event streams, the
// streams behind the key-value buckets and behind the object stores.
func (c *JetStreamCollector) streamNames() []string {
	var names []string
	for _, s := range c.opts.Topology.Streams() {
		names = append(names, s.Name)
	}
	for _, kv := range c.opts.Topology.KeyValues() {
		names = append(names, "KV_"+kv.Bucket)
	}
	for _, o := range c.opts.Topology.ObjectStores() {
		names = append(names, "OBJ_"+o.Bucket)
	}
	return names
}

// Run reads the information at once and then every Interval until ctx
// ends. It returns nil when ctx ends.
func (c *JetStreamCollector) Run(ctx context.Context) error {
	t := time.NewTicker(c.opts.Interval)
	defer t.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
		err := c.Refresh(rctx)
		cancel()
		// A read that races the services' provisioning at start-up fails
		// once; log only a failure that persists, and its end.
		c.mu.Lock()
		before := c.failures
		if err != nil {
			c.failures++
		} else {
			c.failures = 0
		}
		c.mu.Unlock()
		switch {
		case err != nil && ctx.Err() == nil && before == 1:
			c.log.Warn("jetstream metrics: read failed", "err", err)
		case err == nil && before > 1:
			c.log.Info("jetstream metrics: read recovered")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Refresh reads every stream, consumer and the account once. What could be
// read replaces the previous figures; any failure is returned and counted,
// and makes gongkai_jetstream_info_up 0 until a read succeeds.
func (c *JetStreamCollector) Refresh(ctx context.Context) error {
	js := c.opts.JetStream
	var errs []error
	snap := jsSnapshot{at: c.opts.Now()}
	for _, name := range c.streamNames() {
		s, err := js.Stream(ctx, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("stream %s: %w", name, err))
			continue
		}
		snap.streams = append(snap.streams, sampleStream(s.CachedInfo()))
	}
	for _, cs := range c.opts.Topology.Consumers() {
		cons, err := js.Consumer(ctx, cs.Stream, cs.Config.Durable)
		if err != nil {
			errs = append(errs, fmt.Errorf("consumer %s/%s: %w", cs.Stream, cs.Config.Durable, err))
			continue
		}
		ci := cons.CachedInfo()
		snap.consumers = append(snap.consumers, consumerSample{
			stream: cs.Stream, name: cs.Config.Durable, at: snap.at,
			lag:         ci.NumPending + uint64(max(ci.NumAckPending, 0)),
			ackPending:  ci.NumAckPending,
			redelivered: ci.NumRedelivered,
			waiting:     ci.NumWaiting,
		})
	}
	ai, err := js.AccountInfo(ctx)
	if err != nil {
		errs = append(errs, fmt.Errorf("account info: %w", err))
	} else {
		snap.account = ai
	}
	err = errors.Join(errs...)
	snap.ok = err == nil

	c.mu.Lock()
	defer c.mu.Unlock()
	// Keep the last figures of anything that could not be read this time.
	snap.streams = mergeStreams(snap.streams, c.snap.streams)
	snap.consumers = mergeConsumers(snap.consumers, c.snap.consumers)
	if snap.account == nil {
		snap.account = c.snap.account
	}
	if !snap.ok {
		snap.at = c.snap.at
	}
	for _, cs := range snap.consumers {
		if cs.lag == 0 && cs.at.Equal(snap.at) {
			c.lastIdle[cs.stream+"/"+cs.name] = cs.at
		}
	}
	c.snap = snap
	if err != nil {
		c.errs.Inc()
		return fmt.Errorf("jetstream metrics: %w", err)
	}
	return nil
}

func sampleStream(si *jetstream.StreamInfo) streamSample {
	s := streamSample{
		name:     si.Config.Name,
		msgs:     si.State.Msgs,
		bytes:    si.State.Bytes,
		maxBytes: si.Config.MaxBytes,
		replicas: max(si.Config.Replicas, 1),
	}
	switch ci := si.Cluster; {
	case ci == nil:
		// A single server without clustering: the stream is its own leader.
		s.currentReplicas = 1
	case ci.Leader == "":
		s.currentReplicas = 0
	default:
		s.currentReplicas = 1
		for _, p := range ci.Replicas {
			if p != nil && p.Current && !p.Offline {
				s.currentReplicas++
			}
		}
	}
	return s
}

func mergeStreams(now, before []streamSample) []streamSample {
	seen := map[string]bool{}
	for _, s := range now {
		seen[s.name] = true
	}
	for _, s := range before {
		if !seen[s.name] {
			now = append(now, s)
		}
	}
	return now
}

func mergeConsumers(now, before []consumerSample) []consumerSample {
	seen := map[string]bool{}
	for _, c := range now {
		seen[c.stream+"/"+c.name] = true
	}
	for _, c := range before {
		if !seen[c.stream+"/"+c.name] {
			now = append(now, c)
		}
	}
	return now
}

// Describe implements prometheus.Collector.
func (c *JetStreamCollector) Describe(ch chan<- *prometheus.Desc) {
	c.errs.Describe(ch)
	for _, d := range []*prometheus.Desc{
		c.streamMsgs, c.streamBytes, c.streamMaxBytes, c.streamReplicas, c.streamCurrent,
		c.consLag, c.consAckPending, c.consRedelivered, c.consWaiting, c.consLastIdle,
		c.acctStore, c.acctMaxStore, c.up, c.refreshed,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: it reports the last read.
func (c *JetStreamCollector) Collect(ch chan<- prometheus.Metric) {
	c.errs.Collect(ch)
	c.mu.Lock()
	snap := c.snap
	idle := maps.Clone(c.lastIdle)
	c.mu.Unlock()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	up := 0.0
	if snap.ok {
		up = 1
	}
	gauge(c.up, up)
	gauge(c.refreshed, unixSeconds(snap.at))
	for _, s := range snap.streams {
		gauge(c.streamMsgs, float64(s.msgs), s.name)
		gauge(c.streamBytes, float64(s.bytes), s.name)
		gauge(c.streamMaxBytes, float64(s.maxBytes), s.name)
		gauge(c.streamReplicas, float64(s.replicas), s.name)
		gauge(c.streamCurrent, float64(s.currentReplicas), s.name)
	}
	for _, cs := range snap.consumers {
		gauge(c.consLag, float64(cs.lag), cs.stream, cs.name)
		gauge(c.consAckPending, float64(cs.ackPending), cs.stream, cs.name)
		gauge(c.consRedelivered, float64(cs.redelivered), cs.stream, cs.name)
		gauge(c.consWaiting, float64(cs.waiting), cs.stream, cs.name)
		if at, ok := idle[cs.stream+"/"+cs.name]; ok {
			gauge(c.consLastIdle, unixSeconds(at), cs.stream, cs.name)
		}
	}
	if a := snap.account; a != nil {
		gauge(c.acctStore, float64(a.Store))
		gauge(c.acctMaxStore, float64(a.Limits.MaxStore))
	}
}

// unixSeconds returns t as Unix seconds, 0 for the zero time.
func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
