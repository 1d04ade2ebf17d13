package checker

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gongkai/gongkai/pkg/events"
)

type metrics struct {
	observations    prometheus.Counter
	ticks           prometheus.Counter
	terminated      *prometheus.CounterVec
	transitions     *prometheus.CounterVec
	findings        *prometheus.CounterVec
	duplicates      prometheus.Counter
	conflicts       prometheus.Counter
	uncertainWrites *prometheus.CounterVec
	requestCases    *prometheus.CounterVec
	reports         *prometheus.CounterVec
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
		reports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gongkai_checker_reports_checked_total",
			Help: "Annual reports checked for completeness, by result (pass, fail, not_a_report, no_text, unreadable).",
		}, []string{"result"}),
		requestCases: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gongkai_checker_request_cases_total",
			Help: "Request cases read from request registers, by outcome: judged; no_obligation (no answer obligation of the agency's jurisdiction covers the receipt date); invalid (the deadline could not be computed).",
		}, []string{"outcome"}),
		uncertainWrites: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gongkai_checker_uncertain_writes_total",
			Help: "State writes that got no answer, by how they were settled from the bucket's history (stored: the finding was published then; not_stored: the redelivered observation repeats the transition).",
		}, []string{"outcome"}),
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
	for _, r := range []string{"pass", "fail", "not_a_report", "no_text", "unreadable"} {
		m.reports.WithLabelValues(r)
	}
	for _, c := range []prometheus.Collector{m.observations, m.ticks, m.terminated, m.transitions, m.findings, m.duplicates, m.conflicts, m.uncertainWrites, m.requestCases, m.reports} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// stateCollector exposes the view's instance counts at scrape time, by
// state and region (the first level of the registry's region path, so at
// most a few dozen values), and the number of agencies per region with at
// least one overdue or escalated obligation. Per-agency lists are on the
// dashboard, not in labels: cardinality stays bounded at 15,000 agencies.
type stateCollector struct {
	s         *Service
	instances *prometheus.Desc
	overdue   *prometheus.Desc
}

func newStateCollector(s *Service) *stateCollector {
	return &stateCollector{
		s: s,
		instances: prometheus.NewDesc("gongkai_checker_instances",
			"Obligation instances by state and region (province).", []string{"state", "region"}, nil),
		overdue: prometheus.NewDesc("gongkai_checker_overdue_agencies",
			"Agencies with at least one overdue or escalated obligation, by region (province).", []string{"region"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.instances
	ch <- c.overdue
}

// Collect implements prometheus.Collector.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	reg := c.s.opts.Registry
	region := func(id string) string {
		a, ok := reg.Get(id)
		if !ok {
			return ""
		}
		return provinceOf(a.Region)
	}
	byRegion := c.s.view.CountBy(region)
	regions := map[string]bool{}
	for i := range reg.Agencies {
		regions[provinceOf(reg.Agencies[i].Region)] = true
	}
	for r := range regions {
		counts := byRegion[r]
		for _, st := range events.States {
			ch <- prometheus.MustNewConstMetric(c.instances, prometheus.GaugeValue, float64(counts[st]), string(st), r)
		}
	}
	perAgency := c.s.view.CountBy(func(id string) string { return id })
	overdue := map[string]int{}
	for r := range regions {
		overdue[r] = 0
	}
	for id, counts := range perAgency {
		if counts[events.StateOverdue]+counts[events.StateEscalated] > 0 {
			overdue[region(id)]++
		}
	}
	for r, n := range overdue {
		ch <- prometheus.MustNewConstMetric(c.overdue, prometheus.GaugeValue, float64(n), r)
	}
}

// provinceOf returns the first level of a region path, or "unknown".
func provinceOf(region string) string {
	first, _, _ := strings.Cut(region, "/")
	if first == "" {
		return "unknown"
	}
	return first
}
