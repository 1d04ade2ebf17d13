package checker

import (
	"encoding/json"
	"fmt"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/gongkai/gongkai/pkg/events"
)

// The checker's hot path decodes an observation and encodes a finding and
// a state per evaluation. events.Unmarshal followed by events.Decode scans
// the data three times (the envelope's validity check, its raw copy, the
// payload's decoding), and events.New followed by Event.Marshal encodes the
// payload and then scans it again for validity. These do each in one pass,
// with the same checks and the same bytes.
//
// They use github.com/go-json-experiment/json, the Go team's
// implementation of encoding/json/v2 (already in the module graph through
// chromedp; with GOEXPERIMENT=jsonv2 it is the standard library's), with
// the options that make it behave as encoding/json (v1) does: the same
// bytes out, the same values in. It decodes the checker's observation 2–3
// times faster with 4 allocations instead of 30, and encodes a stored
// instance about 1.5 times faster with 1 (BenchmarkDecodeObservation,
// docs/benchmarks.md). TestCodecsMatchEvents and
// TestInstanceCodecMatchesEncodingJSON compare bytes, and
// FuzzDecodeObservation checks that what it accepts encoding/json accepts
// with the same result. Anything it rejects — or a panic inside it, which
// would otherwise take the checker down — falls back to encoding/json,
// which names the problem.

// v1 are the options under which the v2 implementation behaves as
// encoding/json.
var v1 = jsonv1.DefaultOptionsV1()

// fastUnmarshal decodes b into v; ok is false when the decoder rejected b
// or panicked (v is then in an unspecified state).
func fastUnmarshal(b []byte, v any) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return jsonv2.Unmarshal(b, v, v1) == nil
}

// decodeInstance decodes a stored instance.
func decodeInstance(b []byte, in *Instance) error {
	if fastUnmarshal(b, in) {
		return nil
	}
	*in = Instance{}
	return json.Unmarshal(b, in)
}

// encodeInstance encodes an instance for the bucket.
func encodeInstance(in *Instance) ([]byte, error) {
	return jsonv2.Marshal(in, v1)
}

// envelope is an events.Event whose data is decoded (or encoded) as a T in
// the same pass as the envelope.
type envelope[T any] struct {
	SpecVersion     string    `json:"specversion"`
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	Type            string    `json:"type"`
	Subject         string    `json:"subject,omitempty"`
	Time            time.Time `json:"time"`
	DataContentType string    `json:"datacontenttype"`
	Data            *T        `json:"data"`
}

// decodeObservation decodes and validates an observation event in one
// pass. ok is false when b is not a well-formed observation envelope
// (another type of event, or a malformed one): the caller then decodes it
// the general way, which names the problem.
func decodeObservation(b []byte) (obs events.Observation, ok bool, err error) {
	var e envelope[events.Observation]
	if !fastUnmarshal(b, &e) || e.Type != events.TypeObservation || e.Data == nil {
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

// encodeFinding validates a finding and encodes its event: the bytes of
// events.New(Source, id, subject, t, f) encoded with Event.Marshal.
func encodeFinding(id, subject string, t time.Time, f *events.Finding) ([]byte, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("new %s event: %w", f.EventType(), err)
	}
	e := envelope[events.Finding]{SpecVersion: events.SpecVersion, ID: id, Source: Source, Type: events.TypeFinding, Subject: subject,
		Time: t.UTC(), DataContentType: events.ContentTypeJSON, Data: f}
	if id == "" || t.IsZero() {
		return nil, fmt.Errorf("new %s event: id and time are required", f.EventType())
	}
	return jsonv2.Marshal(&e, v1)
}
