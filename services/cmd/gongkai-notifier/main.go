// Command gongkai-notifier runs the notifier (findings to immediate notices,
// daily digests and webhooks, with a sent-ledger) against an existing NATS
// cluster. Any number of replicas may run: they share the findings
// consumer and the buckets, and send each notice once.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/internal/daemon"
	"github.com/gongkai/gongkai/services/notifier"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("gongkai-notifier", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c daemon.Common
	c.Flags(fs, "127.0.0.1:9467")
	smtpURL := fs.String("smtp-url", daemon.Env("GONGKAI_SMTP_URL", ""), "SMTP server, smtp://user:pass@host:587 (env GONGKAI_SMTP_URL)")
	smtpCA := fs.String("smtp-ca-file", daemon.Env("GONGKAI_SMTP_CA_FILE", ""), "PEM file of the CA that signed the SMTP server's certificate (default: the system roots)")
	outbox := fs.String("outbox", daemon.Env("GONGKAI_OUTBOX", ""), "write .eml files to this directory instead of SMTP")
	from := fs.String("from", daemon.Env("GONGKAI_FROM", "gongkai@localhost"), "sender address of notices")
	dashboard := fs.String("dashboard-url", daemon.Env("GONGKAI_DASHBOARD_URL", ""), "dashboard base URL linked from notices (DASHBOARD/agencies/ID)")
	digestAt := fs.String("digest-at", daemon.Env("GONGKAI_DIGEST_AT", notifier.DefaultDigestAt), "local time of the daily digest, HH:MM, on working days of each recipient's calendar")
	immediate := fs.String("immediate", daemon.Env("GONGKAI_IMMEDIATE", "critical"), "severities sent at once even to digest-mode contacts, comma-separated (info, warning, critical; \"none\")")
	roles := fs.String("roles", daemon.Env("GONGKAI_ROLES", ""), "contact roles notified about their own agency, comma-separated (default: every role)")
	supRoles := fs.String("supervisor-roles", daemon.Env("GONGKAI_SUPERVISOR_ROLES", ""), "roles of the supervising body's contacts told of escalations (default: every role)")
	templateDir := fs.String("template-dir", daemon.Env("GONGKAI_TEMPLATE_DIR", ""), "directory of templates overriding the embedded ones, file by file")
	webhooks := fs.String("webhook-url", daemon.Env("GONGKAI_WEBHOOK_URLS", ""), "webhook URLs receiving a signed JSON post per finding, comma-separated")
	webhookSecret := fs.String("webhook-secret", "", "HMAC-SHA256 key of the webhook signatures (env GONGKAI_WEBHOOK_SECRET, preferred)")
	rate := fs.Float64("rate-per-domain", envFloat("GONGKAI_RATE_PER_DOMAIN", notifier.DefaultDomainRate), "deliveries per second per destination domain (negative: unlimited)")
	workers := fs.Int("workers", notifier.DefaultWorkers, "concurrent deliveries")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "gongkai-notifier:", err)
		return 2
	}
	if (*smtpURL == "") == (*outbox == "") {
		return fail(fmt.Errorf("give exactly one of --smtp-url and --outbox"))
	}
	if *webhookSecret == "" {
		*webhookSecret = os.Getenv("GONGKAI_WEBHOOK_SECRET")
	}
	sevs, err := severities(*immediate)
	if err != nil {
		return fail(err)
	}
	var hooks []notifier.Webhook
	for _, u := range list(*webhooks) {
		hooks = append(hooks, notifier.Webhook{URL: u, Secret: *webhookSecret})
	}
	var tr notifier.Transport
	if *smtpURL != "" {
		var opts []notifier.SMTPOption
		if *smtpCA != "" {
			pem, err := os.ReadFile(*smtpCA)
			if err != nil {
				return fail(err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return fail(fmt.Errorf("%s: no PEM certificate", *smtpCA))
			}
			opts = append(opts, notifier.WithTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
		}
		opts = append(opts, notifier.WithMaxIdle(*workers))
		tr, err = notifier.NewSMTP(*smtpURL, opts...)
	} else {
		tr, err = notifier.NewOutbox(*outbox)
	}
	if err != nil {
		return fail(err)
	}
	rt, err := c.Open("notifier", stderr)
	if err != nil {
		return fail(err)
	}
	svc, err := notifier.New(notifier.Options{
		JetStream: rt.JS, Topology: rt.Topology, Registry: rt.Registry, Transport: tr,
		From: *from, DashboardURL: *dashboard, DigestAt: *digestAt, ImmediateSeverities: sevs,
		Roles: list(*roles), SupervisorRoles: list(*supRoles), TemplateDir: *templateDir,
		Webhooks: hooks, DomainRate: *rate, Workers: *workers,
		Logger: rt.Log, Registerer: rt.Metrics,
	})
	if err != nil {
		rt.Conn.Close()
		return fail(err)
	}
	return rt.Serve(c.HTTP, svc.Run, svc.Ready, stderr)
}

// list splits a comma-separated flag value, dropping empty items.
func list(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// severities parses the --immediate flag; "none" sends nothing at once to
// digest-mode contacts.
func severities(s string) ([]events.Severity, error) {
	out := []events.Severity{}
	for _, x := range list(s) {
		switch sv := events.Severity(x); sv {
		case events.SeverityInfo, events.SeverityWarning, events.SeverityCritical:
			out = append(out, sv)
		case "none":
		default:
			return nil, fmt.Errorf("--immediate %q: want info, warning, critical or none", x)
		}
	}
	return out, nil
}

func envFloat(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil {
		return v
	}
	return def
}
