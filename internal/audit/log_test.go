package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock returns a fake clock that advances a millisecond per reading.
func clock() func() time.Time {
	var n atomic.Int64
	start := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	return func() time.Time { return start.Add(time.Duration(n.Add(1)) * time.Millisecond) }
}

// sample is a plausible tool call record.
func sample(i int) Event {
	return Event{
		RequestID:  fmt.Sprintf("req-%d", i),
		Kind:       KindToolInvocation,
		Caller:     Caller{UserID: 7, Login: "alice", ClientID: "claude", Transport: TransportStreamable, Session: "s-1", RemoteAddr: "192.0.2.1:5000"},
		Tool:       "get_file_contents",
		Target:     Target{Owner: "acme", Repo: "widgets", Ref: "main", Paths: []string{"README.md"}},
		Decision:   DecisionAllow,
		Rule:       "acme/*: read",
		Outcome:    OutcomeOK,
		DurationMS: int64(i % 50),
	}
}

func open(t testing.TB, opts Options) *Log {
	t.Helper()
	if opts.Now == nil {
		opts.Now = clock()
	}
	l, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func record(t testing.TB, l *Log, e Event, durable bool) Event {
	t.Helper()
	got, err := l.Record(e, durable)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func verify(t testing.TB, paths ...string) Report {
	t.Helper()
	r, err := Verify(paths...)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return r
}

func readLines(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitAfter(string(b), "\n")[:strings.Count(string(b), "\n")]
}

func TestChainManyRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := open(t, Options{Path: path})
	prev := ZeroHash
	for i := range 1000 {
		e := record(t, l, sample(i), i%10 == 0)
		if e.Seq != int64(i+1) || e.PrevHash != prev || !isHash(e.EntryHash) {
			t.Fatalf("record %d: seq %d prev %s hash %s, want seq %d prev %s", i, e.Seq, e.PrevHash, e.EntryHash, i+1, prev)
		}
		prev = e.EntryHash
	}
	r := verify(t, path)
	seq, head := l.Head()
	if r.Records != 1000 || r.LastSeq != 1000 || seq != 1000 || r.LastHash != head || head != prev || !r.FromStart() {
		t.Errorf("report %+v, head %d %s", r, seq, head)
	}
}

// TestChainDefinition recomputes the chain as the package documents it,
// with bytes and SHA-256 only.
func TestChainDefinition(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := open(t, Options{Path: path})
	var events []Event
	for i := range 3 {
		events = append(events, record(t, l, sample(i), false))
	}
	prev := ZeroHash
	for i, line := range readLines(t, path) {
		line = strings.TrimSuffix(line, "\n")
		want, _ := json.Marshal(events[i])
		if line != string(want) {
			t.Fatalf("line %d is not json.Marshal of the returned event:\n%s\n%s", i+1, line, want)
		}
		cut := strings.LastIndex(line, `,"entry_hash":"`)
		canonical := line[:cut] + "}"
		noHash := events[i]
		noHash.EntryHash = ""
		if b, _ := json.Marshal(noHash); string(b) != canonical {
			t.Fatalf("canonical encoding differs:\n%s\n%s", canonical, b)
		}
		sum := sha256.Sum256([]byte(prev + canonical))
		if got := hex.EncodeToString(sum[:]); got != events[i].EntryHash || !strings.HasSuffix(line, `"entry_hash":"`+got+`"}`) {
			t.Fatalf("line %d: entry_hash is not SHA-256(prev_hash || canonical)", i+1)
		}
		if !strings.Contains(canonical, `,"seq":`+fmt.Sprint(i+1)+`,"prev_hash":"`+prev+`"}`) {
			t.Fatalf("line %d does not end with seq and prev_hash: %s", i+1, canonical)
		}
		prev = events[i].EntryHash
	}
}

func TestTimeIsUTC(t *testing.T) {
	var buf bytes.Buffer
	zone := time.FixedZone("CEST", 2*3600)
	l := open(t, Options{Path: "-", Stdout: &buf, Now: func() time.Time {
		return time.Date(2025, 6, 1, 14, 0, 0, 123456789, zone)
	}})
	e := record(t, l, sample(0), false)
	if e.Time.Location() != time.UTC || !strings.HasPrefix(buf.String(), `{"time":"2025-06-01T12:00:00.123456789Z",`) {
		t.Errorf("time %v, line %s", e.Time, buf.String())
	}
}

func TestRotationContinuesChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	const maxBytes = 8192
	l := open(t, Options{Path: path, MaxBytes: maxBytes})
	var last Event
	for i := range 100 {
		last = record(t, l, sample(i), false)
	}
	files, _ := filepath.Glob(path + "*")
	if len(files) < 4 || len(files) > Keep+1 {
		t.Fatalf("files %v", files)
	}
	for _, f := range files {
		if st, _ := os.Stat(f); st.Size() > maxBytes {
			t.Errorf("%s has %d bytes, more than %d", f, st.Size(), maxBytes)
		}
	}
	r := verify(t, path)
	if r.Records != 100 || !r.FromStart() || r.LastHash != last.EntryHash || len(r.Files) != len(files) {
		t.Errorf("report %+v", r)
	}
	if r.Files[len(r.Files)-1] != path || r.Files[len(r.Files)-2] != path+".1" {
		t.Errorf("files in order %v", r.Files)
	}
	// The current file starts at seq 1, linked to the last record of PATH.1.
	older := readLines(t, path+".1")
	var tail, head Event
	_ = json.Unmarshal([]byte(older[len(older)-1]), &tail)
	_ = json.Unmarshal([]byte(readLines(t, path)[0]), &head)
	if head.Seq != 1 || head.PrevHash != tail.EntryHash || tail.Seq != int64(len(older)) {
		t.Errorf("PATH.1 ends with seq %d %s; PATH starts with seq %d prev %s", tail.Seq, tail.EntryHash, head.Seq, head.PrevHash)
	}
	// The explicit list checks the same.
	if r2 := verify(t, r.Files...); r2.Records != r.Records {
		t.Errorf("explicit files: %+v", r2)
	}
}

func TestRotationKeepsBoundedNumber(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := open(t, Options{Path: path, MaxBytes: 1024})
	for i := range 200 {
		record(t, l, sample(i), false)
	}
	files, _ := filepath.Glob(path + "*")
	if len(files) != Keep+1 {
		t.Fatalf("%d files, want %d: %v", len(files), Keep+1, files)
	}
	r := verify(t, path)
	if r.FromStart() || r.Records >= 200 || r.Records < Keep || r.LastSeq == 0 {
		t.Errorf("report %+v", r)
	}
}

func TestReopenContinuesChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	now := clock()
	var last Event
	for round := range 3 {
		l, err := Open(Options{Path: path, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if seq, head := l.Head(); seq != int64(round*5) || (round > 0 && head != last.EntryHash) {
			t.Fatalf("round %d: head %d %s", round, seq, head)
		}
		for i := range 5 {
			e := record(t, l, sample(i), true)
			if e.Seq != int64(round*5+i+1) || (last.EntryHash != "" && e.PrevHash != last.EntryHash) {
				t.Fatalf("round %d: seq %d, prev %s after %s", round, e.Seq, e.PrevHash, last.EntryHash)
			}
			last = e
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if r := verify(t, path); r.Records != 15 || r.LastHash != last.EntryHash {
		t.Errorf("report %+v", r)
	}
}

func TestReopenAfterRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := open(t, Options{Path: path, MaxBytes: 8192})
	for i := range 30 {
		record(t, l, sample(i), false)
	}
	_ = l.Close()
	l = open(t, Options{Path: path, MaxBytes: 8192})
	for i := range 30 {
		record(t, l, sample(i), false)
	}
	if r := verify(t, path); r.Records != 60 {
		t.Errorf("report %+v", r)
	}
}

// A crash between the rename of PATH to PATH.1 and the first write to the
// new PATH leaves no PATH: the chain continues from PATH.1.
func TestReopenAfterInterruptedRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := open(t, Options{Path: path})
	var last Event
	for i := range 5 {
		last = record(t, l, sample(i), false)
	}
	_ = l.Close()
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	l = open(t, Options{Path: path})
	if e := record(t, l, sample(9), false); e.Seq != 1 || e.PrevHash != last.EntryHash {
		t.Errorf("seq %d prev %s, want 1 %s", e.Seq, e.PrevHash, last.EntryHash)
	}
	if r := verify(t, path); r.Records != 6 || l.RecoveredTornTail() {
		t.Errorf("report %+v", r)
	}
}

func appendBytes(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
}

func TestOpenTornTailStartsNewFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := open(t, Options{Path: path})
	var last Event
	for i := range 5 {
		last = record(t, l, sample(i), false)
	}
	_ = l.Close()
	appendBytes(t, path, `{"time":"2025-06-01T12:00:00Z","request_id":"req-`)
	var ve *VerifyError
	if _, err := Verify(path); !errors.As(err, &ve) || ve.Problem != ProblemTorn || ve.Line != 6 {
		t.Fatalf("before reopening: %v", err)
	}

	l = open(t, Options{Path: path})
	if !l.RecoveredTornTail() {
		t.Error("RecoveredTornTail is false")
	}
	after := record(t, l, sample(6), false)
	lines := readLines(t, path)
	var note Event
	_ = json.Unmarshal([]byte(lines[0]), &note)
	if note.Kind != KindSecurityEvent || note.Reason != ReasonTornTail || note.Seq != 1 || note.PrevHash != last.EntryHash || after.Seq != 2 {
		t.Errorf("first record of the new file: %s", lines[0])
	}
	if n := len(readLines(t, path+".1")); n != 5 {
		t.Errorf("PATH.1 has %d complete lines, want the 5 of the torn file", n)
	}
	r := verify(t, path)
	if r.Records != 7 || !slices.Equal(r.Recovered, []Location{{path + ".1", 6}}) {
		t.Errorf("report %+v", r)
	}
	// Reopening again adds no second note.
	_ = l.Close()
	if l = open(t, Options{Path: path}); l.RecoveredTornTail() {
		t.Error("second reopen recovered again")
	}
}

// A file holding only a torn line, and a crash after it was set aside but
// before the note was written.
func TestOpenTornWithoutRecords(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	appendBytes(t, path, `{"time":`)
	l := open(t, Options{Path: path})
	if seq, head := l.Head(); !l.RecoveredTornTail() || seq != 1 || head == ZeroHash {
		t.Errorf("head %d %s", seq, head)
	}
	_ = l.Close()
	if r := verify(t, path); r.Records != 1 || !r.FromStart() || len(r.Recovered) != 1 {
		t.Errorf("report %+v", r)
	}

	path = filepath.Join(dir, "other.log")
	l = open(t, Options{Path: path})
	last := record(t, l, sample(0), false)
	_ = l.Close()
	appendBytes(t, path, `{"ti`)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	l = open(t, Options{Path: path})
	if e := record(t, l, sample(1), false); !l.RecoveredTornTail() || e.Seq != 2 {
		t.Errorf("interrupted recovery: seq %d", e.Seq)
	}
	if r := verify(t, path); r.Records != 3 || r.LastHash == last.EntryHash || len(r.Recovered) != 1 {
		t.Errorf("report %+v", r)
	}
}

func TestOpenRefusesBadLastRecord(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	l := open(t, Options{Path: path})
	record(t, l, sample(0), false)
	record(t, l, sample(1), false)
	_ = l.Close()
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, bytes.Replace(b, []byte("req-1"), []byte("req-X"), 1), 0o600); err != nil { // #nosec G703 -- the test's own temporary file
		t.Fatal(err)
	}
	if _, err := Open(Options{Path: path}); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Errorf("Open: %v", err)
	}
	if _, err := Open(Options{Path: dir}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Open of a directory: %v", err)
	}
	if _, err := Open(Options{}); err == nil {
		t.Error("Open without a path")
	}
}

// TestConcurrentRecord runs 500 goroutines of 4 records each, half of them
// durable, then checks the chain and that seq has no gaps.
func TestConcurrentRecord(t *testing.T) {
	for _, maxBytes := range []int64{0, 256 << 10} {
		t.Run(fmt.Sprint("maxbytes=", maxBytes), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.log")
			l := open(t, Options{Path: path, MaxBytes: maxBytes})
			const goroutines, each = 500, 4
			var wg sync.WaitGroup
			var mu sync.Mutex
			seen := map[string]bool{}
			for g := range goroutines {
				wg.Go(func() {
					for i := range each {
						e, err := l.Record(sample(g*each+i), (g+i)%2 == 0)
						if err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						seen[e.EntryHash] = true
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			r := verify(t, path)
			if r.Records != goroutines*each || len(seen) != goroutines*each || !r.FromStart() {
				t.Errorf("report %+v, %d distinct hashes", r, len(seen))
			}
			if maxBytes == 0 && r.LastSeq != goroutines*each {
				t.Errorf("last seq %d", r.LastSeq)
			}
			if l.synced > l.written.Load() {
				t.Errorf("synced %d > written %d", l.synced, l.written.Load())
			}
		})
	}
}

func TestDurableSyncs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := open(t, Options{Path: path})
	record(t, l, sample(0), false)
	if l.synced != 0 {
		t.Errorf("a non-durable record synced")
	}
	record(t, l, sample(1), true)
	if l.synced != 2 {
		t.Errorf("synced %d after a durable record, want 2", l.synced)
	}
}

func TestStdout(t *testing.T) {
	var buf bytes.Buffer
	l := open(t, Options{Path: "-", Stdout: &buf, MaxBytes: 100})
	for i := range 10 {
		record(t, l, sample(i), i%2 == 0)
	}
	path := filepath.Join(t.TempDir(), "captured.log")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := verify(t, path); r.Records != 10 || r.LastSeq != 10 {
		t.Errorf("report %+v", r)
	}
}

// failingWriter fails every write while fail is set.
type failingWriter struct{ fail atomic.Bool }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.fail.Load() {
		return 0, errors.New("disk on fire")
	}
	return len(p), nil
}

func TestWriteFailureIsFinal(t *testing.T) {
	w := &failingWriter{}
	l := open(t, Options{Path: "-", Stdout: w})
	record(t, l, sample(0), false)
	w.fail.Store(true)
	if _, err := l.Record(sample(1), false); !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("Record: %v", err)
	}
	w.fail.Store(false)
	if err := l.Healthy(); !errors.Is(err, ErrFailed) {
		t.Errorf("Healthy: %v", err)
	}
	if _, err := l.Record(sample(2), false); !errors.Is(err, ErrFailed) {
		t.Errorf("Record after the failure: %v", err)
	}
}

// brokenFile writes only half a line, or fails Sync.
type brokenFile struct {
	sink
	shortWrite, failSync bool
}

func (f *brokenFile) Write(p []byte) (int, error) {
	if f.shortWrite {
		n, _ := f.sink.Write(p[:len(p)/2])
		return n, errors.New("no space left on device")
	}
	return f.sink.Write(p)
}

func (f *brokenFile) Sync() error {
	if f.failSync {
		return errors.New("I/O error")
	}
	return f.sink.Sync()
}

func TestPartialWriteIsRolledBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := open(t, Options{Path: path})
	last := record(t, l, sample(0), false)
	l.f = &brokenFile{sink: l.f, shortWrite: true}
	if _, err := l.Record(sample(1), false); !errors.Is(err, ErrFailed) {
		t.Fatalf("Record: %v", err)
	}
	_ = l.Close()
	if r := verify(t, path); r.Records != 1 || r.LastHash != last.EntryHash {
		t.Errorf("report %+v", r)
	}
	l = open(t, Options{Path: path})
	if e := record(t, l, sample(2), false); e.Seq != 2 || e.PrevHash != last.EntryHash || l.RecoveredTornTail() {
		t.Errorf("after reopening: seq %d prev %s", e.Seq, e.PrevHash)
	}
}

func TestSyncFailureIsFinal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := open(t, Options{Path: path})
	l.f = &brokenFile{sink: l.f, failSync: true}
	if _, err := l.Record(sample(0), true); !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "fsync") {
		t.Fatalf("durable Record: %v", err)
	}
	if _, err := l.Record(sample(1), false); !errors.Is(err, ErrFailed) {
		t.Errorf("Record after the failure: %v", err)
	}
}

func TestClose(t *testing.T) {
	l := open(t, Options{Path: filepath.Join(t.TempDir(), "audit.log")})
	if err := l.Healthy(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := l.Record(sample(0), false); !errors.Is(err, ErrClosed) || !errors.Is(l.Healthy(), ErrClosed) {
		t.Errorf("Record after Close: %v", err)
	}
}
