package dashboard

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/checker/internal/view"
	"github.com/gongkai/gongkai/services/internal/evidence"
	"github.com/gongkai/gongkai/services/internal/registry"
)

var cst = time.FixedZone("CST", 8*3600)

const regYAML = `agencies:
  - {id: js-gov, name: 江苏省人民政府办公厅, level: province, kind: department, region: 江苏省, website: "http://js.example/"}
  - {id: ha-czj, name: 淮安市财政局, level: city, kind: department, parent: js-gov, region: 江苏省/淮安市, website: "http://czj.example/"}
  - {id: ha-jyj, name: 淮安市教育局, level: city, kind: department, parent: js-gov, region: 江苏省/淮安市, website: "http://jyj.example/"}
  - {id: nj-wjw, name: 南京市卫生健康委员会, level: city, kind: department, region: 江苏省/南京市, website: "http://wjw.example/"}
  - {id: zj-gov, name: 浙江省人民政府办公厅, level: province, kind: department, region: 浙江省, website: "http://zj.example/"}
`

func fixture(t testing.TB) (Options, *view.View) {
	t.Helper()
	reg, err := registry.Parse("r.yaml", []byte(regYAML))
	if err != nil {
		t.Fatal(err)
	}
	v := view.New()
	due := time.Date(2026, 1, 31, 23, 59, 59, 0, cst)
	put := func(a, ob, period string, s events.State, extra ...string) {
		in := view.Instance{AgencyID: a, PackID: "cn-ogi-2019", ObligationID: ob, Period: period, State: s, DueAt: due, Since: due}
		if len(extra) > 0 {
			in.Evidence = extra
		}
		v.Put(in)
	}
	put("js-gov", "CN-R19-AR-DEPT", "2025", events.StateSatisfied)
	put("ha-czj", "CN-R19-AR-DEPT", "2025", events.StateSatisfied, strings.Repeat("ab", 32))
	put("ha-czj", "CN-R19-AR-DEPT", "2024", events.StateSatisfied)
	put("ha-jyj", "CN-R19-AR-DEPT", "2025", events.StateOverdue)
	put("nj-wjw", "CN-R19-AR-DEPT", "2025", events.StateUnknown)
	put("zj-gov", "CN-R19-AR-DEPT", "2025", events.StateEscalated)
	findings := func(_ context.Context, agency string, since time.Time, limit int) ([]FindingRecord, error) {
		all := []FindingRecord{{ID: "f1", Finding: events.Finding{AgencyID: "ha-jyj", AgencyName: "淮安市教育局", PackID: "cn-ogi-2019",
			ObligationID: "CN-R19-AR-DEPT", Obligation: events.Text{ZH: "年度报告", EN: "Annual report"}, Period: "2025",
			From: events.StateDueSoon, To: events.StateOverdue, Severity: events.SeverityCritical, DueAt: due,
			DecidedAt: time.Date(2026, 2, 1, 0, 5, 0, 0, cst), Explanation: events.Text{ZH: "已逾期", EN: "overdue"}}}}
		var out []FindingRecord
		for _, f := range all {
			if (agency == "" || f.AgencyID == agency) && !f.DecidedAt.Before(since) && len(out) < limit {
				out = append(out, f)
			}
		}
		return out, nil
	}
	o := Options{
		View: v, Registry: reg, Findings: findings, Location: cst,
		Title: func(pack, ob string) events.Text {
			return events.Text{ZH: "政府信息公开工作年度报告", EN: "Annual report"}
		},
		Evidence: func(_ context.Context, h string) ([]byte, evidence.Meta, error) {
			if h == strings.Repeat("ab", 32) {
				return []byte("<html>report</html>"), evidence.Meta{URL: "http://czj.example/r.html", ContentType: "text/html"}, nil
			}
			return nil, evidence.Meta{}, fmt.Errorf("not found")
		},
	}
	return o, v
}

func get(t *testing.T, h http.Handler, path string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Result(), string(b)
}

func TestMatrixAndFilters(t *testing.T) {
	o, _ := fixture(t)
	h, err := Handler(o)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := get(t, h, "/")
	if resp.StatusCode != 200 || !strings.Contains(body, "淮安市财政局") || !strings.Contains(body, `class="cell s-overdue"`) {
		t.Fatalf("matrix %d:\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `<td><a href="/?region=%e6%b1%9f%e8%8b%8f%e7%9c%81&amp;lang=zh">江苏省</a></td><td>4</td>`) {
		t.Errorf("roll-up lacks 江苏省 with 4 agencies:\n%s", body)
	}
	// Jiangsu: 3 on time of 4 due (the unknown one does not count).
	if !strings.Contains(body, "75% <small>(3/4)</small>") {
		t.Errorf("roll-up rate:\n%s", body)
	}
	_, body = get(t, h, "/?region=江苏省/淮安市")
	if !strings.Contains(body, "淮安市教育局") || strings.Contains(body, "南京市卫生健康委员会") || strings.Contains(body, "浙江省人民政府办公厅") {
		t.Errorf("region filter:\n%s", body)
	}
	_, body = get(t, h, "/?state=overdue")
	if !strings.Contains(body, "淮安市教育局") || strings.Contains(body, "淮安市财政局</a>") {
		t.Errorf("state filter:\n%s", body)
	}
	_, body = get(t, h, "/?lang=en")
	if !strings.Contains(body, "Compliance matrix") || !strings.Contains(body, `lang="en"`) {
		t.Errorf("english page:\n%.500s", body)
	}
	o.PageSize = 2
	h, _ = Handler(o)
	_, body = get(t, h, "/?page=2")
	if !strings.Contains(body, "2 / 3") || !strings.Contains(body, `id="prev"`) || !strings.Contains(body, `id="next"`) {
		t.Errorf("pagination:\n%s", body)
	}
}

func TestAgencyPageAndEvidence(t *testing.T) {
	o, _ := fixture(t)
	h, _ := Handler(o)
	_, body := get(t, h, "/agencies/ha-jyj")
	for _, s := range []string{"淮安市教育局", "江苏省人民政府办公厅", "已逾期", `class="badge s-overdue"`, "2026-01-31"} {
		if !strings.Contains(body, s) {
			t.Errorf("agency page lacks %q", s)
		}
	}
	if resp, _ := get(t, h, "/agencies/nobody"); resp.StatusCode != 404 {
		t.Errorf("unknown agency: %d", resp.StatusCode)
	}
	resp, body := get(t, h, "/evidence/"+strings.Repeat("ab", 32))
	if resp.StatusCode != 200 || body != "<html>report</html>" || resp.Header.Get("Content-Security-Policy") != "sandbox" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("evidence download: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	for _, p := range []string{"/evidence/" + strings.Repeat("cd", 32), "/evidence/../../etc/passwd", "/evidence/ABC"} {
		if resp, _ := get(t, h, p); resp.StatusCode == 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}

func TestAPI(t *testing.T) {
	o, _ := fixture(t)
	h, _ := Handler(o)
	var agencies struct {
		Agencies []apiAgency
		Total    int
	}
	_, body := get(t, h, "/api/v1/agencies?region=江苏省/淮安市")
	if err := json.Unmarshal([]byte(body), &agencies); err != nil || agencies.Total != 2 {
		t.Fatalf("agencies: %v %s", err, body)
	}
	var one struct {
		Obligations []apiInstance
		History     []FindingRecord
	}
	_, body = get(t, h, "/api/v1/agencies/ha-czj")
	if err := json.Unmarshal([]byte(body), &one); err != nil || len(one.Obligations) != 2 || one.Obligations[0].Period != "2025" {
		t.Fatalf("agency: %v %s", err, body)
	}
	var obs struct {
		Obligations []apiInstance
		Total       int
	}
	_, body = get(t, h, "/api/v1/obligations?state=unknown")
	if err := json.Unmarshal([]byte(body), &obs); err != nil || obs.Total != 1 || obs.Obligations[0].AgencyID != "nj-wjw" {
		t.Fatalf("obligations: %v %s", err, body)
	}
	var fs struct{ Findings []FindingRecord }
	_, body = get(t, h, "/api/v1/findings?since=2026-02-01T00:00:00%2B08:00")
	if err := json.Unmarshal([]byte(body), &fs); err != nil || len(fs.Findings) != 1 || fs.Findings[0].To != events.StateOverdue {
		t.Fatalf("findings: %v %s", err, body)
	}
	if resp, _ := get(t, h, "/api/v1/findings?since=yesterday"); resp.StatusCode != 400 {
		t.Errorf("bad since: %d", resp.StatusCode)
	}
	resp, body := get(t, h, "/api/v1/scoreboard.csv")
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" || len(rows) != 6 {
		t.Fatalf("csv: %v %d rows\n%s", err, len(rows), body)
	}
	if rows[0][0] != "agency_id" || rows[3][0] != "ha-jyj" || rows[3][len(rows[3])-1] != "0.0000" {
		t.Errorf("csv rows: %v", rows)
	}
}

func TestAuth(t *testing.T) {
	o, _ := fixture(t)
	o.Token = "s3cret"
	h, _ := Handler(o)
	if resp, _ := get(t, h, "/"); resp.StatusCode != 401 {
		t.Fatalf("no credentials: %d", resp.StatusCode)
	}
	if resp, _ := get(t, h, "/", "Authorization", "Bearer wrong"); resp.StatusCode != 401 {
		t.Fatalf("wrong token: %d", resp.StatusCode)
	}
	if resp, _ := get(t, h, "/api/v1/agencies", "Authorization", "Bearer s3cret"); resp.StatusCode != 200 {
		t.Fatalf("bearer: %d", resp.StatusCode)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.SetBasicAuth("office", "s3cret")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("basic auth: %d", rec.Code)
	}
}

// BenchmarkMatrix15000 serves the matrix page for a national registry:
// 15,000 agencies × 40 obligations = 600,000 instances.
func BenchmarkMatrix15000(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("agencies:\n")
	provinces := []string{"江苏省", "浙江省", "广东省", "四川省", "河南省"}
	for i := range 15000 {
		fmt.Fprintf(&sb, "  - {id: a%05d, name: 机构%05d, level: city, kind: department, region: %s/市%02d, website: \"http://a%d.example/\"}\n",
			i, i, provinces[i%5], i%40, i)
	}
	reg, err := registry.Parse("r.yaml", []byte(sb.String()))
	if err != nil {
		b.Fatal(err)
	}
	v := view.New()
	due := time.Date(2026, 1, 31, 23, 59, 59, 0, cst)
	for i := range 15000 {
		for o := range 40 {
			v.Put(view.Instance{AgencyID: fmt.Sprintf("a%05d", i), PackID: "cn-website-2019", ObligationID: fmt.Sprintf("OB-%02d", o),
				Period: "2025", State: events.States[(i+o)%len(events.States)], DueAt: due})
		}
	}
	h, err := Handler(Options{View: v, Registry: reg, Location: cst,
		Title:    func(string, string) events.Text { return events.Text{ZH: "义务", EN: "obligation"} },
		Findings: func(context.Context, string, time.Time, int) ([]FindingRecord, error) { return nil, nil }})
	if err != nil {
		b.Fatal(err)
	}
	for _, path := range []string{"/", "/?region=江苏省", "/?state=overdue&page=3"} {
		b.Run(path, func(b *testing.B) {
			for range b.N {
				req := httptest.NewRequest("GET", path, nil)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatal(rec.Code)
				}
			}
		})
	}
}

// A deadline is shown where it ends: a US FOIA report due at the end of
// February 1 in New York is due on February 1 on a dashboard in Beijing,
// on the agency page and in the API.
func TestDeadlineInItsPacksZone(t *testing.T) {
	o, v := fixture(t)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	v.Put(view.Instance{AgencyID: "nj-wjw", PackID: "us-foia", ObligationID: "US-AR", Period: "FY2025", State: events.StateOverdue,
		DueAt: time.Date(2026, 2, 1, 23, 59, 59, 0, ny), Since: time.Date(2026, 2, 2, 0, 5, 0, 0, ny)})
	o.Zone = func(pack string) *time.Location {
		if pack == "us-foia" {
			return ny
		}
		return cst
	}
	h, err := Handler(o)
	if err != nil {
		t.Fatal(err)
	}
	var one struct{ Obligations []apiInstance }
	_, body := get(t, h, "/api/v1/agencies/nj-wjw")
	if err := json.Unmarshal([]byte(body), &one); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, in := range one.Obligations {
		if in.PackID == "us-foia" {
			found = true
			if got := in.DueAt.Format("2006-01-02 15:04 -0700"); got != "2026-02-01 23:59 -0500" {
				t.Errorf("API due_at %s, want 2026-02-01 23:59 -0500", got)
			}
		}
	}
	if !found {
		t.Fatalf("no us-foia obligation in %s", body)
	}
	if _, page := get(t, h, "/agencies/nj-wjw"); !strings.Contains(page, "<td>2026-02-01</td>") || strings.Contains(page, "<td>2026-02-02</td>") {
		t.Errorf("agency page does not show the New York deadline 2026-02-01:\n%s", page)
	}
}
