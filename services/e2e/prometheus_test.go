package e2e

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/gongkai/gongkai/services/internal/portalsim"
)

// deployDir is the repository's deploy/ directory, seen from services/e2e.
const deployDir = "../../deploy"

// ruleFiles returns the rule files Prometheus loads: every
// deploy/prometheus/*.rules.yml. Rules for metrics that do not exist yet
// would live under deploy/prometheus/pending/ and are not loaded.
func ruleFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(deployDir, "prometheus", "*.rules.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule files in %s/prometheus: %v", deployDir, err)
	}
	return files
}

// promExpr is a PromQL expression found in a rule file or the dashboard.
type promExpr struct {
	where string // file and rule or panel
	expr  string
}

// ruleExprs returns the expressions of every rule and the names of the
// recording rules.
func ruleExprs(t *testing.T, files []string) (exprs []promExpr, recorded map[string]bool) {
	t.Helper()
	recorded = map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Groups []struct {
				Name  string `yaml:"name"`
				Rules []struct {
					Record string `yaml:"record"`
					Alert  string `yaml:"alert"`
					Expr   string `yaml:"expr"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, g := range doc.Groups {
			for _, r := range g.Rules {
				name := r.Record + r.Alert
				if r.Record != "" {
					recorded[r.Record] = true
				}
				exprs = append(exprs, promExpr{where: filepath.Base(f) + ": " + name, expr: r.Expr})
			}
		}
	}
	return exprs, recorded
}

// dashboardExprs returns the query of every panel target and template
// variable of the Grafana dashboard, with Grafana's variables replaced by
// values Prometheus accepts.
func dashboardExprs(t *testing.T) []promExpr {
	t.Helper()
	path := filepath.Join(deployDir, "grafana", "gongkai.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type target struct {
		Expr string `json:"expr"`
	}
	type panel struct {
		ID      int      `json:"id"`
		Type    string   `json:"type"`
		Title   string   `json:"title"`
		Targets []target `json:"targets"`
		Panels  []panel  `json:"panels"`
	}
	var dash struct {
		Panels     []panel `json:"panels"`
		Templating struct {
			List []struct {
				Name  string          `json:"name"`
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	vars := strings.NewReplacer("$__rate_interval", "1m", "$__interval", "15s", "$__range", "1h", "$region", ".*")
	var out []promExpr
	ids := map[int]bool{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if ids[p.ID] {
				t.Errorf("%s: panel id %d used twice", path, p.ID)
			}
			ids[p.ID] = true
			if p.Type != "row" && p.Type != "text" && len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", path, p.Title)
			}
			for _, tg := range p.Targets {
				out = append(out, promExpr{where: "grafana: " + p.Title, expr: vars.Replace(tg.Expr)})
			}
			walk(p.Panels)
		}
	}
	walk(dash.Panels)
	// label_values(metric, label) in query variables names a metric too.
	lv := regexp.MustCompile(`label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*)`)
	for _, v := range dash.Templating.List {
		if v.Type != "query" {
			continue
		}
		if m := lv.FindSubmatch(v.Query); m != nil {
			out = append(out, promExpr{where: "grafana variable " + v.Name, expr: string(m[1])})
		}
	}
	if len(out) < 20 {
		t.Fatalf("%s: only %d queries found", path, len(out))
	}
	return out
}

// metricRef matches gongkai's metric names (gongkai_…) and recording rule
// names (gongkai:…) in PromQL. Every gongkai metric has the prefix, so
// nothing is missed; label values do not contain it.
var metricRef = regexp.MustCompile(`\bgongkai[_:][a-zA-Z0-9_:]*`)

// referencedMetrics returns, for each name, where it is used.
func referencedMetrics(exprs []promExpr) map[string][]string {
	out := map[string][]string{}
	for _, e := range exprs {
		for _, name := range metricRef.FindAllString(e.expr, -1) {
			out[name] = append(out[name], e.where)
		}
	}
	return out
}

// scrape reads a /metrics endpoint.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return mfs
}

// exposes reports whether the scraped families include name, a histogram's
// _bucket, _sum and _count series included.
func exposes(mfs map[string]*dto.MetricFamily, name string) bool {
	if _, ok := mfs[name]; ok {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if mf, ok := mfs[base]; ok && (mf.GetType() == dto.MetricType_HISTOGRAM || mf.GetType() == dto.MetricType_SUMMARY) {
				return true
			}
		}
	}
	return false
}

// gaugeValue returns the value of the series of name with the given labels
// (a subset), and whether it exists.
func gaugeValue(mfs map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	mf, ok := mfs[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Untyped != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// promAPI queries a Prometheus server's HTTP API.
type promAPI struct {
	t    *testing.T
	base string
}

// get returns the data of an API response, failing the test on an error
// status.
func (p promAPI) get(path string, q url.Values) json.RawMessage {
	p.t.Helper()
	data, err := p.try(path, q)
	if err != nil {
		p.t.Fatal(err)
	}
	return data
}

func (p promAPI) try(path string, q url.Values) (json.RawMessage, error) {
	u := p.base + path
	if q != nil {
		u += "?" + q.Encode()
	}
	resp, err := http.Get(u)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	var r struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  string          `json:"error"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("GET %s: %w: %s", u, err, body)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("GET %s: %s %s", u, r.Status, r.Error)
	}
	return r.Data, nil
}

type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// query runs an instant query and returns its vector.
func (p promAPI) query(expr string) ([]promSample, error) {
	data, err := p.try("/api/v1/query", url.Values{"query": {expr}})
	if err != nil {
		return nil, err
	}
	var r struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, err
	}
	if r.ResultType != "vector" {
		return nil, nil
	}
	var v []promSample
	return v, json.Unmarshal(r.Result, &v)
}

type promAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	Value       string            `json:"value"`
}

func (p promAPI) alerts() []promAlert {
	p.t.Helper()
	var r struct {
		Alerts []promAlert `json:"alerts"`
	}
	if err := json.Unmarshal(p.get("/api/v1/alerts", nil), &r); err != nil {
		p.t.Fatal(err)
	}
	return r.Alerts
}

// waitFor polls cond every 250 ms until it holds or the deadline passes.
func waitFor(t *testing.T, what string, deadline time.Time, cond func() (bool, string)) {
	t.Helper()
	last := ""
	for {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		if time.Now().After(deadline) {
			t.Fatalf("%s: not by the deadline; last: %s", what, last)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// The all-in-one binary, `gongkai run`, audits the simulated demo fleet
// while a real Prometheus scrapes it every second with deploy/prometheus's
// rules loaded: every metric the rules and the Grafana dashboard use is
// exposed, every rule evaluates without error, every dashboard query runs,
// and the alert for the overdue agency (示范市卫生健康委员会, demo-wjw, has
// not published its annual report) fires, while no operator alert does.
// Without a prometheus binary (outside CI) only the first check runs.
func TestPrometheusRulesAndDashboardAgainstPipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gongkai binary and runs the pipeline")
	}
	start := time.Now()
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+string(os.PathSeparator), "../cmd/gongkai")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("build: %v", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	// Everything after the build is bounded: 90 s in all.
	deadline := start.Add(90 * time.Second)

	// The binary runs on the real clock, so the fleet is dated from it;
	// whatever the date, demo-wjw's report is missing and its obligation
	// overdue or, past the escalation point, escalated.
	fleet, err := portalsim.Start(portalsim.Demo(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	defer fleet.Close()
	dir := t.TempDir()
	regPath := filepath.Join(dir, "registry.yaml")
	var buf bytes.Buffer
	if err := fleet.WriteRegistry(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(regPath, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	natsPort, httpPort, dashPort := freePort(t), freePort(t), freePort(t)
	natsURL := fmt.Sprintf("nats://127.0.0.1:%d", natsPort)
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", httpPort)
	gk := startProc(t, "gongkai run", filepath.Join(bin, "gongkai"), "run",
		"--registry", regPath, "--data", filepath.Join(dir, "data"),
		"--nats-port", fmt.Sprint(natsPort), "--http", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--dashboard", fmt.Sprintf("127.0.0.1:%d", dashPort),
		"--schedule", "0 0 1 1 *", // no scheduled audit during the test: it runs one itself
		"--log-level", "warn")
	waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/readyz", httpPort), 30*time.Second)

	// A real Prometheus (Debian's package, installed by .ci/run; required
	// in CI, optional elsewhere) scrapes from before the audit, so that the
	// counters' rates see them grow from 0.
	var prom *promAPI
	promBin := ""
	if p, err := exec.LookPath(cmp.Or(os.Getenv("GONGKAI_PROMETHEUS"), "prometheus")); err == nil {
		promBin = p
	} else if os.Getenv("CI") != "" {
		t.Fatal("prometheus not found (.ci/run installs Debian's prometheus package)")
	}
	if promBin != "" {
		prom = startPrometheus(t, promBin, fmt.Sprintf("127.0.0.1:%d", httpPort), ruleFiles(t))
		waitFor(t, "prometheus scrapes gongkai", deadline, func() (bool, string) {
			v, err := prom.query(`up{job="gongkai"} == 1 and on () gongkai_jetstream_info_up == 1`)
			return err == nil && len(v) == 1, fmt.Sprint(v, err)
		})
	}

	out, err := exec.Command(filepath.Join(bin, "gongkai"), "audit", "now", "--registry", regPath, "--nats-url", natsURL).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "4 audit jobs queued") {
		t.Fatalf("gongkai audit now: %v\n%s", err, out)
	}

	// The audit is done when the four agencies are observed, the audit
	// queue is seen drained, and the checker counts demo-wjw as overdue.
	var mfs map[string]*dto.MetricFamily
	waitFor(t, "audit complete in the metrics", deadline, func() (bool, string) {
		mfs = scrape(t, metricsURL)
		obs, _ := gaugeValue(mfs, "gongkai_checker_observations_total", nil)
		idle, idleOK := gaugeValue(mfs, "gongkai_jetstream_consumer_last_idle_timestamp_seconds", map[string]string{"consumer": "ingest"})
		overdue, _ := gaugeValue(mfs, "gongkai_checker_overdue_agencies", map[string]string{"region": "unknown"})
		return obs >= 4 && idleOK && idle > float64(start.Unix()) && overdue >= 1,
			fmt.Sprintf("observations %v, audit queue last idle %v (%v), overdue agencies %v", obs, idle, idleOK, overdue)
	})

	rules, recorded := ruleExprs(t, ruleFiles(t))
	dash := dashboardExprs(t)
	t.Run("every referenced metric is exposed", func(t *testing.T) {
		refs := referencedMetrics(append(append([]promExpr(nil), rules...), dash...))
		names := make([]string, 0, len(refs))
		for n := range refs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, name := range names {
			if strings.Contains(name, ":") {
				if !recorded[name] {
					t.Errorf("%s (used by %s) is not recorded by any rule", name, strings.Join(slices.Compact(refs[name]), "; "))
				}
				continue
			}
			if !exposes(mfs, name) {
				t.Errorf("%s (used by %s) is not exposed by gongkai run", name, strings.Join(slices.Compact(refs[name]), "; "))
			}
		}
		t.Logf("%d metric and recording rule names checked", len(names))
	})

	t.Run("prometheus", func(t *testing.T) {
		if prom == nil {
			t.Skip("prometheus not found (apt-get install prometheus, or set GONGKAI_PROMETHEUS)")
		}
		// The overdue agency's alert fires; the checker's read API names
		// the agency behind it.
		var firing []promAlert
		waitFor(t, "GongkaiOverdueAgencies fires", deadline, func() (bool, string) {
			firing = firing[:0]
			for _, a := range prom.alerts() {
				if a.State == "firing" {
					firing = append(firing, a)
				}
			}
			for _, a := range firing {
				if a.Labels["alertname"] == "GongkaiOverdueAgencies" && a.Labels["region"] == "unknown" {
					return true, ""
				}
			}
			return false, fmt.Sprint(firing)
		})
		for _, a := range firing {
			t.Logf("firing: %s %v — %s", a.Labels["alertname"], a.Labels, a.Annotations["summary"])
			if a.Labels["team"] == "operators" {
				t.Errorf("operator alert %s fires on a healthy pipeline: %s", a.Labels["alertname"], a.Annotations["summary"])
			}
		}
		agencies := map[string]bool{}
		for _, st := range []string{"overdue", "escalated"} {
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/v1/agencies?state=%s", dashPort, st))
			if err != nil {
				t.Fatal(err)
			}
			var r struct {
				Agencies []struct {
					ID   string `json:"id"`
					Name string `json:"name"`
				} `json:"agencies"`
			}
			err = json.NewDecoder(resp.Body).Decode(&r)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range r.Agencies {
				agencies[a.ID+" "+a.Name] = true
			}
		}
		if !agencies["demo-wjw 示范市卫生健康委员会"] {
			t.Errorf("the checker's dashboard does not list demo-wjw as overdue or escalated: %v", agencies)
		}

		// The rates of the counters grew under Prometheus's eyes: the
		// audit's fetches are counted, some failed (demo-gov is
		// unreachable), and the audit queue was recorded drained.
		for _, q := range []string{
			`gongkai:ingest_fetches:rate1h{outcome="ok"} > 0`,
			`gongkai:ingest_fetch_error_ratio:rate1h > 0`,
			`sum(increase(gongkai_checker_findings_published_total[5m])) > 0`,
			`gongkai:jetstream_consumer_last_idle_timestamp_seconds{consumer="ingest"}`,
			`gongkai:evidence_store_bytes > 0`,
		} {
			waitFor(t, q, deadline, func() (bool, string) {
				v, err := prom.query(q)
				return err == nil && len(v) > 0, fmt.Sprint(v, err)
			})
		}

		// Every series a rule or a panel uses is in Prometheus's storage.
		var names []string
		if err := json.Unmarshal(prom.get("/api/v1/label/__name__/values", nil), &names); err != nil {
			t.Fatal(err)
		}
		stored := map[string]bool{}
		for _, n := range names {
			stored[n] = true
		}
		for name, where := range referencedMetrics(append(append([]promExpr(nil), rules...), dash...)) {
			if strings.Contains(name, ":") {
				continue // recorded only when the rule has a result (ratios of zero traffic have none)
			}
			if !stored[name] {
				t.Errorf("%s (used by %s) is not in Prometheus", name, where[0])
			}
		}

		// Every rule evaluates without error.
		var rr struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Name      string `json:"name"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		}
		waitFor(t, "every rule evaluated", deadline, func() (bool, string) {
			if err := json.Unmarshal(prom.get("/api/v1/rules", nil), &rr); err != nil {
				t.Fatal(err)
			}
			for _, g := range rr.Groups {
				for _, r := range g.Rules {
					if r.Health != "ok" {
						return false, fmt.Sprintf("%s/%s: %s %s", g.Name, r.Name, r.Health, r.LastError)
					}
				}
			}
			return len(rr.Groups) > 0, "no rule groups"
		})
		n := 0
		for _, g := range rr.Groups {
			n += len(g.Rules)
		}
		t.Logf("%d rules in %d groups evaluate without error", n, len(rr.Groups))

		// Every dashboard query is valid PromQL; most have data already.
		empty := 0
		for _, e := range dash {
			v, err := prom.query(e.expr)
			if err != nil {
				t.Errorf("%s: %q: %v", e.where, e.expr, err)
				continue
			}
			if len(v) == 0 {
				empty++
			}
		}
		t.Logf("%d dashboard queries run (%d without data yet: ratios and rates of idle parts)", len(dash), empty)
	})
	gk.stop(t)
	t.Logf("pipeline and prometheus: %v", time.Since(start).Round(time.Millisecond))
}

// startPrometheus runs prometheus on a free loopback port, scraping target
// every second and evaluating rules every second, and returns its API.
func startPrometheus(t *testing.T, bin, target string, rules []string) *promAPI {
	t.Helper()
	dir := t.TempDir()
	var abs []string
	for _, r := range rules {
		a, err := filepath.Abs(r)
		if err != nil {
			t.Fatal(err)
		}
		abs = append(abs, a)
	}
	cfg, err := yaml.Marshal(map[string]any{
		"global":     map[string]any{"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
		"rule_files": abs,
		"scrape_configs": []map[string]any{{
			"job_name":       "gongkai",
			"static_configs": []map[string]any{{"targets": []string{target}}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	startProc(t, "prometheus", bin,
		"--config.file", cfgPath, "--storage.tsdb.path", filepath.Join(dir, "data"),
		"--web.listen-address", fmt.Sprintf("127.0.0.1:%d", port), "--log.level", "warn")
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitHTTP(t, base+"/-/ready", 30*time.Second)
	return &promAPI{t: t, base: base}
}
