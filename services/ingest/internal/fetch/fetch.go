// Package fetch reads agency web pages politely and safely: a per-host
// concurrency limit and request rate (many agencies share one platform
// host), a time-out per request (15 s, the national inspection rule),
// retries with back-off and jitter on 5xx and time-outs, conditional GET
// with ETag and Last-Modified validators (remembered in memory, or recovered
// from the evidence store after a restart), separate size caps for
// pages and documents, a redirect limit with loop detection, charset
// decoding to UTF-8 (GBK, GB2312, GB18030 and UTF-8 are common on Chinese
// portals, declared in the header, in a <meta> tag or not at all), an honest
// User-Agent, robots.txt, and an SSRF guard that refuses loopback, private,
// link-local and metadata addresses after DNS resolution and on every
// redirect unless explicitly allowed.
package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/time/rate"

	"github.com/gongkai/gongkai/pkg/events"
)

// DefaultUserAgent names gongkai and what it does, so that site operators
// can recognise (and write robots.txt rules for) the audit.
const DefaultUserAgent = "gongkai/0.1 (+https://github.com/gongkai/gongkai; government information disclosure audit)"

// Options configures a Fetcher.
type Options struct {
	// UserAgent is sent with every request; its product token (before
	// the first '/') is the name robots.txt groups are matched against.
	UserAgent string
	// Timeout bounds one request, headers and body; default 15 s.
	Timeout time.Duration
	// MaxBytes caps a page body; default 4 MiB.
	MaxBytes int64
	// MaxDocumentBytes caps a document body (PDF, DOC, DOCX attachments);
	// default 32 MiB.
	MaxDocumentBytes int64
	// MaxRedirects caps redirects per request; default 5.
	MaxRedirects int
	// PerHost caps concurrent requests to one host; default 2.
	PerHost int
	// RatePerHost caps the requests per second started on one host, with
	// bursts of PerHost; 0 means no limit beyond PerHost.
	RatePerHost float64
	// Retries is the number of extra attempts after a 5xx or time-out;
	// default 2; negative means none.
	Retries int
	// Backoff is the base delay between attempts, doubled each time with
	// jitter; default 500 ms.
	Backoff time.Duration
	// AllowPrivate lets requests reach loopback and private addresses.
	AllowPrivate bool
	// IgnoreRobots skips robots.txt for requests that do not set their
	// own policy.
	IgnoreRobots bool
	// RobotsTTL is how long a host's robots.txt is cached; default 24 h.
	RobotsTTL time.Duration
	// MaxValidators bounds the URLs whose ETag/Last-Modified validators
	// are remembered (or that are remembered as having sent none); default
	// 200 000 URLs. Zero entries are kept with a negative value.
	MaxValidators int
	// Recall returns the body stored under a SHA-256 (the evidence
	// store), so that a 304 Not Modified answer can be served from the
	// body the validator belongs to. Without it, conditional requests are
	// not made.
	Recall func(ctx context.Context, sha string) ([]byte, error)
	// Describe returns the URL, ETag and Last-Modified that a body stored
	// under a SHA-256 was fetched with (the evidence store's metadata). A
	// request naming the body last seen at its URL (Request.Known) is made
	// conditional with them when no validator is remembered in memory, so
	// that a restarted process still asks "has this changed?".
	Describe func(ctx context.Context, sha string) (url, etag, lastModified string, err error)
}

func (o *Options) defaults() {
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.Timeout == 0 {
		o.Timeout = 15 * time.Second
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = 4 << 20
	}
	if o.MaxDocumentBytes == 0 {
		o.MaxDocumentBytes = 32 << 20
	}
	if o.MaxRedirects == 0 {
		o.MaxRedirects = 5
	}
	if o.PerHost == 0 {
		o.PerHost = 2
	}
	if o.Retries == 0 {
		o.Retries = 2
	} else if o.Retries < 0 {
		o.Retries = 0
	}
	if o.Backoff == 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.RobotsTTL == 0 {
		o.RobotsTTL = 24 * time.Hour
	}
	if o.MaxValidators == 0 {
		o.MaxValidators = 200_000
	}
}

// Fetcher performs GET requests under the Options' rules. It is safe for
// concurrent use.
type Fetcher struct {
	opts   Options
	client *http.Client
	agent  string // robots.txt product token, lower case

	mu         sync.Mutex
	hosts      map[string]*hostState
	validators map[urlKey]validator
}

type hostState struct {
	slots   chan struct{}
	limiter *rate.Limiter

	robotsMu sync.Mutex
	robots   *Robots
	robotsAt time.Time

	// A breaker: after breakerThreshold consecutive connection failures
	// or time-outs the host is given up on for breakerCooldown, so that a
	// dead platform carrying dozens of agencies costs seconds, not an
	// hour of time-outs.
	breakerMu sync.Mutex
	failures  int
	openUntil time.Time
	lastErr   *Error
}

const (
	breakerThreshold = 3
	breakerCooldown  = time.Minute
)

// check returns the error to fail with while the breaker is open.
func (h *hostState) check(u string) error {
	h.breakerMu.Lock()
	defer h.breakerMu.Unlock()
	if h.lastErr != nil && time.Now().Before(h.openUntil) {
		return &Error{Outcome: h.lastErr.Outcome, URL: u, Err: fmt.Errorf("host failing, not tried (last error: %v)", h.lastErr.Err)}
	}
	return nil
}

// record counts consecutive connection failures and time-outs.
func (h *hostState) record(err error) {
	h.breakerMu.Lock()
	defer h.breakerMu.Unlock()
	var fe *Error
	if err == nil || !errors.As(err, &fe) || (fe.Outcome != events.OutcomeTimeout && fe.Outcome != events.OutcomeUnreachable) || errors.Is(err, errBlocked) {
		h.failures = 0
		return
	}
	h.failures++
	if h.failures >= breakerThreshold {
		h.openUntil = time.Now().Add(breakerCooldown)
		h.lastErr = fe
	}
}

// validator is what a conditional request needs: the response's ETag and
// Last-Modified and the SHA-256 of the body they belong to (binary: the map
// holds one per URL, up to MaxValidators).
type validator struct {
	etag, lastModified string
	sha                [sha256.Size]byte
}

// usable reports whether v can make a request conditional. A validator
// with neither is remembered too: the URL answered without them, so there
// is nothing to recover for it from the evidence store (nor, for a site's
// home page, from the agency's last observation) until it sends some.
func (v validator) usable() bool { return v.etag != "" || v.lastModified != "" }

// urlKey names a URL in the validators map: the first half of the URL's
// SHA-256. A URL is some 70 bytes, its key 16, and the map holds up to
// MaxValidators (200,000: 98,000 at 5,000 agencies, where the URLs were
// 6 MiB); two URLs of 2^18 sharing a 128-bit key is a chance of 1 in 10^28.
type urlKey [16]byte

func keyOf(u string) urlKey {
	s := sha256.Sum256([]byte(u))
	return urlKey(s[:16])
}

// newValidator returns a validator for the body with hex digest sum.
func newValidator(etag, lastModified, sum string) (validator, bool) {
	v := validator{etag: etag, lastModified: lastModified}
	n, err := hex.Decode(v.sha[:], []byte(sum))
	return v, err == nil && n == sha256.Size
}

// hex returns the body's digest in hex.
func (v validator) hex() string { return hex.EncodeToString(v.sha[:]) }

// New returns a Fetcher.
func New(opts Options) *Fetcher {
	opts.defaults()
	f := &Fetcher{opts: opts, hosts: map[string]*hostState{}, validators: map[urlKey]validator{}}
	f.agent = strings.ToLower(strings.TrimSpace(strings.SplitN(opts.UserAgent, "/", 2)[0]))
	dialer := &net.Dialer{Timeout: opts.Timeout, Control: f.guard}
	transport := &http.Transport{
		Proxy:                 nil, // a proxy would bypass the address guard
		DialContext:           dialer.DialContext,
		MaxIdleConns:          128, // reuse matters within one agency's audit: 32 audits touch ~64 hosts at a time, 2 connections each; each idle connection holds ~25 KiB
		MaxIdleConnsPerHost:   opts.PerHost,
		IdleConnTimeout:       30 * time.Second,
		TLSHandshakeTimeout:   opts.Timeout,
		ResponseHeaderTimeout: opts.Timeout,
	}
	f.client = &http.Client{
		Transport: transport,
		Timeout:   opts.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			for _, v := range via {
				if v.URL.String() == req.URL.String() {
					return &Error{Outcome: events.OutcomeRedirects, URL: via[0].URL.String(), Err: fmt.Errorf("redirect loop through %s", req.URL)}
				}
			}
			if len(via) > opts.MaxRedirects {
				return &Error{Outcome: events.OutcomeRedirects, URL: via[0].URL.String(), Err: fmt.Errorf("more than %d redirects", opts.MaxRedirects)}
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return &Error{Outcome: events.OutcomeBlocked, URL: req.URL.String(), Err: errors.New("redirect to a non-http scheme")}
			}
			return nil
		},
	}
	return f
}

// Page is a fetched body, decoded to UTF-8 when it is text.
type Page struct {
	// URL is the final URL after redirects.
	URL *url.URL
	// Status is the HTTP status code (200 also when a 304 was answered
	// and the body recalled).
	Status int
	// Header is the response header.
	Header http.Header
	// Raw is the body as received (what evidence stores).
	Raw []byte
	// Body is Raw decoded to UTF-8 for text types, Raw otherwise.
	Body []byte
	// Charset names the encoding Body was decoded from ("utf-8", "gb18030"
	// …), empty for binary bodies.
	Charset string
	// SHA256 is the hex SHA-256 of Raw.
	SHA256 string
	// NotModified is true when the server answered 304 to a conditional
	// request and Raw was recalled from the evidence store: the body is
	// already stored.
	NotModified bool
	// FetchedAt is when the response arrived.
	FetchedAt time.Time
}

// Error is a fetch failure with the observation outcome it maps to.
type Error struct {
	// Outcome is one of the events.Outcome* constants.
	Outcome string
	// URL is the URL requested.
	URL string
	// Err is the cause.
	Err error
}

// Error returns "GET url: cause".
func (e *Error) Error() string { return fmt.Sprintf("GET %s: %v", e.URL, e.Err) }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// OutcomeOf maps an error returned by Get to an observation outcome.
func OutcomeOf(err error) string {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Outcome
	}
	return events.OutcomeUnreachable
}

var errBlocked = errors.New("address not allowed")

// ErrRobots is wrapped by the errors of requests that robots.txt
// disallows.
var ErrRobots = errors.New("disallowed by robots.txt")

// guard refuses connections to non-public addresses; it runs after DNS
// resolution, for every connection including those of redirects.
func (f *Fetcher) guard(network, address string, _ syscall.RawConn) error {
	if f.opts.AllowPrivate {
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil || !Public(ip) {
		return fmt.Errorf("%w: %s", errBlocked, host)
	}
	return nil
}

// Public reports whether ip is a public unicast address: not loopback,
// private (RFC 1918, RFC 4193), link-local (which includes the cloud
// metadata address 169.254.169.254), carrier-grade NAT, multicast or
// unspecified.
func Public(ip net.IP) bool {
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	if ip4 := ip.To4(); ip4 != nil {
		if ip4[0] == 100 && ip4[1]&0xc0 == 64 { // 100.64.0.0/10
			return false
		}
		if ip4[0] == 0 || ip4[0] >= 240 {
			return false
		}
	}
	return true
}

func (f *Fetcher) host(host string) *hostState {
	f.mu.Lock()
	defer f.mu.Unlock()
	h, ok := f.hosts[host]
	if !ok {
		h = &hostState{slots: make(chan struct{}, f.opts.PerHost)}
		if f.opts.RatePerHost > 0 {
			h.limiter = rate.NewLimiter(rate.Limit(f.opts.RatePerHost), f.opts.PerHost)
		}
		f.hosts[host] = h
	}
	return h
}

// Kind says which size cap applies to a request.
type Kind int

// Request kinds.
const (
	// KindPage is an HTML page, capped at Options.MaxBytes.
	KindPage Kind = iota
	// KindDocument is an attachment, capped at Options.MaxDocumentBytes.
	KindDocument
)

// Request is one GET with its settings.
type Request struct {
	// URL is the absolute http(s) URL.
	URL string
	// Kind selects the size cap.
	Kind Kind
	// Robots is "obey", "ignore" or empty for the Fetcher's default.
	Robots string
	// Unconditional disables the conditional request even when a
	// validator is remembered.
	Unconditional bool
	// Known is the SHA-256 of the body last seen at URL (by an earlier
	// process: a published observation names it), used with
	// Options.Describe when no validator is remembered; empty if none.
	Known string
}

// Get fetches a page under the Fetcher's default robots.txt policy.
func (f *Fetcher) Get(ctx context.Context, rawURL string) (*Page, error) {
	return f.Do(ctx, Request{URL: rawURL})
}

// Do fetches req.URL, retrying transient failures. A non-2xx final status
// is returned as an *Error with OutcomeHTTPError.
func (f *Fetcher) Do(ctx context.Context, req Request) (*Page, error) {
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &Error{Outcome: events.OutcomeBlocked, URL: req.URL, Err: errors.New("not an absolute http(s) URL")}
	}
	obey := !f.opts.IgnoreRobots
	switch req.Robots {
	case "obey":
		obey = true
	case "ignore":
		obey = false
	}
	if obey {
		if err := f.robotsAllow(ctx, u); err != nil {
			return nil, err
		}
	}
	var last error
	for attempt := 0; attempt <= f.opts.Retries; attempt++ {
		if attempt > 0 {
			d := f.opts.Backoff << (attempt - 1)
			d += time.Duration(rand.Int64N(int64(d)/2 + 1))
			select {
			case <-ctx.Done():
				return nil, &Error{Outcome: events.OutcomeTimeout, URL: req.URL, Err: ctx.Err()}
			case <-time.After(d):
			}
		}
		h := f.host(u.Host)
		if err := h.check(req.URL); err != nil {
			return nil, err
		}
		p, err := f.once(ctx, u, req)
		h.record(err)
		if err == nil {
			return p, nil
		}
		last = err
		if !transient(err) {
			break
		}
	}
	return nil, last
}

func transient(err error) bool {
	var fe *Error
	if !errors.As(err, &fe) {
		return false
	}
	switch fe.Outcome {
	case events.OutcomeTimeout, events.OutcomeUnreachable:
		return !errors.Is(err, errBlocked) && !errors.Is(err, syscall.ECONNREFUSED)
	case events.OutcomeHTTPError:
		var se *statusError
		return errors.As(err, &se) && se.code >= 500
	}
	return false
}

type statusError struct{ code int }

func (e *statusError) Error() string {
	return fmt.Sprintf("status %d %s", e.code, http.StatusText(e.code))
}

// acquire waits for a slot on u's host and for its rate limiter.
func (f *Fetcher) acquire(ctx context.Context, u *url.URL) (release func(), err error) {
	h := f.host(u.Host)
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, &Error{Outcome: events.OutcomeTimeout, URL: u.String(), Err: fmt.Errorf("waiting for the host: %w", ctx.Err())}
	}
	if h.limiter != nil {
		if err := h.limiter.Wait(ctx); err != nil {
			<-h.slots
			return nil, &Error{Outcome: events.OutcomeTimeout, URL: u.String(), Err: fmt.Errorf("waiting for the host's rate limit: %w", err)}
		}
	}
	return func() { <-h.slots }, nil
}

func (f *Fetcher) validator(u string) (validator, bool) {
	k := keyOf(u)
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.validators[k]
	return v, ok
}

// describe builds the validator of a body known to have been fetched from
// u, from the evidence store's metadata, and remembers it.
func (f *Fetcher) describe(ctx context.Context, u, sha string) (validator, bool) {
	if f.opts.Describe == nil {
		return validator{}, false
	}
	from, etag, lastModified, err := f.opts.Describe(ctx, sha)
	// Validators belong to the URL that served them.
	if err != nil || from != u || (etag == "" && lastModified == "") {
		return validator{}, false
	}
	v, ok := newValidator(etag, lastModified, sha)
	if !ok {
		return validator{}, false
	}
	f.remember(u, v)
	return v, true
}

// Remembers reports whether this fetcher has read rawURL (and holds its
// validators, or knows it gave none), so that nothing needs recovering for
// it.
func (f *Fetcher) Remembers(rawURL string) bool {
	_, ok := f.validator(rawURL)
	return ok
}

func (f *Fetcher) remember(u string, v validator) {
	if f.opts.MaxValidators < 0 || f.opts.Recall == nil {
		return
	}
	k := keyOf(u)
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.validators[k]; !ok && len(f.validators) >= f.opts.MaxValidators {
		for old := range f.validators { // evict an arbitrary entry
			delete(f.validators, old)
			break
		}
	}
	f.validators[k] = v
}

func (f *Fetcher) once(ctx context.Context, u *url.URL, r Request) (*Page, error) {
	// The validator first: recovering it may take a round trip to the
	// evidence store, which must not hold one of the host's slots.
	val, conditional := validator{}, false
	if !r.Unconditional && f.opts.Recall != nil {
		var seen bool
		val, seen = f.validator(u.String())
		conditional = seen && val.usable()
		if !seen && r.Known != "" {
			val, conditional = f.describe(ctx, u.String(), r.Known)
		}
	}
	release, err := f.acquire(ctx, u)
	if err != nil {
		return nil, err
	}
	released := false
	defer func() {
		if !released {
			release()
		}
	}()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &Error{Outcome: events.OutcomeBlocked, URL: u.String(), Err: err}
	}
	req.Header.Set("User-Agent", f.opts.UserAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/pdf,*/*;q=0.8")
	req.Header.Set("Accept-Language", "zh-CN,zh;q=0.9")
	if conditional {
		if val.etag != "" {
			req.Header.Set("If-None-Match", val.etag)
		}
		if val.lastModified != "" {
			req.Header.Set("If-Modified-Since", val.lastModified)
		}
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, classify(u.String(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified && conditional {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		raw, err := f.opts.Recall(ctx, val.hex())
		if err != nil || sha256.Sum256(raw) != val.sha {
			// The stored body is gone (retention): ask again in full.
			f.remember(u.String(), validator{})
			released = true
			release()
			r.Unconditional = true
			return f.once(ctx, u, r)
		}
		p := &Page{URL: resp.Request.URL, Status: http.StatusOK, Header: resp.Header, Raw: raw, SHA256: val.hex(),
			NotModified: true, FetchedAt: time.Now()}
		f.decode(p, r.Kind)
		return p, nil
	}
	limit := f.opts.MaxBytes
	if r.Kind == KindDocument {
		limit = f.opts.MaxDocumentBytes
	}
	if resp.ContentLength > limit {
		return nil, &Error{Outcome: events.OutcomeTooLarge, URL: u.String(), Err: fmt.Errorf("Content-Length %d bytes, limit %d", resp.ContentLength, limit)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// The body of an error is not kept: read a little of it so the
		// connection can be reused, no more.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, &Error{Outcome: events.OutcomeHTTPError, URL: u.String(), Err: &statusError{resp.StatusCode}}
	}
	raw, err := readBody(resp.Body, resp.ContentLength, limit)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, &Error{Outcome: events.OutcomeTooLarge, URL: u.String(), Err: fmt.Errorf("body larger than %d bytes", limit)}
		}
		return nil, classify(u.String(), err)
	}
	p := &Page{
		URL: resp.Request.URL, Status: resp.StatusCode, Header: resp.Header,
		Raw: raw, SHA256: hexSHA(raw), FetchedAt: time.Now(),
	}
	f.decode(p, r.Kind)
	if v, ok := newValidator(resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"), p.SHA256); ok {
		f.remember(u.String(), v) // without validators too: see usable
	}
	return p, nil
}

var errTooLarge = errors.New("body too large")

// readBody reads a body of at most limit bytes. An announced length is read
// into a slice of exactly that size. Otherwise the body is read in chunks
// (32 KiB, doubling up to 1 MiB) that are joined once at the end, so that a
// body that turns out too large (a 6 MiB home page) costs at most the limit
// and is dropped, and one that fits costs its size twice, briefly.
// (bytes.Buffer.ReadFrom reallocates even a body of announced length, to
// keep 512 bytes free, and allocates about three times the body.)
func readBody(r io.Reader, length, limit int64) ([]byte, error) {
	if length > 0 && length <= limit {
		buf := make([]byte, length)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	var chunks [][]byte
	var total int64
	size := int64(32 << 10)
	for {
		chunk := make([]byte, min(size, limit+1-total))
		n, err := io.ReadFull(r, chunk)
		total += int64(n)
		if total > limit {
			return nil, errTooLarge
		}
		chunks = append(chunks, chunk[:n])
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, err
		}
		size = min(2*size, 1<<20)
	}
	buf := make([]byte, 0, total) // exact: a page is kept while its audit uses it
	for _, c := range chunks {
		buf = append(buf, c...)
	}
	return buf, nil
}

func hexSHA(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// decode sets p.Body: the UTF-8 text of an HTML or text body, the raw
// bytes of anything else.
func (f *Fetcher) decode(p *Page, kind Kind) {
	p.Body = p.Raw
	ct := p.Header.Get("Content-Type")
	if !isText(ct, p.Raw) {
		return
	}
	enc, name := DetectCharset(p.Raw, ct)
	p.Charset = name
	if enc == nil {
		return
	}
	if dec, err := enc.NewDecoder().Bytes(p.Raw); err == nil {
		p.Body = dec
	}
}

func isText(ct string, raw []byte) bool {
	ct = strings.ToLower(ct)
	switch {
	case strings.HasPrefix(ct, "text/"), strings.Contains(ct, "html"), strings.Contains(ct, "xml"):
		return true
	case ct == "" || strings.HasPrefix(ct, "application/octet-stream"):
		// No type: text unless the bytes say otherwise.
		head := raw[:min(len(raw), 512)]
		return !bytes.HasPrefix(head, []byte("%PDF")) && !bytes.HasPrefix(head, []byte("PK\x03\x04")) &&
			!bytes.HasPrefix(head, []byte("\xd0\xcf\x11\xe0")) && bytes.IndexByte(head, 0) < 0
	}
	return false
}

// DetectCharset returns the encoding of an HTML or text body and its name,
// from (in order) a byte-order mark, the Content-Type header, a <meta>
// declaration in the first 1024 bytes, and the bytes themselves: valid
// UTF-8 is UTF-8, anything else on a Chinese portal is GB18030 (a superset
// of GBK and GB2312, which are decoded as GB18030 too). A nil encoding
// means UTF-8 (no conversion).
func DetectCharset(raw []byte, contentType string) (encoding.Encoding, string) {
	enc, name, certain := charset.DetermineEncoding(raw, contentType)
	if !certain && name != "utf-8" {
		// DetermineEncoding falls back to windows-1252 when nothing is
		// declared; Chinese portals that declare nothing use UTF-8 or GBK.
		if utf8.Valid(raw) {
			return nil, "utf-8"
		}
		return simplifiedchinese.GB18030, "gb18030"
	}
	switch name {
	case "utf-8":
		if !utf8.Valid(raw) {
			return simplifiedchinese.GB18030, "gb18030"
		}
		return nil, "utf-8"
	case "gbk", "gb2312", "gb18030":
		return simplifiedchinese.GB18030, "gb18030"
	}
	return enc, name
}

func classify(u string, err error) *Error {
	var fe *Error
	if errors.As(err, &fe) {
		return fe
	}
	// url.Error repeats the method and URL that Error already names.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	switch {
	case errors.Is(err, errBlocked):
		return &Error{Outcome: events.OutcomeBlocked, URL: u, Err: err}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &Error{Outcome: events.OutcomeTimeout, URL: u, Err: err}
	default:
		return &Error{Outcome: events.OutcomeUnreachable, URL: u, Err: err}
	}
}
