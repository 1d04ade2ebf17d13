package notifier

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
)

// Webhook headers. The signature is
//
//	X-Gongkai-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//
// with the Unix timestamp of X-Gongkai-Timestamp; a receiver recomputes it
// with the shared secret, compares in constant time, and rejects a
// timestamp too far from its own clock (VerifyWebhook does all three), so a
// captured request cannot be replayed later. X-Gongkai-Notice carries the
// notice id, stable across retries, for the receiver to de-duplicate.
const (
	HeaderWebhookSignature = "X-Gongkai-Signature"
	HeaderWebhookTimestamp = "X-Gongkai-Timestamp"
	HeaderWebhookNotice    = "X-Gongkai-Notice"
)

// WebhookType is the type field of every webhook body.
const WebhookType = "gongkai.webhook.finding.v1"

// Webhook is a chat or operations endpoint that receives a signed JSON POST
// per finding.
type Webhook struct {
	// URL is the http or https endpoint.
	URL string
	// Secret is the HMAC-SHA256 key. Required.
	Secret string
	// States selects the findings posted, by the state they enter; empty
	// means every finding that is notified to people, and findings into
	// unknown (which only operators see).
	States []events.State
}

func (w Webhook) validate() error {
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("webhook %q: want an absolute http or https URL", redactURL(w.URL))
	}
	if w.Secret == "" {
		return fmt.Errorf("webhook %s: a secret is required to sign the posts", redactURL(w.URL))
	}
	for _, st := range w.States {
		if !st.Valid() {
			return fmt.Errorf("webhook %s: state %q is not a state", redactURL(w.URL), st)
		}
	}
	return nil
}

// wants reports whether the webhook is sent a finding.
func (w Webhook) wants(f events.Finding, notifiable bool) bool {
	if len(w.States) == 0 {
		return notifiable || f.To == events.StateUnknown
	}
	for _, st := range w.States {
		if st == f.To {
			return true
		}
	}
	return false
}

// WebhookBody is the JSON posted to a webhook.
type WebhookBody struct {
	// Type is WebhookType.
	Type string `json:"type"`
	// NoticeID is stable across retries.
	NoticeID string `json:"notice_id"`
	// FindingID and Finding are the finding reported.
	FindingID string         `json:"finding_id"`
	Finding   events.Finding `json:"finding"`
	// Summary is the one-line notice subject in both languages, ready for
	// a chat message.
	Summary events.Text `json:"summary"`
	// Link is the dashboard page of the agency, when configured.
	Link string `json:"link,omitempty"`
}

// SignWebhook returns the signature header value of body sent at ts.
func SignWebhook(secret string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifyWebhook checks a received webhook: the signature over the
// timestamp and body, and a timestamp within tolerance of now.
func VerifyWebhook(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(h.Get(HeaderWebhookTimestamp), 10, 64)
	if err != nil {
		return errors.New("webhook: missing or malformed timestamp")
	}
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > tolerance || d < -tolerance {
		return fmt.Errorf("webhook: timestamp %s is %v from now: possible replay", ts.UTC().Format(time.RFC3339), d.Round(time.Second))
	}
	want := SignWebhook(secret, ts, body)
	if !hmac.Equal([]byte(want), []byte(h.Get(HeaderWebhookSignature))) {
		return errors.New("webhook: bad signature")
	}
	return nil
}

// postWebhook posts one finding. Network errors, 408, 429 and 5xx replies
// are temporary; other non-2xx replies are permanent.
func (s *Service) postWebhook(ctx context.Context, wh Webhook, id string, p pendingItem, summary events.Text, link string) error {
	body, err := json.Marshal(WebhookBody{
		Type: WebhookType, NoticeID: id, FindingID: p.FindingID, Finding: p.Finding, Summary: summary, Link: link,
	})
	if err != nil {
		return fmt.Errorf("webhook body: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, wh.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: %w", redactURL(wh.URL), err)
	}
	ts := s.opts.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "gongkai-notifier")
	req.Header.Set(HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderWebhookSignature, SignWebhook(wh.Secret, ts, body))
	req.Header.Set(HeaderWebhookNotice, id)
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return &TemporaryError{fmt.Errorf("webhook %s: %w", redactURL(wh.URL), redactErr(err, wh.URL))}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return &TemporaryError{fmt.Errorf("webhook %s: %s", redactURL(wh.URL), resp.Status)}
	default:
		return fmt.Errorf("webhook %s: %s", redactURL(wh.URL), resp.Status)
	}
}

// redactURL drops credentials and the query (which often carries a token)
// from a URL for logs and notice records.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "redacted"
	}
	u.Fragment = ""
	return u.String()
}

// redactErr removes the full URL from an error message.
func redactErr(err error, raw string) error {
	msg := strings.ReplaceAll(err.Error(), raw, redactURL(raw))
	return errors.New(msg)
}
