package checker

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
)

// The checker's hot path decodes an observation and encodes a finding per
// evaluation. events.Unmarshal followed by events.Decode scans the data
// three times (the envelope's validity check, its raw copy, the payload's
// decoding), and events.New followed by Event.Marshal encodes the payload
// and then scans it again for validity. These do each in one pass, with
// the same checks and the same bytes.

// observationEnvelope is an events.Event whose data is an observation.
type observationEnvelope struct {
	SpecVersion     string              `json:"specversion"`
	ID              string              `json:"id"`
	Source          string              `json:"source"`
	Type            string              `json:"type"`
	Subject         string              `json:"subject,omitempty"`
	Time            time.Time           `json:"time"`
	DataContentType string              `json:"datacontenttype"`
	Data            *events.Observation `json:"data"`
}

// decodeObservation decodes and validates an observation event in one
// pass. ok is false when b is not a well-formed observation envelope
// (another type of event, or a malformed one): the caller then decodes it
// the general way, which names the problem.
func decodeObservation(b []byte) (obs events.Observation, ok bool, err error) {
	var e observationEnvelope
	if json.Unmarshal(b, &e) != nil || e.Type != events.TypeObservation || e.Data == nil {
		return events.Observation{}, false, nil
	}
	present := json.RawMessage(`{}`) // the data was there and decoded
	env := events.Event{SpecVersion: e.SpecVersion, ID: e.ID, Source: e.Source, Type: e.Type, Subject: e.Subject,
		Time: e.Time, DataContentType: e.DataContentType, Data: present}
	if err := env.Validate(); err != nil {
		return events.Observation{}, true, err
	}
	if err := e.Data.Validate(); err != nil {
		return events.Observation{}, true, fmt.Errorf("invalid %s data: %w", e.Type, err)
	}
	return *e.Data, true, nil
}

// findingEnvelope is an events.Event whose data is a finding.
type findingEnvelope struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject,omitempty"`
	Time            time.Time       `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	Data            *events.Finding `json:"data"`
}

// encodeFinding validates a finding and encodes its event: the bytes of
// events.New(Source, id, subject, t, f) encoded with Event.Marshal.
func encodeFinding(id, subject string, t time.Time, f *events.Finding) ([]byte, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("new %s event: %w", f.EventType(), err)
	}
	e := findingEnvelope{SpecVersion: events.SpecVersion, ID: id, Source: Source, Type: events.TypeFinding, Subject: subject,
		Time: t.UTC(), DataContentType: events.ContentTypeJSON, Data: f}
	if id == "" || t.IsZero() {
		return nil, fmt.Errorf("new %s event: id and time are required", f.EventType())
	}
	return json.Marshal(&e)
}
