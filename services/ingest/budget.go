package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"strings"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/ingest/internal/fetch"
	"github.com/gongkai/gongkai/services/internal/budget"
)

// extract reads the text of a fetched document with the report readers
// (HTML, PDF, DOCX), at most Options.MaxExtractions at a time: extraction
// is CPU-bound and its buffers (a parsed document, a PDF's objects) are the
// largest an audit holds, so 32 audits waiting for their turn cost less
// memory and no time on a machine with few cores.
func (s *Service) extract(ctx context.Context, d *fetch.Page) ([]byte, error) {
	select {
	case s.extracting <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", d.URL, ctx.Err())
	}
	defer func() { <-s.extracting }()
	name := path.Base(d.URL.Path)
	if name == "" || name == "/" || name == "." {
		name = "index.html"
	}
	doc, err := s.reports.Extract(ctx, name, d.Raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.URL, err)
	}
	text := doc.Text()
	if strings.TrimSpace(text) == "" {
		if doc.NoTextLayer {
			return nil, fmt.Errorf("%s: a scanned PDF without a text layer", d.URL)
		}
		return nil, fmt.Errorf("%s: no text (a scanned document without a text layer?)", d.URL)
	}
	return []byte(text), nil
}

// budgetResult is what the cache keeps of a budget item's text besides its
// hash (textResult.sum): the tables and explanations found, and which of
// its documents had text.
type budgetResult struct {
	found budget.Found
	read  []bool
}

// budgetText reads the text of a budget or final-accounts item — its detail
// page (nil when the list links the document itself) and its attachments —
// and records the facts in it.Budget (nil when no text could be read): the
// standard tables whose titles appear, the explanations. The text, joined
// in that order, is stored as evidence; its hash becomes it.Text only when
// every document of the item was read (more are documents linked but not
// fetched), so that the checker never judges tables missing that may sit in
// a document gongkai could not read.
func (au *audit) budgetText(ctx context.Context, it *events.Item, kind budget.Kind, page *fetch.Page, docs []fetchedAttachment, more []string) {
	s := au.s
	var problems []string
	var sources []*fetch.Page
	if page != nil {
		sources = append(sources, page)
	}
	for _, d := range docs {
		if d.page == nil {
			problems = append(problems, d.Error)
			continue
		}
		sources = append(sources, d.page)
	}
	for _, u := range more {
		problems = append(problems, fmt.Sprintf("%s: not fetched (at most %d attachments are read)", u, maxBudgetAttachments))
	}
	if s.reports == nil || len(sources) == 0 {
		if len(problems) > 0 {
			it.TextError = strings.Join(problems, "; ")
		}
		return
	}
	h := sha256.New()
	h.Write([]byte("budget"))
	for _, d := range sources {
		h.Write([]byte{0})
		h.Write([]byte(d.SHA256))
	}
	key := hex.EncodeToString(h.Sum(nil))
	r, ok := s.texts.get(key)
	if ok {
		s.metrics.extractions.WithLabelValues(extractCached).Inc()
	} else {
		r = au.readBudget(ctx, sources)
		if ctx.Err() != nil {
			it.TextError = ctx.Err().Error()
			return
		}
		s.texts.put(key, r)
	}
	if r.err != "" {
		problems = append(problems, r.err)
	}
	if r.sum != "" { // some text was read
		it.Budget = &events.BudgetText{Kind: string(kind), Tables: r.budget.found.Tables, Explanations: r.budget.found.Explanations}
		for i, d := range sources {
			if r.budget.read[i] {
				it.Budget.Sources = append(it.Budget.Sources, d.URL.String())
			}
		}
		it.TextSource = it.Budget.Sources[0]
	}
	if len(problems) > 0 {
		it.TextError = strings.Join(problems, "; ")
		return
	}
	it.Text = r.sum
}

// readBudget extracts the text of each document, finds the tables in the
// whole and stores it as evidence.
func (au *audit) readBudget(ctx context.Context, sources []*fetch.Page) textResult {
	s := au.s
	var all bytes.Buffer
	var errs []string
	res := textResult{budget: &budgetResult{read: make([]bool, len(sources))}}
	for i, d := range sources {
		text, err := s.extract(ctx, d)
		if err != nil {
			s.metrics.extractions.WithLabelValues(extractFailed).Inc()
			errs = append(errs, err.Error())
			continue
		}
		s.metrics.extractions.WithLabelValues(extractOK).Inc()
		res.budget.read[i] = true
		if all.Len() > 0 {
			all.WriteString("\n\n")
		}
		all.Write(text)
	}
	res.err = strings.Join(errs, "; ")
	if all.Len() == 0 {
		return res
	}
	res.budget.found = budget.Find(all.String())
	res.sum = s.storeText(ctx, all.Bytes(), sources[0])
	return res
}
