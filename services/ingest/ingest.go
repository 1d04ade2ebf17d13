// Package ingest owns fetching: a cron scheduler publishes one audit job per
// agency per run, and workers pull jobs, read the agency's website, store
// what they fetched as evidence and publish observations — facts, never
// verdicts. A site that cannot be read yields an observation saying so and
// why; the run goes on.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/ingest/internal/fetch"
	"github.com/gongkai/gongkai/services/internal/evidence"
	"github.com/gongkai/gongkai/services/internal/registry"
)

// Source is the CloudEvents source of everything ingest publishes.
const Source = "gongkai/ingest"

// Options configures the ingest service.
type Options struct {
	// JetStream is the connection to publish and consume on. Required.
	JetStream jetstream.JetStream
	// Topology is provisioned at start-up; default events.DefaultTopology().
	Topology events.Topology
	// Registry lists the agencies to audit. Required.
	Registry *registry.Registry
	// Schedule is a cron expression (five fields) in Location; default
	// "0 2 * * *", nightly at 02:00. Empty string with NoSchedule set
	// disables the scheduler (workers only).
	Schedule   string
	NoSchedule bool
	// Location is the time zone of Schedule; default Asia/Shanghai.
	Location *time.Location
	// Workers is the number of agencies audited concurrently; default 8.
	Workers int
	// NoWorkers disables the workers (scheduler only).
	NoWorkers bool
	// Fetch configures the HTTP fetcher. AllowPrivate is taken from the
	// registry when not set here.
	Fetch fetch.Options
	// MaxListPages caps the list pages read per column; default 10.
	MaxListPages int
	// Logger and Registerer are required; Now defaults to time.Now.
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
}

// Service is the ingest runtime.
type Service struct {
	opts    Options
	fetcher *fetch.Fetcher
	metrics *metrics
	log     *slog.Logger

	mu       sync.Mutex
	evidence *evidence.Store
}

// New validates opts and returns a Service.
func New(opts Options) (*Service, error) {
	if opts.JetStream == nil {
		return nil, errors.New("ingest: JetStream is required")
	}
	if opts.Registry == nil {
		return nil, errors.New("ingest: Registry is required")
	}
	if opts.Logger == nil || opts.Registerer == nil {
		return nil, errors.New("ingest: Logger and Registerer are required")
	}
	if opts.Topology.Replicas == 0 {
		opts.Topology = events.DefaultTopology()
	}
	if opts.Schedule == "" && !opts.NoSchedule {
		opts.Schedule = "0 2 * * *"
	}
	if opts.Location == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			return nil, fmt.Errorf("ingest: %w", err)
		}
		opts.Location = loc
	}
	if !opts.NoSchedule {
		if _, err := cron.ParseStandard(opts.Schedule); err != nil {
			return nil, fmt.Errorf("ingest: schedule %q: %w", opts.Schedule, err)
		}
	}
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.MaxListPages <= 0 {
		opts.MaxListPages = 10
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Registry.AllowPrivateAddresses {
		opts.Fetch.AllowPrivate = true
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	return &Service{opts: opts, fetcher: fetch.New(opts.Fetch), metrics: m, log: opts.Logger.With("service", "ingest")}, nil
}

// Run provisions the topology, starts the scheduler and the workers, and
// returns when ctx is cancelled and in-flight audits have finished.
func (s *Service) Run(ctx context.Context) error {
	if err := events.Provision(ctx, s.opts.JetStream, s.opts.Topology); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	ev, err := evidence.Open(ctx, s.opts.JetStream)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	s.mu.Lock()
	s.evidence = ev
	s.mu.Unlock()

	var sched *cron.Cron
	if !s.opts.NoSchedule {
		sched = cron.New(cron.WithLocation(s.opts.Location))
		if _, err := sched.AddFunc(s.opts.Schedule, func() {
			// Every scheduler replica fires at the same minute; truncating
			// gives them the same run id and so the same job message ids.
			at := s.opts.Now().In(s.opts.Location).Truncate(time.Minute)
			if _, _, err := s.PublishRun(ctx, "schedule", at, nil); err != nil {
				s.log.Error("scheduled run failed", "err", err)
			}
		}); err != nil {
			return fmt.Errorf("ingest: schedule: %w", err)
		}
		sched.Start()
		s.log.Info("scheduler started", "schedule", s.opts.Schedule, "location", s.opts.Location.String())
	}

	var werr error
	if !s.opts.NoWorkers {
		werr = s.work(ctx)
	} else {
		<-ctx.Done()
	}
	if sched != nil {
		<-sched.Stop().Done()
	}
	return werr
}

// Ready reports whether the service has provisioned its streams.
func (s *Service) Ready(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.evidence == nil {
		return errors.New("ingest: not started")
	}
	return nil
}

// PublishRun publishes one audit job for each agency (all agencies when ids
// is empty) for a run scheduled at at. Job message ids are derived from the
// agency and the run, so publishing the same run twice — from two scheduler
// replicas — enqueues each job once. It returns the run id and the number of
// jobs newly enqueued.
func (s *Service) PublishRun(ctx context.Context, trigger string, at time.Time, ids []string) (string, int, error) {
	if len(ids) == 0 {
		ids = s.opts.Registry.IDs()
	}
	runID := trigger + "-" + at.Format(time.RFC3339)
	fresh := 0
	var errs []error
	for _, id := range ids {
		if _, ok := s.opts.Registry.Get(id); !ok {
			errs = append(errs, fmt.Errorf("agency %q is not in the registry", id))
			continue
		}
		job := events.AuditJob{AgencyID: id, RunID: runID, ScheduledAt: at, Trigger: trigger, RunSize: len(ids)}
		ev, err := events.New(Source, "audit-"+id+"-"+runID, id, s.opts.Now(), job)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ack, err := events.Publish(ctx, s.opts.JetStream, events.AuditJobSubject(id), ev)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ack.Duplicate {
			fresh++
		}
	}
	s.metrics.jobsPublished.WithLabelValues(trigger).Add(float64(fresh))
	if len(errs) > 0 {
		return runID, fresh, fmt.Errorf("ingest: run %s: %w", runID, errors.Join(errs...))
	}
	s.log.Info("audit run published", "run", runID, "jobs", fresh, "agencies", len(ids))
	return runID, fresh, nil
}
