package ingest

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gongkai/gongkai/pkg/events"
)

type metrics struct {
	jobsPublished *prometheus.CounterVec
	jobsDone      *prometheus.CounterVec
	fetches       *prometheus.CounterVec
	fetchSeconds  prometheus.Histogram
	notModified   prometheus.Counter
	// validatorsRecovered counts the bodies named by last observations
	// read after a restart (candidates for conditional requests).
	validatorsRecovered prometheus.Counter
	observations        prometheus.Counter
	columns             *prometheus.CounterVec
	blankColumns        prometheus.Counter
	extractions         *prometheus.CounterVec
	evidenceNew         prometheus.Counter
	evidenceBytes       prometheus.Counter
	evidenceReused      prometheus.Counter
	evidenceErrors      prometheus.Counter
	inFlight            prometheus.Gauge
	runSize             prometheus.Gauge
	runQueued           prometheus.Gauge
	runCompleted        prometheus.Gauge
	runStarted          prometheus.Gauge
}

// outcomes are the label values of the outcome labels: every observation
// outcome, so that each problem is counted from zero.
func outcomes() []string {
	return []string{
		events.OutcomeOK, events.OutcomeUnreachable, events.OutcomeTimeout, events.OutcomeHTTPError,
		events.OutcomeTooLarge, events.OutcomeBlocked, events.OutcomeRedirects, events.OutcomeUnparseable,
		events.OutcomeNotFound,
	}
}

// Results of text extraction.
const (
	extractOK     = "ok"
	extractCached = "cached"
	extractFailed = "failed"
)

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		jobsPublished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gongkai_ingest_audit_jobs_published_total",
			Help: "Audit jobs enqueued (duplicates from other scheduler replicas not counted), by trigger.",
		}, []string{"trigger"}),
		jobsDone: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gongkai_ingest_audit_jobs_completed_total",
			Help: "Audit jobs finished by a worker, by home page outcome; outcome=terminated for jobs that could not be processed.",
		}, []string{"outcome"}),
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gongkai_ingest_fetches_total",
			Help: "HTTP fetches by outcome (robots.txt refusals and the SSRF guard count as blocked).",
		}, []string{"outcome"}),
		fetchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gongkai_ingest_fetch_duration_seconds",
			Help:    "Duration of HTTP fetches including retries and waiting for the host's politeness limits.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30, 60},
		}),
		notModified: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gongkai_ingest_fetches_not_modified_total",
			Help: "Fetches answered 304 Not Modified to a conditional request (body recalled from the evidence store).",
		}),
		validatorsRecovered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gongkai_ingest_validators_recovered_total",
			Help: "URLs whose last-seen body an audit took from the agency's last observation, because this process had not read the site yet (their ETag and Last-Modified come from the evidence store).",
		}),
		observations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gongkai_ingest_observations_published_total",
			Help: "Observations published.",
		}),
		columns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gongkai_ingest_columns_observed_total",
			Help: "Website columns looked for, by outcome (not_found: the pages that should link the column were read and do not).",
		}, []string{"outcome"}),
		blankColumns: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gongkai_ingest_columns_blank_total",
			Help: "Columns whose page exists and holds neither items nor text.",
		}),
		extractions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gongkai_ingest_text_extractions_total",
			Help: "Report text extractions by result (cached: the document was unchanged and its text known).",
		}, []string{"result"}),
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
		evidenceErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gongkai_ingest_evidence_errors_total",
			Help: "Bodies that could not be stored as evidence (the observation still refers to their hash).",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gongkai_ingest_audits_in_flight",
			Help: "Agencies being audited right now.",
		}),
		runSize: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gongkai_ingest_run_jobs",
			Help: "Jobs in the most recent audit run this process published or worked on.",
		}),
		runQueued: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gongkai_ingest_run_jobs_queued",
			Help: "Jobs of the most recent run this process's scheduler has published so far (a jittered run publishes over its window).",
		}),
		runCompleted: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gongkai_ingest_run_jobs_completed",
			Help: "Jobs of the most recent run completed by this process's workers (sum over workers for the whole run).",
		}),
		runStarted: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gongkai_ingest_run_started_timestamp_seconds",
			Help: "When this process first saw the most recent run.",
		}),
	}
	for _, o := range outcomes() {
		m.fetches.WithLabelValues(o)
		m.jobsDone.WithLabelValues(o)
		m.columns.WithLabelValues(o)
	}
	m.jobsDone.WithLabelValues("terminated")
	for _, t := range []string{"schedule", "manual"} {
		m.jobsPublished.WithLabelValues(t)
	}
	for _, r := range []string{extractOK, extractCached, extractFailed} {
		m.extractions.WithLabelValues(r)
	}
	for _, c := range []prometheus.Collector{m.jobsPublished, m.jobsDone, m.fetches, m.fetchSeconds, m.notModified, m.validatorsRecovered,
		m.observations, m.columns, m.blankColumns, m.extractions, m.evidenceNew, m.evidenceReused, m.evidenceBytes,
		m.evidenceErrors, m.inFlight, m.runSize, m.runQueued, m.runCompleted, m.runStarted} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
