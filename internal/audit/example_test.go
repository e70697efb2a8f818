package audit_test

import (
	"fmt"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/audit"
)

// A write's intent, recorded durably before the Gitea request goes out,
// and its outcome. With Path "-" the records go to standard output.
func ExampleLog_Record() {
	l, err := audit.Open(audit.Options{Path: "-", Now: func() time.Time {
		return time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC)
	}})
	if err != nil {
		panic(err)
	}
	e := audit.Event{
		RequestID:       "req-7f3a",
		Kind:            audit.KindToolInvocation,
		Phase:           audit.PhaseIntent,
		Caller:          audit.Caller{UserID: 7, Login: "alice", ClientID: "claude-desktop", Transport: audit.TransportStreamable, Session: "3f1c9a", RemoteAddr: "192.0.2.10:51234"},
		Tool:            "create_file",
		Target:          audit.Target{Owner: "acme", Repo: "widgets", Ref: "main", Paths: []string{"docs/intro.md"}},
		ArgumentsSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Decision:        audit.DecisionAllow,
		Rule:            "acme/widgets: write",
	}
	if _, err := l.Record(e, true); err != nil {
		panic(err) // the server refuses the call
	}
	e.Phase, e.Outcome, e.GiteaStatus, e.DurationMS = audit.PhaseOutcome, audit.OutcomeOK, 201, 84
	if _, err := l.Record(e, false); err != nil {
		panic(err)
	}
	fmt.Println(l.Head())
	// Output:
	// {"time":"2025-06-01T12:00:00.123456789Z","request_id":"req-7f3a","event":"tool_invocation","phase":"intent","caller":{"user_id":7,"login":"alice","client_id":"claude-desktop","transport":"streamable","session":"3f1c9a","remote_addr":"192.0.2.10:51234"},"tool":"create_file","target":{"owner":"acme","repo":"widgets","ref":"main","paths":["docs/intro.md"]},"arguments_sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","decision":"allow","rule":"acme/widgets: write","seq":1,"prev_hash":"0000000000000000000000000000000000000000000000000000000000000000","entry_hash":"b523fd81385f5600a785d8cec0f1dc91db02d5047f2b7cd160bfbce3ad5d1cb4"}
	// {"time":"2025-06-01T12:00:00.123456789Z","request_id":"req-7f3a","event":"tool_invocation","phase":"outcome","caller":{"user_id":7,"login":"alice","client_id":"claude-desktop","transport":"streamable","session":"3f1c9a","remote_addr":"192.0.2.10:51234"},"tool":"create_file","target":{"owner":"acme","repo":"widgets","ref":"main","paths":["docs/intro.md"]},"arguments_sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","decision":"allow","rule":"acme/widgets: write","outcome":"ok","gitea_status":201,"duration_ms":84,"seq":2,"prev_hash":"b523fd81385f5600a785d8cec0f1dc91db02d5047f2b7cd160bfbce3ad5d1cb4","entry_hash":"407e53a9364be8cf2e65475cb696175335bdbbaf200435de9b25023ff0f49445"}
	// 2 407e53a9364be8cf2e65475cb696175335bdbbaf200435de9b25023ff0f49445
}
