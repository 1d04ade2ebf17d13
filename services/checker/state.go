package checker

import (
	"time"

	"github.com/gongkai/gongkai/pkg/events"
)

// Instance is the stored state of one obligation instance (agency,
// obligation, period), the value of its key in the obligations bucket.
type Instance struct {
	AgencyID     string `json:"agency_id"`
	PackID       string `json:"pack_id"`
	ObligationID string `json:"obligation_id"`
	Period       string `json:"period"`

	State events.State `json:"state"`
	// Since is when the instance entered State.
	Since time.Time `json:"since"`

	DueAt           time.Time `json:"due_at"`
	Provisional     bool      `json:"provisional,omitempty"`
	CalendarVersion string    `json:"calendar_version,omitempty"`
	PackVersion     string    `json:"pack_version,omitempty"`

	// What was found, once something was.
	URL         string   `json:"url,omitempty"`
	PublishedOn string   `json:"published_on,omitempty"`
	Evidence    []string `json:"evidence,omitempty"`

	// Failures counts consecutive observations that could not look.
	Failures int `json:"failures,omitempty"`
	// LastError is the reason of the last failed look, or why the
	// instance could not be judged (a trigger date that is unknown).
	LastError string `json:"last_error,omitempty"`
	// Text is the SHA-256 of the report text checked for completeness,
	// and FailedRules the completeness rules it failed.
	Text        string   `json:"text,omitempty"`
	FailedRules []string `json:"failed_rules,omitempty"`
	// Note explains the verdict further.
	Note string `json:"note,omitempty"`
	// LastObserved is the time of the last observation (successful or not).
	LastObserved time.Time `json:"last_observed,omitempty"`

	// Outbox holds the finding of the instance's last transition, written
	// together with the state and published after the write succeeds (a
	// transactional outbox): a finding is never announced for a state that
	// was not stored, and one lost to a crash between the write and the
	// publish is published again at start-up.
	Outbox *Outbox `json:"outbox,omitempty"`
}

// Outbox records a transition's finding: its id and what is needed to
// build its event again (the event itself is derived from the stored
// instance, so it is not stored twice).
type Outbox struct {
	// ID is the finding's message id.
	ID string `json:"id"`
	// At is when the transition was decided.
	At time.Time `json:"at"`
	// From and State are the states before and after the transition.
	From  events.State `json:"from,omitempty"`
	State events.State `json:"state"`
	// Rev is the revision of the state the transition replaced.
	Rev uint64 `json:"rev"`
	// Subject is the subject the finding is published on.
	Subject string `json:"subject"`
	// Event is the encoded envelope, in memory only.
	Event []byte `json:"-"`
}

// Key returns the instance's key in the obligations bucket.
func (i *Instance) Key() string {
	return Key(i.AgencyID, i.PackID, i.ObligationID, i.Period)
}

// Key builds an obligations bucket key. Ids are validated tokens (agency) or
// pack-defined ids; characters outside the key alphabet become '_'.
func Key(agency, pack, obligation, period string) string {
	return sanitize(agency) + "." + sanitize(pack) + "." + sanitize(obligation) + "." + sanitize(period)
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '=') {
			b[i] = '_'
		}
	}
	return string(b)
}

// Look is what one observation says about one instance.
type Look int

const (
	// LookNone: the instance is evaluated on the clock alone.
	LookNone Look = iota
	// LookFound: the item was found (PublishedOn may be empty when no
	// date was shown).
	LookFound
	// LookAbsent: a successful look did not find the item. This, and only
	// this, is evidence that it is not published.
	LookAbsent
	// LookFailed: the site or column could not be read.
	LookFailed
	// LookBlank: the column exists and holds nothing (a 空白栏目).
	LookBlank
)

// Facts is the input of one evaluation.
type Facts struct {
	Look        Look
	PublishedOn string // YYYY-MM-DD, for LookFound (the newest item, for freshness)
	URL         string
	Evidence    []string
	Error       string // for LookFailed
	// Text is the SHA-256 of a found report's extracted text, when
	// completeness can be checked.
	Text string
	// Budget is what ingest read in a found budget's or final account's
	// text (the standard tables it shows), when it says.
	Budget *events.BudgetText
	// Note explains the verdict further (a blank column count, a trigger
	// date that is unknown).
	Note string
	// ClockEvent, when set, is the date the rule's clock counts from
	// instead of PublishedOn: a request case's deadline date.
	ClockEvent string
}

// Clock gives the moments at which an instance's clock state changes.
type Clock struct {
	DueAt      time.Time // the deadline itself
	DueSoonAt  time.Time // from here on: due_soon
	EscalateAt time.Time // from here on: escalated
}

// clockState is the state the clock alone gives an unfulfilled instance.
func (c Clock) clockState(now time.Time) events.State {
	switch {
	case now.Before(c.DueSoonAt):
		return events.StateNotDue
	case !now.After(c.DueAt):
		return events.StateDueSoon
	case now.Before(c.EscalateAt):
		return events.StateOverdue
	default:
		return events.StateEscalated
	}
}

// decide returns the next state of an instance (nil when new) given facts and
// the time. It is pure: everything it needs is in its arguments.
//
// The rules: a found item settles the instance (satisfied, or satisfied_late
// when published after the deadline); a successful look that finds nothing
// leaves it to the clock (not_due → due_soon → overdue → escalated); a
// failed look is absence of evidence — it counts a failure, and only after
// failureThreshold consecutive failures (or on an instance never seen
// before) does the instance become unknown. Settled and waived instances are
// not reopened by the clock or by failed looks.
func decide(prev *Instance, f Facts, clk Clock, now time.Time, loc *time.Location, failureThreshold int) (events.State, int) {
	failures := 0
	if prev != nil {
		failures = prev.Failures
	}
	settled := prev != nil && (prev.State == events.StateSatisfied || prev.State == events.StateSatisfiedLate ||
		prev.State == events.StateWaived || prev.State == events.StateNotApplicable)
	switch f.Look {
	case LookFound:
		pub := now
		if f.PublishedOn != "" {
			if d, err := time.ParseInLocation(events.DateLayout, f.PublishedOn, loc); err == nil {
				pub = d
			}
		}
		if pub.After(clk.DueAt) {
			return events.StateSatisfiedLate, 0
		}
		return events.StateSatisfied, 0
	case LookAbsent:
		if settled {
			// A report that disappears after being seen is not "unpublished"
			// for the period's deadline; it stays settled.
			return prev.State, 0
		}
		return clk.clockState(now), 0
	case LookFailed:
		failures++
		if settled {
			return prev.State, failures
		}
		if prev == nil || prev.State == events.StateUnknown || failures >= failureThreshold {
			return events.StateUnknown, failures
		}
		// Too few failures to doubt the last successful look, which found
		// nothing: the clock still runs.
		return clk.clockState(now), failures
	default: // clock only
		if prev == nil {
			return events.StateUnknown, failures
		}
		if settled || prev.State == events.StateUnknown {
			return prev.State, failures
		}
		return clk.clockState(now), failures
	}
}

// decideContinuous is decide for obligations that hold at all times: a
// required column, a fresh column, few blank columns. They go back and
// forth between satisfied and violated; a violation is overdue from the
// moment it is seen (or, for freshness, from the moment the column went
// stale) and escalated escalateAfter working days later.
func decideContinuous(prev *Instance, f Facts, clk Clock, now time.Time, failureThreshold int, escalate func(time.Time) time.Time) (events.State, int, time.Time) {
	violated := func(since time.Time) (events.State, int, time.Time) {
		if prev != nil && (prev.State == events.StateOverdue || prev.State == events.StateEscalated) {
			since = prev.Since
		}
		if !now.Before(escalate(since)) {
			return events.StateEscalated, 0, since
		}
		return events.StateOverdue, 0, since
	}
	stale := func() bool { return !clk.DueAt.IsZero() && now.After(clk.DueAt) }
	staleSince := func() time.Time {
		if clk.DueAt.Unix() > 0 && clk.DueAt.Before(now) {
			return clk.DueAt
		}
		return now
	}
	failures := 0
	if prev != nil {
		failures = prev.Failures
	}
	switch f.Look {
	case LookFound:
		if stale() {
			return violated(staleSince())
		}
		return events.StateSatisfied, 0, now
	case LookBlank:
		return events.StateIncomplete, 0, now
	case LookAbsent:
		return violated(now)
	case LookFailed:
		failures++
		if prev == nil || prev.State == events.StateUnknown || failures >= failureThreshold {
			return events.StateUnknown, failures, now
		}
		return prev.State, failures, prev.Since
	default: // the clock alone
		if prev == nil {
			return events.StateUnknown, failures, now
		}
		switch prev.State {
		case events.StateSatisfied:
			if !prev.DueAt.IsZero() && now.After(prev.DueAt) {
				clk.DueAt = prev.DueAt
				st, _, since := violated(staleSince())
				return st, failures, since
			}
		case events.StateOverdue:
			st, _, since := violated(prev.Since)
			return st, failures, since
		}
		return prev.State, failures, prev.Since
	}
}
