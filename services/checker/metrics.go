package checker

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gongkai/gongkai/pkg/events"
)

type metrics struct {
	observations prometheus.Counter
	ticks        prometheus.Counter
	terminated   *prometheus.CounterVec
	transitions  *prometheus.CounterVec
	findings     *prometheus.CounterVec
	duplicates   prometheus.Counter
	conflicts    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		observations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gongkai_checker_observations_total",
			Help: "Observations evaluated.",
		}),
		ticks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gongkai_checker_ticks_total",
			Help: "Daily clock ticks evaluated.",
		}),
		terminated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gongkai_checker_messages_terminated_total",
			Help: "Messages that failed validation and were terminated (not retried), by kind.",
		}, []string{"kind"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gongkai_checker_transitions_total",
			Help: "Obligation instance state transitions written, by new state.",
		}, []string{"state"}),
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gongkai_checker_findings_published_total",
			Help: "Findings published (not counting de-duplicated repeats), by new state.",
		}, []string{"state"}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gongkai_checker_findings_deduplicated_total",
			Help: "Findings the stream dropped as duplicates of one already published.",
		}),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gongkai_checker_state_conflicts_total",
			Help: "Optimistic-concurrency conflicts on instance state (another checker wrote first).",
		}),
	}
	for _, st := range events.States {
		m.transitions.WithLabelValues(string(st))
		m.findings.WithLabelValues(string(st))
	}
	for _, k := range []string{"observation", "tick"} {
		m.terminated.WithLabelValues(k)
	}
	for _, c := range []prometheus.Collector{m.observations, m.ticks, m.terminated, m.transitions, m.findings, m.duplicates, m.conflicts} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
