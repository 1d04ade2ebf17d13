package events

import (
	"errors"
	"fmt"
	"time"
)

// TypeRequests is the type of a request register: the requests for
// information an agency received, with the dates its answer clock depends
// on. It travels on the agency's observation subject, so it is ordered with
// the agency's audits and judged by the checker like an observation.
const TypeRequests = "gongkai.requests.v1"

// MaxRequestCases bounds the cases in one Requests event, which keeps a
// message well under the server's default 1 MiB payload limit; a larger
// register is published as several events.
const MaxRequestCases = 2000

// Requests is an agency's register of requests for government information
// (依申请公开), or part of it: facts only, as the register states them. The
// checker computes each case's answer deadline from the obligation in force
// on its receipt date (the 2008 or 2019 regulation, or FOIA) and judges it.
type Requests struct {
	AgencyID string `json:"agency_id"`
	// Source names where the register came from (a file, a case system).
	Source string `json:"source"`
	// RecordedAt is when the register was read.
	RecordedAt time.Time     `json:"recorded_at"`
	Cases      []RequestCase `json:"cases"`
}

// RequestCase is one request. Dates are civil dates (YYYY-MM-DD) in the
// agency's jurisdiction.
type RequestCase struct {
	// ID is the register's case number.
	ID string `json:"id"`
	// Title says what was asked, for the people who read the findings.
	Title string `json:"title,omitempty"`
	// Received is the day the agency received the request (2019 art. 31:
	// the day of submission in person, the day registered post was signed
	// for, the day both sides confirmed an online request).
	Received string `json:"received"`
	// CorrectionRequested is the day the agency told the requester, once
	// and for all, what to correct in an unclear request (一次性告知补正,
	// 2019 art. 30: within 7 working days of the receipt).
	CorrectionRequested string `json:"correction_requested,omitempty"`
	// Corrected, when the agency asked for a correction (补正, 2019 art. 30),
	// is the day it received the corrected request; the answer clock counts
	// from it.
	Corrected string `json:"corrected,omitempty"`
	// Extended says the agency extended the answer period with the head of
	// its disclosure office's approval and told the requester.
	Extended bool `json:"extended,omitempty"`
	// Tolled lists the periods the clock stood still: consulting a third
	// party or another agency (2019 arts. 32, 34), or the FOIA tolling
	// cases. Their days are not counted.
	Tolled []DateRange `json:"tolled,omitempty"`
	// Answered is the day the answer was given; empty while it is pending.
	Answered string `json:"answered,omitempty"`
	// AppealReceived is the day the agency received an administrative
	// appeal of the case (FOIA, 5 U.S.C. 552(a)(6)(A)(ii): a determination
	// within 20 working days of the receipt); empty when there is none. A
	// Chinese 行政复议 is decided by another body, so for a Chinese agency
	// it is recorded but judged under no obligation.
	AppealReceived string `json:"appeal_received,omitempty"`
	// AppealExtended says the agency extended the appeal period for
	// unusual circumstances with written notice (552(a)(6)(B)(i)).
	AppealExtended bool `json:"appeal_extended,omitempty"`
	// AppealDecided is the day the determination on the appeal was made;
	// empty while it is pending.
	AppealDecided string `json:"appeal_decided,omitempty"`
}

// DateRange is an inclusive range of civil dates.
type DateRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// EventType implements Payload.
func (Requests) EventType() string { return TypeRequests }

// Validate checks the register: ids, dates and their order, and that no
// case appears twice.
func (r Requests) Validate() error {
	var errs []error
	errs = append(errs, checkToken("agency_id", r.AgencyID))
	if r.Source == "" {
		errs = append(errs, errors.New("source is empty"))
	}
	if r.RecordedAt.IsZero() {
		errs = append(errs, errors.New("recorded_at is zero"))
	}
	if len(r.Cases) == 0 {
		errs = append(errs, errors.New("cases is empty"))
	}
	if len(r.Cases) > MaxRequestCases {
		errs = append(errs, fmt.Errorf("%d cases, more than %d in one event", len(r.Cases), MaxRequestCases))
	}
	seen := make(map[string]int, len(r.Cases))
	for i, c := range r.Cases {
		if err := c.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("cases[%d]: %w", i, err))
		}
		if j, dup := seen[c.ID]; dup {
			errs = append(errs, fmt.Errorf("cases[%d]: id %q already at cases[%d]", i, c.ID, j))
		}
		seen[c.ID] = i
	}
	return errors.Join(errs...)
}

// Validate checks one case.
func (c RequestCase) Validate() error {
	var errs []error
	errs = append(errs, checkToken("id", c.ID))
	if c.Received == "" {
		errs = append(errs, errors.New("received is empty"))
	}
	errs = append(errs, checkDate("received", c.Received), checkDate("correction_requested", c.CorrectionRequested),
		checkDate("corrected", c.Corrected), checkDate("answered", c.Answered),
		checkDate("appeal_received", c.AppealReceived), checkDate("appeal_decided", c.AppealDecided))
	// YYYY-MM-DD strings order like the dates they name.
	if c.Received != "" && c.Corrected != "" && c.Corrected < c.Received {
		errs = append(errs, fmt.Errorf("corrected %s is before received %s", c.Corrected, c.Received))
	}
	if c.Received != "" && c.CorrectionRequested != "" && c.CorrectionRequested < c.Received {
		errs = append(errs, fmt.Errorf("correction_requested %s is before received %s", c.CorrectionRequested, c.Received))
	}
	if c.CorrectionRequested != "" && c.Corrected != "" && c.Corrected < c.CorrectionRequested {
		errs = append(errs, fmt.Errorf("corrected %s is before correction_requested %s", c.Corrected, c.CorrectionRequested))
	}
	if c.Received != "" && c.Answered != "" && c.Answered < c.Received {
		errs = append(errs, fmt.Errorf("answered %s is before received %s", c.Answered, c.Received))
	}
	switch {
	case c.AppealReceived == "" && c.AppealDecided != "":
		errs = append(errs, fmt.Errorf("appeal_decided %s without appeal_received: the day the appeal was received is needed", c.AppealDecided))
	case c.AppealReceived == "" && c.AppealExtended:
		errs = append(errs, errors.New("appeal_extended without appeal_received: the day the appeal was received is needed"))
	}
	if c.Received != "" && c.AppealReceived != "" && c.AppealReceived < c.Received {
		errs = append(errs, fmt.Errorf("appeal_received %s is before received %s", c.AppealReceived, c.Received))
	}
	if c.AppealReceived != "" && c.AppealDecided != "" && c.AppealDecided < c.AppealReceived {
		errs = append(errs, fmt.Errorf("appeal_decided %s is before appeal_received %s", c.AppealDecided, c.AppealReceived))
	}
	for i, d := range c.Tolled {
		e1, e2 := checkDate(fmt.Sprintf("tolled[%d].from", i), d.From), checkDate(fmt.Sprintf("tolled[%d].to", i), d.To)
		errs = append(errs, e1, e2)
		switch {
		case d.From == "" || d.To == "":
			errs = append(errs, fmt.Errorf("tolled[%d] needs both from and to", i))
		case e1 == nil && e2 == nil && d.To < d.From:
			errs = append(errs, fmt.Errorf("tolled[%d] ends %s before it starts %s", i, d.To, d.From))
		}
	}
	return errors.Join(errs...)
}
