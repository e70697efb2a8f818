package tools

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestActFitTail(t *testing.T) {
	tests := []struct {
		name  string
		log   string
		limit int
	}{
		{name: "fits", log: "ok\n", limit: 100},
		{name: "escaped newlines", log: strings.Repeat("a\n", 100), limit: 150},
		{name: "html escapes", log: strings.Repeat("<&>", 50), limit: 200},
		{name: "multibyte", log: strings.Repeat("é\"", 80), limit: 101},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dropped := actFitTail(UserText(tt.log), tt.limit)
			b, _ := json.Marshal(got)
			if len(b) > tt.limit || !strings.HasSuffix(tt.log, string(got)) || dropped != len(tt.log)-len(got) || !utf8.ValidString(string(got)) {
				t.Errorf("actFitTail(%q, %d) = %q (JSON %d bytes), dropped %d", tt.log, tt.limit, got, len(b), dropped)
			}
			if len(b) < tt.limit-6 && dropped > 0 {
				t.Errorf("actFitTail(%q, %d) dropped %d bytes more than needed: JSON %d bytes", tt.log, tt.limit, dropped, len(b))
			}
		})
	}
}

func TestActFitTailTinyLimit(t *testing.T) {
	if got, dropped := actFitTail("some log", 1); got != "" || dropped != len("some log") {
		t.Errorf("actFitTail with limit 1 = %q, %d; want everything dropped", got, dropped)
	}
}
