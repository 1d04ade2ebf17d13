package checker

import (
	"errors"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/internal/registry"
)

// Kind says how the checker judges an obligation.
type Kind int

const (
	// KindPeriodic: a dated item per period (an annual report, a budget,
	// a FOIA report), due by a deadline; settled once found.
	KindPeriodic Kind = iota
	// KindPresent: a website column must exist and not be blank, at all
	// times.
	KindPresent
	// KindFresh: the newest dated item of a column (or of the home page)
	// must be recent, at all times.
	KindFresh
	// KindBlank: fewer than Threshold of the observed columns may be
	// blank, at all times.
	KindBlank
	// KindRequest: a request for information must be answered within a
	// number of working days of its receipt; one instance per case (the
	// period is the case number), judged from a request register rather
	// than a website audit (see requests.go).
	KindRequest
)

// Continuous reports whether instances of the kind hold at all times (a
// single period, "current") and may go back and forth between compliant and
// not.
func (k Kind) Continuous() bool { return k == KindPresent || k == KindFresh || k == KindBlank }

// CurrentPeriod is the period key of continuous obligations.
const CurrentPeriod = "current"

// ColumnHomepage is the observation "column" of the home page itself.
const ColumnHomepage = "homepage"

// Rule is one obligation as the checker applies it to one agency.
type Rule struct {
	PackID       string
	PackVersion  string
	ObligationID string
	Title        events.Text
	// Severity of being overdue.
	Severity events.Severity
	// Kind says how the obligation is judged.
	Kind Kind
	// Column is the observation column the obligation is judged on.
	Column string
	// Threshold is the number of blank columns that breaks a KindBlank
	// obligation.
	Threshold int
	// Profile is the completeness profile of a periodic item, by period
	// ("" when completeness is not checked).
	Profile func(period string) string
	// Periods returns the periods to track at a given time.
	Periods func(now time.Time) []string
	// Clock computes an instance's deadline moments. For KindFresh, event
	// is the newest item's date (YYYY-MM-DD); for KindRequest, the case's
	// deadline date (from CaseDue).
	Clock func(period string, a *registry.Agency, event string) (Clock, Due, error)
	// Escalate returns when a continuous violation that began at from is
	// escalated.
	Escalate func(from time.Time) time.Time
	// Matches reports whether a found item fulfils a periodic obligation
	// for a period.
	Matches func(item events.Item, period string) bool
	// Duty is the finding's duty (events.DutyAnswer, …), empty for
	// obligations to publish.
	Duty string
	// CaseDue computes a request case's deadline date (YYYY-MM-DD) from its
	// receipt (or corrected receipt), extension and tolled periods; for an
	// appeal (RequestAppeal), from the appeal's receipt and its extension.
	// Only for KindRequest.
	CaseDue func(c events.RequestCase) (string, Due, error)
	// Location is the pack's time zone. An instance's civil dates (the
	// day a report was published, a request answered or an appeal
	// decided, a case's deadline, the dates of explanations) are read in
	// it, not in the checker's: a FOIA deadline ends at midnight in
	// Washington, not in Beijing.
	Location *time.Location
	// Waived reports whether the agency has a waiver covering the period
	// at a time, and why.
	Waived func(a *registry.Agency, period string, at time.Time) (bool, string)
}

// Due records how a deadline was computed.
type Due struct {
	Provisional     bool
	CalendarVersion string
}

// ErrTriggerUnknown means a deadline counts from an event (the approval of
// a budget) whose date the registry does not give.
var ErrTriggerUnknown = errors.New("trigger date unknown")

// Rules gives the obligations that apply to agencies.
type Rules interface {
	// For returns the rules that apply to an agency at a time.
	For(a *registry.Agency, now time.Time) []Rule
	// Lookup returns one rule by pack and obligation id, if it applies.
	Lookup(a *registry.Agency, packID, obligationID string) (Rule, bool)
	// Title returns an obligation's title (empty when unknown).
	Title(packID, obligationID string) events.Text
	// Location returns a pack's time zone, where its deadlines end (nil
	// when the pack is unknown).
	Location(packID string) *time.Location
	// ForCase returns the rule of a kind (RequestAnswer, RequestCorrection
	// or RequestAppeal) that a request (or, for RequestAppeal, its appeal)
	// received on a date falls under: the obligation of the law in force
	// that day, if one applies to the agency.
	ForCase(a *registry.Agency, kind, received string) (Rule, bool)
}
