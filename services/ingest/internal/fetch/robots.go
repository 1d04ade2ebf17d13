package fetch

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
)

// maxRobotsBytes is the part of a robots.txt that is read (RFC 9309 asks
// crawlers to parse at least 500 KiB).
const maxRobotsBytes = 512 << 10

// robotsTimeout bounds the fetch of a robots.txt: a host that cannot
// serve a small text file in that time will fail its pages too.
const robotsTimeout = 5 * time.Second

// Robots is a parsed robots.txt (RFC 9309): the groups of rules per user
// agent. The zero value allows everything.
type Robots struct {
	groups []robotsGroup
}

type robotsGroup struct {
	agents []string
	rules  []robotsRule
}

type robotsRule struct {
	allow   bool
	pattern string
}

// ParseRobots parses the text of a robots.txt. It never fails: lines it
// does not understand are ignored, as the standard requires.
func ParseRobots(b []byte) *Robots {
	r := &Robots{}
	var cur *robotsGroup
	lastWasAgent := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), maxRobotsBytes)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key = strings.ToLower(strings.TrimSpace(key))
		val = strings.TrimSpace(val)
		switch key {
		case "user-agent":
			if !lastWasAgent || cur == nil {
				r.groups = append(r.groups, robotsGroup{})
				cur = &r.groups[len(r.groups)-1]
			}
			cur.agents = append(cur.agents, strings.ToLower(val))
			lastWasAgent = true
		case "allow", "disallow":
			lastWasAgent = false
			if cur == nil || (val == "" && key == "disallow") {
				continue // "Disallow:" with no path allows everything
			}
			cur.rules = append(cur.rules, robotsRule{allow: key == "allow", pattern: val})
		default:
			lastWasAgent = false
		}
	}
	return r
}

// Allowed reports whether agent (a product token such as "gongkai") may
// fetch the path-and-query p: the rules of the groups naming the agent (or,
// when none does, of the "*" groups) are matched, the longest matching
// pattern wins and Allow wins a tie.
func (r *Robots) Allowed(agent, p string) bool {
	if r == nil {
		return true
	}
	agent = strings.ToLower(agent)
	var rules []robotsRule
	for _, g := range r.groups {
		for _, a := range g.agents {
			if a != "*" && a != "" && strings.HasPrefix(agent, a) {
				rules = append(rules, g.rules...)
				break
			}
		}
	}
	if rules == nil {
		for _, g := range r.groups {
			for _, a := range g.agents {
				if a == "*" {
					rules = append(rules, g.rules...)
					break
				}
			}
		}
	}
	if p == "" {
		p = "/"
	}
	best, allowed := -1, true
	for _, rule := range rules {
		if !robotsMatch(rule.pattern, p) {
			continue
		}
		n := len(rule.pattern)
		if n > best || (n == best && rule.allow) {
			best, allowed = n, rule.allow
		}
	}
	return allowed
}

// robotsMatch matches a robots.txt path pattern ('*' any run of
// characters, a final '$' the end of the path) against p.
func robotsMatch(pattern, p string) bool {
	anchored := strings.HasSuffix(pattern, "$")
	pattern = strings.TrimSuffix(pattern, "$")
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(p, parts[0]) {
		return false
	}
	rest := p[len(parts[0]):]
	for i, part := range parts[1:] {
		if i == len(parts)-2 && anchored {
			return strings.HasSuffix(rest, part)
		}
		j := strings.Index(rest, part)
		if j < 0 {
			return false
		}
		rest = rest[j+len(part):]
	}
	return !anchored || rest == ""
}

// robotsAllow checks u against its host's robots.txt, fetching it (through
// the host's politeness limits) when it is not cached.
//
// A robots.txt that answers 4xx allows everything (RFC 9309). One that
// cannot be read (5xx, time-out, refused) also lets the audit go on, unlike
// RFC 9309's "assume complete disallow": the pages audited are ones the law
// requires to be public, and the fetch of the page itself then records the
// site's failure as what it is (unreachable, http_error) instead of a
// misleading "blocked".
func (f *Fetcher) robotsAllow(ctx context.Context, u *url.URL) error {
	h := f.host(u.Host)
	h.robotsMu.Lock()
	defer h.robotsMu.Unlock()
	if h.robots == nil || time.Since(h.robotsAt) > f.opts.RobotsTTL {
		h.robots = f.fetchRobots(ctx, u)
		h.robotsAt = time.Now()
	}
	if !h.robots.Allowed(f.agent, u.RequestURI()) {
		return &Error{Outcome: events.OutcomeBlocked, URL: u.String(), Err: fmt.Errorf("%w for %s", ErrRobots, f.agent)}
	}
	return nil
}

func (f *Fetcher) fetchRobots(ctx context.Context, u *url.URL) *Robots {
	ru := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/robots.txt"}
	ctx, cancel := context.WithTimeout(ctx, min(f.opts.Timeout, robotsTimeout))
	defer cancel()
	release, err := f.acquire(ctx, ru)
	if err != nil {
		return &Robots{}
	}
	defer release()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ru.String(), nil)
	if err != nil {
		return &Robots{}
	}
	req.Header.Set("User-Agent", f.opts.UserAgent)
	resp, err := f.client.Do(req)
	if err != nil {
		return &Robots{}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &Robots{}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxRobotsBytes))
	if err != nil {
		return &Robots{}
	}
	return ParseRobots(b)
}
