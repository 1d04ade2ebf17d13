// Package events is gongkai's wire contract: the event envelope, the typed
// payloads that travel between the ingest, checker and notifier services, the
// NATS subject names, and the one definition of every JetStream stream,
// consumer, key-value bucket and object store the services use.
//
// Nothing else lives here. Other programs (dashboards, exporters, a
// province's own tooling) may import this package to read gongkai's streams.
//
// # Envelope
//
// Every message body is a CloudEvents-style JSON [Event]: specversion, id,
// source, type, subject, time, datacontenttype and data. The type names carry
// a version suffix (for example "gongkai.observation.v1"); data holds the
// payload for that type.
//
// # How the contract evolves
//
// The rules below keep old consumers working while producers move on:
//
//   - Adding an optional field to a payload is compatible. Consumers must
//     ignore fields they do not know (encoding/json does) and producers must
//     not rely on new fields being read.
//   - Removing a field, renaming it, changing its type or its meaning, or
//     making an optional field required is a breaking change: it gets a new
//     type name with the next version ("gongkai.finding.v2"). During a
//     migration producers publish both versions; consumers accept every
//     version they know and terminate (with a counted reason) the ones they
//     do not.
//   - Subjects, stream names and bucket names are part of the contract. A new
//     stream or bucket may be added at any time; an existing one is never
//     repurposed.
//   - Stream and consumer settings are provisioned idempotently by every
//     service at start-up with [Provision]; changing a setting is a change to
//     this package, reviewed like any other contract change.
package events
