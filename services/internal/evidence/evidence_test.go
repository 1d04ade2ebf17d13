package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gongkai/gongkai/pkg/events/eventstest"
)

// testStore opens the evidence store of an embedded JetStream server.
func testStore(t *testing.T) *Store {
	t.Helper()
	srv := eventstest.RunServer(t, "")
	_, js := eventstest.Connect(t, srv.URL)
	st, err := Open(context.Background(), js)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestPutGetInfo(t *testing.T) {
	st := testStore(t)
	ctx := context.Background()
	body := []byte("<html>政府信息公开</html>")
	sum := sha256.Sum256(body)
	h := hex.EncodeToString(sum[:])
	at := time.Date(2026, 2, 3, 1, 2, 3, 0, time.UTC)
	m := Meta{URL: "http://x.example/", Status: 200, ContentType: "text/html", ETag: `"v1"`, FetchedAt: at}
	fresh, err := st.Put(ctx, h, body, m)
	if err != nil || !fresh {
		t.Fatalf("first put: %v %v", fresh, err)
	}
	if fresh, err := st.Put(ctx, h, body, m); err != nil || fresh {
		t.Fatalf("second put stored again: %v %v", fresh, err)
	}
	b, got, err := st.Get(ctx, h)
	if err != nil || string(b) != string(body) {
		t.Fatalf("get: %v", err)
	}
	if got.URL != m.URL || got.Status != 200 || got.ETag != `"v1"` || !got.FetchedAt.Equal(at) || got.Size != uint64(len(body)) {
		t.Fatalf("meta %+v", got)
	}
	missing := "0000000000000000000000000000000000000000000000000000000000000000"
	if _, _, err := st.Get(ctx, missing); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := st.Info(ctx, "../etc"); err == nil {
		t.Fatal("a bad digest was looked up")
	}
}

// Text bodies are stored compressed and read back as they were fetched;
// binary bodies and small ones are stored as they are.
func TestCompressedBodies(t *testing.T) {
	st := testStore(t)
	ctx := context.Background()
	page := []byte("<html><body>" + strings.Repeat("<li><a href=\"./t1.html\">政府信息公开工作年度报告</a><span>2026-01-20</span></li>\n", 200) + "</body></html>")
	pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte{0x8f, 0x13, 0x77}, 2000)...)
	for _, c := range []struct {
		name, ctype string
		body        []byte
		compressed  bool
	}{
		{"html", "text/html; charset=utf-8", page, true},
		{"text", "text/plain; charset=utf-8", append([]byte("正文\n"), page...), true},
		{"pdf", "application/pdf", pdf, false},
		{"small", "text/html", []byte("<html>短</html>"), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			sum := sha256.Sum256(c.body)
			h := hex.EncodeToString(sum[:])
			if _, err := st.Put(ctx, h, c.body, Meta{URL: "http://x.example/" + c.name, ContentType: c.ctype, FetchedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			b, m, err := st.Get(ctx, h)
			if err != nil || !bytes.Equal(b, c.body) || m.Size != uint64(len(c.body)) || m.ContentType != c.ctype {
				t.Fatalf("Get: %v, %d bytes, %+v", err, len(b), m)
			}
			info, err := st.obj.GetInfo(ctx, h)
			if err != nil {
				t.Fatal(err)
			}
			if got := info.Headers.Get(headerEncoding) == "gzip"; got != c.compressed || (c.compressed && info.Size*4 > uint64(len(c.body))) {
				t.Fatalf("stored %d of %d bytes, compressed %v", info.Size, len(c.body), got)
			}
		})
	}
}

// Objects stored before 2026-11 carry the URL both as the description and
// as the header Gongkai-Url; new ones only as the description. Both read
// the same; the header wins where they differ.
func TestURLStoredOnce(t *testing.T) {
	st := testStore(t)
	ctx := context.Background()
	at := time.Date(2026, 2, 3, 1, 2, 3, 0, time.UTC)
	put := func(body string) string {
		sum := sha256.Sum256([]byte(body))
		h := hex.EncodeToString(sum[:])
		m := Meta{URL: "http://x.example/" + body, Status: 200, ContentType: "text/html", ETag: `"e1"`,
			LastModified: "Tue, 03 Feb 2026 01:00:00 GMT", FetchedAt: at}
		if _, err := st.Put(ctx, h, []byte(body), m); err != nil {
			t.Fatal(err)
		}
		return h
	}
	h := put("new")
	info, err := st.obj.GetInfo(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if info.Headers.Get(headerURL) != "" || info.Description != "http://x.example/new" {
		t.Fatalf("stored the URL as header %q, description %q", info.Headers.Get(headerURL), info.Description)
	}
	if m, err := st.Info(ctx, h); err != nil || m.URL != "http://x.example/new" || m.ETag != `"e1"` {
		t.Fatalf("Info: %+v %v", m, err)
	}

	// Written as Put wrote them before: the old header set.
	old := func(body, description, url string) string {
		sum := sha256.Sum256([]byte(body))
		h := hex.EncodeToString(sum[:])
		hd := nats.Header{}
		hd.Set("Gongkai-Url", url)
		hd.Set("Gongkai-Status", "200")
		hd.Set("Gongkai-Fetched-At", "2026-02-03T01:02:03Z")
		hd.Set("Gongkai-Content-Type", "text/html")
		hd.Set("Gongkai-Etag", `"e0"`)
		hd.Set("Gongkai-Last-Modified", "Mon, 02 Feb 2026 01:00:00 GMT")
		if _, err := st.obj.Put(ctx, jetstream.ObjectMeta{Name: h, Description: description, Headers: hd},
			strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
		return h
	}
	for _, c := range []struct{ body, description, url string }{
		{"old", "http://x.example/old", "http://x.example/old"},
		{"old, no description", "", "http://x.example/old2"},
		{"old, other description", "a note", "http://x.example/old3"},
	} {
		h := old(c.body, c.description, c.url)
		b, m, err := st.Get(ctx, h)
		if err != nil || string(b) != c.body {
			t.Fatalf("%s: Get %q %v", c.body, b, err)
		}
		if m.URL != c.url || m.Status != 200 || !m.FetchedAt.Equal(at) || m.ContentType != "text/html" ||
			m.ETag != `"e0"` || m.LastModified != "Mon, 02 Feb 2026 01:00:00 GMT" || m.Size != uint64(len(c.body)) {
			t.Fatalf("%s: meta %+v", c.body, m)
		}
	}
}
