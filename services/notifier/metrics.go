package notifier

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the notifier's Prometheus metrics. Every label value is
// pre-initialised, so each series exists at 0 from the start; label sets are
// fixed (channel × result, kind × outcome).
type metrics struct {
	deliveries        *prometheus.CounterVec
	notices           *prometheus.CounterVec
	recorded          *prometheus.CounterVec
	skipped           prometheus.Counter
	duplicateFindings prometheus.Counter
	terminated        prometheus.Counter
	noRecipient       prometheus.Counter
	badPending        prometheus.Counter
	takeovers         prometheus.Counter
	window            prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, s *Service) (*metrics, error) {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gongkai_notifier_deliveries_total",
			Help: "Delivery attempts by channel (smtp, outbox, webhook) and result (sent, temporary_failure, permanent_failure).",
		}, []string{"channel", "result"}),
		notices: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gongkai_notifier_notices_total",
			Help: "Notices completed by kind (digest, immediate, webhook) and outcome (sent, failed: refused permanently).",
		}, []string{"kind", "outcome"}),
		recorded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gongkai_notifier_notices_recorded_total",
			Help: "Notices recorded as owed in the pending-notices bucket, by kind (digest, immediate, webhook).",
		}, []string{"kind"}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gongkai_notifier_notices_already_sent_total",
			Help: "Deliveries skipped because the sent-ledger already records the notice (restarts, replicas).",
		}),
		duplicateFindings: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gongkai_notifier_findings_already_recorded_total",
			Help: "Findings delivered again after their notices were recorded (redeliveries); nothing is recorded twice.",
		}),
		terminated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gongkai_notifier_findings_terminated_total",
			Help: "Findings that failed validation and were terminated.",
		}),
		noRecipient: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gongkai_notifier_findings_without_recipient_total",
			Help: "Notifiable findings about agencies with no contacts (of the configured roles) in the registry.",
		}),
		badPending: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gongkai_notifier_pending_unreadable_total",
			Help: "Entries of the pending-notices bucket that could not be decoded and were ignored.",
		}),
		takeovers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gongkai_notifier_claims_taken_over_total",
			Help: "Sending claims found stale (left by a crashed process) and taken over; each may resend one notice.",
		}),
		window: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gongkai_notifier_ledger_window_seconds",
			Help:    "Time from the transport accepting a message to the sent-ledger recording it: the window in which a crash resends one notice.",
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1},
		}),
	}
	for _, ch := range []string{"smtp", "outbox", "webhook"} {
		for _, r := range []string{"sent", "temporary_failure", "permanent_failure"} {
			m.deliveries.WithLabelValues(ch, r)
		}
	}
	for _, k := range []string{"digest", "immediate", "webhook"} {
		m.recorded.WithLabelValues(k)
		for _, o := range []string{outcomeSent, outcomeFailed} {
			m.notices.WithLabelValues(k, o)
		}
	}
	pendingDigest := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "gongkai_notifier_digest_pending_items",
		Help: "Digest items recorded and not yet sent in a digest.",
	}, func() float64 {
		n := 0
		s.mirror.each(func(it *item) {
			if it.p.Kind == kindDigest {
				n++
			}
		})
		return float64(n)
	})
	pendingNow := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "gongkai_notifier_pending_notices",
		Help: "Notices owed now and not yet delivered: immediate notices, webhook posts, and digest items whose digest is due.",
	}, func() float64 { return float64(s.Backlog().Due) })
	oldest := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "gongkai_notifier_oldest_undelivered_seconds",
		Help: "Age of the oldest notice that is due and not delivered (since it was recorded, or since its digest time for digest items); 0 when none. Alert on it.",
	}, s.oldestUndelivered)
	for _, c := range []prometheus.Collector{
		m.deliveries, m.notices, m.recorded, m.skipped, m.duplicateFindings, m.terminated, m.noRecipient,
		m.badPending, m.takeovers, m.window, pendingDigest, pendingNow, oldest,
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

// oldestUndelivered returns the age in seconds of the oldest notice due
// and not delivered, on the Now clock.
func (s *Service) oldestUndelivered() float64 {
	now := s.opts.Now()
	var oldest float64
	s.mirror.each(func(it *item) {
		since := it.p.RecordedAt
		if it.p.Kind == kindDigest {
			since = s.effectiveDue(it)
		}
		if age := now.Sub(since).Seconds(); age > oldest {
			oldest = age
		}
	})
	return oldest
}
