package obligation

import (
	"cmp"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"time"

	"github.com/gongkai/gongkai/services/internal/calendar"
)

//go:embed packs/*.yaml
var embeddedPacks embed.FS

// Catalog is a set of loaded packs with unique pack ids and unique
// obligation ids. It is immutable and safe for concurrent use.
type Catalog struct {
	packs       []*Pack
	byID        map[string]*Pack
	obligations map[string]*Obligation
}

// New returns a catalog of the given packs. Pack ids and obligation ids must
// be unique across the catalog.
func New(packs ...*Pack) (*Catalog, error) {
	c := &Catalog{byID: map[string]*Pack{}, obligations: map[string]*Obligation{}}
	var errs []error
	for _, p := range packs {
		if q, dup := c.byID[p.ID]; dup {
			errs = append(errs, fmt.Errorf("%s: pack id %s already loaded from %s", p.File, p.ID, q.File))
			continue
		}
		c.byID[p.ID] = p
		c.packs = append(c.packs, p)
		for _, o := range p.Obligations {
			if q, dup := c.obligations[o.ID]; dup {
				errs = append(errs, fmt.Errorf("%s: obligation id %s already defined in pack %s (%s)", p.File, o.ID, q.pack.ID, q.pack.File))
				continue
			}
			c.obligations[o.ID] = o
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortFunc(c.packs, func(a, b *Pack) int { return cmp.Compare(a.ID, b.ID) })
	return c, nil
}

// cachedCalendars returns a CalendarSource that loads each embedded
// calendar once.
func cachedCalendars() CalendarSource {
	cache := map[string]*calendar.Calendar{}
	return func(name string) (*calendar.Calendar, error) {
		if c, ok := cache[name]; ok {
			return c, nil
		}
		c, err := calendar.Load(name)
		if err != nil {
			return nil, err
		}
		cache[name] = c
		return c, nil
	}
}

func loadEmbedded(cals CalendarSource) ([]*Pack, error) {
	names, err := fs.Glob(embeddedPacks, "packs/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("list embedded packs: %w", err)
	}
	var packs []*Pack
	var errs []error
	for _, name := range names {
		data, err := embeddedPacks.ReadFile(name)
		if err != nil {
			errs = append(errs, fmt.Errorf("read embedded pack %s: %w", name, err))
			continue
		}
		p, err := ParsePack("embedded:"+name, data, cals)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if want := path.Base(name); want != p.ID+".yaml" {
			errs = append(errs, fmt.Errorf("embedded pack %s has id %s", name, p.ID))
		}
		packs = append(packs, p)
	}
	return packs, errors.Join(errs...)
}

// LoadEmbedded returns a catalog of the packs built into the binary.
func LoadEmbedded() (*Catalog, error) {
	packs, err := loadEmbedded(cachedCalendars())
	if err != nil {
		return nil, fmt.Errorf("load embedded packs: %w", err)
	}
	return New(packs...)
}

// LoadFiles returns a catalog of the embedded packs plus the pack files at
// paths. A file whose pack id equals an embedded pack's replaces that pack
// (an operator's corrected or local version); two files with the same id
// are an error. All problems of all files are reported, each with its file
// and line.
func LoadFiles(paths ...string) (*Catalog, error) {
	cals := cachedCalendars()
	embedded, err := loadEmbedded(cals)
	if err != nil {
		return nil, fmt.Errorf("load embedded packs: %w", err)
	}
	var files []*Pack
	var errs []error
	for _, p := range paths {
		data, err := readPackFile(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		pk, err := ParsePack(p, data, cals)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		files = append(files, pk)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	replaced := map[string]bool{}
	for _, p := range files {
		replaced[p.ID] = true
	}
	packs := files
	for _, p := range embedded {
		if !replaced[p.ID] {
			packs = append(packs, p)
		}
	}
	return New(packs...)
}

func readPackFile(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("read pack: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read pack: %w", err)
	}
	if st.Size() > maxPackSize {
		return nil, &PackError{File: p, Msg: fmt.Sprintf("file larger than %d bytes", maxPackSize)}
	}
	data := make([]byte, st.Size())
	if _, err := f.ReadAt(data, 0); err != nil && st.Size() > 0 {
		return nil, fmt.Errorf("read pack %s: %w", p, err)
	}
	return data, nil
}

// Packs returns the catalog's packs sorted by id.
func (c *Catalog) Packs() []*Pack { return slices.Clone(c.packs) }

// Pack returns the pack with the given id.
func (c *Catalog) Pack(id string) (*Pack, bool) {
	p, ok := c.byID[id]
	return p, ok
}

// Obligation returns the obligation with the given id.
func (c *Catalog) Obligation(id string) (*Obligation, bool) {
	o, ok := c.obligations[id]
	return o, ok
}

// Obligations returns every obligation, by pack id and then in file order.
func (c *Catalog) Obligations() []*Obligation {
	var out []*Obligation
	for _, p := range c.packs {
		out = append(out, p.Obligations...)
	}
	return out
}

// Applicable returns the obligations that apply to agency a at instant t:
// those of packs of a's jurisdiction (limited to a.Packs when set) that are
// in effect on t's date in the pack's zone, whose scope covers a's level and
// kind. The order is by pack id, then file order.
func (c *Catalog) Applicable(a Agency, t time.Time) []*Obligation {
	var out []*Obligation
	for _, p := range c.packs {
		if p.Jurisdiction != a.Jurisdiction || !p.InEffect(calendar.DateOf(t.In(p.Location))) {
			continue
		}
		for _, o := range p.Obligations {
			if o.AppliesTo(a) {
				out = append(out, o)
			}
		}
	}
	return out
}

// Select returns the obligations of the given kind whose pack, of the given
// jurisdiction, is in effect on ref: the legal text that governs. By
// convention ref is the last day of the period for periodic obligations
// (annual reports for 2018 follow the 2008 text, for 2019 the 2019 text,
// in force from 2019-05-15) and the event date for event-driven ones (a
// request received on 2019-05-14 follows the 2008 text). Filter the result
// with Obligation.AppliesTo; for "annual-report" in China it holds the
// department, government and township variants.
func (c *Catalog) Select(jurisdiction, kind string, ref calendar.Date) []*Obligation {
	var out []*Obligation
	for _, p := range c.packs {
		if p.Jurisdiction != jurisdiction || !p.InEffect(ref) {
			continue
		}
		for _, o := range p.Obligations {
			if o.Kind == kind {
				out = append(out, o)
			}
		}
	}
	return out
}

// Reference returns the date Select compares with the packs' effective
// dates for period p: its last day for yearly and quarterly periods, the
// event date otherwise.
func Reference(p Period, eventDate calendar.Date) calendar.Date {
	if !p.End.IsZero() {
		return p.End
	}
	return eventDate
}
