package obligation

import (
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/gongkai/gongkai/services/internal/calendar"
)

// FuzzParsePack feeds arbitrary bytes to the pack loader. It must return a
// pack or an error, never panic; for a pack it returns, every obligation must
// compute a deadline or return an error, again without panicking.
func FuzzParsePack(f *testing.F) {
	seeds, _ := filepath.Glob("packs/*.yaml")
	bad, _ := filepath.Glob("testdata/bad/*.yaml")
	for _, p := range append(seeds, bad...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	cals := cachedCalendars()
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePack("fuzz.yaml", data, cals)
		if err != nil {
			return
		}
		for _, o := range p.Obligations {
			var per Period
			switch o.Period.Kind {
			case Yearly, Quarterly:
				per, err = o.Period.Containing(calendar.NewDate(2026, 12, 1))
			default:
				per, err = o.ParsePeriod("event-1")
			}
			if err != nil {
				t.Fatalf("%s: %v", o.ID, err)
			}
			in := DueInput{EventDate: calendar.NewDate(2026, 12, 20), Extended: true}
			if o.Deadline.Tolling {
				in.Tolling = []Interval{{From: calendar.NewDate(2026, 12, 24), To: calendar.NewDate(2027, 1, 3)}}
			}
			if due, err := o.Due(per, in); err == nil {
				_ = o.ReminderTimes(due)
				_ = o.EscalateAt(due)
				_ = o.DueSoonAt(due)
			}
			_, _ = o.Locator.TitleRegexp(per)
			_ = o.CompletenessFor(per)
		}
	})
}

// FuzzOverrideYAML decodes arbitrary YAML as a list of overrides and
// waivers; decoding must never panic, and what decodes must validate.
func FuzzOverrideYAML(f *testing.F) {
	f.Add([]byte("overrides:\n  - obligation: CN-R19-AR-DEPT\n    fixed: {year_offset: 1, month: 1, day: 28}\n    basis: x\nwaivers:\n  - obligation: X\n    period: all\n    reason: r\n    expires: 2026-01-01\n"))
	f.Add([]byte("overrides:\n  - obligation: X\n    shift: {days: -3, unit: calendar}\n    periods: [\"2021\"]\n    basis: b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e struct {
			Overrides []Override `yaml:"overrides"`
			Waivers   []Waiver   `yaml:"waivers"`
		}
		if err := yaml.Unmarshal(data, &e); err != nil {
			return
		}
		for _, o := range e.Overrides {
			if err := o.Validate(); err != nil {
				t.Fatalf("decoded override does not validate: %v", err)
			}
		}
		for _, w := range e.Waivers {
			if err := w.Validate(); err != nil {
				t.Fatalf("decoded waiver does not validate: %v", err)
			}
		}
	})
}
