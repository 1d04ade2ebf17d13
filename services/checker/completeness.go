package checker

import (
	"context"
	"fmt"
	"strings"

	"github.com/gongkai/gongkai/services/internal/evidence"
	"github.com/gongkai/gongkai/services/internal/report"
)

// completeness checks a found report's text (f.Text, stored as evidence by
// ingest) with the report checker, or a budget's standard tables
// (budget.go), and returns the rules it fails. Other profiles are not
// checked here.
func (s *Service) completeness(ctx context.Context, f Facts, profile string) ([]string, error) {
	if tables, ok := requiredTables(profile); ok {
		return s.budgetCompleteness(ctx, f, tables)
	}
	textHash := f.Text
	if !strings.HasPrefix(profile, "cn-annual-report") {
		return nil, nil
	}
	st, err := s.evidenceStore(ctx)
	if err != nil {
		return nil, err
	}
	body, _, err := st.Get(ctx, textHash)
	if err != nil {
		return nil, fmt.Errorf("completeness: %w", err)
	}
	doc, err := report.Extract(ctx, textHash+".txt", body, report.ExtractOptions{})
	if err != nil {
		s.metrics.reports.WithLabelValues("unreadable").Inc()
		return []string{"UNREADABLE"}, nil
	}
	rep, err := report.Parse(doc)
	if err != nil {
		s.metrics.reports.WithLabelValues("unreadable").Inc()
		return []string{"UNREADABLE"}, nil
	}
	res := report.Check(rep, nil)
	switch res.Outcome {
	case report.NotAReport:
		s.metrics.reports.WithLabelValues("not_a_report").Inc()
		return []string{"NOT-A-REPORT"}, nil
	case report.NoText:
		s.metrics.reports.WithLabelValues("no_text").Inc()
		return []string{"NO-TEXT"}, nil
	}
	failed := res.Failed()
	if len(failed) > 0 {
		s.metrics.reports.WithLabelValues("fail").Inc()
	} else {
		s.metrics.reports.WithLabelValues("pass").Inc()
	}
	return failed, nil
}

func (s *Service) evidenceStore(ctx context.Context) (*evidence.Store, error) {
	if st := s.ev.Load(); st != nil {
		return st, nil
	}
	st, err := evidence.Open(ctx, s.opts.JetStream)
	if err != nil {
		return nil, err
	}
	s.ev.Store(st)
	return st, nil
}
