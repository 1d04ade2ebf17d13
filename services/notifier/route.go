package notifier

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/internal/registry"
)

// Kinds of pending notices (the first token of their key).
const (
	kindImmediate = "i"
	kindDigest    = "d"
	kindWebhook   = "w"
)

// kindName names a pending kind in metrics and notice events.
func kindName(k string) string {
	switch k {
	case kindImmediate:
		return "immediate"
	case kindDigest:
		return "digest"
	case kindWebhook:
		return "webhook"
	}
	return "unknown"
}

// openStates are the states of a matter the agency has been told about and
// must still act on.
func isOpen(s events.State) bool {
	switch s {
	case events.StateDueSoon, events.StateOverdue, events.StateEscalated, events.StateIncomplete:
		return true
	}
	return false
}

// isClosing reports whether a transition closes a matter (it is satisfied,
// waived or no longer applies).
func isClosing(to events.State) bool {
	switch to {
	case events.StateSatisfied, events.StateSatisfiedLate, events.StateWaived, events.StateNotApplicable:
		return true
	}
	return false
}

// pendingItem is one notice owed, as stored in the pending-notices bucket.
type pendingItem struct {
	// Kind is kindImmediate, kindDigest or kindWebhook.
	Kind string `json:"kind"`
	// Recipient is the email address or the webhook URL.
	Recipient string `json:"recipient"`
	// Name is the contact's name (email only).
	Name string `json:"name,omitempty"`
	// Lang is "zh" or "en".
	Lang string `json:"lang,omitempty"`
	// Calendar is the jurisdiction whose working days and time zone rule
	// the recipient's digest.
	Calendar string `json:"calendar,omitempty"`
	// Home is the agency whose contact the recipient is.
	Home string `json:"home,omitempty"`
	// Supervisor is true when the recipient is told as the supervising
	// body of the finding's agency.
	Supervisor bool `json:"supervisor,omitempty"`
	// Alerted is true on a digest item whose finding was also sent to the
	// same recipient as an immediate notice.
	Alerted bool `json:"alerted,omitempty"`
	// FindingID and Finding are the finding reported.
	FindingID string         `json:"finding_id"`
	Finding   events.Finding `json:"finding"`
	// RecordedAt is when the notice was recorded (Options.Now).
	RecordedAt time.Time `json:"recorded_at"`
}

// key returns the item's key in the pending-notices bucket.
func (p *pendingItem) key() string {
	return p.Kind + "." + hash16(identity(p.Recipient)) + "." + hash16(p.FindingID)
}

// noticeID returns the id of the notice that delivers the item (for a
// digest item: the notice id of the digest depends on the date and is
// computed by the digest).
func (p *pendingItem) noticeID() string {
	if p.Kind == kindWebhook {
		return WebhookNoticeID(p.FindingID, p.Recipient)
	}
	return NoticeID(p.FindingID, p.Recipient)
}

// identity normalises a recipient for ids and keys: email addresses are
// compared without case.
func identity(recipient string) string {
	if strings.Contains(recipient, "://") {
		return recipient
	}
	return strings.ToLower(recipient)
}

func hash16(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

func hashID(prefix string, parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return prefix + hex.EncodeToString(sum[:12])
}

// NoticeID returns the deterministic id of the immediate notice of one
// finding to one recipient.
func NoticeID(findingID, recipient string) string {
	return hashID("n-", findingID, identity(recipient))
}

// DigestNoticeID returns the deterministic id of a recipient's digest for a
// date (YYYY-MM-DD, in the recipient's calendar): one digest per recipient
// per day, whatever it contains, so that two replicas that see slightly
// different pending items cannot both send one.
func DigestNoticeID(recipient, date string) string {
	return hashID("d-", "digest", identity(recipient), date)
}

// WebhookNoticeID returns the deterministic id of the webhook post of one
// finding to one URL.
func WebhookNoticeID(findingID, url string) string {
	return hashID("w-", findingID, url)
}

// recordMarker is the sent-ledger key that says a finding's notices were
// recorded in the pending-notices bucket.
func recordMarker(findingID string) string { return hashID("r-", findingID) }

// notifiable reports whether a finding is notified to people at all.
func (s *Service) notifiable(f events.Finding) bool {
	if !s.notify[f.To] {
		return false
	}
	if f.To != events.StateSatisfiedLate && isClosing(f.To) {
		return isOpen(f.From)
	}
	return true
}

// recipient is one contact to notify about a finding.
type recipient struct {
	contact    registry.Contact
	home       *registry.Agency
	supervisor bool
}

// recipients returns the contacts to notify about a finding: the agency's
// contacts (by role), and on escalation — or when an escalated matter is
// closed — the contacts of the supervising body, the nearest ancestor with
// contacts of the supervisor roles. Each address appears once.
func (s *Service) recipients(f events.Finding) []recipient {
	var out []recipient
	seen := map[string]bool{}
	add := func(a *registry.Agency, roles map[string]bool, supervisor bool) int {
		n := 0
		for _, c := range a.Contacts {
			if roles != nil && !roles[c.Role] {
				continue
			}
			n++
			if id := identity(c.Email); !seen[id] {
				seen[id] = true
				out = append(out, recipient{contact: c, home: a, supervisor: supervisor})
			}
		}
		return n
	}
	agency, ok := s.opts.Registry.Get(f.AgencyID)
	if !ok {
		return nil
	}
	add(agency, s.roles, false)
	if f.To == events.StateEscalated || (isClosing(f.To) && f.From == events.StateEscalated) {
		hops := 0
		for p := agency.Parent; p != "" && hops < 64; hops++ {
			parent, ok := s.opts.Registry.Get(p)
			if !ok {
				break
			}
			if add(parent, s.supRoles, true) > 0 {
				break
			}
			p = parent.Parent
		}
	}
	return out
}

// plan returns the notices owed for a finding: for every recipient an
// immediate notice (contacts in immediate mode, or a severity that is sent
// immediately) and a digest item (contacts in digest mode), and a post to
// every webhook that wants the finding.
func (s *Service) plan(findingID string, f events.Finding, now time.Time) []pendingItem {
	var out []pendingItem
	if s.notifiable(f) {
		for _, r := range s.recipients(f) {
			base := pendingItem{
				Recipient: r.contact.Email, Name: r.contact.Name, Lang: r.contact.Lang,
				Calendar: r.home.Jurisdiction, Home: r.home.ID, Supervisor: r.supervisor,
				FindingID: findingID, Finding: f, RecordedAt: now,
			}
			if base.Lang != "en" {
				base.Lang = "zh"
			}
			if _, ok := s.opts.Calendars[base.Calendar]; !ok {
				base.Calendar = "cn"
			}
			digest := r.contact.Mode != registry.ModeImmediate
			immediate := !digest || s.immediate[f.Severity]
			if immediate {
				it := base
				it.Kind = kindImmediate
				out = append(out, it)
			}
			if digest {
				it := base
				it.Kind, it.Alerted = kindDigest, immediate
				out = append(out, it)
			}
		}
	}
	jur := "cn"
	if a, ok := s.opts.Registry.Get(f.AgencyID); ok && a.Jurisdiction != "" {
		jur = a.Jurisdiction
	}
	for _, url := range sortedKeys(s.webhooks) {
		if s.webhooks[url].wants(f, s.notifiable(f)) {
			out = append(out, pendingItem{
				Kind: kindWebhook, Recipient: url, Calendar: jur, Home: f.AgencyID,
				FindingID: findingID, Finding: f, RecordedAt: now,
			})
		}
	}
	return out
}
