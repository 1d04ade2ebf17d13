package events_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/pkg/events/eventstest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var shanghai = time.FixedZone("CST", 8*3600)

// examples holds one realistic event of every type; their JSON is kept in
// testdata/ as the documented shape of the contract.
func examples() map[string]events.Payload {
	at := time.Date(2026, 2, 2, 2, 0, 0, 0, shanghai)
	return map[string]events.Payload{
		"audit_job": events.AuditJob{
			AgencyID: "huaian-czj", RunID: "schedule-2026-02-02T02:00:00+08:00",
			ScheduledAt: at, Trigger: "schedule", RunSize: 1000,
		},
		"observation": events.Observation{
			AgencyID: "huaian-czj", RunID: "schedule-2026-02-02T02:00:00+08:00",
			ObservedAt: at.Add(3 * time.Minute), Site: "http://czj.huaian.example/",
			Outcome: events.OutcomeOK, HomeNewest: "2026-01-30",
			HomeEvidence: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
			Columns: []events.Column{{
				Key: events.ColumnAnnualReport, URL: "http://czj.huaian.example/zfxxgk/ndbg/",
				Outcome: events.OutcomeOK, ItemCount: 2, Newest: "2026-01-20", Pages: 1,
				Evidence: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
				Items: []events.Item{
					{Title: "淮安市财政局2025年政府信息公开工作年度报告", URL: "http://czj.huaian.example/zfxxgk/ndbg/202601/t20260120_1.html", Date: "2026-01-20", Year: 2025,
						Evidence: "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9",
						Attachments: []events.Attachment{{
							Title: "淮安市财政局2025年政府信息公开工作年度报告.pdf", URL: "http://czj.huaian.example/zfxxgk/ndbg/202601/P020260120_1.pdf",
							Outcome: events.OutcomeOK, Evidence: "baa5a0964d3320fbc0c6a922140453c8513ea24ab8fd0577034804a967248096", ContentType: "application/pdf",
						}},
						Text: "e3b98a4da31a127d4bde6e43033f66ba274cab0eb7eb1c70ec41402bf6273dd8", TextSource: "http://czj.huaian.example/zfxxgk/ndbg/202601/P020260120_1.pdf"},
					{Title: "淮安市财政局2024年政府信息公开工作年度报告", URL: "http://czj.huaian.example/zfxxgk/ndbg/202501/t20250122_1.html", Date: "2025-01-22", Year: 2024,
						TextError: "read report.doc: legacy OLE document (.doc/.wps/.xls); convert it to DOCX or PDF: unsupported document format"},
				},
			}, {
				Key: events.ColumnBudget, URL: "http://czj.huaian.example/zfxxgk/yjs/", Outcome: events.OutcomeOK,
				ItemCount: 1, Newest: "2025-02-14", Pages: 1,
				Evidence: "4e07408562bedb8b60ce05c1decfe3ad16b72230967de01f640b7e4729b49fce",
				Items: []events.Item{{
					Title: "淮安市财政局2025年部门预算", URL: "http://czj.huaian.example/zfxxgk/yjs/202502/t20250214_1.html", Date: "2025-02-14", Year: 2025,
					Evidence: "4b227777d4dd1fc61c6f884f48641d02b4d121d3fd328cb08b5531fcacdabf8a",
					Text:     "ef2d127de37b942baad06145e54b0c619a1f22327b2ebbcfbec78f5564afe39d", TextSource: "http://czj.huaian.example/zfxxgk/yjs/202502/t20250214_1.html",
					Budget: &events.BudgetText{
						Kind:         events.BudgetKindBudget,
						Tables:       []string{"收支总表", "收入总表", "支出总表", "财政拨款收支总表", "一般公共预算支出表", "一般公共预算基本支出表"},
						Explanations: []string{"机关运行经费", "三公经费"},
						Sources:      []string{"http://czj.huaian.example/zfxxgk/yjs/202502/t20250214_1.html"},
					},
				}},
			}, {
				Key: "leaders", URL: "http://czj.huaian.example/zfxxgk/ldjs/", Outcome: events.OutcomeOK, Blank: true, Pages: 1,
			}, {
				Key: "policy_interpretation", URL: "http://czj.huaian.example/zfxxgk/zcjd/", Outcome: events.OutcomeOK,
				ItemCount: 20, Newest: "2025-06-30", Pages: 1, Truncated: true,
			}, {
				Key: "ogi_request", Outcome: events.OutcomeNotFound,
				Error: "http://czj.huaian.example/zfxxgk/: no link named 依申请公开",
			}},
		},
		"observation_unreachable": events.Observation{
			AgencyID: "huaian-swj", RunID: "schedule-2026-02-02T02:00:00+08:00",
			ObservedAt: at.Add(time.Minute), Site: "http://swj.huaian.example/",
			Outcome: events.OutcomeUnreachable,
			Error:   `GET http://swj.huaian.example/: dial tcp 127.0.0.1:9: connect: connection refused`,
		},
		"finding": events.Finding{
			AgencyID: "huaian-jyj", AgencyName: "淮安市教育局",
			PackID: "cn-ogi-2019", PackVersion: "2026.1", ObligationID: "annual-report-department",
			Obligation: events.Text{ZH: "政府信息公开工作年度报告（部门）", EN: "Annual report on government information disclosure (department)"},
			Period:     "2025", From: events.StateDueSoon, To: events.StateOverdue,
			Severity: events.SeverityCritical, DueAt: time.Date(2026, 1, 31, 23, 59, 59, 0, shanghai),
			CalendarVersion: "3c1d2e4f5a6b", DecidedAt: at,
			Explanation: events.Text{
				ZH: "2025年度政府信息公开工作年度报告应于2026-01-31前公开，截至2026-02-02未在年报栏目发现。",
				EN: "The 2025 annual report was due by 2026-01-31; as of 2026-02-02 it is not in the annual report column.",
			},
		},
		"notice": events.Notice{
			ID: "n-6b86b273ff34fce1", AgencyID: "huaian-jyj", Channel: "smtp", Kind: "immediate",
			Recipient: "gongkai@jyj.huaian.example", Subject: "【逾期】淮安市教育局：2025年度政府信息公开工作年度报告",
			MessageID: "<n-6b86b273ff34fce1@gongkai>", Findings: []string{"finding-huaian-jyj.cn-ogi-2019.annual-report-department.2025@3>overdue"},
			SentAt: at.Add(10 * time.Minute), Outcome: "sent",
		},
		"tick":     events.Tick{Date: "2026-02-02", At: time.Date(2026, 2, 2, 0, 5, 0, 0, shanghai)},
		"requests": exampleRequests(),
	}
}

func TestGoldenExamples(t *testing.T) {
	for name, p := range examples() {
		t.Run(name, func(t *testing.T) {
			ev, err := events.New("gongkai/test", "example-"+name, "huaian", time.Date(2026, 2, 2, 2, 0, 0, 0, time.UTC), p)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			got, err := json.MarshalIndent(ev, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run with -update to create): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s changed; a change to the wire contract must be deliberate (-update)\ngot:\n%s", path, got)
			}
			// The golden file decodes back into an equal payload.
			back, err := events.Unmarshal(want)
			if err != nil {
				t.Fatalf("Unmarshal golden: %v", err)
			}
			if back.Type != p.EventType() {
				t.Fatalf("type %q, want %q", back.Type, p.EventType())
			}
		})
	}
}

func TestDecodeRoundTripAndTypeCheck(t *testing.T) {
	f := examples()["finding"].(events.Finding)
	ev, err := events.New("gongkai/checker", "id-1", f.AgencyID, time.Now(), f)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ev.Marshal()
	back, err := events.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := events.Decode[events.Finding](back)
	if err != nil {
		t.Fatal(err)
	}
	if got.To != events.StateOverdue || got.AgencyName != "淮安市教育局" || !got.DueAt.Equal(f.DueAt) {
		t.Fatalf("round trip lost data: %+v", got)
	}
	if _, err := events.Decode[events.Observation](back); err == nil || !strings.Contains(err.Error(), "unexpected event type") {
		t.Fatalf("decoding a finding as an observation: err = %v", err)
	}
}

func TestUnknownFieldsAreIgnored(t *testing.T) {
	// A newer producer may add fields; this consumer must still read the event.
	raw := `{"specversion":"1.0","id":"x","source":"s","type":"gongkai.tick.v1","time":"2026-01-01T00:00:00Z",
	"datacontenttype":"application/json","extension":"new","data":{"date":"2026-01-01","at":"2026-01-01T00:00:00Z","added_later":42}}`
	ev, err := events.Unmarshal([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.Decode[events.Tick](ev); err != nil {
		t.Fatalf("unknown field rejected: %v", err)
	}
}

func TestValidateNamesTheProblem(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		p    events.Payload
		want string
	}{
		{"bad agency id", events.AuditJob{AgencyID: "淮安 财政", RunID: "r", ScheduledAt: at, Trigger: "schedule"}, "agency_id"},
		{"bad trigger", events.AuditJob{AgencyID: "a", RunID: "r", ScheduledAt: at, Trigger: "cron"}, "trigger"},
		{"outcome without error", events.Observation{AgencyID: "a", RunID: "r", ObservedAt: at, Outcome: events.OutcomeTimeout}, "without an error"},
		{"unknown outcome", events.Observation{AgencyID: "a", RunID: "r", ObservedAt: at, Outcome: "weird"}, "not a known outcome"},
		{"bad item date", events.Observation{AgencyID: "a", RunID: "r", ObservedAt: at, Outcome: "ok",
			Columns: []events.Column{{Key: "k", Outcome: "ok", Items: []events.Item{{URL: "u", Date: "2024年3月1日"}}}}}, "columns[0].items[0].date"},
		{"budget kind", events.Observation{AgencyID: "a", RunID: "r", ObservedAt: at, Outcome: "ok",
			Columns: []events.Column{{Key: "k", Outcome: "ok", Items: []events.Item{{URL: "u", Budget: &events.BudgetText{Kind: "预算"}}}}}}, "columns[0].items[0].budget.kind"},
		{"not a transition", events.Finding{AgencyID: "a", ObligationID: "o", Period: "2025", From: "overdue", To: "overdue",
			Severity: "info", DecidedAt: at, Explanation: events.Text{ZH: "x"}}, "transition"},
		{"unknown state", events.Finding{AgencyID: "a", ObligationID: "o", Period: "2025", To: "late",
			Severity: "info", DecidedAt: at, Explanation: events.Text{ZH: "x"}}, `to "late"`},
		{"failed notice without error", events.Notice{ID: "n", AgencyID: "a", Channel: "smtp", Recipient: "r@x",
			Findings: []string{"f"}, SentAt: at, Outcome: "failed"}, "without an error"},
		{"unknown notice kind", events.Notice{ID: "n", AgencyID: "a", Channel: "smtp", Kind: "weekly", Recipient: "r@x",
			Findings: []string{"f"}, SentAt: at, Outcome: "sent"}, "kind"},
		{"tick date", events.Tick{Date: "tomorrow", At: at}, "date"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.p.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %v, want an error mentioning %q", err, c.want)
			}
		})
	}
}

func TestProvisionIsIdempotentAndPublishDeduplicates(t *testing.T) {
	srv := eventstest.RunServer(t, "")
	nc, js := eventstest.Connect(t, srv.URL)
	ctx := context.Background()
	// A second service provisioning the same topology changes nothing.
	if err := events.Provision(ctx, js, events.DefaultTopology()); err != nil {
		t.Fatalf("second Provision: %v", err)
	}
	for _, sc := range events.DefaultTopology().Streams() {
		if _, err := js.Stream(ctx, sc.Name); err != nil {
			t.Errorf("stream %s missing: %v", sc.Name, err)
		}
	}
	for _, kc := range events.DefaultTopology().KeyValues() {
		if _, err := js.KeyValue(ctx, kc.Bucket); err != nil {
			t.Errorf("bucket %s missing: %v", kc.Bucket, err)
		}
	}
	if _, err := js.ObjectStore(ctx, events.ObjectStoreEvidence); err != nil {
		t.Errorf("object store missing: %v", err)
	}

	sink := eventstest.NewSink(t, nc, events.SubjectAuditJobs+".>")
	job := examples()["audit_job"].(events.AuditJob)
	ev, err := events.New("gongkai/ingest", "audit-huaian-czj-2026-02-02T02:00", job.AgencyID, time.Now(), job)
	if err != nil {
		t.Fatal(err)
	}
	first, err := events.Publish(ctx, js, events.AuditJobSubject(job.AgencyID), ev)
	if err != nil {
		t.Fatal(err)
	}
	second, err := events.Publish(ctx, js, events.AuditJobSubject(job.AgencyID), ev)
	if err != nil {
		t.Fatal(err)
	}
	if first.Duplicate || !second.Duplicate {
		t.Fatalf("duplicate flags: first %v, second %v; want false, true", first.Duplicate, second.Duplicate)
	}
	st, err := js.Stream(ctx, events.StreamAudit)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Fatalf("stream holds %d jobs, want 1", info.State.Msgs)
	}
	if !sink.WaitFor(2*time.Second, func(evs []events.Event) bool { return len(evs) >= 1 }) {
		t.Fatal("sink saw no event")
	}
}

func TestTopologyValidate(t *testing.T) {
	top := events.DefaultTopology()
	top.Replicas = 0
	if err := top.Validate(); err == nil {
		t.Fatal("replicas 0 accepted")
	}
	top.Replicas = 3
	for _, s := range top.Streams() {
		if s.Replicas != 3 {
			t.Fatalf("stream %s replicas %d, want 3", s.Name, s.Replicas)
		}
	}
}
