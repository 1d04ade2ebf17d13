package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/ingest/internal/discover"
	"github.com/gongkai/gongkai/services/ingest/internal/fetch"
	"github.com/gongkai/gongkai/services/internal/evidence"
	"github.com/gongkai/gongkai/services/internal/registry"
)

// jobTimeout bounds one agency's audit; it stays below the consumer's ack
// wait so that a slow audit is not redelivered to a second worker.
const jobTimeout = 4 * time.Minute

// maxReportPages caps the report detail pages read per agency per audit:
// only the most recent reports matter for deadlines.
const maxReportPages = 3

func (s *Service) work(ctx context.Context) error {
	cons, err := s.opts.JetStream.Consumer(ctx, events.StreamAudit, events.ConsumerIngest)
	if err != nil {
		return fmt.Errorf("ingest: consumer: %w", err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(s.opts.Workers))
	if err != nil {
		return fmt.Errorf("ingest: consume: %w", err)
	}
	go func() {
		<-ctx.Done()
		it.Stop()
	}()
	s.log.Info("workers started", "workers", s.opts.Workers)
	sem := make(chan struct{}, s.opts.Workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		msg, err := it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) || ctx.Err() != nil {
				return nil
			}
			s.log.Warn("next audit job", "err", err)
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			// In-flight audits finish on shutdown rather than being cut off
			// and redelivered.
			jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), jobTimeout)
			defer cancel()
			s.handle(jctx, msg)
		}()
	}
}

func (s *Service) handle(ctx context.Context, msg jetstream.Msg) {
	term := func(reason string) {
		s.metrics.jobsDone.WithLabelValues("terminated").Inc()
		s.log.Warn("audit job terminated", "reason", reason)
		_ = msg.TermWithReason(reason)
	}
	ev, err := events.Unmarshal(msg.Data())
	if err != nil {
		term(err.Error())
		return
	}
	job, err := events.Decode[events.AuditJob](ev)
	if err != nil {
		term(err.Error())
		return
	}
	agency, ok := s.opts.Registry.Get(job.AgencyID)
	if !ok {
		term(fmt.Sprintf("agency %q is not in the registry", job.AgencyID))
		return
	}

	// Keep the job ours while the audit runs.
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()
	s.metrics.inFlight.Inc()
	obs := s.audit(ctx, agency, job)
	s.metrics.inFlight.Dec()
	close(stop)

	out, err := events.New(Source, "obs-"+agency.ID+"-"+job.RunID, agency.ID, s.opts.Now(), obs)
	if err != nil {
		term(fmt.Sprintf("observation of %s failed validation: %v", agency.ID, err))
		return
	}
	if _, err := events.Publish(ctx, s.opts.JetStream, events.ObservationSubject(agency.ID), out); err != nil {
		s.log.Warn("publish observation", "agency", agency.ID, "err", err)
		_ = msg.NakWithDelay(10 * time.Second)
		return
	}
	s.metrics.observations.Inc()
	s.metrics.jobsDone.WithLabelValues(obs.Outcome).Inc()
	if err := msg.DoubleAck(ctx); err != nil {
		s.log.Warn("ack audit job", "agency", agency.ID, "err", err)
	}
}

// get fetches a URL, counts it and keeps its body as evidence.
func (s *Service) get(ctx context.Context, u string) (*fetch.Page, error) {
	start := time.Now()
	p, err := s.fetcher.Get(ctx, u)
	s.metrics.fetchSeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		s.metrics.fetches.WithLabelValues(fetch.OutcomeOf(err)).Inc()
		return nil, err
	}
	s.metrics.fetches.WithLabelValues(events.OutcomeOK).Inc()
	fresh, err := s.evidence.Put(ctx, p.SHA256, p.Raw, evidence.Meta{
		URL: p.URL.String(), Status: p.Status, ContentType: p.Header.Get("Content-Type"), FetchedAt: p.FetchedAt,
	})
	switch {
	case err != nil:
		// The observation is still true; only its evidence is missing.
		s.log.Warn("store evidence", "url", u, "err", err)
	case fresh:
		s.metrics.evidenceNew.Inc()
		s.metrics.evidenceBytes.Add(float64(len(p.Raw)))
	default:
		s.metrics.evidenceReused.Inc()
	}
	return p, nil
}

// audit reads one agency's website and returns what it saw.
func (s *Service) audit(ctx context.Context, a *registry.Agency, job events.AuditJob) events.Observation {
	obs := events.Observation{AgencyID: a.ID, RunID: job.RunID, Site: a.Website, Outcome: events.OutcomeOK, ObservedAt: s.opts.Now()}

	home, err := s.get(ctx, a.Website)
	if err != nil {
		obs.Outcome, obs.Error = fetch.OutcomeOf(err), err.Error()
		return obs
	}
	obs.HomeEvidence = home.SHA256
	homeDoc, err := discover.Parse(home.Body)
	if err != nil {
		obs.Outcome, obs.Error = events.OutcomeUnparseable, fmt.Sprintf("%s: %v", a.Website, err)
		return obs
	}
	for _, it := range discover.ParseList(homeDoc, home.URL).Items {
		if it.Date > obs.HomeNewest {
			obs.HomeNewest = it.Date
		}
	}
	obs.Columns = append(obs.Columns, s.annualReports(ctx, a, home, homeDoc))
	return obs
}

// annualReports finds the 政府信息公开年报 column and its reports.
func (s *Service) annualReports(ctx context.Context, a *registry.Agency, home *fetch.Page, homeDoc *goquery.Document) events.Column {
	col := events.Column{Key: events.ColumnAnnualReport}
	listURL := a.Columns[events.ColumnAnnualReport].URL
	if listURL == "" {
		var err error
		listURL, err = s.locate(ctx, home, homeDoc, events.ColumnAnnualReport)
		if err != nil {
			col.Outcome, col.Error = outcomeOf(err), err.Error()
			return col
		}
	}
	col.URL = listURL
	var items []discover.Item
	seen := map[string]bool{}
	for page, next := 0, listURL; next != "" && page < s.opts.MaxListPages && !seen[next]; page++ {
		seen[next] = true
		p, err := s.get(ctx, next)
		if err != nil {
			if page == 0 {
				col.Outcome, col.Error = fetch.OutcomeOf(err), err.Error()
				return col
			}
			break // what the first pages showed still stands
		}
		if page == 0 {
			col.Evidence = p.SHA256
		}
		doc, err := discover.Parse(p.Body)
		if err != nil {
			col.Outcome, col.Error = events.OutcomeUnparseable, fmt.Sprintf("%s: %v", next, err)
			return col
		}
		l := discover.ParseList(doc, p.URL)
		items = append(items, l.Items...)
		next = l.Next
	}
	col.Outcome = events.OutcomeOK
	// Newest reports first; read the detail pages of the few most recent.
	sort.SliceStable(items, func(i, j int) bool {
		return discover.ReportYear(items[i].Title) > discover.ReportYear(items[j].Title)
	})
	details := 0
	for _, it := range items {
		item := events.Item{Title: it.Title, URL: it.URL, Date: it.Date, Year: discover.ReportYear(it.Title)}
		if item.Date > col.Newest {
			col.Newest = item.Date
		}
		col.ItemCount++
		if item.Year == 0 {
			continue
		}
		if details < maxReportPages {
			details++
			if p, err := s.get(ctx, it.URL); err == nil {
				item.Evidence = p.SHA256
				if doc, err := discover.Parse(p.Body); err == nil {
					if d, ok := discover.PublicationDate(doc); ok && item.Date == "" {
						item.Date = d
					}
				}
			}
		}
		col.Items = append(col.Items, item)
	}
	return col
}

// locate finds a column's URL by following the home page's 政府信息公开 link
// when the home page does not link the column directly.
func (s *Service) locate(ctx context.Context, home *fetch.Page, homeDoc *goquery.Document, key string) (string, error) {
	if l, ok := discover.FindLink(homeDoc, home.URL, discover.Synonyms[key]); ok {
		return l.URL, nil
	}
	gk, ok := discover.FindLink(homeDoc, home.URL, discover.Synonyms["disclosure"])
	if !ok {
		return "", &notFound{fmt.Sprintf("%s: no link to the 政府信息公开 section or the %s column", home.URL, key)}
	}
	p, err := s.get(ctx, gk.URL)
	if err != nil {
		return "", err
	}
	doc, err := discover.Parse(p.Body)
	if err != nil {
		return "", &fetch.Error{Outcome: events.OutcomeUnparseable, URL: gk.URL, Err: err}
	}
	l, ok := discover.FindLink(doc, p.URL, discover.Synonyms[key])
	if !ok {
		return "", &notFound{fmt.Sprintf("%s: no link named %s", p.URL, discover.Synonyms[key][0])}
	}
	if _, err := url.Parse(l.URL); err != nil {
		return "", &notFound{fmt.Sprintf("%s: bad link %q", p.URL, l.URL)}
	}
	return l.URL, nil
}

type notFound struct{ msg string }

func (e *notFound) Error() string { return e.msg }

func outcomeOf(err error) string {
	var nf *notFound
	if errors.As(err, &nf) {
		return events.OutcomeNotFound
	}
	return fetch.OutcomeOf(err)
}
