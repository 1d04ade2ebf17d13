package portalsim

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// GenOptions configure Generate.
type GenOptions struct {
	// Agencies is the number of agencies; default 100.
	Agencies int
	// Seed makes the fleet reproducible: the same options give the same
	// fleet.
	Seed uint64
	// AsOf is the date the fleet is generated for (news dates, report
	// years); default 2026-02-10 09:00 CST, shortly after a January 31
	// deadline.
	AsOf time.Time
	// Latency delays every response.
	Latency time.Duration
	// FaultRate is the share of agencies given one fault; default 0.2,
	// negative for none.
	FaultRate float64
	// SlowFaults allows the faults that cost wall time (time-outs, slow
	// responses); off by default so that benchmarks measure throughput.
	SlowFaults bool
	// PlatformShare is the share of agencies hosted on shared 集约化
	// platforms of 10 to 50 agencies each; default 0.6. The rest have a
	// host of their own.
	PlatformShare float64
}

// genFaults returns the faults Generate assigns, each to about the same
// number of the faulty agencies ("trs" and "table" change the layout).
func genFaults() []string {
	return []string{
		"missing_column", "blank_column", "stale_column", "late_report", "missing_report",
		"arithmetic_error", "gbk", "gbk_meta", "gbk_bare", FaultServerError, FaultRedirectLoop,
		FaultOversized, FaultUnreachable, FaultFlaky, "trs", "table", FaultBudgetMissingTables,
	}
}

func cityNames() []string {
	return []string{"淮安", "宿迁", "洪泽", "盐城", "泰州", "镇江", "常州", "无锡", "南通", "连云港", "徐州", "扬州"}
}

func departmentNames() []string {
	return []string{
		"人民政府办公室", "发展和改革委员会", "教育局", "科学技术局", "工业和信息化局", "公安局", "民政局", "司法局",
		"财政局", "人力资源和社会保障局", "自然资源和规划局", "生态环境局", "住房和城乡建设局", "交通运输局", "水利局",
		"农业农村局", "商务局", "文化广电和旅游局", "卫生健康委员会", "退役军人事务局", "应急管理局", "审计局",
		"市场监督管理局", "统计局", "医疗保障局", "城市管理局", "体育局", "信访局", "数据局", "粮食和物资储备局",
	}
}

// Generate returns a fleet of opts.Agencies agency sites, deterministic in
// opts.Seed: cities with a government and departments, most departments on
// their city's shared platform host and the rest on hosts of their own, the
// three list layouts, reports published on time as HTML, PDF or DOCX, and
// about FaultRate of the agencies given one fault each, the kinds of fault
// taken in turn (see the Fault*
// constants and: missing_column, blank_column, stale_column, late_report,
// missing_report, arithmetic_error, gbk, gbk_meta, gbk_bare), and budgets
// and final accounts with their tables, the newest budget on the page, in a
// DOCX or in a PDF.
func Generate(opts GenOptions) Spec {
	if opts.Agencies <= 0 {
		opts.Agencies = 100
	}
	loc := time.FixedZone("CST", 8*3600)
	if opts.AsOf.IsZero() {
		opts.AsOf = time.Date(2026, 2, 10, 9, 0, 0, 0, loc)
	}
	asOf := opts.AsOf.In(loc)
	if opts.FaultRate == 0 {
		opts.FaultRate = 0.2
	}
	if opts.PlatformShare == 0 {
		opts.PlatformShare = 0.6
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x9e3779b97f4a7c15))
	year := LastDueYear(asOf)
	spec := Spec{Latency: opts.Latency, AsOf: asOf}
	platform, left := "", 0
	faults := genFaults()
	if opts.SlowFaults {
		faults = append(faults, FaultTimeout, FaultSlow)
	}
	cities, departments := cityNames(), departmentNames()
	// The faulty agencies take the faults in turn, in an order shuffled by
	// the seed, so that every kind of fault appears once there are more
	// faulty agencies than kinds.
	rng.Shuffle(len(faults), func(i, j int) { faults[i], faults[j] = faults[j], faults[i] })
	faulty := 0
	for i := 0; i < opts.Agencies; i++ {
		cityNo := i / len(departments)
		city := cities[cityNo%len(cities)]
		if cityNo >= len(cities) {
			city = fmt.Sprintf("%s%d", city, cityNo/len(cities)+1)
		}
		dept := departments[i%len(departments)]
		gov := fmt.Sprintf("sim-%04d-gov", cityNo)
		s := Site{
			AgencyID: fmt.Sprintf("sim-%04d-%02d", cityNo, i%len(departments)),
			Name:     city + "市" + dept,
			Level:    "city", Kind: "department", Parent: gov,
			Email: fmt.Sprintf("gongkai%d@sim.example", i),
			Seed:  opts.Seed,
		}
		if i%len(departments) == 0 {
			s.AgencyID, s.Kind, s.Parent = gov, "government", ""
		}
		// Hosting: PlatformShare of the agencies fill platforms of 10 to
		// 50 agencies one after the other; the others have their own host.
		if rng.Float64() < opts.PlatformShare {
			if left == 0 {
				platform, left = fmt.Sprintf("platform-%d", i), 10+rng.IntN(41)
			}
			s.Host = platform
			left--
		}
		// Reports: the last four years, the newest as an attachment or
		// inline.
		for y := year - 3; y <= year; y++ {
			pub := time.Date(y+1, 1, 8+rng.IntN(20), 0, 0, 0, 0, loc)
			if s.Kind == "government" {
				pub = time.Date(y+1, 3, 1+rng.IntN(25), 0, 0, 0, 0, loc)
			}
			r := Report{Year: y, Published: pub}
			if y == year {
				switch rng.IntN(5) {
				case 0:
					r.Format = FormatPDF
				case 1, 2:
					r.Format = FormatDOCX
				}
			}
			if !r.Published.After(asOf) {
				s.Reports = append(s.Reports, r)
			}
		}
		s.Budgets = []Budget{
			{Year: year, Published: time.Date(year, 2, 10+rng.IntN(15), 0, 0, 0, 0, loc)},
			{Year: year - 1, Final: true, Published: time.Date(year, 7, 10+rng.IntN(20), 0, 0, 0, 0, loc)},
		}
		if b := (Budget{Year: year + 1, Published: time.Date(year+1, 2, 5+rng.IntN(20), 0, 0, 0, 0, loc)}); !b.Published.After(asOf) {
			s.Budgets = append(s.Budgets, b)
		}
		// The newest budget is on the page, in a DOCX or in a PDF (2:2:1),
		// chosen by a hash so that the random stream (and so the rest of
		// the fleet) does not depend on it.
		newest := &s.Budgets[0]
		if len(s.Budgets) > 2 {
			newest = &s.Budgets[2]
		}
		switch hash64(s.AgencyID, "budget-format") % 5 {
		case 0, 1:
			newest.Format = FormatDOCX
		case 2:
			newest.Format = FormatPDF
		}
		if opts.FaultRate > 0 && rng.Float64() < opts.FaultRate {
			applyFault(&s, faults[faulty%len(faults)], rng, asOf)
			faulty++
		}
		spec.Sites = append(spec.Sites, s)
	}
	return spec
}

func applyFault(s *Site, fault string, rng *rand.Rand, asOf time.Time) {
	cols := standardColumns()
	switch fault {
	case "missing_column":
		s.Missing = []string{cols[2+rng.IntN(len(cols)-2)].key}
	case "blank_column":
		s.Blank = []string{cols[2+rng.IntN(len(cols)-2)].key}
	case "stale_column":
		s.Stale = []string{cols[rng.IntN(2)].key}
	case "late_report", "missing_report", "arithmetic_error":
		if len(s.Reports) == 0 {
			return
		}
		last := &s.Reports[len(s.Reports)-1]
		switch fault {
		case "late_report":
			late := time.Date(last.Year+1, 2, 2, 0, 0, 0, 0, last.Published.Location())
			if s.Kind == "government" {
				late = time.Date(last.Year+1, 4, 3, 0, 0, 0, 0, last.Published.Location())
			}
			if late.After(asOf) {
				s.Reports = s.Reports[:len(s.Reports)-1]
			} else {
				last.Published = late
			}
		case "missing_report":
			s.Reports = s.Reports[:len(s.Reports)-1]
		default:
			last.ArithmeticError = true
			if last.Format == FormatPDF {
				last.Format = FormatDOCX
			}
		}
	case "gbk":
		s.Charset = CharsetGBK
	case "gbk_meta":
		s.Charset = CharsetGBKMeta
	case "gbk_bare":
		s.Charset = CharsetGBKBare
	case FaultBudgetMissingTables:
		for i := len(s.Budgets) - 1; i >= 0; i-- {
			if b := &s.Budgets[i]; !b.Final {
				b.Omit = []string{BudgetTables[6], BudgetTables[7]}
				if b.Format == FormatPDF {
					b.Format = FormatDOCX // the PDF is fixed
				}
				break
			}
		}
	case "trs":
		s.Layout = LayoutTRS
	case "table":
		s.Layout = LayoutTable
	default:
		s.Fault = fault
	}
}
