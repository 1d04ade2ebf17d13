package notifier

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	deliveries  *prometheus.CounterVec
	skipped     prometheus.Counter
	terminated  prometheus.Counter
	noRecipient prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gongkai_notifier_deliveries_total",
			Help: "Delivery attempts by channel and result (sent, temporary_failure, permanent_failure).",
		}, []string{"channel", "result"}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gongkai_notifier_notices_already_sent_total",
			Help: "Notices skipped because the sent-ledger already records them (redeliveries, restarts).",
		}),
		terminated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gongkai_notifier_findings_terminated_total",
			Help: "Findings that failed validation and were terminated.",
		}),
		noRecipient: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gongkai_notifier_findings_without_recipient_total",
			Help: "Notifiable findings about agencies with no contacts in the registry.",
		}),
	}
	for _, ch := range []string{"smtp", "outbox"} {
		for _, r := range []string{"sent", "temporary_failure", "permanent_failure"} {
			m.deliveries.WithLabelValues(ch, r)
		}
	}
	for _, c := range []prometheus.Collector{m.deliveries, m.skipped, m.terminated, m.noRecipient} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
