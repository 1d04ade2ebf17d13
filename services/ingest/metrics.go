package ingest

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gongkai/gongkai/pkg/events"
)

type metrics struct {
	jobsPublished  *prometheus.CounterVec
	jobsDone       *prometheus.CounterVec
	fetches        *prometheus.CounterVec
	fetchSeconds   prometheus.Histogram
	observations   prometheus.Counter
	evidenceNew    prometheus.Counter
	evidenceBytes  prometheus.Counter
	evidenceReused prometheus.Counter
	inFlight       prometheus.Gauge
}

var outcomes = []string{
	events.OutcomeOK, events.OutcomeUnreachable, events.OutcomeTimeout, events.OutcomeHTTPError,
	events.OutcomeTooLarge, events.OutcomeBlocked, events.OutcomeRedirects, events.OutcomeUnparseable,
	events.OutcomeNotFound,
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		jobsPublished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gongkai_ingest_audit_jobs_published_total",
			Help: "Audit jobs enqueued (duplicates from other scheduler replicas not counted), by trigger.",
		}, []string{"trigger"}),
		jobsDone: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gongkai_ingest_audit_jobs_completed_total",
			Help: "Audit jobs finished by a worker, by home page outcome; result=terminated for jobs that could not be processed.",
		}, []string{"outcome"}),
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gongkai_ingest_fetches_total",
			Help: "HTTP fetches by outcome.",
		}, []string{"outcome"}),
		fetchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gongkai_ingest_fetch_duration_seconds",
			Help:    "Duration of HTTP fetches including retries.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30, 60},
		}),
		observations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gongkai_ingest_observations_published_total",
			Help: "Observations published.",
		}),
		evidenceNew: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gongkai_ingest_evidence_objects_stored_total",
			Help: "Evidence bodies written to the object store (new content).",
		}),
		evidenceReused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gongkai_ingest_evidence_objects_reused_total",
			Help: "Fetched bodies already in the evidence store (unchanged content, no new storage).",
		}),
		evidenceBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gongkai_ingest_evidence_bytes_stored_total",
			Help: "Bytes of new evidence written to the object store.",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gongkai_ingest_audits_in_flight",
			Help: "Agencies being audited right now.",
		}),
	}
	for _, o := range outcomes {
		m.fetches.WithLabelValues(o)
		m.jobsDone.WithLabelValues(o)
	}
	m.jobsDone.WithLabelValues("terminated")
	for _, t := range []string{"schedule", "manual"} {
		m.jobsPublished.WithLabelValues(t)
	}
	for _, c := range []prometheus.Collector{m.jobsPublished, m.jobsDone, m.fetches, m.fetchSeconds,
		m.observations, m.evidenceNew, m.evidenceReused, m.evidenceBytes, m.inFlight} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
