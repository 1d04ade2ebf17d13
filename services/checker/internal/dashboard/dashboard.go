// Package dashboard serves the checker's read API (JSON and CSV) and a
// server-rendered dashboard: a compliance matrix of agencies × obligations
// coloured by state, filterable by region, level, pack and state, with
// roll-ups by region, and an agency page with the timeline of its findings
// and links to the evidence behind each. Pages are html/template with
// embedded assets; nothing is loaded from the network. zh-CN is the default
// language, en is available with ?lang=en.
package dashboard

import (
	"context"
	"crypto/subtle"
	"embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/checker/internal/view"
	"github.com/gongkai/gongkai/services/internal/evidence"
	"github.com/gongkai/gongkai/services/internal/registry"
)

//go:embed templates/*.html static/*
var assets embed.FS

// FindingRecord is a finding with its event id.
type FindingRecord struct {
	ID string `json:"id"`
	events.Finding
}

// Options configures the dashboard.
type Options struct {
	View     *view.View
	Registry *registry.Registry
	// Title returns an obligation's title.
	Title func(pack, obligation string) events.Text
	// Findings returns findings since a time, for one agency or all
	// (agency ""), oldest first, at most limit.
	Findings func(ctx context.Context, agency string, since time.Time, limit int) ([]FindingRecord, error)
	// Evidence returns a stored body by hash; nil disables downloads.
	Evidence func(ctx context.Context, hash string) ([]byte, evidence.Meta, error)
	// Token, when set, is required as "Authorization: Bearer TOKEN" or as
	// the password of HTTP basic auth (any user name).
	Token string
	// PageSize is the number of agencies per matrix page; default 50.
	PageSize int
	// Location is the zone times are shown in.
	Location *time.Location
	// Zone, when set, gives a pack's time zone: an instance's deadline is
	// shown where it ends (a FOIA report's at 23:59:59 in New York), not
	// in Location, where it may fall on the next day.
	Zone   func(packID string) *time.Location
	Logger *slog.Logger
	Now    func() time.Time
}

// Handler returns the dashboard and API handler.
func Handler(o Options) (http.Handler, error) {
	if o.View == nil || o.Registry == nil || o.Title == nil || o.Findings == nil {
		return nil, errors.New("dashboard: View, Registry, Title and Findings are required")
	}
	if o.PageSize <= 0 {
		o.PageSize = 50
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	tpl, err := template.New("").Funcs(funcs).ParseFS(assets, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("dashboard: templates: %w", err)
	}
	static, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, err
	}
	d := &dash{o: o, tpl: tpl}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", d.matrix)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /agencies/{id}", d.agency)
	mux.HandleFunc("GET /evidence/{hash}", d.evidence)
	mux.HandleFunc("GET /api/v1/agencies", d.apiAgencies)
	mux.HandleFunc("GET /api/v1/agencies/{id}", d.apiAgency)
	mux.HandleFunc("GET /api/v1/obligations", d.apiObligations)
	mux.HandleFunc("GET /api/v1/findings", d.apiFindings)
	mux.HandleFunc("GET /api/v1/scoreboard.csv", d.scoreboard)
	return d.auth(headers(mux)), nil
}

type dash struct {
	o   Options
	tpl *template.Template
}

func headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		w.Header().Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

func (d *dash) auth(h http.Handler) http.Handler {
	if d.o.Token == "" {
		return h
	}
	want := []byte(d.o.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var got string
		if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			got = b
		} else if _, p, ok := r.BasicAuth(); ok {
			got = p
		}
		if subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="gongkai"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// filter is the query of the matrix and of the API lists.
type filter struct {
	Region, Level, Pack, State, Q string
	Page                          int
}

func parseFilter(r *http.Request) filter {
	q := r.URL.Query()
	f := filter{Region: q.Get("region"), Level: q.Get("level"), Pack: q.Get("pack"), State: q.Get("state"), Q: strings.TrimSpace(q.Get("q"))}
	f.Page, _ = strconv.Atoi(q.Get("page"))
	if f.Page < 1 {
		f.Page = 1
	}
	return f
}

func (f filter) agency(a *registry.Agency) bool {
	if f.Region != "" && a.Region != f.Region && !strings.HasPrefix(a.Region, f.Region+"/") {
		return false
	}
	if f.Level != "" && a.Level != f.Level {
		return false
	}
	if f.Q != "" && !strings.Contains(a.Name, f.Q) && !strings.Contains(a.ID, f.Q) {
		return false
	}
	return true
}

func (f filter) query(page int) template.URL {
	v := url.Values{}
	for k, s := range map[string]string{"region": f.Region, "level": f.Level, "pack": f.Pack, "state": f.State, "q": f.Q} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return template.URL(v.Encode())
}

// rate is the on-time compliance of a set of counts: instances settled on
// time over instances whose deadline has passed (settled, late, overdue,
// escalated, incomplete). Unknown, not due and waived do not count.
func rate(c map[events.State]int) (float64, int) {
	ok := c[events.StateSatisfied]
	due := ok + c[events.StateSatisfiedLate] + c[events.StateOverdue] + c[events.StateEscalated] + c[events.StateIncomplete]
	if due == 0 {
		return 0, 0
	}
	return float64(ok) / float64(due), due
}

// regionKey returns the region one level below prefix ("江苏省/淮安市" under
// "江苏省"), or the top level when prefix is empty.
func regionKey(region, prefix string) string {
	rest := region
	if prefix != "" {
		if region != prefix && !strings.HasPrefix(region, prefix+"/") {
			return ""
		}
		rest = strings.TrimPrefix(strings.TrimPrefix(region, prefix), "/")
		if rest == "" {
			return prefix
		}
		first, _, _ := strings.Cut(rest, "/")
		return prefix + "/" + first
	}
	if rest == "" {
		return "—"
	}
	first, _, _ := strings.Cut(rest, "/")
	return first
}

type rollup struct {
	Region                          string
	Agencies                        int
	Counts                          map[events.State]int
	Rate                            float64
	Due                             int
	Overdue, Escalated, Unknown, OK int
}

type matrixRow struct {
	Agency *registry.Agency
	Cells  []cellView
	Rate   float64
	Due    int
}

type cellView struct {
	State  events.State
	Period string
	Title  string
}

type matrixPage struct {
	page
	Filter      filter
	Regions     []string
	Levels      []string
	Packs       []string
	Obligations []obCol
	Rows        []matrixRow
	Rollups     []rollup
	Total       int
	PageNo      int
	Pages       int
	Prev, Next  template.URL
	HasPrev     bool
	HasNext     bool
	Agencies    int
	Instances   int
}

type obCol struct {
	Pack, ID string
	Title    string
}

type page struct {
	Lang, Title, Other string
	L                  map[string]string
	States             []events.State
}

func (d *dash) newPage(r *http.Request, title string) page {
	lang := "zh"
	if r.URL.Query().Get("lang") == "en" {
		lang = "en"
	}
	other := "en"
	if lang == "en" {
		other = "zh"
	}
	return page{Lang: lang, Title: title, Other: other, L: labels[lang], States: events.States}
}

func (d *dash) matrix(w http.ResponseWriter, r *http.Request) {
	f := parseFilter(r)
	p := d.newPage(r, "")
	reg := d.o.Registry
	var ids []string
	keep := map[string]bool{}
	for i := range reg.Agencies {
		a := &reg.Agencies[i]
		if f.agency(a) {
			keep[a.ID] = true
		}
	}
	// Counts for every kept agency come from one pass; the state filter
	// then keeps agencies that have at least one instance in that state.
	counts := d.o.View.CountBy(func(id string) string {
		if keep[id] {
			return id
		}
		return ""
	})
	for i := range reg.Agencies {
		id := reg.Agencies[i].ID
		if !keep[id] {
			continue
		}
		if f.State != "" && counts[id][events.State(f.State)] == 0 {
			continue
		}
		ids = append(ids, id)
	}
	pages := max(1, (len(ids)+d.o.PageSize-1)/d.o.PageSize)
	pg := min(f.Page, pages)
	pageIDs := ids[min(len(ids), (pg-1)*d.o.PageSize):min(len(ids), pg*d.o.PageSize)]
	onPage := map[string]bool{}
	for _, id := range pageIDs {
		onPage[id] = true
	}
	sum := d.o.View.Summarize(func(id string) bool { return onPage[id] })
	var cols []obCol
	var colIdx []int
	for i, ob := range sum.Obligations {
		if f.Pack != "" && ob[0] != f.Pack {
			continue
		}
		cols = append(cols, obCol{Pack: ob[0], ID: ob[1], Title: d.o.Title(ob[0], ob[1]).In(p.Lang)})
		colIdx = append(colIdx, i)
	}
	mp := matrixPage{page: p, Filter: f, Obligations: cols, Total: len(ids), PageNo: pg, Pages: pages,
		Agencies: len(reg.Agencies), Instances: d.o.View.Len()}
	for _, id := range pageIDs {
		a, _ := reg.Get(id)
		row := matrixRow{Agency: a}
		row.Rate, row.Due = rate(counts[id])
		for _, ci := range colIdx {
			c, ok := sum.Cells[id][ci]
			cv := cellView{}
			if ok {
				cv = cellView{State: c.State, Period: c.Period, Title: c.Period + " " + labels[p.Lang]["state."+string(c.State)]}
			}
			row.Cells = append(row.Cells, cv)
		}
		mp.Rows = append(mp.Rows, row)
	}
	mp.HasPrev, mp.HasNext = pg > 1, pg < pages
	mp.Prev, mp.Next = f.query(pg-1), f.query(pg+1)
	// Roll-ups one level below the selected region.
	regionOf := map[string]string{}
	agencies := map[string]int{}
	levels, regions, packs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i := range reg.Agencies {
		a := &reg.Agencies[i]
		levels[a.Level] = true
		if a.Region != "" {
			parts := strings.Split(a.Region, "/")
			for j := 1; j <= len(parts) && j <= 2; j++ {
				regions[strings.Join(parts[:j], "/")] = true
			}
		}
		if !keep[a.ID] {
			continue
		}
		k := regionKey(a.Region, f.Region)
		regionOf[a.ID] = k
		agencies[k]++
	}
	for _, ob := range sum.Obligations {
		packs[ob[0]] = true
	}
	by := d.o.View.CountBy(func(id string) string { return regionOf[id] })
	for k, n := range agencies {
		c := by[k]
		ru := rollup{Region: k, Agencies: n, Counts: c, Overdue: c[events.StateOverdue], Escalated: c[events.StateEscalated],
			Unknown: c[events.StateUnknown], OK: c[events.StateSatisfied]}
		ru.Rate, ru.Due = rate(c)
		mp.Rollups = append(mp.Rollups, ru)
	}
	sort.Slice(mp.Rollups, func(i, j int) bool { return mp.Rollups[i].Region < mp.Rollups[j].Region })
	mp.Levels = sortedKeys(levels)
	mp.Regions = sortedKeys(regions)
	mp.Packs = sortedKeys(packs)
	d.render(w, "matrix.html", mp)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type agencyPage struct {
	page
	Agency    *registry.Agency
	Parent    *registry.Agency
	Instances []instanceView
	Findings  []FindingRecord
	Error     string
}

type instanceView struct {
	view.Instance
	Title string
}

func (d *dash) agency(w http.ResponseWriter, r *http.Request) {
	a, ok := d.o.Registry.Get(r.PathValue("id"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	p := d.newPage(r, a.Name)
	ap := agencyPage{page: p, Agency: a}
	if a.Parent != "" {
		ap.Parent, _ = d.o.Registry.Get(a.Parent)
	}
	for _, in := range d.o.View.Agency(a.ID) {
		in.DueAt = in.DueAt.In(d.zone(in.PackID))
		ap.Instances = append(ap.Instances, instanceView{Instance: in, Title: d.o.Title(in.PackID, in.ObligationID).In(p.Lang)})
	}
	fs, err := d.o.Findings(r.Context(), a.ID, time.Time{}, 200)
	if err != nil {
		d.o.Logger.Warn("read findings", "agency", a.ID, "err", err)
		ap.Error = err.Error()
	}
	for i, j := 0, len(fs)-1; i < j; i, j = i+1, j-1 {
		fs[i], fs[j] = fs[j], fs[i] // newest first
	}
	for i := range fs {
		fs[i].DecidedAt = fs[i].DecidedAt.In(d.o.Location)
	}
	ap.Findings = fs
	d.render(w, "agency.html", ap)
}

var hashRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (d *dash) evidence(w http.ResponseWriter, r *http.Request) {
	h := r.PathValue("hash")
	if !hashRE.MatchString(h) || d.o.Evidence == nil {
		http.NotFound(w, r)
		return
	}
	body, meta, err := d.o.Evidence(r.Context(), h)
	if err != nil {
		http.Error(w, "evidence not found: "+h, http.StatusNotFound)
		return
	}
	// Served as a download: it is someone else's page and must never run
	// as ours.
	ct := meta.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", `attachment; filename="`+h+`"`)
	w.Header().Set("Content-Security-Policy", "sandbox")
	w.Header().Set("Gongkai-Source-Url", meta.URL)
	w.Header().Set("Gongkai-Fetched-At", meta.FetchedAt.UTC().Format(time.RFC3339))
	_, _ = w.Write(body)
}

func (d *dash) render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := d.tpl.ExecuteTemplate(w, name, data); err != nil {
		d.o.Logger.Error("render page", "page", name, "err", err)
	}
}

// --- JSON API ---

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

type apiAgency struct {
	ID     string               `json:"id"`
	Name   string               `json:"name"`
	Level  string               `json:"level"`
	Kind   string               `json:"kind"`
	Region string               `json:"region,omitempty"`
	Parent string               `json:"parent,omitempty"`
	Counts map[events.State]int `json:"counts"`
	Rate   *float64             `json:"on_time_rate,omitempty"`
}

func (d *dash) apiAgencies(w http.ResponseWriter, r *http.Request) {
	f := parseFilter(r)
	counts := d.o.View.CountBy(func(id string) string { return id })
	out := []apiAgency{}
	for i := range d.o.Registry.Agencies {
		a := &d.o.Registry.Agencies[i]
		if !f.agency(a) {
			continue
		}
		c := counts[a.ID]
		if f.State != "" && c[events.State(f.State)] == 0 {
			continue
		}
		x := apiAgency{ID: a.ID, Name: a.Name, Level: a.Level, Kind: a.Kind, Region: a.Region, Parent: a.Parent, Counts: c}
		if x.Counts == nil {
			x.Counts = map[events.State]int{}
		}
		if rt, due := rate(c); due > 0 {
			x.Rate = &rt
		}
		out = append(out, x)
	}
	writeJSON(w, map[string]any{"agencies": out, "total": len(out)})
}

type apiInstance struct {
	AgencyID     string       `json:"agency_id"`
	PackID       string       `json:"pack_id"`
	ObligationID string       `json:"obligation_id"`
	Obligation   events.Text  `json:"obligation"`
	Period       string       `json:"period"`
	State        events.State `json:"state"`
	Since        time.Time    `json:"since"`
	DueAt        time.Time    `json:"due_at"`
	Provisional  bool         `json:"provisional,omitempty"`
	PublishedOn  string       `json:"published_on,omitempty"`
	URL          string       `json:"url,omitempty"`
	Evidence     []string     `json:"evidence,omitempty"`
	LastError    string       `json:"last_error,omitempty"`
}

// zone is the time zone of a pack's deadlines.
func (d *dash) zone(packID string) *time.Location {
	if d.o.Zone != nil {
		if loc := d.o.Zone(packID); loc != nil {
			return loc
		}
	}
	return d.o.Location
}

func (d *dash) instance(in view.Instance) apiInstance {
	return apiInstance{
		AgencyID: in.AgencyID, PackID: in.PackID, ObligationID: in.ObligationID, Obligation: d.o.Title(in.PackID, in.ObligationID),
		Period: in.Period, State: in.State, Since: in.Since.In(d.o.Location), DueAt: in.DueAt.In(d.zone(in.PackID)),
		Provisional: in.Provisional, PublishedOn: in.PublishedOn, URL: in.URL, Evidence: in.Evidence, LastError: in.LastError,
	}
}

func (d *dash) apiAgency(w http.ResponseWriter, r *http.Request) {
	a, ok := d.o.Registry.Get(r.PathValue("id"))
	if !ok {
		http.Error(w, `{"error":"unknown agency"}`, http.StatusNotFound)
		return
	}
	insts := []apiInstance{}
	for _, in := range d.o.View.Agency(a.ID) {
		insts = append(insts, d.instance(in))
	}
	fs, err := d.o.Findings(r.Context(), a.ID, time.Time{}, 500)
	if err != nil {
		http.Error(w, fmt.Sprintf(`{"error":%q}`, err.Error()), http.StatusServiceUnavailable)
		return
	}
	if fs == nil {
		fs = []FindingRecord{}
	}
	writeJSON(w, map[string]any{
		"agency":      apiAgency{ID: a.ID, Name: a.Name, Level: a.Level, Kind: a.Kind, Region: a.Region, Parent: a.Parent},
		"obligations": insts, "history": fs,
	})
}

func (d *dash) apiObligations(w http.ResponseWriter, r *http.Request) {
	f := parseFilter(r)
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	keep := map[string]bool{}
	for i := range d.o.Registry.Agencies {
		if a := &d.o.Registry.Agencies[i]; f.agency(a) {
			keep[a.ID] = true
		}
	}
	var matched []view.Instance
	total := 0
	d.o.View.Each(func(in view.Instance) bool {
		if !keep[in.AgencyID] || (f.State != "" && string(in.State) != f.State) || (f.Pack != "" && in.PackID != f.Pack) {
			return true
		}
		if total >= offset && len(matched) < limit {
			matched = append(matched, in)
		}
		total++
		return true
	})
	out := make([]apiInstance, 0, len(matched))
	for _, in := range matched {
		out = append(out, d.instance(in))
	}
	writeJSON(w, map[string]any{"obligations": out, "total": total, "offset": offset, "limit": limit})
}

func (d *dash) apiFindings(w http.ResponseWriter, r *http.Request) {
	since := time.Time{}
	if s := r.URL.Query().Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			http.Error(w, `{"error":"since: want an RFC 3339 time such as 2026-02-01T00:00:00+08:00"}`, http.StatusBadRequest)
			return
		}
		since = t
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	agency := r.URL.Query().Get("agency")
	if agency != "" && !events.ValidToken(agency) {
		http.Error(w, `{"error":"agency: not a valid id"}`, http.StatusBadRequest)
		return
	}
	fs, err := d.o.Findings(r.Context(), agency, since, limit)
	if err != nil {
		http.Error(w, fmt.Sprintf(`{"error":%q}`, err.Error()), http.StatusServiceUnavailable)
		return
	}
	if fs == nil {
		fs = []FindingRecord{}
	}
	writeJSON(w, map[string]any{"findings": fs, "count": len(fs)})
}

// scoreboard writes one CSV row per agency: counts per state and the on-time
// rate.
func (d *dash) scoreboard(w http.ResponseWriter, r *http.Request) {
	f := parseFilter(r)
	counts := d.o.View.CountBy(func(id string) string { return id })
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="gongkai-scoreboard.csv"`)
	cw := csv.NewWriter(w)
	head := []string{"agency_id", "name", "level", "kind", "region", "parent"}
	for _, s := range events.States {
		head = append(head, string(s))
	}
	head = append(head, "due", "on_time_rate")
	_ = cw.Write(head)
	for i := range d.o.Registry.Agencies {
		a := &d.o.Registry.Agencies[i]
		if !f.agency(a) {
			continue
		}
		c := counts[a.ID]
		row := []string{a.ID, a.Name, a.Level, a.Kind, a.Region, a.Parent}
		for _, s := range events.States {
			row = append(row, strconv.Itoa(c[s]))
		}
		rt, due := rate(c)
		rs := ""
		if due > 0 {
			rs = strconv.FormatFloat(rt, 'f', 4, 64)
		}
		row = append(row, strconv.Itoa(due), rs)
		_ = cw.Write(row)
	}
	cw.Flush()
}
