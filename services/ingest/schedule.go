package ingest

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"sort"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/internal/registry"
)

// RunID returns the id of the run started by trigger ("schedule" or
// "manual") for schedule group (empty or registry.DefaultSchedule for the
// default group) at the scheduled instant at. Scheduler replicas computing
// it for the same minute get the same id, and so the same job message ids.
func RunID(trigger, group string, at time.Time) string {
	if group == "" || group == registry.DefaultSchedule {
		return trigger + "-" + at.Format(time.RFC3339)
	}
	return trigger + "-" + group + "-" + at.Format(time.RFC3339)
}

// PublishRun publishes one audit job for each agency (all agencies when ids
// is empty) for a run scheduled at at. Job message ids are derived from the
// agency and the run, so publishing the same run twice — from two scheduler
// replicas — enqueues each job once. It returns the run id and the number of
// jobs newly enqueued.
//
// The jobs are published at once, ordered so that consecutive jobs are for
// agencies on different hosts (see Interleave).
func (s *Service) PublishRun(ctx context.Context, trigger string, at time.Time, ids []string) (string, int, error) {
	if len(ids) == 0 {
		ids = s.opts.Registry.IDs()
	}
	runID := RunID(trigger, "", at)
	return s.publish(ctx, runID, trigger, at, s.Interleave(ids), nil)
}

// PublishGroupRun publishes the scheduled run of one schedule group. With
// a jitter window the jobs are spread over it: each agency's job is
// published at a fixed offset from at derived from a hash of its id, so
// every scheduler replica publishes it at the same moment with the same
// message id, and the agencies' sites are not all hit in the same second.
// It returns when the last job is published or ctx ends.
func (s *Service) PublishGroupRun(ctx context.Context, group string, at time.Time) (string, int, error) {
	ids := s.opts.Registry.Group(group)
	runID := RunID("schedule", group, at)
	if s.opts.Jitter <= 0 || len(ids) < 2 {
		return s.publish(ctx, runID, "schedule", at, s.Interleave(ids), nil)
	}
	offsets := make(map[string]time.Duration, len(ids))
	for _, id := range ids {
		offsets[id] = JitterOffset(id, s.opts.Jitter)
	}
	ids = append([]string(nil), ids...)
	sort.SliceStable(ids, func(i, j int) bool { return offsets[ids[i]] < offsets[ids[j]] })
	wait := func(id string) error {
		d := time.Until(at.Add(offsets[id]))
		if d <= 0 {
			return nil
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.publish(ctx, runID, "schedule", at, ids, wait)
}

// JitterOffset returns the fixed delay of an agency's job within a jitter
// window: a hash of its id modulo the window, whole seconds.
func JitterOffset(agencyID string, window time.Duration) time.Duration {
	secs := int64(window / time.Second)
	if secs <= 0 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(agencyID))
	return time.Duration(h.Sum64()%uint64(secs)) * time.Second
}

// Interleave orders agency ids so that consecutive ones are on different
// website hosts as far as possible (round robin over hosts, in registry
// order within a host): a queue of a platform's fifty departments
// followed by fifty others would otherwise tie every worker to one host's
// two connection slots.
func (s *Service) Interleave(ids []string) []string {
	byHost := map[string][]string{}
	var hosts []string
	for _, id := range ids {
		h := ""
		if a, ok := s.opts.Registry.Get(id); ok {
			if u, err := url.Parse(a.Website); err == nil {
				h = u.Host
			}
		}
		if _, ok := byHost[h]; !ok {
			hosts = append(hosts, h)
		}
		byHost[h] = append(byHost[h], id)
	}
	out := make([]string, 0, len(ids))
	for len(out) < len(ids) {
		for _, h := range hosts {
			if q := byHost[h]; len(q) > 0 {
				out = append(out, q[0])
				byHost[h] = q[1:]
			}
		}
	}
	return out
}

func (s *Service) publish(ctx context.Context, runID, trigger string, at time.Time, ids []string, wait func(string) error) (string, int, error) {
	fresh := 0
	var errs []error
	s.startRun(runID, at, len(ids))
	for _, id := range ids {
		if _, ok := s.opts.Registry.Get(id); !ok {
			errs = append(errs, fmt.Errorf("agency %q is not in the registry", id))
			continue
		}
		if wait != nil {
			if err := wait(id); err != nil {
				errs = append(errs, fmt.Errorf("run %s stopped before publishing %s: %w", runID, id, err))
				break
			}
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
			s.metrics.jobsPublished.WithLabelValues(trigger).Inc()
		}
		s.metrics.runQueued.Inc()
	}
	if len(errs) > 0 {
		return runID, fresh, fmt.Errorf("ingest: run %s: %w", runID, errors.Join(errs...))
	}
	s.log.Info("audit run published", "run", runID, "jobs", fresh, "agencies", len(ids))
	return runID, fresh, nil
}

// runProgress tracks the most recent run this process has seen, for the
// run gauges (one series each, whatever the number of runs).
type runProgress struct {
	id        string
	at        time.Time
	size      int
	completed int
}

// startRun makes runID the current run of the scheduler side.
func (s *Service) startRun(runID string, at time.Time, size int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run.id != runID {
		s.run = runProgress{id: runID, at: at, size: size}
		s.metrics.runSize.Set(float64(size))
		s.metrics.runQueued.Set(0)
		s.metrics.runCompleted.Set(0)
		s.metrics.runStarted.SetToCurrentTime()
	}
}

// finishJob counts a completed job of job's run on the worker side; a job
// of a run newer than the current one makes it current.
func (s *Service) finishJob(job events.AuditJob) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run.id != job.RunID {
		if job.ScheduledAt.Before(s.run.at) {
			return // a straggler of an earlier run
		}
		s.run = runProgress{id: job.RunID, at: job.ScheduledAt, size: job.RunSize}
		s.metrics.runSize.Set(float64(job.RunSize))
		s.metrics.runQueued.Set(0)
		s.metrics.runStarted.SetToCurrentTime()
	}
	s.run.completed++
	s.metrics.runCompleted.Set(float64(s.run.completed))
}
