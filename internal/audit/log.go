package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ZeroHash is the prev_hash of the first record of a log.
const ZeroHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Keep is how many rotated files are kept: PATH.1 is the newest, PATH.10
// the oldest; rotating past it deletes the oldest.
const Keep = 10

const (
	maxLine    = 64 << 10    // no record line is longer (the field bounds keep them far shorter)
	tailWindow = 4 * maxLine // how much of a file's end Open reads
	chainBytes = 192         // at most what chain adds to a record's encoding
)

// Options configure a [Log].
type Options struct {
	// Path is the file to append to; "-" means standard output.
	Path string
	// MaxBytes rotates the file before a record would make it exceed
	// MaxBytes; 0 never rotates. Not used for "-".
	MaxBytes int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Stdout is where "-" writes; nil means os.Stdout.
	Stdout io.Writer
}

var (
	// ErrFailed wraps the first writer failure (write, fsync, rotation).
	// The log then refuses every record until it is opened again.
	ErrFailed = errors.New("audit: log failed")
	// ErrClosed is returned by a Log after Close.
	ErrClosed = errors.New("audit: log closed")
)

// sink is the open file: *os.File, or a test's wrapper of one.
type sink interface {
	io.Writer
	Sync() error
	Truncate(size int64) error
	Close() error
}

// Log is an append-only, hash-chained audit log. It is safe for concurrent
// use.
type Log struct {
	path      string    // "" for standard output
	out       io.Writer // standard output
	maxBytes  int64
	now       func() time.Time
	recovered bool

	mu   sync.Mutex // guards f, size, seq, prev and the file's name
	f    sink
	size int64
	seq  int64
	prev string

	written atomic.Int64 // records appended since Open; changes under mu
	syncMu  sync.Mutex   // held across an fsync; taken after mu, never before
	synced  int64        // records known to be on disk; under syncMu

	failed atomic.Pointer[error]
	closed atomic.Bool
}

// Open opens the log at opts.Path, creating the file (mode 0600; its
// directory must exist) or continuing the chain of the records it holds.
//
// An existing file continues from its last record, which must verify on
// its own (Open reads only the file's end; [Verify] checks everything). An
// empty or missing file continues from the newest rotated file, PATH.1,
// if there is one. A file whose last line is torn (no final newline: a
// crash during a write, which was therefore never acknowledged) is not
// appended to: Open renames it to PATH.1 like a rotation and starts PATH
// with a security_event whose reason is [ReasonTornTail], chained to the
// torn file's last complete record. Verify accepts such a torn line and
// lists it in [Report.Recovered]; [Log.RecoveredTornTail] tells the server
// to warn. A last record that does not verify is an error: the operator
// must look before the chain is extended.
func Open(opts Options) (*Log, error) {
	l := &Log{maxBytes: opts.MaxBytes, now: opts.Now, prev: ZeroHash}
	if l.now == nil {
		l.now = time.Now
	}
	switch {
	case opts.Path == "":
		return nil, errors.New("audit: no path")
	case opts.MaxBytes < 0:
		return nil, errors.New("audit: negative MaxBytes")
	case opts.Path == "-":
		l.out = opts.Stdout
		if l.out == nil {
			l.out = os.Stdout
		}
		return l, nil
	}
	l.path = opts.Path
	cur, err := readTail(l.path)
	if err != nil {
		return nil, err
	}
	note := false
	switch {
	case cur.torn:
		l.prev = cur.hash
		if !cur.records {
			if l.prev, err = headOf(l.path, 1); err != nil {
				return nil, err
			}
		}
		if err := shift(l.path); err != nil {
			return nil, fmt.Errorf("audit: setting aside %s, which ends with a torn line: %w", l.path, err)
		}
		note = true
	case cur.records:
		l.prev, l.seq, l.size = cur.hash, cur.seq, cur.size
	default: // missing or empty: a rotation, perhaps cut short by a crash
		older, err := readTail(rotated(l.path, 1))
		if err != nil {
			return nil, err
		}
		note = older.torn
		if l.prev, err = headOf(l.path, 1); err != nil {
			return nil, err
		}
	}
	f, err := openAppend(l.path)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	l.f = f
	if note {
		l.recovered = true
		if _, err := l.Record(Event{Kind: KindSecurityEvent, Reason: ReasonTornTail}, true); err != nil {
			_ = f.Close()
			return nil, err
		}
	}
	return l, nil
}

// RecoveredTornTail reports whether Open found a torn last line and began
// a new file with a security_event about it.
func (l *Log) RecoveredTornTail() bool { return l.recovered }

// Record appends e to the log and returns it as written: with its time,
// seq, prev_hash and entry_hash, its strings bounded and invalid UTF-8
// replaced. The line is appended with one write call. With durable, Record
// returns only once the record is on disk (fsync; concurrent durable
// callers share one), which a write's intent needs before the Gitea request
// goes out; for "-" durability is left to whoever reads standard output.
//
// An error wrapping [ErrInvalidEvent] refuses e alone. Any other error is
// the log's failure: the caller must fail closed, and the log refuses every
// later record with it (see [Log.Healthy]).
//
// The lock is held only to chain the record (its hash), append it and,
// rarely, rotate; time is read and the event encoded before, and fsync
// happens after. So the times of concurrent records can be out of order
// by the time it takes to get the lock: seq is the order of the log.
func (l *Log) Record(e Event, durable bool) (Event, error) {
	if err := l.Healthy(); err != nil {
		return Event{}, err
	}
	normalize(&e)
	if err := validate(&e); err != nil {
		return Event{}, err
	}
	e.Time = l.now().UTC()
	body, err := json.Marshal(e) // without the chain fields, which are empty
	if err != nil {
		return Event{}, fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	if len(body)+chainBytes > maxLine { // cannot happen within the field bounds
		return Event{}, fmt.Errorf("%w: record longer than %d bytes", ErrInvalidEvent, maxLine)
	}
	buf := make([]byte, 0, len(body)+chainBytes)

	l.mu.Lock()
	if err := l.Healthy(); err != nil {
		l.mu.Unlock()
		return Event{}, err
	}
	prev, seq := l.prev, l.seq+1
	line, hash := chain(buf, body, seq, prev)
	if l.f != nil && l.maxBytes > 0 && l.size > 0 && l.size+int64(len(line)) > l.maxBytes {
		if err := l.rotate(); err != nil {
			l.mu.Unlock()
			return Event{}, err
		}
		seq = 1
		line, hash = chain(line[:0], body, seq, prev)
	}
	if err := l.append(line); err != nil {
		l.mu.Unlock()
		return Event{}, err
	}
	l.seq, l.prev = seq, hash
	f, pos := l.f, l.written.Add(1)
	l.mu.Unlock()

	if durable && f != nil {
		if err := l.syncTo(f, pos); err != nil {
			return Event{}, err
		}
	}
	e.Seq, e.PrevHash, e.EntryHash = seq, prev, hash
	return e, nil
}

// chain appends to buf the line (with its newline) of the record whose
// encoding without the chain fields is body, and returns it with the
// record's entry_hash. body is a JSON object with at least one member.
func chain(buf, body []byte, seq int64, prev string) ([]byte, string) {
	buf = append(buf, body[:len(body)-1]...)
	buf = append(buf, `,"seq":`...)
	buf = strconv.AppendInt(buf, seq, 10)
	buf = append(buf, `,"prev_hash":"`...)
	buf = append(buf, prev...)
	buf = append(buf, `"}`...) // buf is now the canonical encoding
	hash := hashRecord(prev, buf)
	buf = append(buf[:len(buf)-1], `,"entry_hash":"`...)
	buf = append(buf, hash...)
	buf = append(buf, "\"}\n"...)
	return buf, hash
}

// hashRecord is the chain: the hex SHA-256 of the previous record's
// entry_hash (its 64 hex characters) followed by the record's canonical
// encoding.
func hashRecord(prev string, canonical []byte) string {
	h := sha256.New()
	_, _ = io.WriteString(h, prev)
	_, _ = h.Write(canonical)
	return hex.EncodeToString(h.Sum(nil))
}

// append writes line, under mu. A partial write is rolled back so the file
// ends with a whole record.
func (l *Log) append(line []byte) error {
	w := l.out
	if l.f != nil {
		w = l.f
	}
	n, err := w.Write(line)
	if err == nil && n < len(line) {
		err = io.ErrShortWrite
	}
	if err != nil {
		if n > 0 && l.f != nil {
			if terr := l.f.Truncate(l.size); terr != nil {
				err = errors.Join(err, fmt.Errorf("rolling back the partial line: %w", terr))
			}
		}
		return l.fail(fmt.Errorf("write: %w", err))
	}
	l.size += int64(n)
	return nil
}

// syncTo returns once record pos, written to f, is on disk. One fsync
// covers every record written before it started, so concurrent durable
// callers share it. A rotation or Close syncs f before closing it and
// advances synced, under syncMu, so f is open whenever it is synced here.
func (l *Log) syncTo(f sink, pos int64) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	if l.synced >= pos {
		return nil
	}
	if err := l.Healthy(); err != nil {
		return err
	}
	target := l.written.Load()
	if err := f.Sync(); err != nil {
		return l.fail(fmt.Errorf("fsync: %w", err))
	}
	l.synced = target
	return nil
}

// rotate renames the full file to PATH.1, shifting the older ones, and
// opens a new PATH, under mu. The chain continues: the caller resets seq.
func (l *Log) rotate() error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	if err := l.f.Sync(); err != nil {
		return l.fail(fmt.Errorf("fsync before rotation: %w", err))
	}
	l.synced = l.written.Load()
	err := l.f.Close()
	l.f = nil
	if err == nil {
		err = shift(l.path)
	}
	if err == nil {
		l.f, err = openAppend(l.path)
	}
	if err != nil {
		return l.fail(fmt.Errorf("rotate: %w", err))
	}
	l.size, l.seq = 0, 0
	return nil
}

// fail records the log's first failure and returns it.
func (l *Log) fail(err error) error {
	name := l.path
	if name == "" {
		name = "standard output"
	}
	err = fmt.Errorf("%w: %s: %w", ErrFailed, name, err)
	l.failed.CompareAndSwap(nil, &err)
	return *l.failed.Load()
}

// Healthy returns nil while the log accepts records, and otherwise the
// failure (wrapping [ErrFailed]) or [ErrClosed]; for /readyz. A failure is
// final: neither a write error nor a failed fsync is retried, since after a
// failed fsync the kernel may have dropped the data it was to write. The
// log becomes healthy again only when it is opened again, after the
// operator has looked at the cause.
func (l *Log) Healthy() error {
	if l.closed.Load() {
		return ErrClosed
	}
	if err := l.failed.Load(); err != nil {
		return *err
	}
	return nil
}

// Head returns the seq and entry_hash of the last record (seq 0 and the
// previous file's last hash in a new file). Keeping the hash elsewhere
// lets [Verify] results be checked for records removed from the end.
func (l *Log) Head() (seq int64, hash string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seq, l.prev
}

// Close syncs and closes the file. Later records fail with [ErrClosed].
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Swap(true) || l.f == nil {
		return nil
	}
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	err := l.f.Sync()
	if err == nil {
		l.synced = l.written.Load()
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}

// rotated names the nth rotated file of path.
func rotated(path string, n int) string { return path + "." + strconv.Itoa(n) }

// shift renames path to path.1, path.1 to path.2 and so on, deleting
// path.Keep.
func shift(path string) error {
	if err := os.Remove(rotated(path, Keep)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for n := Keep - 1; n >= 1; n-- {
		if err := os.Rename(rotated(path, n), rotated(path, n+1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return os.Rename(path, rotated(path, 1))
}

// openAppend opens path for appending, creating it, and syncs its
// directory so that a new name (and any rename before) is on disk.
func openAppend(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600) // #nosec G304 -- the operator names the file
	if err != nil {
		return nil, err
	}
	d, err := os.Open(filepath.Dir(path))
	if err == nil {
		err = d.Sync()
		_ = d.Close()
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("syncing the directory of %s: %w", path, err)
	}
	return f, nil
}

// tail is what Open needs of a file's end.
type tail struct {
	exists, records, torn bool
	size, seq             int64
	hash                  string // entry_hash of the last complete record
}

// readTail reads the end of path: its last complete record, checked on its
// own, and whether a torn line follows it.
func readTail(path string) (tail, error) {
	f, err := os.Open(path) // #nosec G304 -- the operator names the file
	if errors.Is(err, fs.ErrNotExist) {
		return tail{}, nil
	}
	if err != nil {
		return tail{}, fmt.Errorf("audit: %w", err)
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return tail{}, fmt.Errorf("audit: %w", err)
	}
	if !st.Mode().IsRegular() {
		return tail{}, fmt.Errorf("audit: %s is not a regular file (use \"-\" for standard output)", path)
	}
	t := tail{exists: true, size: st.Size()}
	if t.size == 0 {
		return t, nil
	}
	start := max(0, t.size-tailWindow)
	buf := make([]byte, t.size-start)
	if _, err := f.ReadAt(buf, start); err != nil {
		return tail{}, fmt.Errorf("audit: %w", err)
	}
	end := bytes.LastIndexByte(buf, '\n')
	t.torn = end != len(buf)-1
	if end < 0 && start == 0 {
		return t, nil // a torn first line only
	}
	begin := bytes.LastIndexByte(buf[:max(end, 0)], '\n') + 1
	if end < 0 || (begin == 0 && start > 0) {
		return tail{}, fmt.Errorf("audit: %s: no complete line in its last %d bytes", path, len(buf))
	}
	ev, problem, detail := parseRecord(buf[begin:end])
	if problem != "" {
		return tail{}, fmt.Errorf("audit: %s: the last record does not verify (%s): run verify before appending to it", path, detail)
	}
	t.records, t.seq, t.hash = true, ev.Seq, ev.EntryHash
	return t, nil
}

// headOf returns the entry_hash the chain continues from when path has no
// record: the last record of the newest rotated file that has one, from
// path.from on, or ZeroHash.
func headOf(path string, from int) (string, error) {
	for n := from; n <= Keep; n++ {
		t, err := readTail(rotated(path, n))
		if err != nil || !t.exists {
			return ZeroHash, err
		}
		if t.records {
			return t.hash, nil
		}
	}
	return ZeroHash, nil
}
