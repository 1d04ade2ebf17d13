package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/ingest/internal/fetch"
	"github.com/gongkai/gongkai/services/internal/budget"
	"github.com/gongkai/gongkai/services/internal/report"
)

// bareService is enough of a Service to read texts (no NATS: evidence is
// not stored, which is counted and otherwise harmless).
func bareService(t *testing.T) *Service {
	t.Helper()
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{metrics: m, log: slog.New(slog.NewTextHandler(io.Discard, nil)), texts: newTextCache(100),
		extracting: make(chan struct{}, 2), stored: newStoredSet(100, time.Hour),
		reports: report.NewChecker(report.Options{Extract: report.ExtractOptions{Timeout: 10 * time.Second}})}
	t.Cleanup(func() { _ = s.reports.Close() })
	return s
}

func page(t *testing.T, rawURL, ctype, body string) *fetch.Page {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("Content-Type", ctype)
	sum := sha256.Sum256([]byte(body))
	return &fetch.Page{URL: u, Status: 200, Header: h, Raw: []byte(body), Body: []byte(body), SHA256: hex.EncodeToString(sum[:]), FetchedAt: time.Now()}
}

// A budget whose documents were not all read gets the facts of what was
// read but no text: the checker must not judge tables missing that may be
// in the document gongkai could not read.
func TestBudgetTextOnlyWhenEverythingWasRead(t *testing.T) {
	var b strings.Builder
	b.WriteString("<html><body><h1>2026年部门预算</h1><p>三、机关运行经费情况说明。机关运行经费预算40万元，主要用于办公。</p>")
	for _, name := range budget.Tables(budget.KindBudget) {
		b.WriteString("<p>" + name + "</p><table><tr><td>项目</td><td>合计</td></tr></table>")
	}
	b.WriteString("</body></html>")
	detail := page(t, "http://x.example/yjs/t1.html", "text/html; charset=utf-8", b.String())
	failed := fetchedAttachment{Attachment: events.Attachment{URL: "http://x.example/yjs/P1.pdf", Outcome: events.OutcomeHTTPError,
		Error: "GET http://x.example/yjs/P1.pdf: status 404 Not Found"}}
	legacy := fetchedAttachment{Attachment: events.Attachment{URL: "http://x.example/yjs/P2.doc", Outcome: events.OutcomeOK},
		page: page(t, "http://x.example/yjs/P2.doc", "application/msword", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 legacy")}
	for _, tc := range []struct {
		name    string
		docs    []fetchedAttachment
		more    []string
		text    bool
		problem string
	}{
		{"all read", nil, nil, true, ""},
		{"an attachment not fetched", []fetchedAttachment{failed}, nil, false, "404"},
		{"an attachment not readable", []fetchedAttachment{legacy}, nil, false, "legacy OLE"},
		{"more attachments than read", nil, []string{"http://x.example/yjs/P9.pdf"}, false, "not fetched"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			au := &audit{s: bareService(t)}
			it := &events.Item{URL: detail.URL.String()}
			au.budgetText(context.Background(), it, budget.KindBudget, detail, tc.docs, tc.more)
			if it.Budget == nil || len(it.Budget.Tables) != 8 || it.Budget.Sources[0] != detail.URL.String() ||
				strings.Join(it.Budget.Explanations, ",") != budget.ExplainOperatingCosts {
				t.Fatalf("facts %+v", it.Budget)
			}
			if (it.Text != "") != tc.text || !strings.Contains(it.TextError, tc.problem) {
				t.Fatalf("text %q, error %q", it.Text, it.TextError)
			}
		})
	}
	// Nothing readable at all: no facts, and why.
	au := &audit{s: bareService(t)}
	it := &events.Item{}
	au.budgetText(context.Background(), it, budget.KindBudget, nil, []fetchedAttachment{failed}, nil)
	if it.Budget != nil || it.Text != "" || !strings.Contains(it.TextError, "404") {
		t.Fatalf("nothing read: %+v", it)
	}
}
