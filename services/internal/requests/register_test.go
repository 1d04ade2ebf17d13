package requests

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/gongkai/gongkai/pkg/events"
)

func TestParseSample(t *testing.T) {
	data, err := os.ReadFile("testdata/requests.csv")
	if err != nil {
		t.Fatal(err)
	}
	reg, err := Parse("requests.csv", data, func(a string) bool { return strings.HasPrefix(a, "sim-") })
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(reg.Agencies, ","); got != "sim-0000-00,sim-0000-01" || reg.Len() != 3 {
		t.Fatalf("agencies %s, %d cases", got, reg.Len())
	}
	c := reg.Cases["sim-0000-00"][1]
	want := events.RequestCase{ID: "YSQ-2026-0011", Title: "某中学改扩建工程批复文件", Received: "2026-02-02", CorrectionRequested: "2026-02-03", Corrected: "2026-02-05",
		Extended: true, Tolled: []events.DateRange{{From: "2026-02-10", To: "2026-02-24"}}}
	if c.ID != want.ID || c.Title != want.Title || c.Received != want.Received || c.Corrected != want.Corrected || c.CorrectionRequested != want.CorrectionRequested ||
		!c.Extended || len(c.Tolled) != 1 || c.Tolled[0] != want.Tolled[0] || c.Answered != "" {
		t.Fatalf("case %+v, want %+v", c, want)
	}
	if a := reg.Cases["sim-0000-01"][0]; a.Answered != "2026-01-09" || a.Extended {
		t.Fatalf("answered case %+v", a)
	}
	// The appeal columns, in the three date formats.
	if a := reg.Cases["sim-0000-01"][0]; a.AppealReceived != "2026-01-20" || !a.AppealExtended || a.AppealDecided != "2026-02-27" {
		t.Fatalf("appealed case %+v", a)
	}
	if c.AppealReceived != "" || c.AppealExtended || c.AppealDecided != "" {
		t.Fatalf("case without an appeal %+v", c)
	}
	evs := reg.Events("requests.csv", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	if len(evs) != 2 {
		t.Fatalf("%d events, want one per agency", len(evs))
	}
	for _, ev := range evs {
		if err := ev.Validate(); err != nil {
			t.Fatal(err)
		}
	}
}

// A spreadsheet saved by a Chinese Excel: GBK, Chinese headers.
func TestParseGBKWithChineseHeaders(t *testing.T) {
	csv := "机构,申请编号,收到申请日期,答复日期,不计入期限\nsim-1,A-1,2026年3月2日,,2026/3/5 至 2026/3/9；2026-03-20~2026-03-21\n"
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(csv)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := Parse("登记表.csv", []byte(gbk), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := reg.Cases["sim-1"][0]
	if c.Received != "2026-03-02" || len(c.Tolled) != 2 || c.Tolled[1] != (events.DateRange{From: "2026-03-20", To: "2026-03-21"}) {
		t.Fatalf("case %+v", c)
	}
}

// The appeal columns under their Chinese headers: 申诉 (a FOIA appeal) and
// 复议 (a Chinese agency's 行政复议) alike.
func TestParseAppealChineseHeaders(t *testing.T) {
	for _, h := range [][3]string{
		{"收到申诉日期", "申诉延期", "申诉决定日期"},
		{"申诉收到日期", "延长申诉决定期限", "申诉决定日期"},
		{"复议申请收到日期", "申诉延期", "复议决定日期"},
		{"收到复议申请日期", "申诉延期", "复议决定日期"},
	} {
		csv := "机构,申请编号,收到申请日期,答复日期," + strings.Join(h[:], ",") + "\n" +
			"sim-1,A-1,2026年3月2日,2026-03-20,2026/3/25,是,2026年4月30日\n" +
			"sim-1,A-2,2026-03-02,,,,\n"
		gbk, err := simplifiedchinese.GBK.NewEncoder().String(csv)
		if err != nil {
			t.Fatal(err)
		}
		reg, err := Parse("登记表.csv", []byte(gbk), nil)
		if err != nil {
			t.Fatalf("%v: %v", h, err)
		}
		if c := reg.Cases["sim-1"][0]; c.AppealReceived != "2026-03-25" || !c.AppealExtended || c.AppealDecided != "2026-04-30" {
			t.Errorf("%v: case %+v", h, c)
		}
		if c := reg.Cases["sim-1"][1]; c.AppealReceived != "" || c.AppealExtended || c.AppealDecided != "" {
			t.Errorf("%v: case without an appeal %+v", h, c)
		}
	}
}

func TestParseErrorsNameLineAndColumn(t *testing.T) {
	csv := strings.Join([]string{
		"agency,case,received,answered,extended,tolled",
		"a1,C-1,2026-01-05,,,",           // fine
		"a1,C-2,2026-13-01,,,",           // bad month
		"a9,C-3,2026-01-05,,,",           // unknown agency
		"a1,C 4,2026-01-05,,,",           // case number with a space
		"a1,C-5,2026-01-05,2026-01-02,,", // answered before received
		"a1,C-6,2026-01-05,,maybe,",      // extended
		"a1,C-7,2026-01-05,,,2026-01-09", // tolled without an end
		"a1,C-1,2026-01-06,,,",           // the case again
		",C-8,,,,",                       // agency and receipt empty
	}, "\n")
	_, err := Parse("r.csv", []byte(csv), func(a string) bool { return a == "a1" })
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`r.csv:3: column received: "2026-13-01" is not a date of the calendar`,
		`r.csv:4: column agency: "a9" is not in the registry`,
		`r.csv:5: column case: "C 4" is not a case number`,
		`r.csv:6: answered 2026-01-02 is before received 2026-01-05`,
		`r.csv:7: column extended: "maybe": want yes or no`,
		`r.csv:8: column tolled: "2026-01-09": want FROM..TO`,
		`r.csv:9: case C-1 of a1 already on line 2`,
		`r.csv:10: column agency: empty`,
		`r.csv:10: column received: empty`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "r.csv:2:") {
		t.Errorf("the good line is reported:\n%v", err)
	}
}

func TestParseAppealErrors(t *testing.T) {
	csv := strings.Join([]string{
		"agency,case,received,answered,appeal_received,appeal_extended,appeal_decided",
		"a1,A-1,2026-01-05,,2026-02-30,,",            // appeal received: not a date
		"a1,A-2,2026-01-05,,2026-01-20,perhaps,",     // appeal_extended
		"a1,A-3,2026-01-05,,2026-01-20,,20/2/2026",   // appeal decided: not a date
		"a1,A-4,2026-01-05,,2026-01-02,,",            // appeal before the request
		"a1,A-5,2026-01-05,,2026-01-20,,2026-01-19",  // decided before the appeal
		"a1,A-6,2026-01-05,,,,2026-01-19",            // decided, no appeal
		"a1,A-7,2026-01-05,,,yes,",                   // extended, no appeal
		"a1,A-8,2026-01-05,2026-01-09,2026-01-20,是,", // fine: pending, extended
	}, "\n")
	_, err := Parse("r.csv", []byte(csv), nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`r.csv:2: column appeal_received: "2026-02-30" is not a date of the calendar`,
		`r.csv:3: column appeal_extended: "perhaps": want yes or no`,
		`r.csv:4: column appeal_decided: "20/2/2026" is not a date`,
		`r.csv:5: appeal_received 2026-01-02 is before received 2026-01-05`,
		`r.csv:6: appeal_decided 2026-01-19 is before appeal_received 2026-01-20`,
		`r.csv:7: appeal_decided 2026-01-19 without appeal_received`,
		`r.csv:8: appeal_extended without appeal_received`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "r.csv:9:") {
		t.Errorf("the good line is reported:\n%v", err)
	}
}

func TestParseHeaderErrors(t *testing.T) {
	for _, tc := range []struct{ csv, want string }{
		{"", "r.csv: empty file"},
		{"agency,case\n", "r.csv:1: no received column (required)"},
		{"agency,case,received,colour\n", `r.csv:1: column 4 "colour" is not a register column`},
		{"agency,case,received,Received\n", `r.csv:1: column "Received" appears twice`},
		{"agency,case,received\n", "r.csv: no cases after the header row"},
		{"agency,case,received\na,\"b,2026-01-01\n", "r.csv:2:"},
	} {
		_, err := Parse("r.csv", []byte(tc.csv), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want %q", tc.csv, err, tc.want)
		}
	}
}

func TestEventsSplitLargeRegisters(t *testing.T) {
	reg := &Register{Agencies: []string{"a"}, Cases: map[string][]events.RequestCase{}}
	for i := range 2*events.MaxRequestCases + 1 {
		reg.Cases["a"] = append(reg.Cases["a"], events.RequestCase{ID: "c" + strconv.Itoa(i), Received: "2026-01-05"})
	}
	evs := reg.Events("r.csv", time.Now())
	if len(evs) != 3 || len(evs[0].Cases) != events.MaxRequestCases || len(evs[2].Cases) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	for _, ev := range evs {
		if err := ev.Validate(); err != nil {
			t.Fatal(err)
		}
	}
}

// Parse never panics, and what it accepts is valid on the wire.
func FuzzParse(f *testing.F) {
	data, _ := os.ReadFile("testdata/requests.csv")
	f.Add(data)
	f.Add([]byte("机构,申请编号,收到申请日期\na,b,2026年1月2日\n"))
	f.Add([]byte("agency,case,received,tolled\na,b,2026-01-02,2026-01-03..2026-01-04;2026/1/5~2026/1/6\n"))
	f.Add([]byte("agency,case,received,appeal_received,appeal_extended,appeal_decided\na,b,2026-01-02,2026/1/20,yes,2026年2月2日\na,c,2026-01-02,,,2026-01-03\n"))
	f.Add([]byte("机构,申请编号,收到申请日期,收到复议申请日期,复议决定日期\na,b,2026年1月2日,2026年1月2日,2026年1月2日\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		reg, err := Parse("f.csv", data, nil)
		if err != nil {
			return
		}
		for _, ev := range reg.Events("f.csv", time.Unix(1, 0)) {
			if err := ev.Validate(); err != nil {
				t.Fatalf("accepted register is invalid: %v", err)
			}
		}
	})
}
