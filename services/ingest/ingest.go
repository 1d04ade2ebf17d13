// Package ingest owns fetching: a cron scheduler publishes one audit job per
// agency per run (one cron schedule per group of agencies, the run spread
// over a jitter window, jobs ordered so that consecutive jobs hit different
// hosts), and workers pull jobs, read the agency's website politely, find
// the columns the rule packs require and their newest dated items, follow
// annual reports, budgets and final accounts to their attachments and
// extract their text (with the tables a budget shows), store
// everything they fetched as evidence and publish observations — facts,
// never verdicts. A site that cannot be read yields an observation saying
// so and why; the run goes on.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/ingest/internal/fetch"
	"github.com/gongkai/gongkai/services/internal/evidence"
	"github.com/gongkai/gongkai/services/internal/obligation"
	"github.com/gongkai/gongkai/services/internal/registry"
	"github.com/gongkai/gongkai/services/internal/report"
)

// Source is the CloudEvents source of everything ingest publishes.
const Source = "gongkai/ingest"

// FetchOptions configure the HTTP fetcher: politeness (per-host
// concurrency and rate), time-out, size caps, retries, robots.txt and the
// SSRF guard. The zero value gives the defaults.
type FetchOptions = fetch.Options

// Options configures the ingest service.
type Options struct {
	// JetStream is the connection to publish and consume on. Required.
	JetStream jetstream.JetStream
	// Topology is provisioned at start-up; default events.DefaultTopology().
	Topology events.Topology
	// Registry lists the agencies to audit. Required.
	Registry *registry.Registry
	// Schedule is the cron expression (five fields) in Location of the
	// registry's default schedule group when the registry does not name
	// one; default "0 2 * * *", nightly at 02:00. The registry's
	// schedules give the other groups.
	Schedule string
	// NoSchedule disables the scheduler (workers only).
	NoSchedule bool
	// Jitter overrides the registry's jitter window when positive.
	Jitter time.Duration
	// Location is the time zone of Schedule; default Asia/Shanghai.
	Location *time.Location
	// Workers is the number of agencies audited concurrently; default 8.
	Workers int
	// NoWorkers disables the workers (scheduler only).
	NoWorkers bool
	// Fetch configures the HTTP fetcher. AllowPrivate is taken from the
	// registry when not set here.
	Fetch fetch.Options
	// MaxListPages caps the list pages read per report or budget column;
	// default 10. Other columns are read on their first page only (their
	// newest item and whether they are blank are what matter).
	MaxListPages int
	// MaxReports caps the report (and budget) years whose detail pages
	// and attachments are read per agency per audit; default 2: only the
	// most recent ones matter for deadlines.
	MaxReports int
	// NoExtract disables text extraction from reports and budgets.
	NoExtract bool
	// MaxExtractions caps the documents whose text is extracted at once
	// (of the Workers audits); default GOMAXPROCS, at least 2.
	MaxExtractions int
	// Catalog supplies the columns to look for (the rule packs'
	// locators); default the embedded packs.
	Catalog *obligation.Catalog
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
	reports *report.Checker
	columns *columnTable
	texts   *textCache
	// extracting holds a token per text extraction in progress.
	extracting chan struct{}
	// stored remembers bodies recently stored.
	stored *storedSet

	mu           sync.Mutex
	evidence     *evidence.Store
	observations jetstream.Stream // for lastSeen
	run          runProgress
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
	if opts.MaxReports <= 0 {
		opts.MaxReports = 2
	}
	if opts.MaxExtractions <= 0 {
		opts.MaxExtractions = max(2, runtime.GOMAXPROCS(0))
	}
	if opts.Catalog == nil {
		cat, err := obligation.LoadEmbedded()
		if err != nil {
			return nil, fmt.Errorf("ingest: %w", err)
		}
		opts.Catalog = cat
	}
	if opts.Jitter <= 0 {
		opts.Jitter = time.Duration(opts.Registry.Jitter)
	}
	if opts.Jitter > registry.MaxJitter {
		return nil, fmt.Errorf("ingest: jitter %v is longer than %v", opts.Jitter, registry.MaxJitter)
	}
	for _, g := range opts.Registry.Groups() {
		if _, ok := opts.Registry.Schedules[g]; !ok && g != registry.DefaultSchedule {
			return nil, fmt.Errorf("ingest: schedule group %q has no cron expression", g)
		}
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
	s := &Service{opts: opts, metrics: m, log: opts.Logger.With("service", "ingest"),
		columns: newColumnTable(opts.Catalog), texts: newTextCache(50_000),
		extracting: make(chan struct{}, opts.MaxExtractions), stored: newStoredSet(4096, time.Hour)}
	if opts.Fetch.Recall == nil {
		// A 304 answer is served from the evidence store.
		opts.Fetch.Recall = func(ctx context.Context, sum string) ([]byte, error) {
			ev, err := s.evidenceStore()
			if err != nil {
				return nil, err
			}
			ctx, cancel := context.WithTimeout(ctx, evidenceTimeout)
			defer cancel()
			b, _, err := ev.Get(ctx, sum)
			return b, err
		}
	}
	if opts.Fetch.Describe == nil {
		// After a restart, validators are recovered from the evidence
		// store's metadata of the bodies the last observation names.
		opts.Fetch.Describe = func(ctx context.Context, sum string) (string, string, string, error) {
			ev, err := s.evidenceStore()
			if err != nil {
				return "", "", "", err
			}
			ctx, cancel := context.WithTimeout(ctx, evidenceTimeout)
			defer cancel()
			m, err := ev.Info(ctx, sum)
			return m.URL, m.ETag, m.LastModified, err
		}
	}
	s.opts.Fetch = opts.Fetch
	s.fetcher = fetch.New(opts.Fetch)
	if !opts.NoExtract {
		s.reports = report.NewChecker(report.Options{Extract: report.ExtractOptions{Timeout: 30 * time.Second}})
	}
	return s, nil
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
	obs, err := s.opts.JetStream.Stream(ctx, events.StreamObservations)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	s.mu.Lock()
	s.evidence, s.observations = ev, obs
	s.mu.Unlock()

	if s.reports != nil {
		defer func() {
			if err := s.reports.Close(); err != nil {
				s.log.Warn("close report reader", "err", err)
			}
		}()
	}

	var sched *cron.Cron
	var runs sync.WaitGroup
	if !s.opts.NoSchedule {
		sched = cron.New(cron.WithLocation(s.opts.Location))
		for _, g := range s.opts.Registry.Groups() {
			if len(s.opts.Registry.Group(g)) == 0 {
				continue // a schedule no agency uses
			}
			expr := s.opts.Registry.Schedules[g]
			if expr == "" {
				expr = s.opts.Schedule
			}
			if _, err := sched.AddFunc(expr, func() {
				// Every scheduler replica fires at the same minute;
				// truncating gives them the same run id and so the same
				// job message ids.
				at := s.opts.Now().In(s.opts.Location).Truncate(time.Minute)
				runs.Add(1)
				defer runs.Done()
				if _, _, err := s.PublishGroupRun(ctx, g, at); err != nil {
					s.log.Error("scheduled run failed", "group", g, "err", err)
				}
			}); err != nil {
				return fmt.Errorf("ingest: schedule %s %q: %w", g, expr, err)
			}
			s.log.Info("audit schedule", "group", g, "schedule", expr, "agencies", len(s.opts.Registry.Group(g)), "jitter", s.opts.Jitter.String())
		}
		sched.Start()
		s.log.Info("scheduler started", "location", s.opts.Location.String())
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
	runs.Wait()
	return werr
}

// evidenceStore returns the evidence store, once Run has opened it.
func (s *Service) evidenceStore() (*evidence.Store, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.evidence == nil {
		return nil, errors.New("evidence store not open")
	}
	return s.evidence, nil
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
