package checker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/gongkai/gongkai/pkg/events"
)

// Requests for information (依申请公开) are judged from request registers
// (events.Requests, published by `gongkai requests import`), not from
// website audits. Each case is one instance whose period is the case
// number, under the answer obligation of the law in force on its receipt
// date (the 2008 regulation's 15 working days before 2019-05-15, the 2019
// revision's 20 after; FOIA's 20 for US agencies). Its deadline is computed
// once per register from the receipt (or the corrected request's receipt),
// the extension and the tolled periods, and stored as the instance's due
// date, from which the daily tick moves it to due_soon and past the
// deadline. An answer settles it: satisfied by the deadline, satisfied_late
// after it.
//
// A case with an appeal (appeal_received) has a third instance, under the
// appeal obligation of the agency's jurisdiction (FOIA's US-APPEAL: a
// determination within 20 working days of the appeal's receipt, +10 in
// unusual circumstances), with the same period and settled by
// appeal_decided. A Chinese agency has no such obligation (行政复议 is
// decided by another body): its appeals are counted as no_obligation.

// handleRequests judges every case of a request register.
func (s *Service) handleRequests(ctx context.Context, m jetstream.Msg, ev events.Event) {
	reqs, err := events.Decode[events.Requests](ev)
	if err != nil {
		s.term(m, "requests", err.Error())
		return
	}
	agency, ok := s.agency(m, "requests", reqs.AgencyID)
	if !ok {
		return
	}
	now := s.opts.Now()
	var errs []error
	for _, c := range reqs.Cases {
		// The answer; when the agency asked for a correction, whether it
		// asked in time (a case without one has no such instance: the
		// register cannot tell an unclear request that was never flagged);
		// and the decision on an appeal, when there is one. received is
		// the date that selects the law in force, done the date that
		// settles the instance.
		type judged struct{ kind, received, done string }
		judge := []judged{{RequestAnswer, c.Received, c.Answered}}
		if c.CorrectionRequested != "" {
			judge = append(judge, judged{RequestCorrection, c.Received, c.CorrectionRequested})
		}
		if c.AppealReceived != "" {
			judge = append(judge, judged{RequestAppeal, c.AppealReceived, c.AppealDecided})
		}
		for _, j := range judge {
			r, ok := s.opts.Rules.ForCase(agency, j.kind, j.received)
			if !ok {
				s.metrics.requestCases.WithLabelValues("no_obligation").Inc()
				s.log.Warn("request case not judged: no obligation covers it", "agency", agency.ID, "case", c.ID,
					"obligation", j.kind, "received", j.received, "jurisdiction", agency.Jurisdiction)
				continue
			}
			deadline, _, err := r.CaseDue(c)
			if err != nil {
				s.metrics.requestCases.WithLabelValues("invalid").Inc()
				s.log.Warn("request case not judged", "agency", agency.ID, "case", c.ID, "obligation", j.kind, "err", err)
				continue
			}
			f := Facts{Look: LookAbsent, ClockEvent: deadline, Note: c.Title}
			if j.done != "" {
				f.Look, f.PublishedOn = LookFound, j.done
			}
			if err := s.evaluate(ctx, agency, r, c.ID, f, now); err != nil {
				errs = append(errs, err)
				continue
			}
			s.metrics.requestCases.WithLabelValues("judged").Inc()
		}
	}
	if err := errors.Join(errs...); err != nil {
		s.log.Warn("evaluate request register", "agency", reqs.AgencyID, "err", err)
		_ = m.NakWithDelay(5 * time.Second)
		return
	}
	_ = m.Ack()
}

// clockEvent is what the daily tick passes to a rule's clock for a stored
// instance: a request case's deadline date, kept as its due date.
func (s *Service) clockEvent(r Rule, dueAt time.Time) string {
	if r.Kind != KindRequest || dueAt.IsZero() {
		return ""
	}
	return dueAt.In(s.civilLocation(r)).Format(events.DateLayout)
}

// explainRequest words a request case's transitions.
func explainRequest(f events.Finding, inst *Instance, loc *time.Location) events.Text {
	due := f.DueAt.In(loc).Format(events.DateLayout)
	today := f.DecidedAt.In(loc).Format(events.DateLayout)
	what, whatEN := "申请"+f.Period, "Request "+f.Period
	if inst.Note != "" {
		what += "（" + inst.Note + "）"
		whatEN += " (" + inst.Note + ")"
	}
	switch f.Duty {
	case events.DutyCorrectionNotice:
		return explainCorrection(f, what, whatEN, due, today)
	case events.DutyAppealDecision:
		return explainAppeal(f, what, whatEN, due, today)
	}
	switch f.To {
	case events.StateNotDue:
		return events.Text{
			ZH: fmt.Sprintf("%s应于%s前答复，尚未到期。", what, due),
			EN: fmt.Sprintf("%s must be answered by %s; not yet due.", whatEN, due),
		}
	case events.StateDueSoon:
		return events.Text{
			ZH: fmt.Sprintf("%s应于%s前答复，截至%s尚未答复，请按期答复。", what, due, today),
			EN: fmt.Sprintf("%s must be answered by %s and is unanswered as of %s; please answer it on time.", whatEN, due, today),
		}
	case events.StateOverdue, events.StateEscalated:
		esc, escEN := "", ""
		if f.To == events.StateEscalated {
			esc, escEN = "，已提请上级政务公开部门督办", "; escalated to the supervising office"
		}
		return events.Text{
			ZH: fmt.Sprintf("%s应于%s前答复，截至%s仍未答复，已超过法定答复期限%s。", what, due, today, esc),
			EN: fmt.Sprintf("%s was due to be answered by %s and is still unanswered as of %s: past the legal time limit%s.", whatEN, due, today, escEN),
		}
	case events.StateSatisfied:
		return events.Text{
			ZH: fmt.Sprintf("%s已于%s答复，未超过答复期限%s。", what, dateOr(f.PublishedOn, today), due),
			EN: fmt.Sprintf("%s was answered on %s, within the time limit of %s.", whatEN, dateOr(f.PublishedOn, today), due),
		}
	case events.StateSatisfiedLate:
		return events.Text{
			ZH: fmt.Sprintf("%s已于%s答复，超过答复期限%s。", what, dateOr(f.PublishedOn, today), due),
			EN: fmt.Sprintf("%s was answered on %s, after the time limit of %s.", whatEN, dateOr(f.PublishedOn, today), due),
		}
	}
	return events.Text{
		ZH: fmt.Sprintf("%s状态变为%s。", what, f.To),
		EN: fmt.Sprintf("%s is now %s.", whatEN, f.To),
	}
}

// explainCorrection words the transitions of the correction notice
// (2019 art. 30: within 7 working days of the receipt, once).
func explainCorrection(f events.Finding, what, whatEN, due, today string) events.Text {
	switch f.To {
	case events.StateSatisfied:
		return events.Text{
			ZH: fmt.Sprintf("%s内容不明确，已于%s一次性告知申请人补正，未超过告知期限%s。", what, dateOr(f.PublishedOn, today), due),
			EN: fmt.Sprintf("%s was unclear; the requester was told what to correct on %s, within the time limit of %s.", whatEN, dateOr(f.PublishedOn, today), due),
		}
	case events.StateSatisfiedLate:
		return events.Text{
			ZH: fmt.Sprintf("%s内容不明确，于%s才告知申请人补正，超过7个工作日的告知期限%s。", what, dateOr(f.PublishedOn, today), due),
			EN: fmt.Sprintf("%s was unclear; the requester was told what to correct only on %s, after the 7-working-day limit of %s.", whatEN, dateOr(f.PublishedOn, today), due),
		}
	}
	return events.Text{
		ZH: fmt.Sprintf("%s的补正告知状态变为%s（期限%s）。", what, f.To, due),
		EN: fmt.Sprintf("The correction notice of %s is now %s (limit %s).", whatEN, f.To, due),
	}
}

// explainAppeal words the transitions of the decision on an administrative
// appeal of a request (5 U.S.C. 552(a)(6)(A)(ii): within 20 working days of
// the appeal's receipt, +10 in unusual circumstances).
func explainAppeal(f events.Finding, what, whatEN, due, today string) events.Text {
	switch f.To {
	case events.StateNotDue:
		return events.Text{
			ZH: fmt.Sprintf("%s的申诉应于%s前作出决定，尚未到期。", what, due),
			EN: fmt.Sprintf("The appeal of %s must be decided by %s; not yet due.", whatEN, due),
		}
	case events.StateDueSoon:
		return events.Text{
			ZH: fmt.Sprintf("%s的申诉应于%s前作出决定，截至%s尚未决定，请按期决定。", what, due, today),
			EN: fmt.Sprintf("The appeal of %s must be decided by %s and is undecided as of %s; please decide it on time.", whatEN, due, today),
		}
	case events.StateOverdue, events.StateEscalated:
		esc, escEN := "", ""
		if f.To == events.StateEscalated {
			esc, escEN = "，已提请督办", "; escalated"
		}
		return events.Text{
			ZH: fmt.Sprintf("%s的申诉应于%s前作出决定，截至%s仍未决定，已超过法定期限%s。", what, due, today, esc),
			EN: fmt.Sprintf("The appeal of %s was due to be decided by %s and is still undecided as of %s: past the legal time limit%s.", whatEN, due, today, escEN),
		}
	case events.StateSatisfied:
		return events.Text{
			ZH: fmt.Sprintf("%s的申诉已于%s作出决定，未超过决定期限%s。", what, dateOr(f.PublishedOn, today), due),
			EN: fmt.Sprintf("The appeal of %s was decided on %s, within the time limit of %s.", whatEN, dateOr(f.PublishedOn, today), due),
		}
	case events.StateSatisfiedLate:
		return events.Text{
			ZH: fmt.Sprintf("%s的申诉于%s才作出决定，超过决定期限%s。", what, dateOr(f.PublishedOn, today), due),
			EN: fmt.Sprintf("The appeal of %s was decided only on %s, after the time limit of %s.", whatEN, dateOr(f.PublishedOn, today), due),
		}
	}
	return events.Text{
		ZH: fmt.Sprintf("%s的申诉状态变为%s（期限%s）。", what, f.To, due),
		EN: fmt.Sprintf("The appeal of %s is now %s (limit %s).", whatEN, f.To, due),
	}
}
