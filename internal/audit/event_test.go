package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// documentedKeys are the JSON keys of a record, as the package
// documentation lists them.
var documentedKeys = []string{
	"time", "request_id", "event", "phase",
	"caller", "caller.user_id", "caller.login", "caller.client_id", "caller.transport", "caller.session", "caller.remote_addr",
	"tool",
	"target", "target.owner", "target.repo", "target.ref", "target.paths", "target.paths_omitted", "target.number",
	"arguments_sha256", "decision", "rule", "outcome", "reason", "gitea_status", "duration_ms",
	"seq", "prev_hash", "entry_hash",
}

// full is an event with every field set.
func full() Event {
	return Event{
		Time: time.Date(2025, 6, 1, 12, 0, 0, 1, time.UTC), RequestID: "req-1", Kind: KindToolInvocation, Phase: PhaseIntent,
		Caller:          Caller{UserID: 7, Login: "alice", ClientID: "claude", Transport: TransportSSE, Session: "s-1", RemoteAddr: "192.0.2.1:5000"},
		Tool:            "create_file",
		Target:          Target{Owner: "acme", Repo: "widgets", Ref: "main", Paths: []string{"a.go"}, PathsOmitted: 2, Number: 3},
		ArgumentsSHA256: strings.Repeat("ab", 32), Decision: DecisionAllow, Rule: "acme/*: write", Outcome: OutcomeOK,
		Reason: "write allowed", GiteaStatus: 201, DurationMS: 12,
		Seq: 1, PrevHash: ZeroHash, EntryHash: strings.Repeat("cd", 32),
	}
}

// nonZero fails if a field of v, recursively, is zero: a new field must be
// added to full and to documentedKeys.
func nonZero(t *testing.T, v reflect.Value, name string) {
	if v.Kind() == reflect.Struct && v.Type() != reflect.TypeFor[time.Time]() {
		for i := range v.NumField() {
			nonZero(t, v.Field(i), name+"."+v.Type().Field(i).Name)
		}
		return
	}
	if v.IsZero() {
		t.Errorf("full() leaves %s zero", name)
	}
}

func keys(prefix string, m map[string]any) []string {
	var out []string
	for k, v := range m {
		out = append(out, prefix+k)
		if sub, ok := v.(map[string]any); ok {
			out = append(out, keys(prefix+k+".", sub)...)
		}
	}
	return out
}

// TestEventKeys: a record holds exactly the documented keys, none of them
// named like a credential or like argument content.
func TestEventKeys(t *testing.T) {
	e := full()
	nonZero(t, reflect.ValueOf(e), "Event")
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	got := keys("", m)
	slices.Sort(got)
	want := slices.Clone(documentedKeys)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("keys\n got %v\nwant %v", got, want)
	}
	for _, k := range got {
		for _, bad := range []string{"token", "secret", "password", "authorization", "cookie", "credential", "content", "body", "argument_value", "args"} {
			if strings.Contains(k, bad) {
				t.Errorf("key %q looks like it holds %s", k, bad)
			}
		}
	}
	// The chain fields are the last three members, in this order.
	if !bytes.HasSuffix(b, []byte(`"seq":1,"prev_hash":"`+ZeroHash+`","entry_hash":"`+e.EntryHash+`"}`)) {
		t.Errorf("chain fields are not last: %s", b)
	}
	// The package documentation lists the same keys.
	doc := readDoc(t)
	for _, k := range documentedKeys {
		if !strings.Contains(doc, k[strings.LastIndex(k, ".")+1:]) {
			t.Errorf("doc.go does not mention %q", k)
		}
	}
}

func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRecordBoundsAndCleans(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := open(t, Options{Path: path})
	e := sample(0)
	e.Tool = strings.Repeat("é", 300) // 600 bytes
	e.Rule = "bad\xffutf8"
	paths := make([]string, MaxPaths+5)
	for i := range paths {
		paths[i] = strings.Repeat("p", 1000)
	}
	e.Target.Paths = paths
	e.Seq, e.PrevHash, e.EntryHash = 99, "forged", "forged" // ignored
	got := record(t, l, e, false)
	if len(got.Tool) > MaxFieldBytes || !strings.HasSuffix(got.Tool, "é...") {
		t.Errorf("tool is %d bytes: %q", len(got.Tool), got.Tool)
	}
	if got.Rule != "bad\uFFFDutf8" {
		t.Errorf("rule %q", got.Rule)
	}
	if len(got.Target.Paths) != MaxPaths || got.Target.PathsOmitted != 5 || len(got.Target.Paths[0]) != MaxFieldBytes {
		t.Errorf("paths: %d kept, %d omitted, %d bytes", len(got.Target.Paths), got.Target.PathsOmitted, len(got.Target.Paths[0]))
	}
	if paths[0] != strings.Repeat("p", 1000) {
		t.Error("Record changed the caller's paths")
	}
	if got.Seq != 1 || got.PrevHash != ZeroHash {
		t.Errorf("caller's chain fields were kept: %d %s", got.Seq, got.PrevHash)
	}
	// What Verify decodes is what Record returned.
	var back Event
	if err := json.Unmarshal([]byte(readLines(t, path)[0]), &back); err != nil || !reflect.DeepEqual(back, got) {
		t.Errorf("decoded %+v\nreturned %+v", back, got)
	}
	// An empty, non-nil paths slice still gives a canonical record.
	e = sample(1)
	e.Target = Target{Paths: []string{}}
	record(t, l, e, false)
	if r := verify(t, path); r.Records != 2 {
		t.Errorf("report %+v", r)
	}
}

func TestRecordRefusesInvalidEvents(t *testing.T) {
	l := open(t, Options{Path: filepath.Join(t.TempDir(), "audit.log")})
	for name, change := range map[string]func(*Event){
		"no kind":      func(e *Event) { e.Kind = "" },
		"unknown kind": func(e *Event) { e.Kind = "tool_call" },
		"phase":        func(e *Event) { e.Phase = "before" },
		"decision":     func(e *Event) { e.Decision = "maybe" },
		"transport":    func(e *Event) { e.Caller.Transport = "carrier pigeon" },
		"outcome text": func(e *Event) { e.Outcome = "failed: token abc123 rejected" },
		"arguments":    func(e *Event) { e.ArgumentsSHA256 = `{"content":"secret"}` },
		"upper hex":    func(e *Event) { e.ArgumentsSHA256 = strings.Repeat("AB", 32) },
		"status":       func(e *Event) { e.GiteaStatus = 42 },
		"duration":     func(e *Event) { e.DurationMS = -1 },
		"number":       func(e *Event) { e.Target.Number = -3 },
		"time out of range": func(e *Event) {
			e.Kind = KindPolicyReload
			l.now = func() time.Time { return time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }
		},
	} {
		e := sample(0)
		change(&e)
		if _, err := l.Record(e, false); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("%s: %v", name, err)
		}
		l.now = clock()
	}
	if err := l.Healthy(); err != nil {
		t.Errorf("an invalid event broke the log: %v", err)
	}
	if e := record(t, l, sample(0), false); e.Seq != 1 {
		t.Errorf("seq %d after refusals", e.Seq)
	}
}

// TestWorstCaseLineFits: every string at its bound, of characters JSON
// escapes to six bytes, still makes a line Open and Verify read.
func TestWorstCaseLineFits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := open(t, Options{Path: path})
	worst := strings.Repeat("\x01", 1000)
	e := full()
	for _, s := range []*string{
		&e.RequestID, &e.Tool, &e.Rule, &e.Reason,
		&e.Caller.Login, &e.Caller.ClientID, &e.Caller.Session, &e.Caller.RemoteAddr,
		&e.Target.Owner, &e.Target.Repo, &e.Target.Ref,
	} {
		*s = worst
	}
	e.Target.Paths = slices.Repeat([]string{worst}, 100)
	e.Outcome = Outcome(strings.Repeat("x", 32))
	record(t, l, e, false) // fails if the line exceeds maxLine
	t.Logf("worst line: %d bytes of at most %d", len(readLines(t, path)[0]), maxLine)
	_ = l.Close()
	if r := verify(t, path); r.Records != 1 {
		t.Errorf("report %+v", r)
	}
	l = open(t, Options{Path: path})
	if seq, _ := l.Head(); seq != 1 {
		t.Errorf("reopened at seq %d", seq)
	}
}
