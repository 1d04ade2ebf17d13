package fetch

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/gongkai/gongkai/pkg/events"
)

func TestRobots(t *testing.T) {
	r := ParseRobots([]byte(`# comment
User-agent: *
Disallow: /private/
Allow: /private/open.html

User-agent: gongkai
User-agent: other
Disallow: /zfxxgk/secret
Disallow: /*.pdf$
Allow: /zfxxgk/secret/ok
`))
	for _, c := range []struct {
		agent, path string
		want        bool
	}{
		{"gongkai", "/private/x", true}, // its own group replaces *
		{"gongkai", "/zfxxgk/secret/a.html", false},
		{"gongkai", "/zfxxgk/secret/ok/a.html", true},
		{"gongkai", "/files/a.pdf", false},
		{"gongkai", "/files/a.pdf?x=1", true},
		{"bot", "/private/x", false},
		{"bot", "/private/open.html", true},
		{"bot", "/", true},
	} {
		if got := r.Allowed(c.agent, c.path); got != c.want {
			t.Errorf("Allowed(%s, %s) = %v, want %v", c.agent, c.path, got, c.want)
		}
	}
	if !ParseRobots(nil).Allowed("gongkai", "/x") || !(*Robots)(nil).Allowed("gongkai", "/") {
		t.Error("empty robots.txt disallows")
	}
}

func TestRobotsObeyedAndIgnored(t *testing.T) {
	var pages atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			_, _ = w.Write([]byte("User-agent: *\nDisallow: /hidden/\n"))
			return
		}
		pages.Add(1)
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	f := New(Options{AllowPrivate: true})
	_, err := f.Get(context.Background(), srv.URL+"/hidden/page.html")
	if OutcomeOf(err) != events.OutcomeBlocked || !errors.Is(err, ErrRobots) || pages.Load() != 0 {
		t.Fatalf("disallowed page: %v (%d fetched)", err, pages.Load())
	}
	if _, err := f.Get(context.Background(), srv.URL+"/open.html"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Do(context.Background(), Request{URL: srv.URL + "/hidden/page.html", Robots: "ignore"}); err != nil {
		t.Fatalf("ignored robots: %v", err)
	}
}

func TestConditionalGetRecallsTheBody(t *testing.T) {
	var full, notModified atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.Header.Get("If-None-Match") == `"v1"` {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		full.Add(1)
		_, _ = w.Write([]byte("<p>政府信息公开</p>"))
	}))
	defer srv.Close()
	store := map[string][]byte{}
	o := fast(Options{})
	o.Recall = func(_ context.Context, sha string) ([]byte, error) {
		if b, ok := store[sha]; ok {
			return b, nil
		}
		return nil, errors.New("gone")
	}
	f := New(o)
	p1, err := f.Get(context.Background(), srv.URL)
	if err != nil || p1.NotModified {
		t.Fatalf("first: %v %+v", err, p1)
	}
	store[p1.SHA256] = p1.Raw
	p2, err := f.Get(context.Background(), srv.URL)
	if err != nil || !p2.NotModified || p2.SHA256 != p1.SHA256 || string(p2.Body) != "<p>政府信息公开</p>" {
		t.Fatalf("second: %v %+v", err, p2)
	}
	// The evidence expired: the fetcher asks again in full.
	delete(store, p1.SHA256)
	p3, err := f.Get(context.Background(), srv.URL)
	if err != nil || p3.NotModified || full.Load() != 2 || notModified.Load() != 2 {
		t.Fatalf("third: %v, %d full, %d not modified", err, full.Load(), notModified.Load())
	}
}

// A new fetcher (a restarted process) that is told which body a URL last
// served recovers that body's validators from the evidence metadata and
// still asks conditionally — only when the metadata belongs to that URL.
func TestConditionalGetAfterRestart(t *testing.T) {
	var notModified atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Mon, 02 Feb 2026 08:00:00 GMT")
		if r.Header.Get("If-None-Match") == `"v1"` {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write([]byte("<p>政府信息公开</p>"))
	}))
	defer srv.Close()
	type meta struct{ url, etag, lm string }
	store, metas := map[string][]byte{}, map[string]meta{}
	opts := func() Options {
		o := fast(Options{})
		o.Recall = func(_ context.Context, sha string) ([]byte, error) { return store[sha], nil }
		o.Describe = func(_ context.Context, sha string) (string, string, string, error) {
			m, ok := metas[sha]
			if !ok {
				return "", "", "", errors.New("not stored")
			}
			return m.url, m.etag, m.lm, nil
		}
		return o
	}
	p1, err := New(opts()).Get(context.Background(), srv.URL+"/a")
	if err != nil {
		t.Fatal(err)
	}
	store[p1.SHA256] = p1.Raw
	metas[p1.SHA256] = meta{p1.URL.String(), p1.Header.Get("ETag"), p1.Header.Get("Last-Modified")}

	f := New(opts()) // the process restarted: nothing in memory
	if f.Remembers(srv.URL + "/a") {
		t.Fatal("a new fetcher remembers")
	}
	p2, err := f.Do(context.Background(), Request{URL: srv.URL + "/a", Known: p1.SHA256})
	if err != nil || !p2.NotModified || p2.SHA256 != p1.SHA256 || !f.Remembers(srv.URL+"/a") {
		t.Fatalf("after restart: %v %+v", err, p2)
	}
	// The same body, said to be known at another URL: its validators are
	// that URL's, not this one's, so the request is unconditional.
	p3, err := New(opts()).Do(context.Background(), Request{URL: srv.URL + "/b", Known: p1.SHA256})
	if err != nil || p3.NotModified || notModified.Load() != 1 {
		t.Fatalf("another URL: %v %+v, %d not modified", err, p3, notModified.Load())
	}
}

func TestCharsetDetection(t *testing.T) {
	text := "政府信息公开年报"
	gbk, _ := simplifiedchinese.GBK.NewEncoder().String("<html><body>" + text + "</body></html>")
	gbkMeta, _ := simplifiedchinese.GBK.NewEncoder().String(`<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body>` + text + "</body></html>")
	utf := "<html><body>" + text + "</body></html>"
	for name, c := range map[string]struct{ ct, body, want string }{
		"header gbk":          {"text/html; charset=GBK", gbk, "gb18030"},
		"meta gb2312":         {"text/html", gbkMeta, "gb18030"},
		"bytes only, gbk":     {"text/html", gbk, "gb18030"},
		"bytes only, utf-8":   {"text/html", utf, "utf-8"},
		"no content type":     {"", gbk, "gb18030"},
		"header lies (utf-8)": {"text/html; charset=utf-8", gbk, "gb18030"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header()["Content-Type"] = []string{c.ct}
				_, _ = w.Write([]byte(c.body))
			}))
			defer srv.Close()
			p, err := New(fast(Options{})).Get(context.Background(), srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			if p.Charset != c.want || !strings.Contains(string(p.Body), text) {
				t.Fatalf("charset %q, body %q", p.Charset, p.Body)
			}
		})
	}
}

func TestDocumentCapAndContentLength(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Length", "3009")
		_, _ = w.Write(append([]byte("%PDF-1.4\n"), make([]byte, 3000)...))
	}))
	defer srv.Close()
	f := New(fast(Options{MaxBytes: 1024, MaxDocumentBytes: 8192}))
	if _, err := f.Get(context.Background(), srv.URL); OutcomeOf(err) != events.OutcomeTooLarge || !strings.Contains(err.Error(), "Content-Length") {
		t.Fatalf("page cap: %v", err)
	}
	p, err := f.Do(context.Background(), Request{URL: srv.URL, Kind: KindDocument})
	if err != nil || p.Charset != "" || len(p.Body) != len(p.Raw) {
		t.Fatalf("document: %v", err)
	}
}

func TestRedirectLoopIsNamed(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/a", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/b", http.StatusFound) })
	mux.HandleFunc("/b", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/a", http.StatusFound) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	_, err := New(fast(Options{})).Get(context.Background(), srv.URL+"/a")
	if OutcomeOf(err) != events.OutcomeRedirects || !strings.Contains(err.Error(), "redirect loop") {
		t.Fatalf("loop: %v", err)
	}
}

func TestRateLimitPerHost(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	f := New(fast(Options{RatePerHost: 20, PerHost: 1}))
	start := time.Now()
	for range 6 {
		if _, err := f.Get(context.Background(), srv.URL); err != nil {
			t.Fatal(err)
		}
	}
	// Burst of 1, then 5 more at 20/s: at least 250 ms.
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("6 requests at 20/s took %v", d)
	}
}

func TestBreakerGivesUpOnADeadHost(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		<-r.Context().Done()
	}))
	defer srv.Close()
	f := New(fast(Options{Timeout: 30 * time.Millisecond, Retries: 5}))
	_, err := f.Get(context.Background(), srv.URL+"/a")
	if OutcomeOf(err) != events.OutcomeTimeout {
		t.Fatalf("first: %v", err)
	}
	_, err = f.Get(context.Background(), srv.URL+"/b")
	if OutcomeOf(err) != events.OutcomeTimeout || !strings.Contains(err.Error(), "host failing") || n.Load() != breakerThreshold {
		t.Fatalf("second: %v after %d requests", err, n.Load())
	}
}

func FuzzRobots(f *testing.F) {
	f.Add([]byte("User-agent: *\nDisallow: /a/*.pdf$\nAllow: /a/b\n"), "/a/x.pdf")
	f.Add([]byte("user-agent: gongkai\ndisallow: /\n#c\nallow: /$\n"), "/")
	f.Fuzz(func(t *testing.T, b []byte, p string) {
		r := ParseRobots(b)
		_ = r.Allowed("gongkai", p)
		_ = r.Allowed("*", p)
	})
}

func FuzzDetectCharset(f *testing.F) {
	f.Add([]byte(`<meta charset="gbk">政府`), "text/html")
	f.Add([]byte{0xd5, 0xfe, 0xb8, 0xae}, "")
	f.Fuzz(func(t *testing.T, b []byte, ct string) {
		enc, name := DetectCharset(b, ct)
		if name == "" {
			t.Fatal("no charset name")
		}
		if enc != nil {
			_, _ = enc.NewDecoder().Bytes(b)
		}
	})
}

func TestReadBody(t *testing.T) {
	body := strings.Repeat("政", 40_000) // 120,000 bytes, past the first 32 KiB
	for _, tc := range []struct {
		name          string
		length, limit int64
		in            string
		want          string
		err           error
	}{
		{"announced", int64(len(body)), 1 << 20, body, body, nil},
		{"unannounced", -1, 1 << 20, body, body, nil},
		{"unannounced, exactly the limit", -1, int64(len(body)), body, body, nil},
		{"unannounced, one byte over", -1, int64(len(body)) - 1, body, "", errTooLarge},
		{"announced but short", int64(len(body)) + 10, 1 << 20, body, "", io.ErrUnexpectedEOF},
		{"empty", 0, 10, "", "", nil},
		{"unannounced, small", -1, 1 << 20, "<html></html>", "<html></html>", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readBody(strings.NewReader(tc.in), tc.length, tc.limit)
			if !errors.Is(err, tc.err) || string(got) != tc.want {
				t.Fatalf("readBody = %d bytes, %v; want %d bytes, %v", len(got), err, len(tc.want), tc.err)
			}
			if err == nil && cap(got) != len(got) {
				t.Errorf("capacity %d for %d bytes", cap(got), len(got))
			}
		})
	}
}

// A URL that answers without validators is remembered as such: the next
// request for it, though it names the body last seen there, does not look
// the body up in the evidence store for validators it cannot have.
func TestNoValidatorsRemembered(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "" {
			t.Errorf("conditional request to a URL that never sent validators")
		}
		_, _ = w.Write([]byte("<p>政府信息公开</p>"))
	}))
	defer srv.Close()
	var described atomic.Int32
	o := fast(Options{})
	o.Recall = func(context.Context, string) ([]byte, error) { return nil, errors.New("not stored") }
	o.Describe = func(context.Context, string) (string, string, string, error) {
		described.Add(1)
		return srv.URL + "/a", "", "", nil
	}
	f := New(o)
	p1, err := f.Do(context.Background(), Request{URL: srv.URL + "/a", Known: strings.Repeat("0", 64)})
	if err != nil {
		t.Fatal(err)
	}
	if described.Load() != 1 {
		t.Fatalf("first request: %d evidence look-ups, want 1 (nothing remembered yet)", described.Load())
	}
	if !f.Remembers(srv.URL + "/a") {
		t.Fatal("a URL read without validators is not remembered")
	}
	for range 3 {
		if _, err := f.Do(context.Background(), Request{URL: srv.URL + "/a", Known: p1.SHA256}); err != nil {
			t.Fatal(err)
		}
	}
	if described.Load() != 1 {
		t.Fatalf("%d evidence look-ups after three more requests, want still 1", described.Load())
	}
}
