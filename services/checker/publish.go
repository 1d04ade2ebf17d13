package checker

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// publishAckTimeout bounds the wait for a publish's acknowledgement, and
// how long a publish waits for room when the client library's limit of
// publishes in flight is reached (back-pressure on the caller rather than
// a failed publish).
const publishAckTimeout = 10 * time.Second

// errNotSent marks a publish the client library refused to send: certainly
// not stored.
var errNotSent = errors.New("not sent")

// asyncPublisher publishes without waiting for the server and calls each
// message's callback once with the server's acknowledgement or the error.
// The callbacks are called by the client library (on its acknowledgement
// subscription, or from a time-out with its publisher lock held): they
// must not block and must not publish through the same asyncPublisher.
// A callback per acknowledgement costs less than a goroutine waiting on
// each publish's future.
type asyncPublisher struct {
	js      jetstream.JetStream
	mu      sync.Mutex
	pending map[*nats.Msg]func(*jetstream.PubAck, error)
}

// newAsyncPublisher returns a publisher on js's connection, with js's API
// prefix or domain; maxPending, when positive, replaces the client
// library's limit of 4,000 publishes in flight.
func newAsyncPublisher(js jetstream.JetStream, maxPending int) (*asyncPublisher, error) {
	p := &asyncPublisher{pending: map[*nats.Msg]func(*jetstream.PubAck, error){}}
	opts := []jetstream.JetStreamOpt{
		jetstream.WithPublishAsyncAckHandler(func(_ jetstream.JetStream, m *nats.Msg, ack *jetstream.PubAck) { p.answered(m, ack, nil) }),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, m *nats.Msg, err error) { p.answered(m, nil, err) }),
		jetstream.WithPublishAsyncTimeout(publishAckTimeout),
	}
	if maxPending > 0 {
		opts = append(opts, jetstream.WithPublishAsyncMaxPending(maxPending))
	}
	var err error
	switch o := js.Options(); {
	case o.Domain != "":
		p.js, err = jetstream.NewWithDomain(js.Conn(), o.Domain, opts...)
	case o.APIPrefix != "":
		p.js, err = jetstream.NewWithAPIPrefix(js.Conn(), o.APIPrefix, opts...)
	default:
		p.js, err = jetstream.New(js.Conn(), opts...)
	}
	return p, err
}

// publish sends m; done is called once with the acknowledgement or the
// error (wrapping errNotSent when m was not sent at all).
func (p *asyncPublisher) publish(m *nats.Msg, done func(*jetstream.PubAck, error), opts ...jetstream.PublishOpt) {
	p.mu.Lock()
	p.pending[m] = done
	p.mu.Unlock()
	if _, err := p.js.PublishMsgAsync(m, append(opts, jetstream.WithStallWait(publishAckTimeout))...); err != nil {
		p.answered(m, nil, fmt.Errorf("%w: %w", errNotSent, err))
	}
}

// answered calls m's callback, the first time only.
func (p *asyncPublisher) answered(m *nats.Msg, ack *jetstream.PubAck, err error) {
	p.mu.Lock()
	done := p.pending[m]
	delete(p.pending, m)
	p.mu.Unlock()
	if done != nil {
		done(ack, err)
	}
}

// complete is closed when no publish is in flight.
func (p *asyncPublisher) complete() <-chan struct{} { return p.js.PublishAsyncComplete() }
