package notifier

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
)

// hookServer is a webhook receiver that verifies every post like a real
// one would, refuses the first few with 503, and records what it accepted.
type hookServer struct {
	*httptest.Server
	secret string
	now    func() time.Time

	mu       sync.Mutex
	fail     int
	status   int // reply after the failures; 200 when 0
	attempts int
	accepted map[string]int
	bodies   []WebhookBody
	errs     []string
}

func newHookServer(t *testing.T, secret string, now func() time.Time, fail, status int) *hookServer {
	h := &hookServer{secret: secret, now: now, fail: fail, status: status, accepted: map[string]int{}}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.attempts++
		if err := VerifyWebhook(h.secret, r.Header, body, h.now(), 5*time.Minute); err != nil {
			h.errs = append(h.errs, err.Error())
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if h.fail > 0 {
			h.fail--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if h.status != 0 {
			w.WriteHeader(h.status)
			return
		}
		var b WebhookBody
		if err := json.Unmarshal(body, &b); err != nil {
			h.errs = append(h.errs, err.Error())
		}
		if r.Header.Get(HeaderWebhookNotice) != b.NoticeID {
			h.errs = append(h.errs, "notice header and body disagree")
		}
		h.accepted[b.NoticeID]++
		h.bodies = append(h.bodies, b)
	}))
	t.Cleanup(h.Close)
	return h
}

func TestWebhook(t *testing.T) {
	var r *rig
	now := func() time.Time { return r.clock.Now() }
	ok := newHookServer(t, "s3cret", now, 2, 0)
	refusing := newHookServer(t, "other", now, 0, http.StatusBadRequest)
	r = newRig(t, loadRegistry(t, "testdata/registry.yaml"), func(o *Options) {
		o.Webhooks = []Webhook{
			{URL: ok.URL + "/hook?token=abc", Secret: "s3cret"},
			{URL: refusing.URL + "/ops", Secret: "other", States: []events.State{events.StateEscalated}},
		}
	})
	r.start()
	r.clock.Set(at(2026, 2, 3, 9, 0))
	due := at(2026, 1, 31, 23, 59)
	r.publish(finding("sfz-jyj", "A", events.StateDueSoon, events.StateOverdue, events.SeverityCritical, due, r.clock.Now()))
	r.publish(finding("sfz-wjw", "B", events.StateDueSoon, events.StateUnknown, events.SeverityWarning, due, r.clock.Now()))
	r.publish(finding("sfz-wjw", "C", "", events.StateNotDue, events.SeverityInfo, due, r.clock.Now()))
	r.publish(finding("sfz-czj", "D", events.StateOverdue, events.StateEscalated, events.SeverityCritical, due, r.clock.Now()))
	r.settle()

	ok.mu.Lock()
	defer ok.mu.Unlock()
	if len(ok.errs) > 0 {
		t.Fatalf("receiver errors: %v", ok.errs)
	}
	// A (overdue), B (unknown: operators), D (escalated); not C (not due).
	if len(ok.accepted) != 3 {
		t.Fatalf("accepted %v, want 3 notices", ok.accepted)
	}
	for id, n := range ok.accepted {
		if n != 1 || !strings.HasPrefix(id, "w-") {
			t.Errorf("notice %s accepted %d times", id, n)
		}
	}
	if ok.attempts != 3+2 {
		t.Errorf("%d posts, want 3 accepted + 2 refused with 503", ok.attempts)
	}
	var overdue *WebhookBody
	for i := range ok.bodies {
		if ok.bodies[i].Finding.ObligationID == "A" {
			overdue = &ok.bodies[i]
		}
	}
	if overdue == nil || overdue.Type != WebhookType || overdue.Link != "https://dash.example/agencies/sfz-jyj" ||
		!strings.HasPrefix(overdue.Summary.ZH, "【逾期】示范市教育局") || !strings.HasPrefix(overdue.Summary.EN, "[Overdue] Shifan Education Bureau") {
		t.Errorf("overdue webhook body: %+v", overdue)
	}
	// The second webhook takes escalations only and refuses with 400: one
	// attempt, recorded as failed, with the URL's query redacted in records.
	refusing.mu.Lock()
	if refusing.attempts != 1 {
		t.Errorf("refusing webhook: %d attempts, want 1", refusing.attempts)
	}
	refusing.mu.Unlock()
	var sent, failed int
	for _, n := range r.notices() {
		if n.Channel != "webhook" {
			continue
		}
		if strings.Contains(n.Recipient, "abc") {
			t.Errorf("webhook token in a notice record: %s", n.Recipient)
		}
		switch n.Outcome {
		case "sent":
			sent++
		case "failed":
			failed++
		}
	}
	if sent != 3 || failed != 1 {
		t.Errorf("webhook notices: %d sent, %d failed; want 3, 1", sent, failed)
	}
	if n := r.counter("gongkai_notifier_deliveries_total", "channel", "webhook", "result", "temporary_failure"); n != 2 {
		t.Errorf("temporary webhook failures %v, want 2", n)
	}
}

func TestVerifyWebhookRejectsReplayAndTampering(t *testing.T) {
	now := time.Unix(1_770_000_000, 0)
	body := []byte(`{"type":"gongkai.webhook.finding.v1"}`)
	h := http.Header{}
	h.Set(HeaderWebhookTimestamp, "1770000000")
	h.Set(HeaderWebhookSignature, SignWebhook("k", now, body))
	if err := VerifyWebhook("k", h, body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("genuine: %v", err)
	}
	if err := VerifyWebhook("k", h, body, now.Add(10*time.Minute), 5*time.Minute); err == nil || !strings.Contains(err.Error(), "replay") {
		t.Errorf("replayed 10 minutes later: %v", err)
	}
	if err := VerifyWebhook("k", h, append(body, ' '), now, 5*time.Minute); err == nil {
		t.Error("tampered body accepted")
	}
	if err := VerifyWebhook("other", h, body, now, 5*time.Minute); err == nil {
		t.Error("wrong secret accepted")
	}
	h.Set(HeaderWebhookTimestamp, "1770000001") // the timestamp is signed too
	if err := VerifyWebhook("k", h, body, now, 5*time.Minute); err == nil {
		t.Error("altered timestamp accepted")
	}
}
