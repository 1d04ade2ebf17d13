package report

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// metaCharsetRe finds a charset declared in a meta tag anywhere in the
// head, including after the first 1024 bytes that the HTML5 prescan reads.
var metaCharsetRe = regexp.MustCompile(`(?i)<meta[^>]+charset\s*=\s*["']?\s*([a-z0-9_.:-]+)`)

// htmlEncoding decides the character encoding of an HTML document: a BOM
// wins; then valid UTF-8 with non-ASCII bytes is UTF-8 whatever the page
// declares (portals often declare gb2312 and serve UTF-8); then the charset
// of contentType or of a meta tag; then GB18030, the superset of GBK and
// GB2312 that Chinese portals use.
func htmlEncoding(data []byte, contentType string) (encoding.Encoding, string) {
	if _, name, certain := charset.DetermineEncoding(data, ""); certain {
		switch {
		case bytes.HasPrefix(data, []byte("\xef\xbb\xbf")):
			return unicode.UTF8BOM, name
		case hasUTF16BOM(data):
			return unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), name
		}
	}
	if utf8.Valid(data) && hasNonASCII(data) {
		return unicode.UTF8, "utf-8"
	}
	declared := ""
	if _, params, err := mime.ParseMediaType(contentType); err == nil {
		declared = params["charset"]
	}
	if declared == "" {
		head := data[:min(len(data), 8192)]
		if m := metaCharsetRe.FindSubmatch(head); m != nil {
			declared = string(m[1])
		}
	}
	if declared != "" {
		if enc, name := charset.Lookup(declared); enc != nil {
			switch name {
			case "gbk", "gb2312", "gb18030", "hz-gb-2312":
				return simplifiedchinese.GB18030, "gb18030"
			case "utf-8":
				// Declared UTF-8 but not valid UTF-8: fall through.
			default:
				return enc, name
			}
		}
	}
	if !hasNonASCII(data) {
		return unicode.UTF8, "utf-8"
	}
	return simplifiedchinese.GB18030, "gb18030"
}

func hasNonASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

// htmlReader turns an HTML tree into lines and table rows.
type htmlReader struct {
	ctx      context.Context
	d        *Document
	line     strings.Builder
	tables   int
	maxCells int
	nodes    int
	err      error
}

// readHTML reads an HTML document. Tables that contain other tables are
// layout tables and are read as text; innermost tables become grids, with
// rowspan and colspan expanded into merged cells.
func readHTML(ctx context.Context, data []byte, opts ExtractOptions) (*Document, error) {
	enc, _ := htmlEncoding(data, opts.ContentType)
	utf, err := enc.NewDecoder().Bytes(data)
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	root, err := html.Parse(bytes.NewReader(utf))
	if err != nil {
		return nil, fmt.Errorf("parse: %w: %w", err, ErrMalformed)
	}
	r := &htmlReader{ctx: ctx, d: &Document{}, maxCells: opts.MaxTableCells}
	r.d.Title = htmlTitle(root)
	r.walk(root)
	r.flush()
	if r.err != nil {
		return nil, r.err
	}
	return r.d, nil
}

// htmlTitle returns the ArticleTitle meta tag (used by Chinese government
// CMSs) or else the <title> text.
func htmlTitle(root *html.Node) string {
	var title, article string
	var visit func(n *html.Node)
	visit = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Title:
				if title == "" {
					title = collapseSpace(nodeText(n))
				}
			case atom.Meta:
				if strings.EqualFold(attr(n, "name"), "ArticleTitle") && article == "" {
					article = collapseSpace(attr(n, "content"))
				}
			case atom.Body:
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	visit(root)
	if article != "" {
		return article
	}
	return title
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if strings.EqualFold(a.Key, key) {
			return a.Val
		}
	}
	return ""
}

func hidden(n *html.Node) bool {
	if n.Type != html.ElementNode {
		return false
	}
	for _, a := range n.Attr {
		switch strings.ToLower(a.Key) {
		case "hidden":
			return true
		case "style":
			s := strings.ToLower(strings.ReplaceAll(a.Val, " ", ""))
			if strings.Contains(s, "display:none") || strings.Contains(s, "visibility:hidden") {
				return true
			}
		}
	}
	return false
}

func skipped(n *html.Node) bool {
	switch n.DataAtom {
	case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Head, atom.Iframe, atom.Svg, atom.Object, atom.Select:
		return true
	}
	return hidden(n)
}

func isBlock(a atom.Atom) bool {
	switch a {
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Center, atom.Dd, atom.Div, atom.Dl, atom.Dt,
		atom.Fieldset, atom.Figcaption, atom.Figure, atom.Footer, atom.Form, atom.H1, atom.H2, atom.H3, atom.H4,
		atom.H5, atom.H6, atom.Header, atom.Hr, atom.Li, atom.Main, atom.Nav, atom.Ol, atom.P, atom.Pre, atom.Section,
		atom.Table, atom.Tr, atom.Td, atom.Th, atom.Ul, atom.Caption, atom.Tbody, atom.Thead, atom.Tfoot, atom.Body:
		return true
	}
	return false
}

func (r *htmlReader) flush() {
	t := strings.TrimSpace(r.line.String())
	r.line.Reset()
	if t != "" {
		r.d.Lines = append(r.d.Lines, Line{Text: collapseSpace(t)})
	}
}

func (r *htmlReader) tick() bool {
	if r.err != nil {
		return false
	}
	r.nodes++
	if r.nodes%1024 == 0 {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			return false
		}
	}
	return true
}

func (r *htmlReader) walk(n *html.Node) {
	if !r.tick() {
		return
	}
	switch n.Type {
	case html.TextNode:
		r.line.WriteString(n.Data)
		return
	case html.ElementNode:
		if skipped(n) {
			return
		}
		if n.DataAtom == atom.Br {
			r.flush()
			return
		}
		if n.DataAtom == atom.Table && !hasDescendant(n, atom.Table) {
			r.flush()
			r.table(n)
			return
		}
	}
	block := n.Type == html.ElementNode && isBlock(n.DataAtom)
	if block {
		r.flush()
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		r.walk(c)
	}
	if block {
		r.flush()
	} else if n.Type == html.ElementNode && (n.DataAtom == atom.Td || n.DataAtom == atom.Th) {
		r.line.WriteByte(' ')
	}
}

func hasDescendant(n *html.Node, a atom.Atom) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && (c.DataAtom == a || hasDescendant(c, a)) {
			return true
		}
	}
	return false
}

// rowsOf returns the tr elements of a table, in order, looking through
// thead, tbody and tfoot but not into nested tables.
func rowsOf(t *html.Node) []*html.Node {
	var rows []*html.Node
	var visit func(n *html.Node)
	visit = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode || skipped(c) {
				continue
			}
			switch c.DataAtom {
			case atom.Tr:
				rows = append(rows, c)
			case atom.Thead, atom.Tbody, atom.Tfoot:
				visit(c)
			}
		}
	}
	visit(t)
	return rows
}

func spanAttr(n *html.Node, key string, limit int) int {
	v, err := strconv.Atoi(strings.TrimSpace(attr(n, key)))
	if err != nil || v < 1 {
		return 1
	}
	return min(v, limit)
}

// table lays out an innermost table on a grid.
func (r *htmlReader) table(t *html.Node) {
	trs := rowsOf(t)
	if len(trs) == 0 {
		return
	}
	r.tables++
	grid := make([][]Cell, len(trs))
	filled := make([][]bool, len(trs))
	cells := 0
	truncated := false
	set := func(row, col int, c Cell) {
		for len(grid[row]) <= col {
			grid[row] = append(grid[row], Cell{})
			filled[row] = append(filled[row], false)
		}
		grid[row][col] = c
		filled[row][col] = true
	}
	for ri, tr := range trs {
		if !r.tick() {
			return
		}
		col := 0
		for td := tr.FirstChild; td != nil; td = td.NextSibling {
			if td.Type != html.ElementNode || (td.DataAtom != atom.Td && td.DataAtom != atom.Th) || hidden(td) {
				continue
			}
			for col < len(filled[ri]) && filled[ri][col] {
				col++
			}
			cs := spanAttr(td, "colspan", 1000)
			rs := spanAttr(td, "rowspan", len(trs)-ri)
			if cells+cs*rs > r.maxCells || col+cs > 10000 {
				truncated = true
				break
			}
			cells += cs * rs
			text := collapseSpace(nodeText(td))
			for dr := range rs {
				for dc := range cs {
					if dr == 0 && dc == 0 {
						set(ri, col, Cell{Text: text})
					} else {
						set(ri+dr, col+dc, Cell{Merged: true})
					}
				}
			}
			col += cs
		}
	}
	width := 0
	for _, row := range grid {
		width = max(width, len(row))
	}
	for _, row := range grid {
		for len(row) < width {
			row = append(row, Cell{})
		}
		r.d.addRow(row, r.tables)
	}
	if truncated {
		r.d.Notes = append(r.d.Notes, fmt.Sprintf("table %d truncated at %d cells", r.tables, r.maxCells))
	}
}

// nodeText returns the visible text of n with line breaks for <br> and
// block elements.
func nodeText(n *html.Node) string {
	var b strings.Builder
	var visit func(n *html.Node)
	visit = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
			return
		case html.ElementNode:
			if n.DataAtom != atom.Title && skipped(n) {
				return
			}
			if n.DataAtom == atom.Br {
				b.WriteByte('\n')
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
		if n.Type == html.ElementNode && isBlock(n.DataAtom) {
			b.WriteByte('\n')
		}
	}
	visit(n)
	return b.String()
}
