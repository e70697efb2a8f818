package logging

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestCredentialAttributesAreRedacted(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			log := New(&buf, slog.LevelDebug, format)
			log.Info("call", "access_token", "tok-1", "Authorization", "Bearer tok-2",
				slog.Group("oauth", "client_secret", "tok-3"), "user", "alice")
			out := buf.String()
			for _, leak := range []string{"tok-1", "tok-2", "tok-3"} {
				if strings.Contains(out, leak) {
					t.Errorf("log output leaks %s: %s", leak, out)
				}
			}
			if !strings.Contains(out, "alice") || !strings.Contains(out, "[REDACTED]") {
				t.Errorf("log output = %s, want other attributes kept and credentials redacted", out)
			}
		})
	}
}

func TestLevel(t *testing.T) {
	var buf bytes.Buffer
	New(&buf, slog.LevelWarn, "json").Info("hidden")
	if buf.Len() != 0 {
		t.Errorf("info logged at warn level: %s", buf.String())
	}
}
