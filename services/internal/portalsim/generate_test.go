package portalsim

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func TestGenerateIsDeterministicAndMixed(t *testing.T) {
	a := Generate(GenOptions{Agencies: 300, Seed: 7})
	b := Generate(GenOptions{Agencies: 300, Seed: 7})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave two fleets")
	}
	if reflect.DeepEqual(a, Generate(GenOptions{Agencies: 300, Seed: 8})) {
		t.Fatal("another seed gave the same fleet")
	}
	hosts := map[string]int{}
	faults, own := 0, 0
	for _, s := range a.Sites {
		if s.Host == "" {
			own++
		} else {
			hosts[s.Host]++
		}
		if s.Fault != "" || len(s.Missing)+len(s.Blank)+len(s.Stale) > 0 || s.Charset != "" || s.Layout != "" {
			faults++
		}
	}
	if own < 60 || own > 180 || len(hosts) < 3 {
		t.Errorf("%d agencies on their own host, %d platforms %v", own, len(hosts), hosts)
	}
	for h, n := range hosts {
		if n > 50 {
			t.Errorf("platform %s carries %d agencies", h, n)
		}
	}
	if faults < 30 || faults > 100 {
		t.Errorf("%d of 300 agencies with a fault", faults)
	}
	if n := Generate(GenOptions{Agencies: 50, FaultRate: -1}); func() bool {
		for _, s := range n.Sites {
			if s.Fault != "" || len(s.Missing) > 0 {
				return true
			}
		}
		return false
	}() {
		t.Error("FaultRate -1 still gave faults")
	}
}

func TestSiteShapes(t *testing.T) {
	asOf := time.Date(2026, 2, 10, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	rep := []Report{{Year: 2025, Published: time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC), Format: FormatDOCX, ArithmeticError: true}}
	f, err := Start(Spec{AsOf: asOf, Sites: []Site{
		{AgencyID: "g", Name: "甲局", Charset: CharsetGBKBare, Layout: LayoutTRS, Reports: rep},
		{AgencyID: "b", Name: "乙局", Blank: []string{"leaders"}, Missing: []string{"policy_interpretation"}},
		{AgencyID: "l", Name: "丙局", Fault: FaultRedirectLoop},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	resp, err := http.Get(f.URL("g") + "zfxxgk/tzgg/")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body, _ := simplifiedchinese.GBK.NewDecoder().Bytes(raw)
	if resp.Header.Get("Content-Type") != "text/html" || !strings.Contains(string(body), "createPageHTML(") || !strings.Contains(string(body), "通知公告") || bytes.Contains(raw, []byte("通知公告")) {
		t.Fatalf("GBK TRS list: %s\n%s", resp.Header.Get("Content-Type"), body)
	}
	_, detail := get(t, f.URL("g")+"zfxxgk/ndbg/"+rep[0].slug())
	if !strings.Contains(detail, "P020260120_2025.docx") {
		// The detail page is GBK too; the link is ASCII.
		t.Fatalf("detail page without the attachment link")
	}
	code, docx := get(t, f.URL("g")+"zfxxgk/ndbg/"+rep[0].attachment())
	zr, err := zip.NewReader(strings.NewReader(docx), int64(len(docx)))
	if code != 200 || err != nil {
		t.Fatalf("docx: %d %v", code, err)
	}
	rc, _ := zr.Open("word/document.xml")
	xml, _ := io.ReadAll(rc)
	if !strings.Contains(string(xml), "甲局") || !strings.Contains(string(xml), "3011") {
		t.Fatalf("docx text lacks the agency or the mutated number")
	}
	if _, gk := get(t, f.URL("b")+"zfxxgk/"); strings.Contains(gk, "政策解读") || !strings.Contains(gk, "领导介绍") {
		t.Fatalf("section page:\n%s", gk)
	}
	if code, _ := get(t, f.URL("b")+"zfxxgk/zcjd/"); code != 404 {
		t.Fatalf("missing column answers %d", code)
	}
	if _, blank := get(t, f.URL("b")+"zfxxgk/ldjs/"); strings.Contains(blank, "<p>") {
		t.Fatalf("blank column has content:\n%s", blank)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := client.Get(f.URL("l"))
	if err != nil || r.StatusCode != http.StatusFound {
		t.Fatalf("redirect loop: %v", err)
	}
	r.Body.Close()
	// ETags: an unchanged page answers 304.
	req, _ := http.NewRequest("GET", f.URL("b"), nil)
	r1, _ := http.DefaultClient.Do(req)
	r1.Body.Close()
	req.Header.Set("If-None-Match", r1.Header.Get("ETag"))
	r2, _ := http.DefaultClient.Do(req)
	r2.Body.Close()
	if r1.Header.Get("ETag") == "" || r2.StatusCode != http.StatusNotModified {
		t.Fatalf("conditional request: %d", r2.StatusCode)
	}
	if n := len(f.Pages()); n < 15 {
		t.Fatalf("%d pages", n)
	}
}
