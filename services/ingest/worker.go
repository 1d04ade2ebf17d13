package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/ingest/internal/discover"
	"github.com/gongkai/gongkai/services/ingest/internal/fetch"
	"github.com/gongkai/gongkai/services/internal/budget"
	"github.com/gongkai/gongkai/services/internal/evidence"
	"github.com/gongkai/gongkai/services/internal/registry"
)

// jobTimeout bounds one agency's audit; it stays below the consumer's ack
// wait so that a slow audit is not redelivered to a second worker.
const jobTimeout = 4 * time.Minute

// blankChars is the most content text a column page without list items
// may hold and still count as blank (a stray "暂无信息").
const blankChars = 20

// progressEvery is the interval of the progress acks that keep a job from
// being redelivered while its audit runs: a third of a one-minute ack wait,
// so the consumer's ack wait can be short and a job lost with a cluster node
// is redelivered soon.
const progressEvery = 20 * time.Second

// maxAttachments caps the documents fetched per report.
const maxAttachments = 2

// maxBudgetAttachments caps the documents fetched for the newest budget and
// final accounts, whose tables may be spread over several files.
const maxBudgetAttachments = 4

// evidenceTimeout bounds one evidence store operation, and each attempt to
// publish an observation or acknowledge a job: an object store
// whose stream is between leaders (a node of the cluster lost) leaves an
// asynchronous publish unanswered, and the audit must not wait for it for
// the whole job time-out. The observation still names the body by hash;
// the missing evidence is counted.
const evidenceTimeout = 10 * time.Second

// shutdownGrace is how long in-flight audits may go on after the service
// is asked to stop. An audit cut off then is not published (its timeouts
// would be false facts): the job is handed back for redelivery.
const shutdownGrace = 10 * time.Second

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
			// In-flight audits get a grace period to finish on shutdown
			// rather than being cut off at once and redelivered.
			jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), jobTimeout)
			defer cancel()
			stop := context.AfterFunc(ctx, func() {
				t := time.NewTimer(shutdownGrace)
				defer t.Stop()
				select {
				case <-t.C:
					cancel()
				case <-jctx.Done():
				}
			})
			defer stop()
			s.handle(jctx, ctx, msg)
		}()
	}
}

// handle audits the agency of one job. ctx bounds the audit; service is
// the service's context, done when it is stopping.
func (s *Service) handle(ctx, service context.Context, msg jetstream.Msg) {
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
		t := time.NewTicker(progressEvery)
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
	obs := s.Audit(ctx, agency, job)
	s.metrics.inFlight.Dec()
	close(stop)
	if ctx.Err() != nil && service.Err() != nil {
		// Cut off by the shutdown: what failed failed because of us.
		_ = msg.Nak()
		return
	}

	out, err := events.New(Source, "obs-"+agency.ID+"-"+job.RunID, agency.ID, s.opts.Now(), obs)
	if err != nil {
		term(fmt.Sprintf("observation of %s failed validation: %v", agency.ID, err))
		return
	}
	// The audit is done and its result ready: a stream between leaders (a
	// cluster node lost) is waited out here rather than by redelivery,
	// whose Nak might not reach the server either (the job would then sit
	// out the whole ack wait). The observation's message id makes a
	// repeated publication harmless.
	if err := retry(ctx, publishPatience, func() error {
		// Each attempt has its own time-out: a reply lost with a node
		// must not hold the worker for the rest of the job's time.
		pctx, cancel := context.WithTimeout(ctx, evidenceTimeout)
		defer cancel()
		_, err := events.Publish(pctx, s.opts.JetStream, events.ObservationSubject(agency.ID), out)
		return err
	}); err != nil {
		s.log.Warn("publish observation", "agency", agency.ID, "err", err)
		_ = msg.NakWithDelay(10 * time.Second)
		return
	}
	s.metrics.observations.Inc()
	s.metrics.jobsDone.WithLabelValues(obs.Outcome).Inc()
	for _, c := range obs.Columns {
		s.metrics.columns.WithLabelValues(c.Outcome).Inc()
		if c.Blank {
			s.metrics.blankColumns.Inc()
		}
	}
	s.finishJob(job)
	if err := retry(ctx, publishPatience, func() error {
		actx, cancel := context.WithTimeout(ctx, evidenceTimeout)
		defer cancel()
		return msg.DoubleAck(actx)
	}); err != nil {
		// Redelivered after the ack wait; the observation is not published
		// twice (message id).
		s.log.Warn("ack audit job", "agency", agency.ID, "err", err)
	}
}

// publishPatience is how long a finished audit keeps trying to publish its
// observation and acknowledge its job.
const publishPatience = time.Minute

// retry calls f until it succeeds, ctx ends or patience runs out, backing
// off from 250 ms to 5 s between attempts.
func retry(ctx context.Context, patience time.Duration, f func() error) error {
	deadline := time.Now().Add(patience)
	wait := 250 * time.Millisecond
	for {
		err := f()
		if err == nil || ctx.Err() != nil || time.Now().Add(wait).After(deadline) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// audit is the state of one agency's audit.
type audit struct {
	s      *Service
	a      *registry.Agency
	robots string
	now    time.Time
	// known maps URLs to the hashes of the bodies the agency's last
	// observation names, when this process has not read the site before
	// (see lastSeen).
	known map[string]string
}

// get fetches a URL, counts it and keeps its body as evidence.
func (au *audit) get(ctx context.Context, u string, kind fetch.Kind) (*fetch.Page, error) {
	s := au.s
	start := time.Now()
	p, err := s.fetcher.Do(ctx, fetch.Request{URL: u, Kind: kind, Robots: au.robots, Known: au.known[u]})
	s.metrics.fetchSeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		s.metrics.fetches.WithLabelValues(fetch.OutcomeOf(err)).Inc()
		return nil, err
	}
	s.metrics.fetches.WithLabelValues(events.OutcomeOK).Inc()
	if p.NotModified {
		// Answered 304: the body is the one already stored.
		s.metrics.notModified.Inc()
		s.metrics.evidenceReused.Inc()
		return p, nil
	}
	s.store(ctx, p.SHA256, p.Raw, evidence.Meta{
		URL: p.URL.String(), Status: p.Status, ContentType: p.Header.Get("Content-Type"),
		ETag: p.Header.Get("ETag"), LastModified: p.Header.Get("Last-Modified"), FetchedAt: p.FetchedAt,
	})
	return p, nil
}

// store keeps a body in the evidence store, counting what it cost.
func (s *Service) store(ctx context.Context, sum string, body []byte, m evidence.Meta) {
	if s.stored.has(sum, time.Now()) {
		s.metrics.evidenceReused.Inc()
		return
	}
	ev, err := s.evidenceStore()
	if err != nil {
		s.metrics.evidenceErrors.Inc()
		return
	}
	ctx, cancel := context.WithTimeout(ctx, evidenceTimeout)
	defer cancel()
	fresh, err := ev.Put(ctx, sum, body, m)
	if err != nil {
		// The observation is still true; only its evidence is missing.
		s.metrics.evidenceErrors.Inc()
		s.log.Warn("store evidence", "url", m.URL, "err", err)
		return
	}
	s.stored.add(sum, time.Now())
	if fresh {
		s.metrics.evidenceNew.Inc()
		s.metrics.evidenceBytes.Add(float64(len(body)))
	} else {
		s.metrics.evidenceReused.Inc()
	}
}

// storeText keeps the text extracted from a document as evidence derived
// from it, and returns the text's hash.
func (s *Service) storeText(ctx context.Context, text []byte, from *fetch.Page) string {
	sum := sha256.Sum256(text)
	h := hex.EncodeToString(sum[:])
	s.store(ctx, h, text, evidence.Meta{URL: from.URL.String(), Status: from.Status,
		ContentType: "text/plain; charset=utf-8", FetchedAt: from.FetchedAt, DerivedFrom: from.SHA256})
	return h
}

// page fetches and parses an HTML page.
func (au *audit) page(ctx context.Context, u string) (*fetch.Page, *goquery.Document, error) {
	p, err := au.get(ctx, u, fetch.KindPage)
	if err != nil {
		return nil, nil, err
	}
	doc, err := discover.Parse(p.Body)
	if err != nil {
		return p, nil, &fetch.Error{Outcome: events.OutcomeUnparseable, URL: u, Err: err}
	}
	return p, doc, nil
}

// Audit reads one agency's website and returns what it saw. It never
// fails: what could not be read is recorded, with the reason, in the
// observation.
func (s *Service) Audit(ctx context.Context, a *registry.Agency, job events.AuditJob) events.Observation {
	now := s.opts.Now()
	au := &audit{s: s, a: a, robots: s.opts.Registry.RobotsPolicy(a), now: now.In(s.opts.Location)}
	if !s.fetcher.Remembers(a.Website) {
		au.known = s.lastSeen(ctx, a.ID)
	}
	obs := events.Observation{AgencyID: a.ID, RunID: job.RunID, Site: a.Website, Outcome: events.OutcomeOK, ObservedAt: now}

	home, homeDoc, err := au.page(ctx, a.Website)
	if home != nil {
		obs.HomeEvidence = home.SHA256
	}
	if err != nil {
		obs.Outcome, obs.Error = fetch.OutcomeOf(err), err.Error()
		return obs
	}
	for _, it := range discover.ParseList(homeDoc, home.URL, discover.ListOptions{Ref: au.now}).Items {
		if it.Date > obs.HomeNewest && it.Date <= au.now.Format(events.DateLayout) {
			obs.HomeNewest = it.Date
		}
	}

	// The places columns are linked from: the home page, the 政府信息公开
	// section and, for the art. 20 sub-columns, 法定主动公开内容.
	f := &finder{au: au, home: home, links: discover.Links(homeDoc, home.URL)}
	for _, spec := range s.columns.For(a, now) {
		obs.Columns = append(obs.Columns, au.column(ctx, f, spec))
	}
	return obs
}

// finder locates columns, reading the section pages the first time they
// are needed.
type finder struct {
	au    *audit
	home  *fetch.Page
	links []discover.Link // home page links, then section links

	section       bool // the section page has been looked for
	sectionErr    error
	statutory     bool
	statutoryErr  error
	searchedPages []string
}

// locate returns the URL of a column, or an error: a *notFound when the
// pages that should link it were read and do not, the fetch error when one
// of them could not be read.
func (f *finder) locate(ctx context.Context, spec columnSpec) (string, error) {
	if h, ok := f.au.a.Columns[spec.key]; ok && h.URL != "" {
		return h.URL, nil
	}
	if len(spec.synonyms) == 0 {
		return "", &notFound{fmt.Sprintf("%s: no synonyms known for column %s; give its URL in the registry", f.home.URL, spec.key)}
	}
	if l, ok := discover.MatchLink(f.links, spec.synonyms); ok {
		return l.URL, nil
	}
	if !f.section {
		f.section = true
		_, f.sectionErr = f.follow(ctx, discover.SectionSynonyms())
	}
	if l, ok := discover.MatchLink(f.links, spec.synonyms); ok {
		return l.URL, nil
	}
	if !f.statutory && f.sectionErr == nil {
		f.statutory = true
		_, f.statutoryErr = f.follow(ctx, discover.StatutorySynonyms())
	}
	if l, ok := discover.MatchLink(f.links, spec.synonyms); ok {
		return l.URL, nil
	}
	// Absence is only evidence when every page searched was read.
	if f.sectionErr != nil {
		return "", f.sectionErr
	}
	if f.statutoryErr != nil {
		return "", f.statutoryErr
	}
	return "", &notFound{fmt.Sprintf("no link named %s on %s", spec.synonyms[0], strings.Join(f.searchedPages, ", "))}
}

// follow reads the page a link named by synonyms points to and adds its
// links to the pool. It returns the page's URL ("" when no such link).
func (f *finder) follow(ctx context.Context, synonyms []string) (string, error) {
	if len(f.searchedPages) == 0 {
		f.searchedPages = append(f.searchedPages, f.home.URL.String())
	}
	l, ok := discover.MatchLink(f.links, synonyms)
	if !ok || containsString(f.searchedPages, l.URL) {
		return "", nil
	}
	p, doc, err := f.au.page(ctx, l.URL)
	if err != nil {
		return l.URL, err
	}
	f.searchedPages = append(f.searchedPages, l.URL)
	// Section links first: on the section page, 年报 is the column.
	f.links = append(discover.Links(doc, p.URL), f.links...)
	return l.URL, nil
}

// column finds one column and reads its list pages.
func (au *audit) column(ctx context.Context, f *finder, spec columnSpec) events.Column {
	col := events.Column{Key: spec.key}
	listURL, err := f.locate(ctx, spec)
	if err != nil {
		col.Outcome, col.Error = outcomeOf(err), err.Error()
		return col
	}
	col.URL = listURL
	var opts discover.ListOptions
	opts.Ref = au.now
	hint := au.a.Columns[spec.key]
	if hint.Selector != "" {
		if sel, err := cascadia.Compile(hint.Selector); err == nil {
			opts.Items = sel
		}
	}
	if hint.Next != "" {
		if sel, err := cascadia.Compile(hint.Next); err == nil {
			opts.Next = sel
		}
	}
	maxPages := 1
	if spec.items {
		maxPages = au.s.opts.MaxListPages
	}
	var items []discover.Item
	seen := map[string]bool{}
	next := listURL
	for next != "" && col.Pages < maxPages && !seen[next] {
		seen[next] = true
		p, doc, err := au.page(ctx, next)
		if err != nil {
			if col.Pages == 0 {
				col.Outcome, col.Error = fetch.OutcomeOf(err), err.Error()
				if p != nil {
					col.Evidence = p.SHA256
				}
				return col
			}
			col.Truncated = true // what the first pages showed still stands
			break
		}
		if col.Pages == 0 {
			col.Evidence = p.SHA256
		}
		col.Pages++
		l := discover.ParseList(doc, p.URL, opts)
		items = append(items, l.Items...)
		if col.Pages == 1 && len(l.Items) == 0 && discover.ContentChars(doc) <= blankChars {
			col.Blank = true
		}
		next = l.Next
	}
	if next != "" && !seen[next] {
		col.Truncated = true
	}
	col.Outcome = events.OutcomeOK
	today := au.now.Format(events.DateLayout)
	for _, it := range items {
		if it.Date > col.Newest && it.Date <= today {
			col.Newest = it.Date
		}
	}
	col.ItemCount = len(items)
	if spec.items {
		col.Items = au.items(ctx, spec, items)
	}
	return col
}

// items turns the list items of a report or budget column into observed
// items, reading the detail pages and attachments of the newest MaxReports
// years of each kind (reports; budgets; final accounts), the text of those
// reports and the text of the newest budget and the newest final accounts.
func (au *audit) items(ctx context.Context, spec columnSpec, items []discover.Item) []events.Item {
	out := make([]events.Item, 0, len(items))
	for _, it := range items {
		year := discover.ReportYear(it.Title)
		if year == 0 {
			year = discover.TitleYear(it.Title)
		}
		out = append(out, events.Item{Title: it.Title, URL: it.URL, Date: it.Date, Year: year})
	}
	// Newest years first; read the details of the few most recent.
	order := make([]int, len(out))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return out[order[i]].Year > out[order[j]].Year })
	years := map[budget.Kind]map[int]bool{}
	texts := map[budget.Kind]bool{}
	for _, i := range order {
		it := &out[i]
		var kind budget.Kind
		if spec.key == events.ColumnBudget {
			kind = budget.KindOf(it.Title)
		}
		ys := years[kind]
		if ys == nil {
			ys = map[int]bool{}
			years[kind] = ys
		}
		if it.Year == 0 || (len(ys) >= au.s.opts.MaxReports && !ys[it.Year]) {
			continue
		}
		ys[it.Year] = true
		text := spec.key == events.ColumnAnnualReport
		if kind != "" && !texts[kind] {
			texts[kind], text = true, true
		}
		au.detail(ctx, it, kind, text)
	}
	return out
}

// detail reads an item's detail page: its publication date, its
// attachments and, when text is set, its text: an annual report's, or a
// budget's or final accounts' (kind) with the tables it shows.
func (au *audit) detail(ctx context.Context, it *events.Item, kind budget.Kind, text bool) {
	if strings.EqualFold(path.Ext(it.URL), ".pdf") || strings.EqualFold(path.Ext(it.URL), ".docx") {
		// The list links the document itself.
		a := au.attachment(ctx, discover.Link{Text: it.Title, URL: it.URL})
		it.Evidence = a.Evidence
		it.Attachments = []events.Attachment{a.Attachment}
		switch {
		case !text:
		case kind != "":
			au.budgetText(ctx, it, kind, nil, []fetchedAttachment{a}, nil)
		case a.page != nil:
			au.text(ctx, it, a.page)
		}
		return
	}
	p, doc, err := au.page(ctx, it.URL)
	if p != nil {
		it.Evidence = p.SHA256
	}
	if err != nil {
		return // the item stands on the list's facts
	}
	if d, ok := discover.PublicationDate(doc); ok && it.Date == "" {
		it.Date = d
	}
	links := discover.Attachments(doc, p.URL)
	limit := maxAttachments
	if text && kind != "" {
		limit = maxBudgetAttachments
	}
	var docs []fetchedAttachment
	var pages []*fetch.Page // the documents fetched
	var more []string
	for i, l := range links {
		if i >= limit {
			more = append(more, l.URL)
			continue
		}
		a := au.attachment(ctx, l)
		it.Attachments = append(it.Attachments, a.Attachment)
		docs = append(docs, a)
		if a.page != nil {
			pages = append(pages, a.page)
		}
	}
	switch {
	case !text:
	case kind != "":
		au.budgetText(ctx, it, kind, p, docs, more)
	case len(pages) > 0:
		au.text(ctx, it, pages...)
	case len(docs) == 0:
		au.text(ctx, it, p) // the report is the page itself
	default:
		it.TextError = "no attachment could be fetched: " + it.Attachments[0].Error
	}
}

type fetchedAttachment struct {
	events.Attachment
	page *fetch.Page
}

func (au *audit) attachment(ctx context.Context, l discover.Link) fetchedAttachment {
	a := fetchedAttachment{Attachment: events.Attachment{Title: l.Text, URL: l.URL}}
	p, err := au.get(ctx, l.URL, fetch.KindDocument)
	if err != nil {
		a.Outcome, a.Error = fetch.OutcomeOf(err), err.Error()
		return a
	}
	a.Outcome, a.Evidence, a.ContentType, a.page = events.OutcomeOK, p.SHA256, p.Header.Get("Content-Type"), p
	return a
}

// text extracts the report's text from the first document that yields
// some, stores it as evidence and records its hash.
func (au *audit) text(ctx context.Context, it *events.Item, docs ...*fetch.Page) {
	s := au.s
	if s.reports == nil {
		return
	}
	var errs []string
	for _, d := range docs {
		if r, ok := s.texts.get(d.SHA256); ok {
			s.metrics.extractions.WithLabelValues(extractCached).Inc()
			if r.sum != "" {
				it.Text, it.TextSource = r.sum, d.URL.String()
				return
			}
			errs = append(errs, r.err)
			continue
		}
		text, err := s.extract(ctx, d)
		if err != nil {
			s.metrics.extractions.WithLabelValues(extractFailed).Inc()
			msg := err.Error()
			if ctx.Err() == nil { // a document cut off by the time-out may read next time
				s.texts.put(d.SHA256, textResult{err: msg})
			}
			errs = append(errs, msg)
			continue
		}
		h := s.storeText(ctx, text, d)
		s.texts.put(d.SHA256, textResult{sum: h})
		s.metrics.extractions.WithLabelValues(extractOK).Inc()
		it.Text, it.TextSource = h, d.URL.String()
		return
	}
	it.TextError = strings.Join(errs, "; ")
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
