// Package fetch reads agency web pages politely and safely: a per-host
// concurrency limit (many agencies share one platform host), a time-out per
// request (15 s, the national inspection rule), retries with back-off and
// jitter on 5xx and time-outs, a body size cap, a redirect limit, charset
// decoding to UTF-8 (GBK, GB2312, GB18030 and UTF-8 are common on Chinese
// portals), an honest User-Agent, and an SSRF guard that refuses loopback,
// private, link-local and metadata addresses after DNS resolution and on
// every redirect unless explicitly allowed.
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

	"golang.org/x/net/html/charset"

	"github.com/gongkai/gongkai/pkg/events"
)

// Options configures a Fetcher.
type Options struct {
	// UserAgent is sent with every request.
	UserAgent string
	// Timeout bounds one request, headers and body; default 15 s.
	Timeout time.Duration
	// MaxBytes caps a page body; default 4 MiB.
	MaxBytes int64
	// MaxRedirects caps redirects per request; default 5.
	MaxRedirects int
	// PerHost caps concurrent requests to one host; default 2.
	PerHost int
	// Retries is the number of extra attempts after a 5xx or time-out;
	// default 2.
	Retries int
	// Backoff is the base delay between attempts, doubled each time with
	// jitter; default 500 ms.
	Backoff time.Duration
	// AllowPrivate lets requests reach loopback and private addresses.
	AllowPrivate bool
}

func (o *Options) defaults() {
	if o.UserAgent == "" {
		o.UserAgent = "gongkai/0.1 (government information disclosure audit)"
	}
	if o.Timeout == 0 {
		o.Timeout = 15 * time.Second
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = 4 << 20
	}
	if o.MaxRedirects == 0 {
		o.MaxRedirects = 5
	}
	if o.PerHost == 0 {
		o.PerHost = 2
	}
	if o.Retries == 0 {
		o.Retries = 2
	}
	if o.Backoff == 0 {
		o.Backoff = 500 * time.Millisecond
	}
}

// Fetcher performs GET requests under the Options' rules. It is safe for
// concurrent use.
type Fetcher struct {
	opts   Options
	client *http.Client

	mu    sync.Mutex
	hosts map[string]chan struct{}
}

// New returns a Fetcher.
func New(opts Options) *Fetcher {
	opts.defaults()
	f := &Fetcher{opts: opts, hosts: map[string]chan struct{}{}}
	dialer := &net.Dialer{Timeout: opts.Timeout, Control: f.guard}
	transport := &http.Transport{
		Proxy:                 nil, // a proxy would bypass the address guard
		DialContext:           dialer.DialContext,
		MaxIdleConnsPerHost:   opts.PerHost,
		IdleConnTimeout:       30 * time.Second,
		TLSHandshakeTimeout:   opts.Timeout,
		ResponseHeaderTimeout: opts.Timeout,
	}
	f.client = &http.Client{
		Transport: transport,
		Timeout:   opts.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > opts.MaxRedirects {
				return &Error{Outcome: events.OutcomeRedirects, URL: req.URL.String(), Err: fmt.Errorf("more than %d redirects", opts.MaxRedirects)}
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
	// Status is the HTTP status code.
	Status int
	// Header is the response header.
	Header http.Header
	// Raw is the body as received (what evidence stores).
	Raw []byte
	// Body is Raw decoded to UTF-8 for text types, Raw otherwise.
	Body []byte
	// SHA256 is the hex SHA-256 of Raw.
	SHA256 string
	// FetchedAt is when the response arrived.
	FetchedAt time.Time
}

// Error is a fetch failure with the observation outcome it maps to.
type Error struct {
	Outcome string
	URL     string
	Err     error
}

func (e *Error) Error() string { return fmt.Sprintf("GET %s: %v", e.URL, e.Err) }
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

func (f *Fetcher) hostSlot(host string) chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.hosts[host]
	if !ok {
		c = make(chan struct{}, f.opts.PerHost)
		f.hosts[host] = c
	}
	return c
}

// Get fetches rawURL, retrying transient failures. A non-2xx final status
// is returned as an *Error with OutcomeHTTPError.
func (f *Fetcher) Get(ctx context.Context, rawURL string) (*Page, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &Error{Outcome: events.OutcomeBlocked, URL: rawURL, Err: errors.New("not an absolute http(s) URL")}
	}
	var last error
	for attempt := 0; attempt <= f.opts.Retries; attempt++ {
		if attempt > 0 {
			d := f.opts.Backoff << (attempt - 1)
			d += time.Duration(rand.Int64N(int64(d)/2 + 1))
			select {
			case <-ctx.Done():
				return nil, &Error{Outcome: events.OutcomeTimeout, URL: rawURL, Err: ctx.Err()}
			case <-time.After(d):
			}
		}
		p, err := f.once(ctx, u)
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

func (f *Fetcher) once(ctx context.Context, u *url.URL) (*Page, error) {
	slot := f.hostSlot(u.Host)
	select {
	case slot <- struct{}{}:
	case <-ctx.Done():
		return nil, &Error{Outcome: events.OutcomeTimeout, URL: u.String(), Err: ctx.Err()}
	}
	defer func() { <-slot }()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &Error{Outcome: events.OutcomeBlocked, URL: u.String(), Err: err}
	}
	req.Header.Set("User-Agent", f.opts.UserAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/pdf,*/*;q=0.8")
	req.Header.Set("Accept-Language", "zh-CN,zh;q=0.9")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, classify(u.String(), err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, f.opts.MaxBytes+1))
	if err != nil {
		return nil, classify(u.String(), err)
	}
	if int64(len(raw)) > f.opts.MaxBytes {
		return nil, &Error{Outcome: events.OutcomeTooLarge, URL: u.String(), Err: fmt.Errorf("body larger than %d bytes", f.opts.MaxBytes)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &Error{Outcome: events.OutcomeHTTPError, URL: u.String(), Err: &statusError{resp.StatusCode}}
	}
	sum := sha256.Sum256(raw)
	p := &Page{
		URL: resp.Request.URL, Status: resp.StatusCode, Header: resp.Header,
		Raw: raw, Body: raw, SHA256: hex.EncodeToString(sum[:]), FetchedAt: time.Now(),
	}
	ct := resp.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "text/") || ct == "" || strings.Contains(ct, "html") {
		r, err := charset.NewReader(bytes.NewReader(raw), ct)
		if err == nil {
			if dec, err := io.ReadAll(r); err == nil {
				p.Body = dec
			}
		}
	}
	return p, nil
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
