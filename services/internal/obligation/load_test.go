package obligation

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/gongkai/gongkai/services/internal/calendar"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestPackErrors loads every malformed pack in testdata/bad and compares the
// error with testdata/bad/NAME.golden (rewrite with -update). Every message
// names the file and the line.
func TestPackErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test packs: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParsePack(filepath.Base(f), data, nil)
			if err == nil {
				t.Fatal("ParsePack succeeded")
			}
			var pe *PackError
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not a *PackError", err)
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(want) {
				t.Errorf("error:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestLoadFiles replaces an embedded pack with an operator's file and adds
// a local pack.
func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	orig, err := embeddedPacks.ReadFile("packs/cn-ogi-2019.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The operator's version rolls the departments' date forward.
	local := strings.Replace(string(orig), "      fixed: {year_offset: 1, month: 1, day: 31, time: \"23:59:59\"}\n      roll_forward: false",
		"      fixed: {year_offset: 1, month: 1, day: 31, time: \"23:59:59\"}\n      roll_forward: true", 1)
	local = strings.Replace(local, `version: "2026.1"`, `version: "2026.1-local"`, 1)
	replaced := filepath.Join(dir, "cn-ogi-2019.yaml")
	if err := os.WriteFile(replaced, []byte(local), 0o644); err != nil {
		t.Fatal(err)
	}
	extra := filepath.Join(dir, "hn-huaihua.yaml")
	if err := os.WriteFile(extra, []byte(`id: cn-hn-huaihua
version: "2022.1"
title: {zh: 怀化市政务公开要求, en: Huaihua city open-government rules}
jurisdiction: cn
calendar: cn
timezone: Asia/Shanghai
effective: {from: 2022-01-01}
obligations:
  - id: HH-AR-SUBMIT
    kind: annual-report-submission
    title: {zh: 市直单位报送年报, en: City departments submit the annual report}
    legal_basis: 怀化市政务公开办通知（2022）
    applies_to: {levels: [city], kinds: [department]}
    period: {type: yearly}
    deadline:
      fixed: {year_offset: 1, month: 1, day: 26}
    completeness: {profile: none}
    severity: warning
`), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadFiles(replaced, extra)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := c.Pack("cn-ogi-2019")
	if !ok || p.Version != "2026.1-local" || p.File != replaced {
		t.Fatalf("pack not replaced: %+v", p)
	}
	o, _ := c.Obligation("CN-R19-AR-DEPT")
	per, _ := o.ParsePeriod("2025")
	due, err := o.Due(per, DueInput{})
	if err != nil || due.Date.String() != "2026-02-02" || due.PackVersion != "2026.1-local" {
		t.Errorf("due %+v %v", due, err)
	}
	if _, ok := c.Obligation("HH-AR-SUBMIT"); !ok || len(c.Packs()) != 6 {
		t.Errorf("local pack missing; %d packs", len(c.Packs()))
	}

	// Two files with the same id, and a bad file among good ones.
	if _, err := LoadFiles(replaced, replaced); err == nil || !strings.Contains(err.Error(), "pack id cn-ogi-2019 already loaded from") {
		t.Errorf("duplicate ids: %v", err)
	}
	_, err = LoadFiles(extra, "testdata/bad/unknown-key.yaml", filepath.Join(dir, "missing.yaml"))
	if err == nil || !strings.Contains(err.Error(), "testdata/bad/unknown-key.yaml:17: unknown key") || !strings.Contains(err.Error(), "missing.yaml: no such file") {
		t.Errorf("errors from several files: %v", err)
	}
	// An obligation id defined twice across packs.
	dup := filepath.Join(dir, "dup.yaml")
	if err := os.WriteFile(dup, []byte(strings.Replace(strings.Replace(local, "id: cn-ogi-2019", "id: cn-ogi-2019-copy", 1), "CN-R19-AR-GOV", "CN-R19-AR-GOV2", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFiles(dup); err == nil || !strings.Contains(err.Error(), "obligation id CN-R19-AR-DEPT already defined in pack") {
		t.Errorf("duplicate obligation ids: %v", err)
	}
}

// registryEntry is how the agency registry might embed overrides and waivers.
type registryEntry struct {
	Name      string     `yaml:"name"`
	Agency    Agency     `yaml:"agency"`
	Overrides []Override `yaml:"overrides"`
	Waivers   []Waiver   `yaml:"waivers"`
}

func TestOverrideAndWaiverYAML(t *testing.T) {
	good := `name: 怀化市财政局
agency: {jurisdiction: cn, level: city, kind: department}
overrides:
  - obligation: CN-R19-AR-DEPT
    fixed: {year_offset: 1, month: 1, day: 28}
    periods: ["2021"]
    basis: 怀化市政务公开办通知（2022-01）
  - obligation: CN-R19-REQ
    shift: {days: -5, unit: working}
    basis: 市政府规定
waivers:
  - obligation: CN-BUD-DEPT-FINAL
    period: "2024"
    reason: 机构改革撤并
    expires: 2026-06-30
`
	var e registryEntry
	dec := yaml.NewDecoder(strings.NewReader(good))
	dec.KnownFields(true)
	if err := dec.Decode(&e); err != nil {
		t.Fatal(err)
	}
	if len(e.Overrides) != 2 || e.Overrides[0].Fixed.Day != 28 || e.Overrides[0].Line != 4 || e.Overrides[1].Shift.Days != -5 {
		t.Errorf("overrides %+v", e.Overrides)
	}
	if e.Overrides[0].Fixed.Time != (Clock{23, 59, 59}) {
		t.Errorf("default time %v", e.Overrides[0].Fixed.Time)
	}
	w := e.Waivers[0]
	if w.Expires.String() != "2026-06-30" || w.Line != 12 {
		t.Errorf("waiver %+v", w)
	}
	if !w.Covers("CN-BUD-DEPT-FINAL", "2024", d("2026-06-30")) || w.Covers("CN-BUD-DEPT-FINAL", "2024", d("2026-07-01")) ||
		w.Covers("CN-BUD-DEPT-FINAL", "2025", d("2026-01-01")) || w.Covers("CN-BUD-DEPT-BUDGET", "2024", d("2026-01-01")) {
		t.Error("Covers")
	}
	all := Waiver{Obligation: "X", Period: AllPeriods, Reason: "r", Expires: d("2030-01-01")}
	if !all.Covers("X", "1999", d("2029-12-31")) {
		t.Error("all periods")
	}

	tests := []struct {
		in, want string
	}{
		{"overrides:\n  - obligation: CN-R19-AR-DEPT\n    fixd: {month: 1, day: 28}\n    basis: x\n",
			`yaml: unmarshal errors:
  line 3: unknown key "fixd" (allowed: basis, days, fixed, obligation, periods, roll_forward, shift)`},
		{"overrides:\n  - obligation: CN-R19-AR-DEPT\n    fixed: {year_offset: 1, month: 2, day: 30}\n    basis: x\n",
			"yaml: unmarshal errors:\n  line 3: fixed: day 30 does not exist in February"},
		{"overrides:\n  - obligation: CN-R19-AR-DEPT\n    fixed: {year_offset: 1, month: 1, day: 28}\n",
			"yaml: unmarshal errors:\n  line 2: override of CN-R19-AR-DEPT: basis missing: cite the local rule"},
		{"overrides:\n  - obligation: CN-R19-AR-DEPT\n    days: 3\n    shift: {days: 1, unit: calendar}\n    basis: x\n",
			"yaml: unmarshal errors:\n  line 2: override of CN-R19-AR-DEPT: give only one of fixed, days and shift"},
		{"overrides:\n  - obligation: CN-R19-AR-DEPT\n    basis: x\n",
			"yaml: unmarshal errors:\n  line 2: override of CN-R19-AR-DEPT: nothing to override: give fixed, days, shift or roll_forward"},
		{"overrides:\n  - obligation: X\n    shift: {days: 2, unit: fortnight}\n    basis: x\n",
			"yaml: unmarshal errors:\n  line 2: override of X: shift: unit \"fortnight\"; want calendar or working"},
		{"waivers:\n  - obligation: X\n    period: all\n    reason: r\n    expires: 2026-02-30\n",
			"yaml: unmarshal errors:\n  line 5: expires: invalid date \"2026-02-30\": day 30 out of range for 2026-02"},
		{"waivers:\n  - obligation: X\n    period: all\n    expires: 2026-02-03\n",
			"yaml: unmarshal errors:\n  line 2: waiver of X: reason missing"},
		{"waivers:\n  - obligation: X\n    period: all\n    reason: r\n    until: 2026-02-03\n",
			`yaml: unmarshal errors:
  line 5: unknown key "until" (allowed: expires, obligation, period, reason)`},
		{"waivers:\n  - obligation: X\n    period: [2024]\n    reason: r\n    expires: 2026-02-03\n",
			"yaml: unmarshal errors:\n  line 3: cannot unmarshal !!seq into string"},
	}
	for _, tt := range tests {
		var e registryEntry
		err := yaml.Unmarshal([]byte(tt.in), &e)
		if err == nil || err.Error() != tt.want {
			t.Errorf("decode %q:\n got: %v\nwant: %s", tt.in, err, tt.want)
		}
	}
	if err := (Waiver{}).Validate(); err == nil || err.Error() != `waiver: obligation id missing; period missing (a period key or "all"); reason missing; expires missing (the last day the waiver holds)` {
		t.Errorf("empty waiver: %v", err)
	}
	if err := (Override{Obligation: "X", Days: ptr(-1), Basis: "b", Line: 7}).Validate(); err == nil || err.Error() != "line 7: override of X: days -1 out of range 0..3660" {
		t.Errorf("negative days: %v", err)
	}
}

func TestParsePackSource(t *testing.T) {
	// A pack may name any calendar the source provides, such as a regional
	// overlay.
	data, err := embeddedPacks.ReadFile("packs/cn-budget.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cn := mustCal(t, "cn")
	xj, err := cn.WithOverlay("xinjiang", strings.NewReader("date,kind\n2026-03-20,holiday\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePack("budget-xj.yaml", []byte(strings.Replace(string(data), "calendar: cn\n", "calendar: cn-xinjiang\n", 1)),
		func(name string) (*calendar.Calendar, error) {
			if name == "cn-xinjiang" {
				return xj, nil
			}
			return nil, errors.New("unknown")
		})
	if err != nil {
		t.Fatal(err)
	}
	if p.Calendar() != xj || p.Location.String() != "Asia/Shanghai" || p.From.String() != "2015-01-01" || !p.Until.IsZero() {
		t.Errorf("pack %+v", p)
	}
	if !p.InEffect(d("2026-01-01")) || p.InEffect(d("2014-12-31")) {
		t.Error("InEffect")
	}
}

// TestHostileYAML checks that self-referencing and exponential aliases are
// rejected quickly instead of hanging or exhausting the stack.
func TestHostileYAML(t *testing.T) {
	tests := map[string]string{
		"self-reference": "id: x\nobligations: &o [*o]\n",
		"billion laughs": `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
obligations: [*g]
`,
		"laughs in allowed keys": `id: x
obligations:
  - {id: A, reminders: &a [1,1,1,1,1,1,1,1,1,1]}
  - {id: B, locator: {synonyms: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]}}
  - {id: C, locator: {synonyms: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]}}
  - {id: D, locator: {synonyms: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]}}
  - {id: E, locator: {synonyms: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]}}
  - {id: F, locator: {synonyms: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]}}
  - {id: G, locator: {synonyms: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]}}
  - {id: H, locator: {synonyms: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]}}
`,
		"huge": "id: x\nnotes: " + strings.Repeat("x", maxPackSize) + "\n",
	}
	for name, in := range tests {
		if _, err := ParsePack(name+".yaml", []byte(in), nil); err == nil {
			t.Errorf("%s: accepted", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}
