package notifier

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// Transport delivers a composed message.
type Transport interface {
	// Send delivers m. A returned error wrapped in TemporaryError may
	// succeed later; any other error is permanent.
	Send(ctx context.Context, id string, m *mail.Msg) error
	// Channel names the transport in notices: "smtp" or "outbox".
	Channel() string
}

// TemporaryError marks a delivery failure worth retrying.
type TemporaryError struct{ Err error }

// Error implements error.
func (e *TemporaryError) Error() string { return "temporary: " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *TemporaryError) Unwrap() error { return e.Err }

// SMTPOption configures an SMTP transport.
type SMTPOption func(*smtpConfig)

type smtpConfig struct {
	tls      *tls.Config
	maxIdle  int
	timeout  time.Duration
	idleTime time.Duration
}

// WithTLSConfig sets the TLS configuration (for example a private CA).
func WithTLSConfig(c *tls.Config) SMTPOption { return func(o *smtpConfig) { o.tls = c } }

// WithMaxIdle sets how many connections are kept open between messages;
// default 4 (one per notifier worker). 0 dials for every message.
func WithMaxIdle(n int) SMTPOption { return func(o *smtpConfig) { o.maxIdle = n } }

// WithTimeout sets the time-out of each SMTP command; default 30 s.
func WithTimeout(d time.Duration) SMTPOption { return func(o *smtpConfig) { o.timeout = d } }

// SMTP sends through an SMTP server with go-mail: STARTTLS when offered
// (or required), authentication when a user is given. Connections are
// reused: a batch of digests costs one TLS handshake and one AUTH per
// worker, not per message.
type SMTP struct {
	client   *mail.Client
	addr     string
	maxIdle  int
	idleTime time.Duration

	mu   sync.Mutex
	idle []idleConn
}

type idleConn struct {
	c     *smtp.Client
	since time.Time
}

// NewSMTP parses an SMTP URL:
//
//	smtp://[user:password@]host[:port][?tls=opportunistic|mandatory|none]
//	smtps://[user:password@]host[:port]   (implicit TLS, default port 465)
//
// The default port of smtp:// is 587, and its default TLS policy is
// opportunistic STARTTLS.
func NewSMTP(rawURL string, options ...SMTPOption) (*SMTP, error) {
	cfg := smtpConfig{maxIdle: 4, timeout: 30 * time.Second, idleTime: 15 * time.Second}
	for _, o := range options {
		o(&cfg)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("smtp url: %w", err)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("smtp url %q: no host", u.Redacted())
	}
	var opts []mail.Option
	port := 587
	switch u.Scheme {
	case "smtp":
		switch u.Query().Get("tls") {
		case "", "opportunistic":
			opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
		case "mandatory":
			opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
		case "none":
			opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
		default:
			return nil, fmt.Errorf("smtp url %q: tls=%q, want opportunistic, mandatory or none", u.Redacted(), u.Query().Get("tls"))
		}
	case "smtps":
		port = 465
		opts = append(opts, mail.WithSSL())
	default:
		return nil, fmt.Errorf("smtp url %q: scheme %q, want smtp or smtps", u.Redacted(), u.Scheme)
	}
	if p := u.Port(); p != "" {
		port, err = strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("smtp url %q: port: %w", u.Redacted(), err)
		}
	}
	opts = append(opts, mail.WithPort(port), mail.WithTimeout(cfg.timeout))
	if cfg.tls != nil {
		opts = append(opts, mail.WithTLSConfig(cfg.tls))
	}
	if u.User != nil && u.User.Username() != "" {
		pw, _ := u.User.Password()
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(u.User.Username()), mail.WithPassword(pw))
	}
	c, err := mail.NewClient(u.Hostname(), opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client: %w", err)
	}
	return &SMTP{client: c, addr: u.Host, maxIdle: cfg.maxIdle, idleTime: cfg.idleTime}, nil
}

// Channel implements Transport.
func (s *SMTP) Channel() string { return "smtp" }

// Send implements Transport. 5xx replies and malformed addresses are
// permanent; 4xx replies and network failures (including a failed dial,
// STARTTLS or AUTH: a configuration error must not drop notices) are
// temporary. A message the server accepted is a success even if the
// connection fails afterwards (RSET, QUIT).
func (s *SMTP) Send(ctx context.Context, _ string, m *mail.Msg) error {
	for {
		c, reused := s.get()
		if c == nil {
			var err error
			c, err = s.client.DialToSMTPClientWithContext(ctx)
			if err != nil {
				return &TemporaryError{fmt.Errorf("smtp %s: dial: %w", s.addr, err)}
			}
		}
		err := s.client.SendWithSMTPClient(c, m)
		if err == nil {
			s.put(c)
			return nil
		}
		_ = s.client.CloseWithSMTPClient(c)
		if m.IsDelivered() {
			return nil
		}
		var se *mail.SendError
		if reused && errors.As(err, &se) && se.Reason == mail.ErrConnCheck {
			continue // the idle connection had gone stale; nothing was sent
		}
		return classifySMTP(s.addr, err)
	}
}

func classifySMTP(addr string, err error) error {
	var se *mail.SendError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		switch {
		case code >= 500:
			return fmt.Errorf("smtp %s: %w", addr, err)
		case code == 0 && (se.Reason == mail.ErrGetSender || se.Reason == mail.ErrGetRcpts || se.Reason == mail.ErrNoUnencoded):
			return fmt.Errorf("smtp %s: %w", addr, err)
		}
	}
	return &TemporaryError{fmt.Errorf("smtp %s: %w", addr, err)}
}

func (s *SMTP) get() (*smtp.Client, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.idle) > 0 {
		ic := s.idle[len(s.idle)-1]
		s.idle = s.idle[:len(s.idle)-1]
		if time.Since(ic.since) < s.idleTime {
			return ic.c, true
		}
		go func() { _ = s.client.CloseWithSMTPClient(ic.c) }()
	}
	return nil, false
}

func (s *SMTP) put(c *smtp.Client) {
	s.mu.Lock()
	if len(s.idle) < s.maxIdle {
		s.idle = append(s.idle, idleConn{c: c, since: time.Now()})
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	_ = s.client.CloseWithSMTPClient(c)
}

// CloseIdle closes the connections kept for reuse (QUIT). The notifier calls
// it when it stops.
func (s *SMTP) CloseIdle() {
	s.mu.Lock()
	idle := s.idle
	s.idle = nil
	s.mu.Unlock()
	for _, ic := range idle {
		_ = s.client.CloseWithSMTPClient(ic.c)
	}
}

// Outbox writes each message as an .eml file in a directory, for the
// single-machine default with no mail server.
type Outbox struct{ dir string }

// NewOutbox creates dir if needed.
func NewOutbox(dir string) (*Outbox, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return &Outbox{dir: dir}, nil
}

// Channel implements Transport.
func (o *Outbox) Channel() string { return "outbox" }

// Dir returns the outbox directory.
func (o *Outbox) Dir() string { return o.dir }

// Send implements Transport: the file appears atomically under its notice
// id, so a repeated send overwrites rather than doubles.
func (o *Outbox) Send(_ context.Context, id string, m *mail.Msg) error {
	tmp, err := os.CreateTemp(o.dir, ".tmp-*.eml")
	if err != nil {
		return &TemporaryError{fmt.Errorf("outbox: %w", err)}
	}
	defer os.Remove(tmp.Name())
	if _, err := m.WriteTo(tmp); err != nil {
		tmp.Close()
		return &TemporaryError{fmt.Errorf("outbox: write: %w", err)}
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return &TemporaryError{fmt.Errorf("outbox: sync: %w", err)}
	}
	if err := tmp.Close(); err != nil {
		return &TemporaryError{fmt.Errorf("outbox: close: %w", err)}
	}
	if err := os.Rename(tmp.Name(), filepath.Join(o.dir, id+".eml")); err != nil {
		return &TemporaryError{fmt.Errorf("outbox: %w", err)}
	}
	return nil
}
