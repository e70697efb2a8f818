// Package logging builds the server's structured logger. Besides choosing
// the format and level, it redacts any attribute whose key names a
// credential, as a last line of defence: code should never log one anyway.
package logging

import (
	"io"
	"log/slog"
	"strings"
)

// sensitiveKeys are substrings of attribute keys whose values are never logged.
var sensitiveKeys = []string{"token", "secret", "password", "authorization", "cookie", "credential"}

// New returns a logger writing to w in format "json" or "text" (anything
// else means json) at level.
func New(w io.Writer, level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: redact}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func redact(_ []string, a slog.Attr) slog.Attr {
	key := strings.ToLower(a.Key)
	for _, s := range sensitiveKeys {
		if strings.Contains(key, s) {
			return slog.String(a.Key, "[REDACTED]")
		}
	}
	return a
}
