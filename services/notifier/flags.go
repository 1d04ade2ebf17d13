package notifier

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/gongkai/gongkai/pkg/events"
)

// Flags are the notifier's command-line settings, shared by the all-in-one
// binary (gongkai run) and gongkai-notifier. Every flag also reads a
// GONGKAI_* environment variable.
type Flags struct {
	SMTPURL, SMTPCA, Outbox, From, DashboardURL string
	DigestAt, Immediate, Roles, SupervisorRoles string
	TemplateDir, WebhookURLs, WebhookSecret     string
	Rate                                        float64
	Workers                                     int
}

// Register defines the flags on fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	env := func(name, def string) string {
		if v, ok := os.LookupEnv(name); ok {
			return v
		}
		return def
	}
	fs.StringVar(&f.SMTPURL, "smtp-url", env("GONGKAI_SMTP_URL", ""), "SMTP server, smtp://user:pass@host:587 (env GONGKAI_SMTP_URL)")
	fs.StringVar(&f.SMTPCA, "smtp-ca-file", env("GONGKAI_SMTP_CA_FILE", ""), "PEM file of the CA that signed the SMTP server's certificate (default: the system roots)")
	fs.StringVar(&f.From, "from", env("GONGKAI_FROM", "gongkai@localhost"), "sender address of notices")
	fs.StringVar(&f.DashboardURL, "dashboard-url", env("GONGKAI_DASHBOARD_URL", ""), "dashboard base URL linked from notices (DASHBOARD/agencies/ID)")
	fs.StringVar(&f.DigestAt, "digest-at", env("GONGKAI_DIGEST_AT", DefaultDigestAt), "local time of the daily digest, HH:MM, on working days of each recipient's calendar")
	fs.StringVar(&f.Immediate, "immediate", env("GONGKAI_IMMEDIATE", "critical"), "severities sent at once even to digest-mode contacts, comma-separated (info, warning, critical; \"none\")")
	fs.StringVar(&f.Roles, "roles", env("GONGKAI_ROLES", ""), "contact roles notified about their own agency, comma-separated (default: every role)")
	fs.StringVar(&f.SupervisorRoles, "supervisor-roles", env("GONGKAI_SUPERVISOR_ROLES", ""), "roles of the supervising body's contacts told of escalations (default: every role)")
	fs.StringVar(&f.TemplateDir, "template-dir", env("GONGKAI_TEMPLATE_DIR", ""), "directory of templates overriding the embedded ones, file by file")
	fs.StringVar(&f.WebhookURLs, "webhook-url", env("GONGKAI_WEBHOOK_URLS", ""), "webhook URLs receiving a signed JSON post per finding, comma-separated")
	fs.StringVar(&f.WebhookSecret, "webhook-secret", "", "HMAC-SHA256 key of the webhook signatures (env GONGKAI_WEBHOOK_SECRET, preferred)")
	rate := DefaultDomainRate
	if v, err := strconv.ParseFloat(os.Getenv("GONGKAI_RATE_PER_DOMAIN"), 64); err == nil {
		rate = v
	}
	fs.Float64Var(&f.Rate, "rate-per-domain", rate, "deliveries per second per destination domain (negative: unlimited)")
	fs.IntVar(&f.Workers, "notify-workers", DefaultWorkers, "concurrent deliveries")
}

// Transport builds the delivery transport: SMTP when an SMTP URL is set,
// otherwise the outbox directory (defaultOutbox when --outbox is not a
// flag of the program).
func (f *Flags) Transport(outbox string) (Transport, error) {
	if f.Outbox != "" {
		outbox = f.Outbox
	}
	if f.SMTPURL == "" {
		if outbox == "" {
			return nil, errors.New("give an SMTP URL (--smtp-url) or an outbox directory")
		}
		return NewOutbox(outbox)
	}
	var opts []SMTPOption
	if f.SMTPCA != "" {
		pem, err := os.ReadFile(f.SMTPCA)
		if err != nil {
			return nil, fmt.Errorf("--smtp-ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--smtp-ca-file %s: no PEM certificate", f.SMTPCA)
		}
		opts = append(opts, WithTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	}
	opts = append(opts, WithMaxIdle(f.Workers))
	return NewSMTP(f.SMTPURL, opts...)
}

// Apply copies the settings into o.
func (f *Flags) Apply(o *Options) error {
	sevs, err := parseSeverities(f.Immediate)
	if err != nil {
		return err
	}
	secret := f.WebhookSecret
	if secret == "" {
		secret = os.Getenv("GONGKAI_WEBHOOK_SECRET")
	}
	var hooks []Webhook
	for _, u := range splitList(f.WebhookURLs) {
		hooks = append(hooks, Webhook{URL: u, Secret: secret})
	}
	o.From, o.DashboardURL, o.DigestAt, o.ImmediateSeverities = f.From, f.DashboardURL, f.DigestAt, sevs
	o.Roles, o.SupervisorRoles, o.TemplateDir = splitList(f.Roles), splitList(f.SupervisorRoles), f.TemplateDir
	o.Webhooks, o.DomainRate, o.Workers = hooks, f.Rate, f.Workers
	return nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// parseSeverities parses the --immediate flag; "none" sends nothing at once
// to digest-mode contacts.
func parseSeverities(s string) ([]events.Severity, error) {
	out := []events.Severity{}
	for _, x := range splitList(s) {
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
