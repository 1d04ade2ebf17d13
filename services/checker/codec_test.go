package checker

import (
	"bytes"
	"encoding/json"
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

// A stored instance is encoded as encoding/json encodes it, and decoded
// back to the same value.
func TestInstanceCodecMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 2, 3, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	in := Instance{AgencyID: "a1", PackID: "cn-ogi-2019", ObligationID: "CN-R19-AR-DEPT", Period: "2025",
		State: events.StateIncomplete, Since: at, DueAt: at.Add(-time.Hour), Provisional: true, CalendarVersion: "cn-2026.1",
		PackVersion: "2026.1+abc", URL: "http://x.example/?a=1&b=<2>", PublishedOn: "2026-01-20",
		Evidence: []string{strings.Repeat("a", 64), strings.Repeat("b", 64)}, Failures: 2, LastError: "读取失败 \"x\"\n",
		Text: strings.Repeat("c", 64), FailedRules: []string{"T1-SUM", "SEC-5"}, Note: "说明\u2028", LastObserved: at.UTC(),
		Outbox: &Outbox{ID: "f-1", At: at, From: events.StateDueSoon, State: events.StateIncomplete, Rev: 7, Subject: "gongkai.findings.a1"}}
	for name, in := range map[string]Instance{"full": in, "empty": {}} {
		got, err := encodeInstance(&in)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: encodeInstance:\n got %s\nwant %s", name, got, want)
		}
		var back, stdBack Instance
		if err := decodeInstance(got, &back); err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal(got, &stdBack)
		if !reflect.DeepEqual(back, stdBack) {
			t.Fatalf("%s: decodeInstance:\n got %+v\nwant %+v", name, back, stdBack)
		}
	}
	var bad Instance
	if err := decodeInstance([]byte(`{"state":`), &bad); err == nil || !strings.Contains(err.Error(), "unexpected end of JSON input") {
		t.Fatalf("a truncated instance: %v, want encoding/json's error", err)
	}
}

// FuzzDecodeObservation: what the fast decoder accepts, encoding/json
// accepts too, with the same result; whatever the input, it does not
// panic (a panic inside go-json counts as a rejection).
func FuzzDecodeObservation(f *testing.F) {
	at := time.Date(2026, 2, 3, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	obs := events.Observation{AgencyID: "a1", RunID: "r1", ObservedAt: at, Site: "http://x.example/", Outcome: events.OutcomeOK,
		HomeNewest: "2026-01-30", Columns: []events.Column{{Key: events.ColumnAnnualReport, Outcome: events.OutcomeOK, ItemCount: 1,
			Items: []events.Item{{Title: "2025年报", URL: "http://x.example/1", Date: "2026-01-20", Year: 2025}}}}}
	ev, err := events.New("test", "obs-a1-r1", "a1", at, obs)
	if err != nil {
		f.Fatal(err)
	}
	body, _ := ev.Marshal()
	f.Add(body)
	f.Add([]byte(`{"type":"gongkai.observation.v1","data":{"agency_id":"a\ud800","columns":[{"key":"x","item_count":1e2}]}}`))
	f.Add([]byte(`{"TYPE":"gongkai.observation.v1","Data":{"Agency_ID":"a","columns":null},"data":{}}`))
	f.Add([]byte("{\"type\":\"gongkai.observation.v1\",\"data\":{\"site\":\"\xff\xfe\"}}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast, std envelope[events.Observation]
		if !fastUnmarshal(b, &fast) {
			return // encoding/json decides, as decodeObservation falls back
		}
		if err := json.Unmarshal(b, &std); err != nil {
			t.Fatalf("go-json accepted what encoding/json rejects (%v): %q", err, b)
		}
		if !reflect.DeepEqual(fast, std) {
			t.Fatalf("go-json and encoding/json differ on %q:\n go-json %+v\nencoding/json %+v", b, fast, std)
		}
	})
}

// BenchmarkDecodeObservation: the checker's one-pass decoding of the
// benchmark's observation (checker/bench_test.go) against encoding/json
// decoding the same envelope in the same run.
//
//	go test ./checker/ -run '^$' -bench DecodeObservation -benchmem
func BenchmarkDecodeObservation(b *testing.B) {
	at := time.Date(2026, 2, 3, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	col := events.Column{Key: events.ColumnAnnualReport, URL: "http://x.example/ndbg/", Outcome: events.OutcomeOK, Evidence: strings.Repeat("a", 64),
		ItemCount: 1, Items: []events.Item{{Title: "测试局2025年政府信息公开工作年度报告", URL: "http://x.example/ndbg/1.html", Date: "2026-01-20", Year: 2025}}}
	obs := events.Observation{AgencyID: "a00001", RunID: "bench", ObservedAt: at, Site: "http://x.example/", Outcome: events.OutcomeOK,
		Columns: []events.Column{col}}
	ev, err := events.New("bench", "obs-1", "a00001", at, obs)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := ev.Marshal()
	b.Run("encoding-json", func(b *testing.B) {
		for range b.N {
			var e envelope[events.Observation]
			if err := json.Unmarshal(body, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("checker", func(b *testing.B) {
		for range b.N {
			if _, ok, err := decodeObservation(body); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
}
