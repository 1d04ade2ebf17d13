package pdftext

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/klippa-app/go-pdfium"
	"github.com/tetratelabs/wazero"
)

// Backend names a text extraction back end, or the layered strategy.
type Backend string

// The back ends. Auto is the layered strategy described in the package
// documentation; the others use one back end only.
const (
	Auto       Backend = "auto"
	Ledongthuc Backend = "ledongthuc"
	Pdftotext  Backend = "pdftotext"
	PDFium     Backend = "pdfium"
)

// ParseBackend returns the Backend named s ("" means Auto), or an error that
// lists the valid names.
func ParseBackend(s string) (Backend, error) {
	switch b := Backend(s); b {
	case "", Auto:
		return Auto, nil
	case Ledongthuc, Pdftotext, PDFium:
		return b, nil
	}
	return "", fmt.Errorf("unknown PDF back end %q (want auto, ledongthuc, pdftotext or pdfium)", s)
}

// Options configure an Extractor. The zero value is valid: Auto strategy,
// pdftotext looked up on PATH, PDFium allowed as the last resort without a
// compilation cache.
type Options struct {
	// Backend selects the strategy. The default is Auto.
	Backend Backend
	// NoPDFium removes PDFium from the Auto fallback chain, for processes
	// that must never pay its start-up memory. Garbled pages then keep the
	// cleaned output of the previous back end and carry a note.
	NoPDFium bool
	// PdftotextPath is the pdftotext executable. Empty means "pdftotext"
	// looked up on PATH when first needed; "off" disables it.
	PdftotextPath string
	// CacheDir, when not empty, is a directory for wazero's compilation
	// cache. It cuts PDFium's start-up from about 4 s and 315 MB to about
	// 0.3 s and 50–160 MB once filled (about 21 MB on disk).
	CacheDir string
	// PDFiumUninterruptible compiles PDFium without wazero's context
	// checks: about 4× faster per page, but a page that makes PDFium spin
	// cannot be stopped when the deadline passes (the call is abandoned and
	// keeps a CPU busy until it returns). Leave it false for untrusted
	// input.
	PDFiumUninterruptible bool
	// PDFiumMemoryLimitMB caps the WebAssembly memory of a PDFium instance.
	// The default is 256 (MB).
	PDFiumMemoryLimitMB int
	// MaxPages is the largest number of pages read; later pages are
	// ignored and Text.Truncated is set. The default is 500.
	MaxPages int
	// MaxTextBytes caps the extracted text of one document. The default is
	// 16 MiB.
	MaxTextBytes int
}

func (o Options) withDefaults() Options {
	if o.Backend == "" {
		o.Backend = Auto
	}
	if o.PDFiumMemoryLimitMB <= 0 {
		o.PDFiumMemoryLimitMB = 256
	}
	if o.MaxPages <= 0 {
		o.MaxPages = 500
	}
	if o.MaxTextBytes <= 0 {
		o.MaxTextBytes = 16 << 20
	}
	return o
}

// Text is the text layer of one PDF document.
type Text struct {
	// Pages holds one entry per page read, in order.
	Pages []Page
	// NoTextLayer is true when no page has any text: typically a scanned,
	// image-only document.
	NoTextLayer bool
	// Truncated is true when pages beyond Options.MaxPages or text beyond
	// Options.MaxTextBytes were dropped.
	Truncated bool
	// Title is the document's /Title metadata, often empty or a file
	// name.
	Title string
}

// Page is the text of one page.
type Page struct {
	// Number is the 1-based page number.
	Number int
	// Text is the page text in reading order, with "\n" line ends.
	Text string
	// Backend is the back end whose output was kept.
	Backend Backend
	// Note explains a fallback or a problem, for example
	// "ledongthuc: 11 garbage characters; used pdftotext". It is empty for
	// an ordinary page.
	Note string
}

// Backends returns the distinct back ends used for the pages, in order of
// first use.
func (t *Text) Backends() []Backend {
	var out []Backend
	seen := map[Backend]bool{}
	for _, p := range t.Pages {
		if p.Backend != "" && !seen[p.Backend] {
			seen[p.Backend] = true
			out = append(out, p.Backend)
		}
	}
	return out
}

// Extractor extracts PDF text. It is safe for concurrent use. It owns the
// lazily created PDFium pool, so it must be closed when no longer needed.
type Extractor struct {
	opts Options

	mu        sync.Mutex
	closed    bool
	pool      pdfium.Pool
	cache     wazero.CompilationCache
	poolErr   error
	pdftotext string // resolved path, "" when unavailable
	lookedUp  bool
}

// New returns an Extractor. It does no work: the PDFium pool and the
// pdftotext look-up happen on first need.
func New(opts Options) *Extractor {
	return &Extractor{opts: opts.withDefaults()}
}

// ErrClosed is returned by Extract after Close.
var ErrClosed = errors.New("pdftext: extractor closed")

// Close releases the PDFium pool, if one was created. Extract fails after
// Close.
func (e *Extractor) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	var errs []error
	if e.pool != nil {
		if err := e.pool.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close PDFium pool: %w", err))
		}
		e.pool = nil
	}
	if e.cache != nil {
		if err := e.cache.Close(context.Background()); err != nil {
			errs = append(errs, fmt.Errorf("close compilation cache: %w", err))
		}
		e.cache = nil
	}
	return errors.Join(errs...)
}

// PDFiumStarted reports whether the PDFium pool has been created, which is
// useful to confirm that ordinary documents never start it.
func (e *Extractor) PDFiumStarted() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pool != nil
}

// pageOut is what a back end produced for one page: text, or the reason
// why it has none it trusts.
type pageOut struct {
	text    string
	problem string
}

// pageSource is one back end able to produce the text of selected pages.
type pageSource interface {
	name() Backend
	// pages returns the output for the pages with the given 1-based
	// numbers (all pages when want is nil) and the page count it saw.
	pages(ctx context.Context, data []byte, want []int) (map[int]pageOut, int, error)
}

// Extract returns the text of data, a PDF document. It returns an error
// only when no back end could read the document at all, or when ctx ends.
// A malformed PDF never panics: parser panics are recovered and reported
// as errors or page notes.
func (e *Extractor) Extract(ctx context.Context, data []byte) (*Text, error) {
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var chain []pageSource
	switch e.opts.Backend {
	case Ledongthuc:
		chain = []pageSource{ledongSource{maxPages: e.opts.MaxPages}}
	case Pdftotext:
		path := e.pdftotextPath()
		if path == "" {
			return nil, errors.New("pdftotext back end requested but pdftotext is not available")
		}
		chain = []pageSource{popplerSource{path: path, maxBytes: e.opts.MaxTextBytes}}
	case PDFium:
		chain = []pageSource{pdfiumSource{e: e, maxPages: e.opts.MaxPages}}
	default:
		chain = []pageSource{ledongSource{maxPages: e.opts.MaxPages}}
		if path := e.pdftotextPath(); path != "" {
			chain = append(chain, popplerSource{path: path, maxBytes: e.opts.MaxTextBytes})
		}
		if !e.opts.NoPDFium {
			chain = append(chain, pdfiumSource{e: e, maxPages: e.opts.MaxPages})
		}
	}
	return e.run(ctx, data, chain)
}

func (e *Extractor) run(ctx context.Context, data []byte, chain []pageSource) (*Text, error) {
	t := &Text{}
	pages := map[int]Page{}
	var pending []int
	known := false // whether the page count (and so pending) is known
	var firstErr error
	for _, src := range chain {
		if known && len(pending) == 0 {
			break
		}
		var want []int
		if known {
			want = pending
		}
		got, n, err := runSource(ctx, src, data, want)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, fmt.Errorf("%s: %w", src.name(), ctxErr)
			}
			if firstErr == nil {
				firstErr = fmt.Errorf("%s: %w", src.name(), err)
			}
			for _, p := range pending {
				pg := pages[p]
				pg.Number = p
				pg.Note = joinNote(pg.Note, fmt.Sprintf("%s failed: %v", src.name(), err))
				pages[p] = pg
			}
			continue
		}
		if !known {
			known = true
			if n > e.opts.MaxPages {
				n = e.opts.MaxPages
				t.Truncated = true
			}
			for p := 1; p <= n; p++ {
				pending = append(pending, p)
			}
		}
		var still []int
		for _, p := range pending {
			prev, had := pages[p]
			out, ok := got[p]
			if !ok {
				out.problem = "page not returned"
			}
			if out.problem == "" {
				if q := Inspect(out.text); !q.OK() {
					out.problem = q.String()
				}
			}
			if out.problem == "" {
				note := ""
				if had && prev.Note != "" {
					note = joinNote(prev.Note, "used "+string(src.name()))
				}
				pages[p] = Page{Number: p, Text: out.text, Backend: src.name(), Note: note}
				continue
			}
			note := joinNote(prev.Note, fmt.Sprintf("%s: %s", src.name(), out.problem))
			if !had || strings.TrimSpace(prev.Text) == "" {
				// Keep the cleaned output until a later back end does better.
				pages[p] = Page{Number: p, Text: Clean(out.text), Backend: src.name(), Note: note}
			} else {
				prev.Note = note
				pages[p] = prev
			}
			still = append(still, p)
		}
		pending = still
	}
	if !known {
		if firstErr == nil {
			firstErr = errors.New("no back end could read the document")
		}
		return nil, firstErr
	}
	n := 0
	for p := range pages {
		n = max(n, p)
	}
	total := 0
	hasText := false
	for p := 1; p <= n; p++ {
		pg := pages[p]
		pg.Number = p
		if total+len(pg.Text) > e.opts.MaxTextBytes {
			t.Truncated = true
			break
		}
		total += len(pg.Text)
		if Inspect(pg.Text).Letters > 0 {
			hasText = true
		}
		t.Pages = append(t.Pages, pg)
	}
	t.NoTextLayer = !hasText
	t.Title = infoTitle(data)
	return t, nil
}

// runSource runs one back end under ctx. The pure-Go parser cannot be
// interrupted, so on expiry of ctx it is abandoned and finishes (or not) in
// the background; PDFium instances are killed and pdftotext processes are
// signalled.
func runSource(ctx context.Context, src pageSource, data []byte, want []int) (map[int]pageOut, int, error) {
	type result struct {
		got map[int]pageOut
		n   int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if x := recover(); x != nil {
				r = result{err: fmt.Errorf("panic: %v", x)}
			}
			ch <- r
		}()
		r.got, r.n, r.err = src.pages(ctx, data, want)
	}()
	select {
	case r := <-ch:
		return r.got, r.n, r.err
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	return a + "; " + b
}

func (e *Extractor) pdftotextPath() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.lookedUp {
		return e.pdftotext
	}
	e.lookedUp = true
	switch e.opts.PdftotextPath {
	case "off":
	case "":
		if p, err := exec.LookPath("pdftotext"); err == nil {
			e.pdftotext = p
		}
	default:
		if p, err := exec.LookPath(e.opts.PdftotextPath); err == nil {
			e.pdftotext = p
		}
	}
	return e.pdftotext
}

// instanceTimeout bounds the wait for a free PDFium instance when ctx has
// no deadline of its own.
const instanceTimeout = 2 * time.Minute
