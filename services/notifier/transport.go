package notifier

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/wneessen/go-mail"
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

func (e *TemporaryError) Error() string { return "temporary: " + e.Err.Error() }
func (e *TemporaryError) Unwrap() error { return e.Err }

// SMTP sends through an SMTP server with go-mail: STARTTLS when offered
// (or required), authentication when a user is given.
type SMTP struct {
	client *mail.Client
	addr   string
}

// NewSMTP parses an SMTP URL:
//
//	smtp://[user:password@]host[:port][?tls=opportunistic|mandatory|none]
//	smtps://[user:password@]host[:port]   (implicit TLS, default port 465)
//
// The default port of smtp:// is 587, and its default TLS policy is
// opportunistic STARTTLS.
func NewSMTP(rawURL string) (*SMTP, error) {
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
	opts = append(opts, mail.WithPort(port), mail.WithTimeout(30*time.Second))
	if u.User != nil && u.User.Username() != "" {
		pw, _ := u.User.Password()
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(u.User.Username()), mail.WithPassword(pw))
	}
	c, err := mail.NewClient(u.Hostname(), opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client: %w", err)
	}
	return &SMTP{client: c, addr: u.Host}, nil
}

// Channel implements Transport.
func (s *SMTP) Channel() string { return "smtp" }

// Send implements Transport. 5xx replies are permanent; 4xx replies and
// network failures are temporary.
func (s *SMTP) Send(ctx context.Context, _ string, m *mail.Msg) error {
	err := s.client.DialAndSendWithContext(ctx, m)
	if err == nil {
		return nil
	}
	var se *mail.SendError
	if errors.As(err, &se) && se.ErrorCode() >= 500 {
		return fmt.Errorf("smtp %s: %w", s.addr, err)
	}
	return &TemporaryError{fmt.Errorf("smtp %s: %w", s.addr, err)}
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
