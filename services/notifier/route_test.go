package notifier

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/pkg/events/eventstest"
)

func newTestService(t *testing.T, tune func(*Options)) *Service {
	t.Helper()
	srv := eventstest.RunServer(t, "")
	_, js := eventstest.Connect(t, srv.URL)
	o := Options{
		JetStream: js, Registry: loadRegistry(t, "testdata/registry.yaml"), Transport: &Outbox{dir: t.TempDir()},
		From: "gongkai@notify.example", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registerer: prometheus.NewRegistry(),
	}
	if tune != nil {
		tune(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The routing table of docs/notifications.md.
func TestRouting(t *testing.T) {
	s := newTestService(t, func(o *Options) {
		o.Webhooks = []Webhook{{URL: "https://ops.example/hook", Secret: "k"}}
	})
	directors := newTestService(t, func(o *Options) { o.Roles = []string{"director"} })
	due, decided := at(2026, 1, 31, 23, 59), at(2026, 2, 3, 9, 0)
	for _, c := range []struct {
		name          string
		svc           *Service
		agency        string
		from, to      events.State
		sev           events.Severity
		want          string
		webhookWanted bool
	}{
		{"due soon: digest, or immediate for immediate-mode contacts", s, "sfz-jyj", events.StateNotDue, events.StateDueSoon, events.SeverityWarning,
			"d zhang.san@jyj.sfz.example zh cn; i li.si@jyj.sfz.example en cn", true},
		{"overdue is critical: immediate for everyone, and in the digest", s, "sfz-jyj", events.StateDueSoon, events.StateOverdue, events.SeverityCritical,
			"i zhang.san@jyj.sfz.example zh cn; d zhang.san@jyj.sfz.example zh cn alerted; i li.si@jyj.sfz.example en cn", true},
		{"an overdue obligation of warning severity waits for the digest", s, "sfz-wjw", events.StateDueSoon, events.StateOverdue, events.SeverityWarning,
			"d wang.wu@wjw.sfz.example zh cn; d zhao.liu@wjw.sfz.example en cn", true},
		{"escalated: the supervising body's office too", s, "sfz-jyj", events.StateOverdue, events.StateEscalated, events.SeverityCritical,
			"i zhang.san@jyj.sfz.example zh cn; d zhang.san@jyj.sfz.example zh cn alerted; i li.si@jyj.sfz.example en cn; " +
				"i gongkai@gov.sfz.example zh cn supervisor; d gongkai@gov.sfz.example zh cn alerted supervisor", true},
		{"escalated: up the parent chain to the first body with contacts", s, "sfz-town", events.StateOverdue, events.StateEscalated, events.SeverityWarning,
			"d town@town.sfz.example zh cn; d gongkai@gov.sfz.example zh cn supervisor", true},
		{"satisfied on time, never told: nothing", s, "sfz-jyj", events.StateNotDue, events.StateSatisfied, events.SeverityInfo, "", false},
		{"first seen satisfied: nothing", s, "sfz-jyj", "", events.StateSatisfied, events.SeverityInfo, "", false},
		{"satisfied after a reminder: resolved, in the digest", s, "sfz-jyj", events.StateDueSoon, events.StateSatisfied, events.SeverityInfo,
			"d zhang.san@jyj.sfz.example zh cn; i li.si@jyj.sfz.example en cn", true},
		{"published late after escalation: the supervisor hears of it", s, "sfz-czj", events.StateEscalated, events.StateSatisfiedLate, events.SeverityWarning,
			"i sun.qi@czj.sfz.example zh cn; d gongkai@gov.sfz.example zh cn supervisor", true},
		{"first seen published late: a finding", s, "sfz-wjw", "", events.StateSatisfiedLate, events.SeverityWarning,
			"d wang.wu@wjw.sfz.example zh cn; d zhao.liu@wjw.sfz.example en cn", true},
		{"incomplete", s, "sfz-czj", events.StateSatisfied, events.StateIncomplete, events.SeverityWarning, "i sun.qi@czj.sfz.example zh cn", true},
		{"not due: nothing", s, "sfz-jyj", "", events.StateNotDue, events.SeverityInfo, "", false},
		{"unknown: operators only (webhook)", s, "sfz-jyj", events.StateDueSoon, events.StateUnknown, events.SeverityWarning, "", true},
		{"a US agency uses the US calendar", s, "us-doe", events.StateNotDue, events.StateDueSoon, events.SeverityWarning, "d foia@doe.us.example en us", true},
		{"roles select the contacts", directors, "sfz-jyj", events.StateNotDue, events.StateDueSoon, events.SeverityWarning, "i li.si@jyj.sfz.example en cn", false},
		{"an agency without contacts: nobody", s, "sfz-office", events.StateNotDue, events.StateDueSoon, events.SeverityWarning, "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			id, f := finding(c.agency, "CN-R19-AR-DEPT", c.from, c.to, c.sev, due, decided)
			var got []string
			webhook := false
			for _, it := range c.svc.plan(id, f, decided) {
				if it.Kind == kindWebhook {
					webhook = true
					continue
				}
				s := it.Kind + " " + it.Recipient + " " + it.Lang + " " + it.Calendar
				if it.Alerted {
					s += " alerted"
				}
				if it.Supervisor {
					s += " supervisor"
				}
				got = append(got, s)
			}
			if g := strings.Join(got, "; "); g != c.want {
				t.Errorf("routes\n got %s\nwant %s", g, c.want)
			}
			if webhook != c.webhookWanted {
				t.Errorf("webhook %v, want %v", webhook, c.webhookWanted)
			}
		})
	}
}

func TestOptionsValidation(t *testing.T) {
	srv := eventstest.RunServer(t, "")
	_, js := eventstest.Connect(t, srv.URL)
	for name, tune := range map[string]func(*Options){
		"bad digest time":   func(o *Options) { o.DigestAt = "8h30" },
		"bad severity":      func(o *Options) { o.ImmediateSeverities = []events.Severity{"urgent"} },
		"webhook no secret": func(o *Options) { o.Webhooks = []Webhook{{URL: "https://x.example/"}} },
		"webhook bad url":   func(o *Options) { o.Webhooks = []Webhook{{URL: "ftp://x.example/", Secret: "k"}} },
		"claim below send":  func(o *Options) { o.ClaimTimeout, o.SendTimeout = time.Second, time.Minute },
		"bad from":          func(o *Options) { o.From = "not an address" },
		"bad webhook states": func(o *Options) {
			o.Webhooks = []Webhook{{URL: "https://x.example/", Secret: "k", States: []events.State{"late"}}}
		},
	} {
		t.Run(name, func(t *testing.T) {
			o := Options{
				JetStream: js, Registry: loadRegistry(t, "testdata/registry.yaml"), Transport: &Outbox{dir: t.TempDir()},
				From: "gongkai@notify.example", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registerer: prometheus.NewRegistry(),
			}
			tune(&o)
			if _, err := New(o); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// The rate limit is per destination domain: a burst to one domain waits
// while other domains go on. (rate.Limiter.Wait fails at once when the wait
// would outlast the context, so nothing here depends on the wall clock.)
func TestDomainLimits(t *testing.T) {
	l := newDomainLimits(0.001, 2) // two at once, then one every 1000 s
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range 2 {
		if err := l.wait(ctx, "a.example"); err != nil {
			t.Fatalf("send %d to a.example: %v", i, err)
		}
	}
	if err := l.wait(ctx, "a.example"); err == nil {
		t.Fatal("a third send to a.example within the burst was not held back")
	}
	if err := l.wait(ctx, "b.example"); err != nil {
		t.Fatalf("another domain is held back: %v", err)
	}
	if err := newDomainLimits(-1, 1).wait(ctx, "a.example"); err != nil {
		t.Fatalf("unlimited: %v", err)
	}
}
