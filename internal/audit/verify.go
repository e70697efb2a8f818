package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Problem is the kind of fault [Verify] found.
type Problem string

// The faults Verify tells apart.
const (
	// ProblemTorn: the last line has no newline, probably a crash during
	// a write (or a truncation). Not a modification.
	ProblemTorn Problem = "torn"
	// ProblemMalformed: the line is not a record in canonical form.
	ProblemMalformed Problem = "malformed"
	// ProblemModified: the record's entry_hash does not match its content.
	ProblemModified Problem = "modified"
	// ProblemDeleted: seq skips records (at the start of a file too).
	ProblemDeleted Problem = "deleted"
	// ProblemInserted: a seq appears twice, or a record that does not link
	// is followed by one with its seq.
	ProblemInserted Problem = "inserted"
	// ProblemReordered: a record appears before one with a lower seq.
	ProblemReordered Problem = "reordered"
	// ProblemUnlinked: prev_hash does not match the previous record's
	// entry_hash although seq follows: a record was replaced by one
	// hashed on its own, or records at the end of the previous file, or a
	// whole file, are missing.
	ProblemUnlinked Problem = "unlinked"
)

// VerifyError is the first fault Verify found.
type VerifyError struct {
	File    string
	Line    int // 1-based
	Problem Problem
	Detail  string // a sentence fit for "line N: <Detail>"
}

func (e *VerifyError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Detail) }

// Location is a line of a file.
type Location struct {
	File string
	Line int
}

// Report is what Verify checked.
type Report struct {
	Files   []string // in the order checked, oldest first
	Records int      // records that verified, up to the first fault
	// StartHash is the prev_hash of the first record: ZeroHash if the
	// files begin the log, else the last hash of a file rotated away.
	StartHash string
	LastSeq   int64  // seq of the last record that verified, in its file
	LastHash  string // its entry_hash: compare with a head kept elsewhere
	// Recovered are torn last lines that the next file acknowledges with a
	// security_event (see [Open]); they are not faults.
	Recovered []Location
}

// FromStart reports whether the files checked begin the log.
func (r Report) FromStart() bool { return r.StartHash == ZeroHash }

// Verify checks the chain of the given files, oldest first. Given one path
// it checks that file's rotated set: PATH.N (the highest first) down to
// PATH.1, then PATH; a missing number shows as a fault at the first record
// after the gap. Given several paths it checks exactly those, in order.
//
// Each file's records must have seq 1, 2, 3... and each record's prev_hash
// must be the entry_hash of the record before it, across files too; the
// first record of the set may start from any prev_hash (see
// [Report.StartHash]). Verify stops at the first fault and returns it as a
// *[VerifyError], with the report of what verified before it. Other errors
// are I/O errors.
//
// A chain cannot show that records were removed from the end of the
// newest file: compare [Report.LastHash] with a head kept elsewhere (see
// the package documentation). A file being written may end, while it is
// read, in a line caught half-written, which shows as a torn last line.
func Verify(paths ...string) (Report, error) {
	if len(paths) == 0 {
		return Report{}, errors.New("audit: verify: no file")
	}
	files := paths
	if len(paths) == 1 {
		var err error
		if files, err = discover(paths[0]); err != nil {
			return Report{}, err
		}
	}
	v := &verifier{}
	for _, path := range files {
		v.report.Files = append(v.report.Files, path)
		if err := v.file(path); err != nil {
			return v.report, err
		}
	}
	if v.torn != nil {
		return v.report, v.torn
	}
	return v.report, nil
}

// discover returns path's rotated siblings, the oldest first, then path.
func discover(path string) ([]string, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	dir, base := filepath.Split(path)
	entries, err := os.ReadDir(filepath.Clean(dir + "."))
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	var nums []int
	for _, e := range entries {
		suffix, ok := strings.CutPrefix(e.Name(), base+".")
		if n, err := strconv.Atoi(suffix); ok && err == nil && n > 0 && strconv.Itoa(n) == suffix {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	files := make([]string, 0, len(nums)+1)
	for _, n := range slices.Backward(nums) {
		files = append(files, rotated(path, n))
	}
	return append(files, path), nil
}

// verifier walks the records of a set of files.
type verifier struct {
	report   Report
	prev     string       // entry_hash of the last record; "" before the first
	prevFile string       // the file that record is in
	torn     *VerifyError // a torn last line the next file may acknowledge
}

func (v *verifier) file(path string) error {
	f, err := os.Open(path) // #nosec G304 -- the operator names the files
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer func() { _ = f.Close() }()
	r := bufio.NewReaderSize(f, maxLine+1)
	for line := 1; ; line++ {
		b, err := r.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			return v.fault(path, line, ProblemMalformed, fmt.Sprintf("line longer than %d bytes", maxLine))
		case errors.Is(err, io.EOF):
			if len(b) == 0 {
				return nil
			}
			if v.torn != nil {
				return v.torn
			}
			v.torn = &VerifyError{File: path, Line: line, Problem: ProblemTorn,
				Detail: fmt.Sprintf("torn last line, probably a crash (%d bytes without a newline)", len(b))}
			return nil
		case err != nil:
			return fmt.Errorf("audit: %w", err)
		}
		if err := v.record(path, line, b[:len(b)-1], r); err != nil {
			return err
		}
	}
}

// record checks line number line of path, b, whose file goes on in r.
func (v *verifier) record(path string, line int, b []byte, r *bufio.Reader) error {
	ev, problem, detail := parseRecord(b)
	if v.torn != nil {
		if problem != "" || line != 1 || ev.Kind != KindSecurityEvent || ev.Reason != ReasonTornTail {
			return v.torn
		}
		v.report.Recovered = append(v.report.Recovered, Location{File: v.torn.File, Line: v.torn.Line})
		v.torn = nil
	}
	if problem != "" {
		return v.fault(path, line, problem, detail)
	}
	want := int64(line) // so far every line of this file held the next seq
	switch {
	case ev.Seq > want:
		if at := findSeq(r, line, want); at > 0 {
			return v.fault(path, line, ProblemReordered, fmt.Sprintf("records out of order: seq %d where %d was expected, which is at line %d", ev.Seq, want, at))
		}
		if want == 1 {
			return v.fault(path, line, ProblemDeleted, fmt.Sprintf("the file starts at seq %d: records 1 to %d are missing", ev.Seq, ev.Seq-1))
		}
		return v.fault(path, line, ProblemDeleted, fmt.Sprintf("seq jumps from %d to %d: %d record(s) missing", want-1, ev.Seq, ev.Seq-want))
	case ev.Seq < want:
		return v.fault(path, line, ProblemInserted, fmt.Sprintf("a second record with seq %d (the first is at line %d): a record was inserted", ev.Seq, ev.Seq))
	case v.prev != "" && ev.PrevHash != v.prev:
		if line == 1 {
			return v.fault(path, line, ProblemUnlinked, fmt.Sprintf("prev_hash does not link to the last record of %s: records at its end, or a whole file, are missing or were replaced", v.prevFile))
		}
		if at := findSeq(r, line, ev.Seq); at > 0 {
			return v.fault(path, line, ProblemInserted, fmt.Sprintf("prev_hash does not link to line %d and line %d has seq %d too: this record was inserted", line-1, at, ev.Seq))
		}
		return v.fault(path, line, ProblemUnlinked, fmt.Sprintf("prev_hash does not link to the record at line %d: one of the two was replaced", line-1))
	}
	if v.prev == "" {
		v.report.StartHash = ev.PrevHash
	}
	v.prev, v.prevFile = ev.EntryHash, path
	v.report.Records++
	v.report.LastSeq, v.report.LastHash = ev.Seq, ev.EntryHash
	return nil
}

func (v *verifier) fault(path string, line int, p Problem, detail string) error {
	if v.torn != nil {
		return v.torn
	}
	return &VerifyError{File: path, Line: line, Problem: p, Detail: detail}
}

// findSeq returns the number of the first line after line, read from r,
// that has seq, or 0.
func findSeq(r *bufio.Reader, line int, seq int64) int {
	for {
		b, err := r.ReadSlice('\n')
		if err != nil {
			return 0
		}
		line++
		var s struct {
			Seq int64 `json:"seq"`
		}
		if json.Unmarshal(b, &s) == nil && s.Seq == seq {
			return line
		}
	}
}

var entryKey = []byte(`,"entry_hash":"`)

// parseRecord checks one line (without its newline) on its own and returns
// its record, or the fault and a sentence about it.
//
// A line is the record's canonical encoding with `,"entry_hash":"<hex>"`
// inserted before its closing brace; the canonical encoding is what
// encoding/json produces for the Event without EntryHash. The hash is
// checked first, so any edit of a record's bytes is a modification; a line
// whose hash matches must still be exactly the canonical encoding of a
// valid Event.
func parseRecord(line []byte) (Event, Problem, string) {
	n := len(line)
	hashAt := n - len(`"}`) - 64
	keyAt := hashAt - len(entryKey)
	if keyAt < 1 || line[0] != '{' || !bytes.Equal(line[keyAt:hashAt], entryKey) || !isHash(line[hashAt:n-2]) || string(line[n-2:]) != `"}` {
		return Event{}, ProblemMalformed, "not an audit record: the line does not end with an entry_hash"
	}
	canonical := make([]byte, keyAt+1)
	copy(canonical, line[:keyAt])
	canonical[keyAt] = '}'
	var ev Event
	if err := json.Unmarshal(canonical, &ev); err != nil {
		return Event{}, ProblemMalformed, "not an audit record: " + err.Error()
	}
	if ev.Seq < 1 || !isHash(ev.PrevHash) {
		return Event{}, ProblemMalformed, "not an audit record: no valid seq and prev_hash"
	}
	stored := string(line[hashAt : n-2])
	if hashRecord(ev.PrevHash, canonical) != stored {
		return Event{}, ProblemModified, "the record was modified: its entry_hash does not match its content"
	}
	dec := json.NewDecoder(bytes.NewReader(canonical))
	dec.DisallowUnknownFields()
	var strict Event
	if err := dec.Decode(&strict); err != nil {
		return Event{}, ProblemMalformed, "not an audit record: " + err.Error()
	}
	if re, err := json.Marshal(strict); err != nil || !bytes.Equal(re, canonical) {
		return Event{}, ProblemMalformed, "the record is not in canonical form"
	}
	if err := validate(&strict); err != nil {
		return Event{}, ProblemMalformed, "not a valid event: " + strings.TrimPrefix(err.Error(), ErrInvalidEvent.Error()+": ")
	}
	strict.EntryHash = stored
	return strict, "", ""
}
