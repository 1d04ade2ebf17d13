// Package view keeps a compact in-memory copy of every obligation instance's
// state, fed by a watch on the obligations bucket, for the read API, the
// dashboard, the daily tick and the checker's evaluations. It is sized for a
// national audit: 600,000 instances take under a hundred megabytes, because
// agency, obligation, period and version strings are interned, each
// instance is a small fixed-size record, and rarely present details live in
// side tables.
package view

import (
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
)

// Instance is the part of an instance's state the dashboard and the read
// API show. Its JSON names are those of the stored instance.
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

// Record is the whole stored state of an instance: what the view shows and
// the rest, which the checker needs to evaluate the instance without
// reading it from the bucket.
type Record struct {
	Instance
	Failures        int
	CalendarVersion string
	PackVersion     string
	Text            string
	FailedRules     []string
	Note            string
	LastObserved    time.Time
	// Outbox describes the finding of the instance's last transition, nil
	// when it never had one. (Its message id and subject are derived from
	// these by the checker.)
	Outbox *Outbox
}

// Outbox is a record's last transition.
type Outbox struct {
	Rev         uint64 // the revision the transition replaced
	At          time.Time
	From, State events.State
}

type key struct {
	agency     uint32
	obligation uint32
	period     uint32
}

// record is one instance. What it rests on (URL, evidence, publication
// date) lives in a side table, so that records of instances never looked
// at successfully stay small, and the rarely present details (an error,
// report text, failed rules, note, an outbox time other than Since) in
// another. Times are nanoseconds since 1970 (noTime for the zero time).
type record struct {
	key
	state       uint8
	provisional bool
	// complete is true when the record holds the whole stored state (Set
	// with complete, every value representable), so Record may answer.
	complete   bool
	obFrom     uint8 // outbox states: 0 none (obState) or empty (obFrom), else code+1
	obState    uint8
	failures   uint16
	calVersion uint16 // index into versions
	version    uint16 // pack version, index into versions
	extra      int32  // index into extras, -1 when none
	more       int32  // index into mores, -1 when none
	since      int64
	due        int64
	observed   int64
	rev        uint64 // the bucket revision the record is as of; 0 unknown
	obRev      uint64
}

// extra holds what an instance rests on, once something was looked at.
// The evidence hashes are joined by evidenceSep into one interned string:
// instances resting on the same pages share it, and a record needs no
// slice of its own.
type extra struct {
	publishedOn, url, evidence string
}

const evidenceSep = "\x00"

// more holds the rarely present details.
type more struct {
	lastError   string
	text, note  string
	failedRules []string
	obAt        int64 // when it differs from since
	obAtSet     bool
}

// noTime stands for the zero time.Time.
const noTime = math.MinInt64

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
	mores       []more
	freeMores   []int32
	versions    intern // calendar and pack versions; "" is 0
	// strs interns the repeated strings of the side tables: many
	// instances of one agency rest on the same home page and list pages.
	strs map[string]string
}

// New returns an empty view.
func New() *View {
	v := &View{
		agencies: newIntern(), periods: newIntern(), versions: newIntern(),
		obIndex: map[obligationRef]uint32{}, index: map[key]int32{}, strs: map[string]string{},
	}
	v.versions.id("")
	return v
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

// Put inserts or replaces an instance, for display only (Record does not
// return it).
func (v *View) Put(in Instance) {
	v.Set(Record{Instance: in}, 0, false)
}

// Set inserts or replaces an instance's record as of revision rev of the
// bucket, unless the view already holds a later revision of it (rev 0:
// unknown, always applied). With complete false the record is kept for
// display only; Record does not return it.
func (v *View) Set(in Record, rev uint64, complete bool) {
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
	i, exists := v.index[k]
	if exists && rev != 0 && v.records[i].rev >= rev {
		return // the view holds this revision or a later one
	}
	// complete stays true only if every value is represented exactly.
	state, ok := stateCodes[in.State]
	complete = complete && ok
	r := record{key: k, state: state, provisional: in.Provisional, rev: rev, extra: -1, more: -1}
	r.since, ok = nanos(in.Since)
	complete = complete && ok
	r.due, ok = nanos(in.DueAt)
	complete = complete && ok
	r.observed, ok = nanos(in.LastObserved)
	complete = complete && ok
	r.failures = uint16(min(max(in.Failures, 0), math.MaxUint16))
	complete = complete && int(r.failures) == in.Failures
	if cv, pv := v.version(in.CalendarVersion), v.version(in.PackVersion); cv <= math.MaxUint16 && pv <= math.MaxUint16 {
		r.calVersion, r.version = uint16(cv), uint16(pv)
	} else {
		complete = false
	}
	m := more{lastError: v.str(in.LastError)}
	if ob := in.Outbox; ob != nil {
		from, okFrom := stateCodes[ob.From]
		to, okTo := stateCodes[ob.State]
		if ob.From == "" {
			from, okFrom = 0, true
		} else {
			from++
		}
		r.obFrom, r.obState, r.obRev = from, to+1, ob.Rev
		at, okAt := nanos(ob.At)
		complete = complete && okFrom && okTo && okAt
		if at != r.since {
			m.obAt, m.obAtSet = at, true
		}
	}
	m.text, m.note = v.str(in.Text), v.str(in.Note)
	if len(in.FailedRules) > 0 {
		m.failedRules = make([]string, len(in.FailedRules))
		for i, f := range in.FailedRules {
			m.failedRules[i] = v.str(f)
		}
	}
	evidence := strings.Join(in.Evidence, evidenceSep)
	for _, e := range in.Evidence {
		complete = complete && e != "" && !strings.Contains(e, evidenceSep) // or it would not split back as it was
	}
	r.complete = complete
	if exists {
		v.free(v.records[i])
	}
	if in.PublishedOn != "" || in.URL != "" || evidence != "" {
		r.extra = store(&v.extras, &v.freeExtras, extra{v.str(in.PublishedOn), v.str(in.URL), v.str(evidence)})
	}
	if m.lastError != "" || m.text != "" || m.note != "" || len(m.failedRules) > 0 || m.obAtSet {
		r.more = store(&v.mores, &v.freeMores, m)
	}
	if exists {
		v.records[i] = r
		return
	}
	v.index[k] = int32(len(v.records))
	v.records = append(v.records, r)
}

// free returns the side-table entries of a record being replaced or
// removed.
func (v *View) free(r record) {
	if r.extra >= 0 {
		v.extras[r.extra] = extra{}
		v.freeExtras = append(v.freeExtras, r.extra)
	}
	if r.more >= 0 {
		v.mores[r.more] = more{}
		v.freeMores = append(v.freeMores, r.more)
	}
}

// version interns a calendar or pack version.
func (v *View) version(s string) uint32 {
	if i, ok := v.versions.ids[s]; ok {
		return i
	}
	return v.versions.id(strings.Clone(s))
}

// nanos encodes a time; ok is false when it is out of range (before 1678
// or after 2261: it is then clamped, and the record incomplete).
func nanos(t time.Time) (int64, bool) {
	if t.IsZero() {
		return noTime, true
	}
	switch y := t.Year(); {
	case y < 1678:
		return math.MinInt64 + 1, false
	case y > 2261:
		return math.MaxInt64, false
	}
	return t.UnixNano(), true
}

func fromNanos(n int64) time.Time {
	if n == noTime {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Record returns the whole record of an instance and the bucket revision it
// is as of. ok is false when the view does not hold the instance or holds
// it for display only. The view follows the bucket asynchronously: the
// record may be older than the bucket's, so a caller that writes on its
// strength must compare-and-set on the revision.
func (v *View) Record(agency, pack, obligation, period string) (Record, uint64, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	i, ok := v.find(agency, pack, obligation, period)
	if !ok || !v.records[i].complete {
		return Record{}, 0, false
	}
	r := v.records[i]
	out := Record{Instance: v.expand(r), Failures: int(r.failures), CalendarVersion: v.versions.names[r.calVersion],
		PackVersion: v.versions.names[r.version], LastObserved: fromNanos(r.observed)}
	var m more
	if r.more >= 0 {
		m = v.mores[r.more]
		out.Text, out.Note = m.text, m.note
		out.FailedRules = slicesClone(m.failedRules)
	}
	if r.obState != 0 {
		ob := &Outbox{Rev: r.obRev, At: out.Since, State: events.States[r.obState-1]}
		if r.obFrom != 0 {
			ob.From = events.States[r.obFrom-1]
		}
		if m.obAtSet {
			ob.At = fromNanos(m.obAt)
		}
		out.Outbox = ob
	}
	return out, r.rev, true
}

func slicesClone(ss []string) []string {
	if ss == nil {
		return nil
	}
	return append([]string(nil), ss...)
}

// Delete removes an instance deleted from the bucket at revision rev,
// unless the view holds a later revision of it.
func (v *View) Delete(agency, pack, obligation, period string, rev uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	i, ok := v.find(agency, pack, obligation, period)
	if !ok || (rev != 0 && v.records[i].rev >= rev) {
		return
	}
	r := v.records[i]
	v.free(r)
	delete(v.index, r.key)
	last := len(v.records) - 1
	if int(i) != last {
		v.records[i] = v.records[last]
		v.index[v.records[i].key] = i
	}
	v.records = v.records[:last]
}

// find returns the index of an instance's record; the read lock is held.
func (v *View) find(agency, pack, obligation, period string) (int32, bool) {
	a, ok := v.agencies.ids[agency]
	if !ok {
		return 0, false
	}
	o, ok := v.obIndex[obligationRef{pack, obligation}]
	if !ok {
		return 0, false
	}
	p, ok := v.periods.ids[period]
	if !ok {
		return 0, false
	}
	i, ok := v.index[key{a, o, p}]
	return i, ok
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
		Since: fromNanos(r.since), DueAt: fromNanos(r.due),
	}
	if r.extra >= 0 {
		x := v.extras[r.extra]
		in.PublishedOn, in.URL = x.publishedOn, x.url
		if x.evidence != "" {
			in.Evidence = strings.Split(x.evidence, evidenceSep)
		}
	}
	if r.more >= 0 {
		in.LastError = v.mores[r.more].lastError
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
	_, ok := v.find(agency, pack, obligation, period)
	return ok
}

// store puts x in a slot of items, one freed before if there is one, and
// returns its index.
func store[T any](items *[]T, free *[]int32, x T) int32 {
	if n := len(*free); n > 0 {
		i := (*free)[n-1]
		*free = (*free)[:n-1]
		(*items)[i] = x
		return i
	}
	*items = append(*items, x)
	return int32(len(*items) - 1)
}
