package events

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// HeaderType carries the event type on every message, so consumers can route
// or discard without decoding the body.
const HeaderType = "Ce-Type"

// Publish publishes ev on subject with ev.ID as the JetStream message id, so
// the stream drops a second copy published within its duplicate window. The
// returned PubAck reports Duplicate when that happened.
func Publish(ctx context.Context, js jetstream.JetStream, subject string, ev Event) (*jetstream.PubAck, error) {
	body, err := ev.Marshal()
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", ev.Type, err)
	}
	msg := nats.NewMsg(subject)
	msg.Data = body
	msg.Header.Set(HeaderType, ev.Type)
	ack, err := js.PublishMsg(ctx, msg, jetstream.WithMsgID(ev.ID))
	if err != nil {
		return nil, fmt.Errorf("publish %s %s on %s: %w", ev.Type, ev.ID, subject, err)
	}
	return ack, nil
}
