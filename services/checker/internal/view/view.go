// Package view keeps a compact in-memory copy of every obligation instance's
// state, fed by a watch on the obligations bucket, for the read API, the
// dashboard and the daily tick. It is sized for a national audit: 600,000
// instances take a few tens of megabytes, because agency, obligation and
// period strings are interned and each instance is a small fixed-size
// record.
package view

import (
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
)

// Instance is the part of an instance's state the view keeps. Its JSON
// names are those of the stored instance, so it decodes from the bucket
// directly.
type Instance struct {
	AgencyID     string       `json:"agency_id"`
	PackID       string       `json:"pack_id"`
	ObligationID string       `json:"obligation_id"`
	Period       string       `json:"period"`
	State        events.State `json:"state"`
	Since        time.Time    `json:"since"`
	DueAt        time.Time    `json:"due_at"`
	Provisional  bool         `json:"provisional"`
	PublishedOn  string       `json:"published_on"`
	URL          string       `json:"url"`
	Evidence     []string     `json:"evidence"`
	LastError    string       `json:"last_error"`
}

type key struct {
	agency     uint32
	obligation uint32
	period     uint32
}

// record is one instance. Rarely present details (URL, evidence, error)
// live in a side table so the common record stays small.
type record struct {
	key
	state       uint8
	provisional bool
	since       int64
	due         int64
	extra       int32 // index into extras, -1 when none
}

type extra struct {
	publishedOn, url, lastError string
	evidence                    []string
}

// obligationRef names an obligation within its pack.
type obligationRef struct{ pack, id string }

// View is safe for concurrent use.
type View struct {
	mu          sync.RWMutex
	agencies    intern
	obligations []obligationRef
	obIndex     map[obligationRef]uint32
	periods     intern
	records     []record
	index       map[key]int32
	extras      []extra
	freeExtras  []int32
	// strs interns the repeated strings of extras: many instances of one
	// agency rest on the same home page and list pages.
	strs map[string]string
}

// New returns an empty view.
func New() *View {
	return &View{
		agencies: newIntern(), periods: newIntern(),
		obIndex: map[obligationRef]uint32{}, index: map[key]int32{}, strs: map[string]string{},
	}
}

type intern struct {
	ids   map[string]uint32
	names []string
}

func newIntern() intern { return intern{ids: map[string]uint32{}} }

func (in *intern) id(s string) uint32 {
	if i, ok := in.ids[s]; ok {
		return i
	}
	i := uint32(len(in.names))
	in.ids[s] = i
	in.names = append(in.names, s)
	return i
}

var stateCodes = func() map[events.State]uint8 {
	m := map[events.State]uint8{}
	for i, s := range events.States {
		m[s] = uint8(i)
	}
	return m
}()

// Put inserts or replaces an instance.
func (v *View) Put(in Instance) {
	v.mu.Lock()
	defer v.mu.Unlock()
	ref := obligationRef{in.PackID, in.ObligationID}
	ob, ok := v.obIndex[ref]
	if !ok {
		ob = uint32(len(v.obligations))
		v.obIndex[ref] = ob
		v.obligations = append(v.obligations, ref)
	}
	k := key{v.agencies.id(in.AgencyID), ob, v.periods.id(in.Period)}
	r := record{key: k, state: stateCodes[in.State], provisional: in.Provisional,
		since: in.Since.Unix(), due: in.DueAt.Unix(), extra: -1}
	i, exists := v.index[k]
	if exists && v.records[i].extra >= 0 {
		v.freeExtras = append(v.freeExtras, v.records[i].extra)
	}
	if in.PublishedOn != "" || in.URL != "" || in.LastError != "" || len(in.Evidence) > 0 {
		x := extra{v.str(in.PublishedOn), v.str(in.URL), v.str(in.LastError), nil}
		if len(in.Evidence) > 0 {
			x.evidence = make([]string, len(in.Evidence))
			for i, e := range in.Evidence {
				x.evidence[i] = v.str(e)
			}
		}
		if n := len(v.freeExtras); n > 0 {
			r.extra = v.freeExtras[n-1]
			v.freeExtras = v.freeExtras[:n-1]
			v.extras[r.extra] = x
		} else {
			r.extra = int32(len(v.extras))
			v.extras = append(v.extras, x)
		}
	}
	if exists {
		v.records[i] = r
		return
	}
	v.index[k] = int32(len(v.records))
	v.records = append(v.records, r)
}

func (v *View) str(s string) string {
	if s == "" {
		return ""
	}
	if t, ok := v.strs[s]; ok {
		return t
	}
	// Strings of replaced records stay in the table; start it afresh now
	// and then so that it cannot grow without bound (records keep their
	// strings; only future sharing is lost).
	if len(v.strs) > 4*len(v.records)+1024 {
		clear(v.strs)
	}
	s = strings.Clone(s) // do not keep the decoded message alive
	v.strs[s] = s
	return s
}

// Len returns the number of instances.
func (v *View) Len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.records)
}

func (v *View) expand(r record) Instance {
	ref := v.obligations[r.obligation]
	in := Instance{
		AgencyID: v.agencies.names[r.agency], PackID: ref.pack, ObligationID: ref.id,
		Period: v.periods.names[r.period], State: events.States[r.state], Provisional: r.provisional,
		Since: time.Unix(r.since, 0), DueAt: time.Unix(r.due, 0),
	}
	if r.extra >= 0 {
		x := v.extras[r.extra]
		in.PublishedOn, in.URL, in.LastError, in.Evidence = x.publishedOn, x.url, x.lastError, x.evidence
	}
	return in
}

// Agency returns the instances of one agency, sorted by obligation and
// period (newest first).
func (v *View) Agency(id string) []Instance {
	v.mu.RLock()
	defer v.mu.RUnlock()
	a, ok := v.agencies.ids[id]
	if !ok {
		return nil
	}
	var out []Instance
	for _, r := range v.records {
		if r.agency == a {
			out = append(out, v.expand(r))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].PackID+out[i].ObligationID != out[j].PackID+out[j].ObligationID {
			return out[i].PackID+out[i].ObligationID < out[j].PackID+out[j].ObligationID
		}
		return out[i].Period > out[j].Period
	})
	return out
}

// Each calls fn for every instance until fn returns false. The view is
// read-locked meanwhile: fn must not call back into the view.
func (v *View) Each(fn func(Instance) bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	for _, r := range v.records {
		if !fn(v.expand(r)) {
			return
		}
	}
}

// Cell is the summary of one (agency, obligation) pair: the state of its
// most recent period.
type Cell struct {
	Period string
	State  events.State
}

// Summary is what the compliance matrix and the roll-ups need, computed in
// one pass without expanding records.
type Summary struct {
	// Obligations lists the (pack, obligation) pairs present, sorted.
	Obligations [][2]string
	// Cells maps agency id → obligation index (into Obligations) → cell.
	Cells map[string]map[int]Cell
	// Counts maps agency id → state → number of instances (all periods).
	Counts map[string]map[events.State]int
}

// Summarize returns the latest-period cell of every (agency, obligation)
// for the agencies accepted by keep (nil keeps all) and the instance counts
// per agency and state.
func (v *View) Summarize(keep func(agencyID string) bool) Summary {
	v.mu.RLock()
	defer v.mu.RUnlock()
	order := make([]int, len(v.obligations))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool {
		a, b := v.obligations[order[i]], v.obligations[order[j]]
		if a.pack != b.pack {
			return a.pack < b.pack
		}
		return a.id < b.id
	})
	pos := make([]int, len(v.obligations))
	s := Summary{Cells: map[string]map[int]Cell{}, Counts: map[string]map[events.State]int{}}
	for i, o := range order {
		pos[o] = i
		s.Obligations = append(s.Obligations, [2]string{v.obligations[o].pack, v.obligations[o].id})
	}
	keepA := make(map[uint32]bool, len(v.agencies.names))
	for i, name := range v.agencies.names {
		keepA[uint32(i)] = keep == nil || keep(name)
	}
	for _, r := range v.records {
		if !keepA[r.agency] {
			continue
		}
		name := v.agencies.names[r.agency]
		cells := s.Cells[name]
		counts := s.Counts[name]
		if cells == nil {
			cells, counts = map[int]Cell{}, map[events.State]int{}
			s.Cells[name], s.Counts[name] = cells, counts
		}
		st := events.States[r.state]
		counts[st]++
		p := pos[r.obligation]
		period := v.periods.names[r.period]
		if c, ok := cells[p]; !ok || period > c.Period {
			cells[p] = Cell{Period: period, State: st}
		}
	}
	return s
}

// CountBy counts instances per group and state, where group maps an agency
// id to its group (a region, a level); agencies mapped to "" are skipped.
func (v *View) CountBy(group func(agencyID string) string) map[string]map[events.State]int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	groupOf := make([]int, len(v.agencies.names))
	var names []string
	idx := map[string]int{}
	for i, a := range v.agencies.names {
		g := group(a)
		if g == "" {
			groupOf[i] = -1
			continue
		}
		j, ok := idx[g]
		if !ok {
			j = len(names)
			idx[g] = j
			names = append(names, g)
		}
		groupOf[i] = j
	}
	counts := make([][16]int, len(names))
	for _, r := range v.records {
		if g := groupOf[r.agency]; g >= 0 {
			counts[g][r.state]++
		}
	}
	out := make(map[string]map[events.State]int, len(names))
	for j, g := range names {
		m := map[events.State]int{}
		for s, n := range counts[j][:len(events.States)] {
			if n > 0 {
				m[events.States[s]] = n
			}
		}
		out[g] = m
	}
	return out
}

// Has reports whether the view holds the instance. The view follows the
// bucket asynchronously, so a false answer may be stale; callers treat it
// as a hint and rely on the bucket's compare-and-set for correctness.
func (v *View) Has(agency, pack, obligation, period string) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	a, ok := v.agencies.ids[agency]
	if !ok {
		return false
	}
	o, ok := v.obIndex[obligationRef{pack, obligation}]
	if !ok {
		return false
	}
	p, ok := v.periods.ids[period]
	if !ok {
		return false
	}
	_, ok = v.index[key{a, o, p}]
	return ok
}
