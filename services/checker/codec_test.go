package checker

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
)

// The one-pass codecs give what the events package gives.
func TestCodecsMatchEvents(t *testing.T) {
	at := time.Date(2026, 2, 3, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	f := events.Finding{
		AgencyID: "a1", AgencyName: "测试局", PackID: "cn-ogi-2019", PackVersion: "2026.1+abc", ObligationID: "CN-R19-AR-DEPT",
		Obligation: events.Text{ZH: "年度报告", EN: "Annual report"}, Period: "2025", From: events.StateDueSoon, To: events.StateOverdue,
		Severity: events.SeverityCritical, DueAt: at.Add(-time.Hour), DecidedAt: at, Evidence: []string{strings.Repeat("a", 64)},
		URL: "http://x.example/?a=1&b=<2>", Explanation: events.Text{ZH: "已逾期", EN: "overdue & <late>"},
	}
	id := FindingID("a1.cn-ogi-2019.CN-R19-AR-DEPT.2025", 7, events.StateOverdue)
	ev, err := events.New(Source, id, "a1", at, f)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ev.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := encodeFinding(id, "a1", at, &f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encodeFinding:\n got %s\nwant %s", got, want)
	}
	bad := f
	bad.To = bad.From
	if _, err := encodeFinding(id, "a1", at, &bad); err == nil {
		t.Fatal("a finding without a transition was encoded")
	}

	obs := events.Observation{AgencyID: "a1", RunID: "r1", ObservedAt: at, Site: "http://x.example/", Outcome: events.OutcomeOK,
		Columns: []events.Column{{Key: events.ColumnAnnualReport, Outcome: events.OutcomeOK, ItemCount: 1,
			Items: []events.Item{{Title: "2025年报", URL: "http://x.example/1", Date: "2026-01-20", Year: 2025}}}}}
	oev, err := events.New("test", "obs-a1-r1", "a1", at, obs)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := oev.Marshal()
	dec, ok, err := decodeObservation(body)
	if !ok || err != nil {
		t.Fatalf("decodeObservation: ok %v, %v", ok, err)
	}
	wantObs, _ := events.Decode[events.Observation](oev)
	if !reflect.DeepEqual(dec, wantObs) {
		t.Fatalf("decodeObservation:\n got %+v\nwant %+v", dec, wantObs)
	}

	// Other events and malformed ones go the general way; an invalid
	// observation is an error.
	tick, _ := events.New(Source, "tick-2026-02-03", "daily", at, events.Tick{Date: "2026-02-03", At: at})
	tb, _ := tick.Marshal()
	for name, b := range map[string][]byte{"tick": tb, "garbage": []byte("{"), "no data": []byte(`{"type":"gongkai.observation.v1"}`)} {
		if _, ok, _ := decodeObservation(b); ok {
			t.Errorf("%s: decoded as an observation", name)
		}
	}
	invalid := bytes.Replace(body, []byte(`"run_id":"r1"`), []byte(`"run_id":""`), 1)
	if _, ok, err := decodeObservation(invalid); !ok || err == nil {
		t.Errorf("an observation without a run id: ok %v, err %v", ok, err)
	}
	noID := bytes.Replace(body, []byte(`"id":"obs-a1-r1"`), []byte(`"id":""`), 1)
	if _, ok, err := decodeObservation(noID); !ok || err == nil {
		t.Errorf("an envelope without an id: ok %v, err %v", ok, err)
	}
}
