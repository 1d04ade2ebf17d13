package events

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// DateLayout is the layout of civil dates (no time, no zone) in payloads.
const DateLayout = "2006-01-02"

// (ValidToken is ^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$, written out: it runs
// on every event the checker decodes; TestValidTokenMatchesPattern and
// FuzzValidToken hold it to the pattern.)

// ValidToken reports whether s can be used as an agency id: it becomes a NATS
// subject token and part of key-value keys, so it is limited to ASCII
// letters, digits, '-' and '_' (at most 128 characters).
func ValidToken(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

func checkToken(field, s string) error {
	if !ValidToken(s) {
		return fmt.Errorf("%s %q is not a valid id (letters, digits, '-' and '_', 1-128 characters)", field, s)
	}
	return nil
}

func checkDate(field, s string) error {
	if !validDate(s) {
		return fmt.Errorf("%s %q is not a YYYY-MM-DD date", field, s)
	}
	return nil
}

// validDate reports whether s is empty or a YYYY-MM-DD date: what
// time.Parse(DateLayout, s) accepts, checked without it (an observation
// carries a date per item; FuzzValidDate holds it to time.Parse).
func validDate(s string) bool {
	if s == "" {
		return true
	}
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	num := func(t string) int {
		n := 0
		for i := 0; i < len(t); i++ {
			if t[i] < '0' || t[i] > '9' {
				return -1
			}
			n = n*10 + int(t[i]-'0')
		}
		return n
	}
	y, m, d := num(s[:4]), num(s[5:7]), num(s[8:])
	if y < 0 || m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return d <= days
}

// Text is a message in the two languages gongkai speaks.
type Text struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// In returns the text in lang ("en" or anything else for Chinese), falling
// back to the other language when one is empty.
func (t Text) In(lang string) string {
	if lang == "en" && t.EN != "" || t.ZH == "" {
		return t.EN
	}
	return t.ZH
}

// AuditJob asks an ingest worker to audit one agency's website.
type AuditJob struct {
	// AgencyID is the registry id of the agency to audit.
	AgencyID string `json:"agency_id"`
	// RunID names the audit run the job belongs to; every job of one
	// scheduled run carries the same RunID.
	RunID string `json:"run_id"`
	// ScheduledAt is the time the run was scheduled for.
	ScheduledAt time.Time `json:"scheduled_at"`
	// Trigger says why the run happened: "schedule" or "manual".
	Trigger string `json:"trigger"`
	// RunSize is the number of jobs in the run, for progress reporting.
	RunSize int `json:"run_size,omitempty"`
}

// EventType implements [Payload].
func (AuditJob) EventType() string { return TypeAuditJob }

// Validate implements [Payload].
func (j AuditJob) Validate() error {
	var errs []error
	errs = append(errs, checkToken("agency_id", j.AgencyID))
	if j.RunID == "" {
		errs = append(errs, errors.New("run_id is empty"))
	}
	if j.ScheduledAt.IsZero() {
		errs = append(errs, errors.New("scheduled_at is zero"))
	}
	if j.Trigger != "schedule" && j.Trigger != "manual" {
		errs = append(errs, fmt.Errorf("trigger %q, want schedule or manual", j.Trigger))
	}
	return errors.Join(errs...)
}

// Fetch outcomes recorded in observations. Only OutcomeOK is evidence that
// something is or is not published; every other outcome is absence of
// evidence.
const (
	OutcomeOK          = "ok"
	OutcomeUnreachable = "unreachable" // connection refused, DNS failure, reset
	OutcomeTimeout     = "timeout"
	OutcomeHTTPError   = "http_error" // a non-2xx status after retries
	OutcomeTooLarge    = "too_large"
	OutcomeBlocked     = "blocked"     // refused by the SSRF guard or robots.txt
	OutcomeRedirects   = "redirects"   // redirect limit or loop
	OutcomeUnparseable = "unparseable" // fetched, but the body could not be read
	OutcomeNotFound    = "not_found"   // fetched the parent page, the column is not linked
)

// Column keys of the standard 政府信息公开 columns. The rule packs' locators
// name the columns (the full list is in the packs); these are the ones
// producers and consumers refer to in code.
const (
	ColumnAnnualReport = "annual_report"         // 政府信息公开年报
	ColumnBudget       = "budget_final_accounts" // 预决算公开
)

// Item is one dated entry on a column's list page.
type Item struct {
	// Title is the link text.
	Title string `json:"title"`
	// URL is the absolute URL of the item.
	URL string `json:"url"`
	// Date is the publication date shown on the list or detail page
	// (YYYY-MM-DD), empty when none was shown.
	Date string `json:"date,omitempty"`
	// Year is the reporting year named in the title, for reports; 0 if none.
	Year int `json:"year,omitempty"`
	// Evidence is the SHA-256 of the detail page or document, when fetched.
	Evidence string `json:"evidence,omitempty"`
	// Attachments are the documents (PDF, DOC, DOCX) the detail page links,
	// when the detail page was read.
	Attachments []Attachment `json:"attachments,omitempty"`
	// Text is the SHA-256 of the item's text (UTF-8, extracted from the
	// attachment that holds the report, or from the detail page when it
	// has none), stored as evidence so that completeness can be checked
	// without fetching again. Empty when no text was extracted.
	Text string `json:"text,omitempty"`
	// TextSource is the URL the text was extracted from.
	TextSource string `json:"text_source,omitempty"`
	// TextError says why no text could be extracted (a scanned PDF, a
	// legacy .doc, an oversized or malformed document).
	TextError string `json:"text_error,omitempty"`
	// Budget is what the text of a budget or final-accounts item shows
	// (the newest item of each kind in the budget column); nil when its
	// text was not read. Optional: absent from observations published
	// before it was added.
	Budget *BudgetText `json:"budget,omitempty"`
}

// Kinds of budget documents, in [BudgetText].
const (
	BudgetKindBudget        = "budget"         // 预算
	BudgetKindFinalAccounts = "final_accounts" // 决算
)

// BudgetText records what the text of a budget (预算) or final accounts
// (决算) shows: facts for the checker, never verdicts. The item's Year is
// the year its title names and its Text the hash of the text read (set only
// when every document of the item could be read).
type BudgetText struct {
	// Kind is BudgetKindBudget or BudgetKindFinalAccounts, from the title.
	Kind string `json:"kind"`
	// Tables lists, by their standard names, the standard tables whose
	// titles appear in the text (收支总表 … 政府性基金预算支出表 for a
	// budget), in publication order.
	Tables []string `json:"tables,omitempty"`
	// Explanations lists the matters the text explains in prose:
	// "机关运行经费", "三公经费".
	Explanations []string `json:"explanations,omitempty"`
	// Sources are the URLs of the documents whose text was read: the
	// detail page and its attachments.
	Sources []string `json:"sources,omitempty"`
}

// Attachment is a document linked from an item's detail page.
type Attachment struct {
	// Title is the link text.
	Title string `json:"title,omitempty"`
	// URL is the absolute URL of the document.
	URL string `json:"url"`
	// Outcome is the outcome of fetching it (an Outcome* constant).
	Outcome string `json:"outcome"`
	// Error explains a non-OK outcome.
	Error string `json:"error,omitempty"`
	// Evidence is the SHA-256 of the document's bytes.
	Evidence string `json:"evidence,omitempty"`
	// ContentType is the Content-Type it was served with.
	ContentType string `json:"content_type,omitempty"`
}

// Column records what was seen of one website column.
type Column struct {
	// Key is the column's key, such as [ColumnAnnualReport].
	Key string `json:"key"`
	// URL is where the column was found (or looked for).
	URL string `json:"url,omitempty"`
	// Outcome is one of the Outcome* constants. OutcomeNotFound means the
	// page that should link to the column was read and has no such link.
	Outcome string `json:"outcome"`
	// Error explains a non-OK outcome.
	Error string `json:"error,omitempty"`
	// ItemCount is the number of dated items found across the list pages.
	ItemCount int `json:"item_count"`
	// Newest is the newest item date (YYYY-MM-DD), empty if none.
	Newest string `json:"newest,omitempty"`
	// Items holds the items, for columns whose items matter individually
	// (annual reports, budgets); other columns carry counts only.
	Items []Item `json:"items,omitempty"`
	// Evidence is the SHA-256 of the column's first list page.
	Evidence string `json:"evidence,omitempty"`
	// Blank is true when the column page was read and holds neither list
	// items nor content text (a 空白栏目). Only with OutcomeOK.
	Blank bool `json:"blank,omitempty"`
	// Pages is the number of list pages read.
	Pages int `json:"pages,omitempty"`
	// Truncated is true when more list pages exist than were read; then
	// ItemCount counts only the pages read.
	Truncated bool `json:"truncated,omitempty"`
}

// Observation is what an ingest worker saw of one agency's website in one
// audit: facts, never verdicts.
type Observation struct {
	// AgencyID is the registry id of the agency.
	AgencyID string `json:"agency_id"`
	// RunID is the audit run that produced the observation.
	RunID string `json:"run_id"`
	// ObservedAt is when the website was read.
	ObservedAt time.Time `json:"observed_at"`
	// Site is the agency's home page URL.
	Site string `json:"site"`
	// Outcome is the outcome of reading the home page.
	Outcome string `json:"outcome"`
	// Error explains a non-OK outcome, naming the URL and what failed.
	Error string `json:"error,omitempty"`
	// HomeNewest is the newest dated item on the home page (YYYY-MM-DD).
	HomeNewest string `json:"home_newest,omitempty"`
	// HomeEvidence is the SHA-256 of the home page body.
	HomeEvidence string `json:"home_evidence,omitempty"`
	// Columns holds one entry per column looked for.
	Columns []Column `json:"columns,omitempty"`
}

// EventType implements [Payload].
func (Observation) EventType() string { return TypeObservation }

// Validate implements [Payload].
func (o Observation) Validate() error {
	var errs []error
	errs = append(errs, checkToken("agency_id", o.AgencyID))
	if o.RunID == "" {
		errs = append(errs, errors.New("run_id is empty"))
	}
	if o.ObservedAt.IsZero() {
		errs = append(errs, errors.New("observed_at is zero"))
	}
	if !validOutcome(o.Outcome) {
		errs = append(errs, fmt.Errorf("outcome %q is not a known outcome", o.Outcome))
	}
	if o.Outcome != OutcomeOK && o.Error == "" {
		errs = append(errs, fmt.Errorf("outcome %q without an error", o.Outcome))
	}
	errs = append(errs, checkDate("home_newest", o.HomeNewest))
	for i, c := range o.Columns {
		if c.Key == "" {
			errs = append(errs, fmt.Errorf("columns[%d].key is empty", i))
		}
		if !validOutcome(c.Outcome) {
			errs = append(errs, fmt.Errorf("columns[%d].outcome %q is not a known outcome", i, c.Outcome))
		}
		if !validDate(c.Newest) { // the field's name is built only for an error
			errs = append(errs, checkDate(fmt.Sprintf("columns[%d].newest", i), c.Newest))
		}
		for j, it := range c.Items {
			if it.URL == "" {
				errs = append(errs, fmt.Errorf("columns[%d].items[%d].url is empty", i, j))
			}
			if !validDate(it.Date) {
				errs = append(errs, checkDate(fmt.Sprintf("columns[%d].items[%d].date", i, j), it.Date))
			}
			if b := it.Budget; b != nil {
				if b.Kind != BudgetKindBudget && b.Kind != BudgetKindFinalAccounts {
					errs = append(errs, fmt.Errorf("columns[%d].items[%d].budget.kind %q, want %s or %s", i, j, b.Kind, BudgetKindBudget, BudgetKindFinalAccounts))
				}
				if slices.Contains(b.Tables, "") || slices.Contains(b.Explanations, "") {
					errs = append(errs, fmt.Errorf("columns[%d].items[%d].budget has an empty table or explanation", i, j))
				}
			}
			for k, a := range it.Attachments {
				if a.URL == "" {
					errs = append(errs, fmt.Errorf("columns[%d].items[%d].attachments[%d].url is empty", i, j, k))
				}
				if !validOutcome(a.Outcome) {
					errs = append(errs, fmt.Errorf("columns[%d].items[%d].attachments[%d].outcome %q is not a known outcome", i, j, k, a.Outcome))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// Column returns the column with the given key, if observed.
func (o Observation) Column(key string) (Column, bool) {
	for _, c := range o.Columns {
		if c.Key == key {
			return c, true
		}
	}
	return Column{}, false
}

func validOutcome(s string) bool {
	switch s {
	case OutcomeOK, OutcomeUnreachable, OutcomeTimeout, OutcomeHTTPError, OutcomeTooLarge,
		OutcomeBlocked, OutcomeRedirects, OutcomeUnparseable, OutcomeNotFound:
		return true
	}
	return false
}

// State is the state of one obligation instance (agency, obligation, period).
type State string

// The states of an obligation instance; see the design brief.
const (
	StateNotDue        State = "not_due"
	StateDueSoon       State = "due_soon"
	StateOverdue       State = "overdue"
	StateEscalated     State = "escalated"
	StateSatisfied     State = "satisfied"
	StateSatisfiedLate State = "satisfied_late"
	StateIncomplete    State = "incomplete"
	StateWaived        State = "waived"
	StateNotApplicable State = "not_applicable"
	StateUnknown       State = "unknown"
)

// States lists every state in display order.
var States = []State{
	StateNotDue, StateDueSoon, StateOverdue, StateEscalated, StateSatisfied,
	StateSatisfiedLate, StateIncomplete, StateWaived, StateNotApplicable, StateUnknown,
}

// Valid reports whether s is one of the defined states.
func (s State) Valid() bool {
	for _, v := range States {
		if s == v {
			return true
		}
	}
	return false
}

// Severity ranks findings for routing: critical ones are sent immediately.
type Severity string

// Severities.
const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// Finding records one state transition of an obligation instance.
type Finding struct {
	// AgencyID and AgencyName identify the agency.
	AgencyID   string `json:"agency_id"`
	AgencyName string `json:"agency_name"`
	// PackID and PackVersion name the rule pack that decided.
	PackID      string `json:"pack_id"`
	PackVersion string `json:"pack_version"`
	// ObligationID is the obligation's id within its pack.
	ObligationID string `json:"obligation_id"`
	// Obligation is the obligation's title.
	Obligation Text `json:"obligation"`
	// Period is the period key, for example "2025".
	Period string `json:"period"`
	// From and To are the states before and after the transition. From is
	// empty for the first state of a new instance.
	From State `json:"from,omitempty"`
	To   State `json:"to"`
	// Severity ranks the finding.
	Severity Severity `json:"severity"`
	// DueAt is the deadline, in the pack's time zone.
	DueAt time.Time `json:"due_at"`
	// Provisional is true when the deadline was computed into a year whose
	// working-day calendar is not yet published.
	Provisional bool `json:"provisional,omitempty"`
	// CalendarVersion identifies the calendar data used for DueAt.
	CalendarVersion string `json:"calendar_version,omitempty"`
	// DecidedAt is when the checker made the transition.
	DecidedAt time.Time `json:"decided_at"`
	// Evidence lists the SHA-256 hashes of the bodies the verdict rests on.
	Evidence []string `json:"evidence,omitempty"`
	// URL points at what was found, when something was.
	URL string `json:"url,omitempty"`
	// PublishedOn is the publication date found (YYYY-MM-DD), if any.
	PublishedOn string `json:"published_on,omitempty"`
	// FailedRules lists the completeness rules that failed, for incomplete.
	FailedRules []string `json:"failed_rules,omitempty"`
	// Explanation says in plain words what happened and what is needed.
	Explanation Text `json:"explanation"`
	// Duty is what the obligation asks of the agency when it is not to
	// publish something: DutyAnswer for a request for information.
	Duty string `json:"duty,omitempty"`
}

// Duties other than publishing. DutyAnswer: the agency must answer a
// request for information. DutyCorrectionNotice: it must tell the
// requester, once, what to correct in an unclear request. DutyAppealDecision:
// it must decide an administrative appeal of a request (FOIA).
const (
	DutyAnswer           = "answer"
	DutyCorrectionNotice = "correction_notice"
	DutyAppealDecision   = "appeal_decision"
)

// EventType implements [Payload].
func (Finding) EventType() string { return TypeFinding }

// Validate implements [Payload].
func (f Finding) Validate() error {
	var errs []error
	errs = append(errs, checkToken("agency_id", f.AgencyID))
	if f.ObligationID == "" {
		errs = append(errs, errors.New("obligation_id is empty"))
	}
	if f.Period == "" {
		errs = append(errs, errors.New("period is empty"))
	}
	if f.From != "" && !f.From.Valid() {
		errs = append(errs, fmt.Errorf("from %q is not a state", f.From))
	}
	if !f.To.Valid() {
		errs = append(errs, fmt.Errorf("to %q is not a state", f.To))
	}
	if f.From == f.To {
		errs = append(errs, fmt.Errorf("from and to are both %q: a finding is a transition", f.To))
	}
	switch f.Severity {
	case SeverityInfo, SeverityWarning, SeverityCritical:
	default:
		errs = append(errs, fmt.Errorf("severity %q, want info, warning or critical", f.Severity))
	}
	if f.DecidedAt.IsZero() {
		errs = append(errs, errors.New("decided_at is zero"))
	}
	errs = append(errs, checkDate("published_on", f.PublishedOn))
	if f.Explanation.ZH == "" && f.Explanation.EN == "" {
		errs = append(errs, errors.New("explanation is empty"))
	}
	return errors.Join(errs...)
}

// Notice records one message delivered (or given up on) by the notifier.
type Notice struct {
	// ID is the deterministic notice id (recipient and content), which is
	// also the key in the sent-ledger.
	ID string `json:"id"`
	// AgencyID is the agency the notice is about; for a digest, which may
	// cover several agencies, the agency whose contact the recipient is.
	AgencyID string `json:"agency_id"`
	// Channel is "smtp", "outbox" or "webhook".
	Channel string `json:"channel"`
	// Kind is "immediate" (one finding, sent at once), "digest" (the
	// daily digest of one recipient) or "webhook". Optional: empty in
	// notices published before it was added.
	Kind string `json:"kind,omitempty"`
	// Recipient is the address the notice went to.
	Recipient string `json:"recipient"`
	// Subject is the message subject line.
	Subject string `json:"subject"`
	// MessageID is the RFC 5322 Message-ID, stable across retries.
	MessageID string `json:"message_id,omitempty"`
	// Findings lists the ids of the findings the notice reports.
	Findings []string `json:"findings"`
	// SentAt is when delivery succeeded or was given up.
	SentAt time.Time `json:"sent_at"`
	// Outcome is "sent" or "failed".
	Outcome string `json:"outcome"`
	// Error explains a failed delivery.
	Error string `json:"error,omitempty"`
}

// EventType implements [Payload].
func (Notice) EventType() string { return TypeNotice }

// Validate implements [Payload].
func (n Notice) Validate() error {
	var errs []error
	if n.ID == "" {
		errs = append(errs, errors.New("id is empty"))
	}
	errs = append(errs, checkToken("agency_id", n.AgencyID))
	switch n.Channel {
	case "smtp", "outbox", "webhook":
	default:
		errs = append(errs, fmt.Errorf("channel %q, want smtp, outbox or webhook", n.Channel))
	}
	if n.Recipient == "" {
		errs = append(errs, errors.New("recipient is empty"))
	}
	if len(n.Findings) == 0 {
		errs = append(errs, errors.New("findings is empty"))
	}
	if n.SentAt.IsZero() {
		errs = append(errs, errors.New("sent_at is zero"))
	}
	switch n.Kind {
	case "", "immediate", "digest", "webhook":
	default:
		errs = append(errs, fmt.Errorf("kind %q, want immediate, digest or webhook", n.Kind))
	}
	switch n.Outcome {
	case "sent":
	case "failed":
		if n.Error == "" {
			errs = append(errs, errors.New("failed notice without an error"))
		}
	default:
		errs = append(errs, fmt.Errorf("outcome %q, want sent or failed", n.Outcome))
	}
	return errors.Join(errs...)
}

// Tick is the checker's clock: one per day, de-duplicated by date, so that
// deadlines passing without any new observation still cause transitions.
type Tick struct {
	// Date is the local date the tick is for (YYYY-MM-DD).
	Date string `json:"date"`
	// At is the instant the tick stands for.
	At time.Time `json:"at"`
}

// EventType implements [Payload].
func (Tick) EventType() string { return TypeTick }

// Validate implements [Payload].
func (t Tick) Validate() error {
	if t.Date == "" {
		return errors.New("date is empty")
	}
	if err := checkDate("date", t.Date); err != nil {
		return err
	}
	if t.At.IsZero() {
		return errors.New("at is zero")
	}
	return nil
}
