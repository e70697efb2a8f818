package config

import "log/slog"

const redacted = "[REDACTED]"

// Secret holds a credential. Every way of printing, logging or marshalling it
// yields "[REDACTED]"; only [Secret.Reveal] returns the value.
type Secret struct{ value string }

// NewSecret wraps a value read by other means (tests, other sources).
func NewSecret(value string) Secret { return Secret{value: value} }

// Reveal returns the secret's value. Call it only where the value is sent
// to the party it belongs to.
func (s Secret) Reveal() string { return s.value }

// IsSet reports whether the secret has a non-empty value.
func (s Secret) IsSet() bool { return s.value != "" }

func (Secret) String() string               { return redacted }
func (Secret) GoString() string             { return redacted }
func (Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
