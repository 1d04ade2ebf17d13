package pdftext

import (
	"math"
	"strings"

	"github.com/ledongthuc/pdf"
)

// mat is a PDF transformation matrix [a b c d e f].
type mat [6]float64

var identity = mat{1, 0, 0, 1, 0, 0}

// mul returns m × n (apply m, then n).
func (m mat) mul(n mat) mat {
	return mat{
		m[0]*n[0] + m[1]*n[2],
		m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2],
		m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4],
		m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

func translate(tx, ty float64) mat { return mat{1, 0, 0, 1, tx, ty} }

// frag is one text-showing operation: its decoded text, where it starts
// on the page, its font size in device units and an estimate of where it
// ends.
type frag struct {
	text       string
	x, y, size float64
	endX       float64
}

// advanceEm estimates the advance of r in ems: half an em for ASCII
// (digits and Latin letters in Chinese fonts), one em otherwise.
func advanceEm(r rune) float64 {
	if r < 0x80 {
		return 0.5
	}
	return 1
}

// layoutText reads a page like Page.GetPlainText but keeps the position of
// every text-showing operation, and joins operations that sit on the same
// baseline: directly when they touch (WPS often writes "351" as "35" and
// "1", or "11" as two operations, which GetPlainText would put on separate
// lines and a table parser would read as two numbers), with a space when
// there is a gap, and with a line break otherwise. Widths are estimated
// from the characters, which is enough to tell touching glyphs from
// separate table cells.
func layoutText(p pdf.Page) string {
	if p.V.IsNull() || p.V.Key("Contents").Kind() == pdf.Null {
		return ""
	}
	type gstate struct {
		ctm                       mat
		tc, tw, th, tl, tfs, rise float64
		font                      *pdf.Font
	}
	g := gstate{ctm: identity, th: 1}
	var stack []gstate
	var tm, tlm mat
	fonts := map[string]*pdf.Font{}
	var frags []frag

	show := func(raw string, kern []float64, parts []string) {
		var enc pdf.TextEncoding
		if g.font != nil {
			enc = g.font.Encoder()
		}
		decode := func(s string) string {
			if enc == nil {
				return s
			}
			return enc.Decode(s)
		}
		trm := mat{g.tfs * g.th, 0, 0, g.tfs, 0, g.rise}.mul(tm).mul(g.ctm)
		size := math.Hypot(trm[2], trm[3])
		x, y := trm[4], trm[5]
		var text strings.Builder
		adv := 0.0 // in text space units
		add := func(s string) {
			d := decode(s)
			text.WriteString(d)
			for _, r := range d {
				adv += (advanceEm(r)*g.tfs + g.tc) * g.th
				if r == ' ' {
					adv += g.tw * g.th
				}
			}
		}
		if parts == nil {
			add(raw)
		} else {
			for i, s := range parts {
				add(s)
				if i < len(kern) {
					adv -= kern[i] / 1000 * g.tfs * g.th
				}
			}
		}
		end := translate(adv, 0).mul(tm).mul(g.ctm)
		frags = append(frags, frag{text: text.String(), x: x, y: y, size: size, endX: end[4]})
		tm = translate(adv, 0).mul(tm)
	}
	num := func(v pdf.Value) float64 { return v.Float64() }

	pdf.Interpret(p.V.Key("Contents"), func(stk *pdf.Stack, op string) {
		n := stk.Len()
		args := make([]pdf.Value, n)
		for i := n - 1; i >= 0; i-- {
			args[i] = stk.Pop()
		}
		arg := func(i int) float64 {
			if i < len(args) {
				return num(args[i])
			}
			return 0
		}
		switch op {
		case "q":
			stack = append(stack, g)
		case "Q":
			if len(stack) > 0 {
				g = stack[len(stack)-1]
				stack = stack[:len(stack)-1]
			}
		case "cm":
			if len(args) == 6 {
				g.ctm = mat{arg(0), arg(1), arg(2), arg(3), arg(4), arg(5)}.mul(g.ctm)
			}
		case "BT":
			tm, tlm = identity, identity
		case "Tc":
			g.tc = arg(0)
		case "Tw":
			g.tw = arg(0)
		case "Tz":
			g.th = arg(0) / 100
		case "TL":
			g.tl = arg(0)
		case "Ts":
			g.rise = arg(0)
		case "Tf":
			if len(args) == 2 {
				name := args[0].Name()
				f, ok := fonts[name]
				if !ok {
					ff := p.Font(name)
					f = &ff
					if ff.V.IsNull() {
						f = nil
					}
					fonts[name] = f
				}
				g.font = f
				g.tfs = arg(1)
			}
		case "Td":
			tlm = translate(arg(0), arg(1)).mul(tlm)
			tm = tlm
		case "TD":
			g.tl = -arg(1)
			tlm = translate(arg(0), arg(1)).mul(tlm)
			tm = tlm
		case "Tm":
			if len(args) == 6 {
				tlm = mat{arg(0), arg(1), arg(2), arg(3), arg(4), arg(5)}
				tm = tlm
			}
		case "T*":
			tlm = translate(0, -g.tl).mul(tlm)
			tm = tlm
		case "Tj":
			if len(args) == 1 {
				show(args[0].RawString(), nil, nil)
			}
		case "'", "\"":
			if op == "\"" && len(args) == 3 {
				g.tw, g.tc = arg(0), arg(1)
				args = args[2:]
			}
			tlm = translate(0, -g.tl).mul(tlm)
			tm = tlm
			if len(args) == 1 {
				show(args[0].RawString(), nil, nil)
			}
		case "TJ":
			if len(args) != 1 {
				return
			}
			v := args[0]
			var parts []string
			var kern []float64
			for i := 0; i < v.Len(); i++ {
				x := v.Index(i)
				if x.Kind() == pdf.String {
					parts = append(parts, x.RawString())
					kern = append(kern, 0)
				} else if len(kern) > 0 {
					kern[len(kern)-1] += x.Float64()
				} else {
					// Leading adjustment before the first string.
					tm = translate(-x.Float64()/1000*g.tfs*g.th, 0).mul(tm)
				}
			}
			show("", kern, parts)
		}
	})
	return joinFrags(frags)
}

// joinFrags lays fragments out in stream order: same baseline and touching
// → joined; same baseline with a gap → a space; otherwise a new line.
func joinFrags(frags []frag) string {
	var b strings.Builder
	for i, f := range frags {
		if f.text == "" {
			continue
		}
		if i > 0 && b.Len() > 0 {
			p := frags[i-1]
			size := math.Max(math.Max(p.size, f.size), 1)
			sameLine := math.Abs(f.y-p.y) <= 0.35*size && f.x >= p.x-0.1*size
			switch {
			case sameLine && f.x-p.endX <= 0.3*size:
			case sameLine:
				b.WriteByte(' ')
			default:
				b.WriteByte('\n')
			}
		}
		b.WriteString(f.text)
	}
	return b.String()
}
