package events

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Subjects. The last token of each is the agency id (or the tick kind), so
// consumers can filter one agency with a wildcard-free subject.
const (
	SubjectAuditJobs    = "gongkai.audit.job"
	SubjectObservations = "gongkai.observation"
	SubjectFindings     = "gongkai.finding"
	SubjectNotices      = "gongkai.notice"
	SubjectTicks        = "gongkai.tick"
)

// AuditJobSubject returns the subject an audit job for agency is published on.
func AuditJobSubject(agency string) string { return SubjectAuditJobs + "." + agency }

// ObservationSubject returns the subject of an observation of agency.
func ObservationSubject(agency string) string { return SubjectObservations + "." + agency }

// FindingSubject returns the subject of a finding about agency.
func FindingSubject(agency string) string { return SubjectFindings + "." + agency }

// NoticeSubject returns the subject of a notice about agency.
func NoticeSubject(agency string) string { return SubjectNotices + "." + agency }

// TickSubject is the subject of the checker's daily clock tick.
const TickSubject = SubjectTicks + ".daily"

// Stream, consumer, bucket and object store names.
const (
	StreamAudit        = "GONGKAI_AUDIT"
	StreamObservations = "GONGKAI_OBSERVATIONS"
	StreamFindings     = "GONGKAI_FINDINGS"
	StreamNotices      = "GONGKAI_NOTICES"
	StreamTicks        = "GONGKAI_TICKS"

	ConsumerIngest        = "ingest"
	ConsumerChecker       = "checker"
	ConsumerCheckerTicks  = "checker-ticks"
	ConsumerNotifier      = "notifier"
	BucketObligations     = "gongkai_obligations"
	BucketSentLedger      = "gongkai_sent"
	BucketPendingNotices  = "gongkai_pending_notices"
	ObjectStoreEvidence   = "gongkai_evidence"
	defaultEvidenceMaxAge = 400 * 24 * time.Hour
)

// Topology holds the settings that differ between deployments. The zero
// value is not valid; use [DefaultTopology].
type Topology struct {
	// Replicas is the replication factor of every stream, bucket and object
	// store: 1 on the embedded single-node server, 3 on a cluster.
	Replicas int
	// EvidenceMaxAge is how long evidence bodies are kept.
	EvidenceMaxAge time.Duration
	// EvidenceMaxBytes caps the evidence store; -1 is unlimited.
	EvidenceMaxBytes int64
}

// DefaultTopology returns the settings of the embedded single-node server.
func DefaultTopology() Topology {
	return Topology{Replicas: 1, EvidenceMaxAge: defaultEvidenceMaxAge, EvidenceMaxBytes: -1}
}

// Validate checks the settings.
func (t Topology) Validate() error {
	if t.Replicas < 1 || t.Replicas > 5 {
		return fmt.Errorf("replicas %d, want 1 to 5", t.Replicas)
	}
	if t.EvidenceMaxAge < 0 {
		return fmt.Errorf("evidence max age %v is negative", t.EvidenceMaxAge)
	}
	return nil
}

// Streams returns the definition of every stream.
func (t Topology) Streams() []jetstream.StreamConfig {
	return []jetstream.StreamConfig{
		{
			// Audit jobs are a work queue: a job is removed once a worker
			// acknowledges it. The duplicate window spans scheduler replicas
			// firing the same run (seconds apart) with a wide margin.
			Name:        StreamAudit,
			Description: "audit jobs: one per agency per run (work queue)",
			Subjects:    []string{SubjectAuditJobs + ".>"},
			Retention:   jetstream.WorkQueuePolicy,
			Storage:     jetstream.FileStorage,
			Replicas:    t.Replicas,
			Duplicates:  2 * time.Hour,
			MaxAge:      48 * time.Hour,
		},
		{
			Name:              StreamObservations,
			Description:       "observations of agency websites (facts)",
			Subjects:          []string{SubjectObservations + ".>"},
			Retention:         jetstream.LimitsPolicy,
			Storage:           jetstream.FileStorage,
			Replicas:          t.Replicas,
			Duplicates:        2 * time.Hour,
			MaxAge:            30 * 24 * time.Hour,
			MaxMsgsPerSubject: smallBlocksPerSubject, // 4 MiB blocks, see below
		},
		{
			// Findings carry message ids derived from the state they
			// replace, so a redelivered observation cannot announce the same
			// transition twice within the window.
			Name:        StreamFindings,
			Description: "obligation state transitions",
			Subjects:    []string{SubjectFindings + ".>"},
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			Replicas:    t.Replicas,
			Duplicates:  24 * time.Hour,
			MaxAge:      400 * 24 * time.Hour,
		},
		{
			Name:        StreamNotices,
			Description: "notices delivered by the notifier",
			Subjects:    []string{SubjectNotices + ".>"},
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			Replicas:    t.Replicas,
			Duplicates:  24 * time.Hour,
			MaxAge:      400 * 24 * time.Hour,
		},
		{
			// One tick per day, de-duplicated by date across checker
			// replicas; consumed as a work queue by whichever checker is free.
			Name:        StreamTicks,
			Description: "the checker's daily clock",
			Subjects:    []string{SubjectTicks + ".>"},
			Retention:   jetstream.WorkQueuePolicy,
			Storage:     jetstream.FileStorage,
			Replicas:    t.Replicas,
			Duplicates:  48 * time.Hour,
			MaxAge:      7 * 24 * time.Hour,
		},
	}
}

// ConsumerSpec pairs a durable consumer with its stream.
type ConsumerSpec struct {
	Stream string
	Config jetstream.ConsumerConfig
}

// Consumers returns the definition of every durable consumer. All are pull
// consumers shared by the replicas of a service (competing consumers).
func (t Topology) Consumers() []ConsumerSpec {
	return []ConsumerSpec{
		{StreamAudit, jetstream.ConsumerConfig{
			Durable:       ConsumerIngest,
			Description:   "ingest workers",
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       90 * time.Second, // workers send progress acks every 20 s while an audit runs; a job held by a dead worker or node returns within this
			MaxDeliver:    5,
			MaxAckPending: 1024,
			Replicas:      t.Replicas,
		}},
		{StreamObservations, jetstream.ConsumerConfig{
			Durable:       ConsumerChecker,
			Description:   "checker: observations to obligation state",
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       time.Minute,
			MaxDeliver:    10,
			MaxAckPending: 1024,
			Replicas:      t.Replicas,
		}},
		{StreamTicks, jetstream.ConsumerConfig{
			Durable:       ConsumerCheckerTicks,
			Description:   "checker: daily clock",
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       30 * time.Minute,
			MaxDeliver:    5,
			MaxAckPending: 1,
			Replicas:      t.Replicas,
		}},
		{StreamFindings, jetstream.ConsumerConfig{
			Durable:       ConsumerNotifier,
			Description:   "notifier: findings to notices",
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       2 * time.Minute,
			MaxDeliver:    -1, // mail outages must not drop findings; retries back off
			MaxAckPending: 256,
			Replicas:      t.Replicas,
		}},
	}
}

// KeyValues returns the definition of every key-value bucket.
func (t Topology) KeyValues() []jetstream.KeyValueConfig {
	return []jetstream.KeyValueConfig{
		{
			Bucket:      BucketObligations,
			Description: "obligation instance state, key <agency>.<pack>.<obligation>.<period>",
			History:     8,
			Storage:     jetstream.FileStorage,
			Replicas:    t.Replicas,
		},
		{
			Bucket:      BucketSentLedger,
			Description: "notifier sent-ledger, key = notice id",
			History:     1,
			TTL:         400 * 24 * time.Hour,
			Storage:     jetstream.FileStorage,
			Replicas:    t.Replicas,
		},
		{
			// The notifier records every notice it owes here before it
			// acknowledges the finding, and deletes the entry once the
			// notice is delivered and in the sent-ledger: immediate notices
			// within seconds, digest items at the next digest. Keys are
			// <kind>.<recipient hash>.<finding hash>.
			Bucket:      BucketPendingNotices,
			Description: "notifier: notices owed (digest items, immediate notices, webhooks), key <kind>.<recipient>.<finding>",
			History:     1,
			Storage:     jetstream.FileStorage,
			Replicas:    t.Replicas,
		},
	}
}

// ObjectStores returns the definition of every object store.
func (t Topology) ObjectStores() []jetstream.ObjectStoreConfig {
	return []jetstream.ObjectStoreConfig{{
		Bucket:      ObjectStoreEvidence,
		Description: "fetched bodies, named by SHA-256",
		TTL:         t.EvidenceMaxAge,
		MaxBytes:    t.EvidenceMaxBytes,
		Storage:     jetstream.FileStorage,
		Replicas:    t.Replicas,
		// No S2 compression on the stream: the evidence store gzips text
		// bodies itself (PDF and DOCX are compressed already), and the
		// server's S2 pass rewrites every full 8 MiB block, holding the
		// block twice more in memory while it does; measured on a
		// 1,000-agency audit it added some 40 MiB to the peak RSS of
		// ingest with its embedded server (docs/benchmarks.md, Ingest).
		Compression: false,
	}}
}

// Provision creates or updates every stream, consumer, bucket and object
// store. It is idempotent and safe to run from every service at start-up,
// concurrently. On a cluster that is still electing its JetStream leaders,
// or when several services provision at once, requests time out: Provision
// retries with back-off until it succeeds, ctx ends or ProvisionBudget
// has passed (a configuration the server refuses outright should fail the
// start, not hang it).
func Provision(ctx context.Context, js jetstream.JetStream, t Topology) error {
	if err := t.Validate(); err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, ProvisionBudget)
	defer cancel()
	wait := 250 * time.Millisecond
	for {
		err := provisionOnce(ctx, js, t)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// ProvisionBudget bounds Provision's retries: long enough for a cluster to
// elect its JetStream leaders.
const ProvisionBudget = 2 * time.Minute

func provisionOnce(ctx context.Context, js jetstream.JetStream, t Topology) error {
	var errs []error
	for _, sc := range t.Streams() {
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			errs = append(errs, fmt.Errorf("stream %s: %w", sc.Name, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("provision: %w", errors.Join(errs...))
	}
	for _, c := range t.Consumers() {
		if _, err := js.CreateOrUpdateConsumer(ctx, c.Stream, c.Config); err != nil {
			errs = append(errs, fmt.Errorf("consumer %s/%s: %w", c.Stream, c.Config.Durable, err))
		}
	}
	for _, kc := range t.KeyValues() {
		if _, err := js.CreateOrUpdateKeyValue(ctx, kc); err != nil {
			errs = append(errs, fmt.Errorf("key-value bucket %s: %w", kc.Bucket, err))
		}
	}
	for _, oc := range t.ObjectStores() {
		if _, err := js.CreateOrUpdateStream(ctx, objectStoreStream(oc)); err != nil {
			errs = append(errs, fmt.Errorf("object store %s: %w", oc.Bucket, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("provision: %w", errors.Join(errs...))
	}
	return nil
}

// smallBlocksPerSubject is a per-subject limit no stream of gongkai's comes
// near (an object's chunks share a subject: 2^30 of 128 KiB is 128 TiB; an
// agency's observations over 30 days: a few dozen). It is set for its side
// effect: nats-server (v2.15, stream.go autoTuneFileStorageBlockSize) writes
// the file store of a stream with a per-subject limit in 4 MiB blocks
// instead of 8 MiB. The server keeps the blocks a stream wrote in the last
// seconds in memory, in buffers of the block size, so this halves that
// memory for the evidence store and the observations stream, which are
// written continuously during an audit (docs/benchmarks.md, Ingest). No
// stream setting gives blocks between 32 KB and 4 MiB, and none smaller
// without a limit that would discard data. A stream created before keeps
// its blocks; new ones are 4 MiB once the server has restarted.
const smallBlocksPerSubject = 1 << 30

// objectStoreStream is the stream behind an object store: what
// jetstream.CreateOrUpdateObjectStore (nats.go v1.55) creates, and a
// per-subject limit, which the object store API does not expose, for the
// block size (smallBlocksPerSubject). The object store client binds to it
// by its name, OBJ_<bucket>.
func objectStoreStream(oc jetstream.ObjectStoreConfig) jetstream.StreamConfig {
	maxBytes := oc.MaxBytes
	if maxBytes == 0 {
		maxBytes = -1
	}
	var compression jetstream.StoreCompression
	if oc.Compression {
		compression = jetstream.S2Compression
	}
	return jetstream.StreamConfig{
		Name:              "OBJ_" + oc.Bucket,
		Description:       oc.Description,
		Subjects:          []string{"$O." + oc.Bucket + ".C.>", "$O." + oc.Bucket + ".M.>"},
		MaxAge:            oc.TTL,
		MaxBytes:          maxBytes,
		Storage:           oc.Storage,
		Replicas:          max(oc.Replicas, 1),
		Placement:         oc.Placement,
		Discard:           jetstream.DiscardNew,
		AllowRollup:       true,
		AllowDirect:       true,
		Metadata:          oc.Metadata,
		Compression:       compression,
		MaxMsgsPerSubject: smallBlocksPerSubject,
	}
}
