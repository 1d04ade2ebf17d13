package checker

import (
	"time"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/internal/registry"
)

// Rule is one obligation as the checker applies it to one agency.
type Rule struct {
	PackID       string
	PackVersion  string
	ObligationID string
	Title        events.Text
	// Severity of being overdue.
	Severity events.Severity
	// Column is the observation column whose items fulfil the obligation.
	Column string
	// Periods returns the periods to track at a given time: the most
	// recent one whose deadline has passed and the next one.
	Periods func(now time.Time) []string
	// Clock computes an instance's deadline moments.
	Clock func(period string) (Clock, Due, error)
	// Matches reports whether a found item fulfils the obligation for a
	// period.
	Matches func(item events.Item, period string) bool
}

// Due records how a deadline was computed.
type Due struct {
	Provisional     bool
	CalendarVersion string
}

// Rules gives the obligations that apply to agencies.
type Rules interface {
	// For returns the rules that apply to an agency at a time.
	For(a *registry.Agency, now time.Time) []Rule
	// Lookup returns one rule by pack and obligation id, if it applies.
	Lookup(a *registry.Agency, packID, obligationID string) (Rule, bool)
	// Title returns an obligation's title (empty when unknown).
	Title(packID, obligationID string) events.Text
}
