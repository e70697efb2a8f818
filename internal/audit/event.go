package audit

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Event is one audit record. Its JSON keys are stable; a key whose value is
// zero is left out (absent), except time, event, seq, prev_hash and
// entry_hash, which every record has. The type has no field for a token,
// a credential or the content of tool arguments, and must never get one:
// arguments are recorded only as their SHA-256.
//
// [Log.Record] fills Time, Seq, PrevHash and EntryHash and ignores what the
// caller put there. Seq, PrevHash and EntryHash must stay the last three
// fields, in this order: the chain is computed by appending them to the
// encoding of the others.
type Event struct {
	Time      time.Time `json:"time"`                 // set by Record: UTC, RFC 3339 with nanoseconds
	RequestID string    `json:"request_id,omitempty"` // the HTTP X-Request-ID
	Kind      Kind      `json:"event"`
	Phase     Phase     `json:"phase,omitempty"` // for writes: intent before the Gitea request, outcome after
	Caller    Caller    `json:"caller,omitzero"`
	Tool      string    `json:"tool,omitempty"`
	Target    Target    `json:"target,omitzero"`
	// ArgumentsSHA256 is the lowercase hex SHA-256 of the call's arguments,
	// never the arguments themselves.
	ArgumentsSHA256 string   `json:"arguments_sha256,omitempty"`
	Decision        Decision `json:"decision,omitempty"`
	Rule            string   `json:"rule,omitempty"`    // the policy rule that decided
	Outcome         Outcome  `json:"outcome,omitempty"` // a short code: lowercase letters and _
	// Reason must be a fixed, short text chosen by the code (a constant),
	// never an error message, user input or anything from Gitea: those can
	// carry secrets or content.
	Reason      string `json:"reason,omitempty"`
	GiteaStatus int    `json:"gitea_status,omitempty"` // HTTP status of the Gitea request; absent when none was made
	DurationMS  int64  `json:"duration_ms,omitempty"`

	Seq       int64  `json:"seq,omitempty"`        // set by Record: 1 for the first record of each file
	PrevHash  string `json:"prev_hash,omitempty"`  // set by Record
	EntryHash string `json:"entry_hash,omitempty"` // set by Record
}

// Caller is who made the call and how.
type Caller struct {
	UserID     int64     `json:"user_id,omitempty"` // the Gitea user id
	Login      string    `json:"login,omitempty"`
	ClientID   string    `json:"client_id,omitempty"` // the OAuth client
	Transport  Transport `json:"transport,omitempty"`
	Session    string    `json:"session,omitempty"` // the MCP session id
	RemoteAddr string    `json:"remote_addr,omitempty"`
}

// Target is what the call acts on. Record keeps at most [MaxPaths] paths
// and counts the others in PathsOmitted.
type Target struct {
	Owner        string   `json:"owner,omitempty"`
	Repo         string   `json:"repo,omitempty"`
	Ref          string   `json:"ref,omitempty"`
	Paths        []string `json:"paths,omitempty"`
	PathsOmitted int      `json:"paths_omitted,omitempty"`
	Number       int64    `json:"number,omitempty"` // issue or pull request
}

// Kind is what a record is about (JSON key "event").
type Kind string

// The kinds of record.
const (
	KindToolInvocation Kind = "tool_invocation"
	KindAccessDenied   Kind = "access_denied"
	KindSecurityEvent  Kind = "security_event"
	KindPolicyReload   Kind = "policy_reload"
)

// Phase splits a write into the record made before the Gitea request and
// the one made after it. Single records have none.
type Phase string

// The phases of a write.
const (
	PhaseIntent  Phase = "intent"
	PhaseOutcome Phase = "outcome"
)

// Transport is how the call reached the server.
type Transport string

// The transports.
const (
	TransportStreamable Transport = "streamable"
	TransportSSE        Transport = "sse"
	TransportToolCall   Transport = "tool_call"
	TransportStdio      Transport = "stdio"
)

// Decision is the policy's verdict.
type Decision string

// The decisions.
const (
	DecisionAllow Decision = "allow"
	DecisionDeny  Decision = "deny"
)

// Outcome is how a call ended. Any code of lowercase letters and
// underscores up to 32 bytes is accepted; these are the common ones.
type Outcome string

// Common outcomes.
const (
	OutcomeOK         Outcome = "ok"
	OutcomeToolError  Outcome = "tool_error"
	OutcomeRefused    Outcome = "refused"
	OutcomeGiteaError Outcome = "gitea_error"
	OutcomeCanceled   Outcome = "canceled"
)

// ReasonTornTail is the reason of the security_event that [Open] writes
// first into a new file when the previous one ended with a torn line.
const ReasonTornTail = "previous audit file ended with a torn line"

// Bounds on what a record holds, so that a line stays small and is written
// in one call.
const (
	MaxFieldBytes = 256 // any string field, paths included; longer ones are cut and end in "..."
	MaxPaths      = 16  // paths kept in Target
)

// ErrInvalidEvent reports an event Record refuses: an unknown kind, phase,
// decision or transport, an outcome that is not a code, a malformed
// arguments hash or a negative number. The log stays usable.
var ErrInvalidEvent = errors.New("audit: invalid event")

// normalize bounds every string of e, drops invalid UTF-8, copies the
// paths (the caller's slice is not kept) and clears what Record fills.
func normalize(e *Event) {
	for _, s := range []*string{
		&e.RequestID, &e.Tool, &e.Rule, &e.Reason,
		&e.Caller.Login, &e.Caller.ClientID, &e.Caller.Session, &e.Caller.RemoteAddr,
		&e.Target.Owner, &e.Target.Repo, &e.Target.Ref,
	} {
		*s = clamp(*s)
	}
	e.Outcome = Outcome(clamp(string(e.Outcome)))
	e.ArgumentsSHA256 = clamp(e.ArgumentsSHA256)
	paths := e.Target.Paths
	e.Target.Paths = nil
	if n := len(paths) - MaxPaths; n > 0 {
		e.Target.PathsOmitted += n
		paths = paths[:MaxPaths]
	}
	for _, p := range paths {
		e.Target.Paths = append(e.Target.Paths, clamp(p))
	}
	e.Time, e.Seq, e.PrevHash, e.EntryHash = time.Time{}, 0, "", ""
}

// clamp returns s as valid UTF-8 of at most MaxFieldBytes bytes.
func clamp(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= MaxFieldBytes {
		return s
	}
	cut := MaxFieldBytes - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// validate reports why Record refuses e, after normalize.
func validate(e *Event) error {
	bad := func(field string, v any) error {
		return fmt.Errorf("%w: %s %q", ErrInvalidEvent, field, fmt.Sprint(v))
	}
	switch e.Kind {
	case KindToolInvocation, KindAccessDenied, KindSecurityEvent, KindPolicyReload:
	default:
		return bad("event", e.Kind)
	}
	switch e.Phase {
	case "", PhaseIntent, PhaseOutcome:
	default:
		return bad("phase", e.Phase)
	}
	switch e.Decision {
	case "", DecisionAllow, DecisionDeny:
	default:
		return bad("decision", e.Decision)
	}
	switch e.Caller.Transport {
	case "", TransportStreamable, TransportSSE, TransportToolCall, TransportStdio:
	default:
		return bad("transport", e.Caller.Transport)
	}
	if e.Outcome != "" && (len(e.Outcome) > 32 || strings.Trim(string(e.Outcome), "abcdefghijklmnopqrstuvwxyz_") != "") {
		return bad("outcome", e.Outcome)
	}
	if e.ArgumentsSHA256 != "" && !isHash(e.ArgumentsSHA256) {
		return fmt.Errorf("%w: arguments_sha256 is not a lowercase hex SHA-256", ErrInvalidEvent)
	}
	if e.GiteaStatus != 0 && (e.GiteaStatus < 100 || e.GiteaStatus > 599) {
		return bad("gitea_status", e.GiteaStatus)
	}
	for _, f := range []struct {
		name string
		n    int64
	}{
		{"duration_ms", e.DurationMS}, {"caller.user_id", e.Caller.UserID},
		{"target.number", e.Target.Number}, {"target.paths_omitted", int64(e.Target.PathsOmitted)},
	} {
		if f.n < 0 {
			return bad(f.name, f.n)
		}
	}
	return nil
}

// isHash reports whether s is 64 lowercase hex digits.
func isHash[T string | []byte](s T) bool {
	if len(s) != 64 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
