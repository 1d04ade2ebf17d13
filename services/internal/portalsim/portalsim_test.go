package portalsim

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gongkai/gongkai/services/internal/registry"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDemoFleetServesPortalShapedSites(t *testing.T) {
	asOf := time.Date(2026, 2, 3, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	f, err := Start(Demo(asOf))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Hosts() != 2 {
		t.Fatalf("%d hosts, want 2 (a shared platform and one own host)", f.Hosts())
	}
	base := f.URL("demo-czj")
	if code, body := get(t, base); code != 200 || !strings.Contains(body, `href="./zfxxgk/"`) || !strings.Contains(body, "2026-02-01") {
		t.Fatalf("home page: %d\n%s", code, body)
	}
	_, list := get(t, base+"zfxxgk/ndbg/")
	if !strings.Contains(list, "示范市财政局2025年政府信息公开工作年度报告") || !strings.Contains(list, "<span>2026-01-20</span>") {
		t.Fatalf("list page:\n%s", list)
	}
	code, detail := get(t, base+"zfxxgk/ndbg/202601/t20260120_2025.html")
	if code != 200 || !strings.Contains(detail, "发布日期：2026-01-20") || !strings.Contains(detail, "示范市财政局") ||
		!strings.Contains(detail, "2025 年") || strings.Contains(detail, "淮安市人民政府") {
		t.Fatalf("detail page %d:\n%.600s", code, detail)
	}
	if code, _ := get(t, base+"zfxxgk/ndbg/202601/t20260120_1999.html"); code != 404 {
		t.Fatalf("unknown report: %d", code)
	}
	if _, err := http.Get(f.URL("demo-gov")); err == nil {
		t.Fatal("the unreachable site answered")
	}
	var buf bytes.Buffer
	if err := f.WriteRegistry(&buf); err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Parse("fleet.yaml", buf.Bytes())
	if err != nil {
		t.Fatalf("the fleet's registry does not load: %v\n%s", err, buf.String())
	}
	if !reg.AllowPrivateAddresses || len(reg.Agencies) != 4 {
		t.Fatalf("registry: %+v", reg)
	}
}

func TestPagination(t *testing.T) {
	var reps []Report
	for y := 2008; y <= 2025; y++ {
		reps = append(reps, Report{Year: y, Published: time.Date(y+1, 1, 20, 0, 0, 0, 0, time.UTC)})
	}
	f, err := Start(Spec{Sites: []Site{{AgencyID: "a", Name: "甲局", Reports: reps, PageSize: 10}}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, p0 := get(t, f.URL("a")+"zfxxgk/ndbg/")
	_, p1 := get(t, f.URL("a")+"zfxxgk/ndbg/index_1.html")
	if strings.Count(p0, "<li>") != 10 || !strings.Contains(p0, `href="index_1.html">下一页`) {
		t.Fatalf("page 1:\n%s", p0)
	}
	if strings.Count(p1, "<li>") != 8 || strings.Contains(p1, "下一页") || !strings.Contains(p1, "2008年") {
		t.Fatalf("page 2:\n%s", p1)
	}
	if code, _ := get(t, f.URL("a")+"zfxxgk/ndbg/index_2.html"); code != 404 {
		t.Fatalf("page 3: %d", code)
	}
}

func TestLastDueYear(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	for in, want := range map[string]int{"2026-02-03": 2025, "2026-02-02": 2024, "2026-11-27": 2025, "2027-01-15": 2025} {
		d, _ := time.ParseInLocation("2006-01-02", in, cst)
		if got := LastDueYear(d); got != want {
			t.Errorf("LastDueYear(%s) = %d, want %d", in, got, want)
		}
	}
}
