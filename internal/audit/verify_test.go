package audit

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// writeLog writes n records to a new file and returns its path, its lines
// (with their newlines) and the records.
func writeLog(t *testing.T, n int) (string, []string, []Event) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	l := open(t, Options{Path: path})
	var events []Event
	for i := range n {
		events = append(events, record(t, l, sample(i), false))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return path, readLines(t, path), events
}

// forge returns the line a forger with the code would write for e.
func forge(e Event, seq int64, prev string) string {
	normalize(&e)
	e.Time = time.Date(2025, 6, 1, 13, 0, 0, 0, time.UTC)
	body, _ := json.Marshal(e)
	line, _ := chain(nil, body, seq, prev)
	return string(line)
}

// rehash returns line with its canonical encoding changed by edit and its
// entry_hash recomputed, so that only canonical-form checks can catch it.
func rehash(line string, edit func(string) string) string {
	var e Event
	_ = json.Unmarshal([]byte(line), &e)
	canonical := edit(line[:strings.LastIndex(line, `,"entry_hash":"`)] + "}")
	return canonical[:len(canonical)-1] + `,"entry_hash":"` + hashRecord(e.PrevHash, []byte(canonical)) + "\"}\n"
}

func rewrite(t *testing.T, path string, lines []string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	mallory := sample(99)
	mallory.Caller.Login = "mallory"
	tests := []struct {
		name    string
		tamper  func(lines []string, events []Event) []string
		problem Problem
		line    int
		detail  string
	}{
		{"edit a field", func(l []string, _ []Event) []string {
			l[2] = strings.Replace(l[2], `"login":"alice"`, `"login":"mallory"`, 1)
			return l
		}, ProblemModified, 3, "the record was modified"},
		{"edit the decision", func(l []string, _ []Event) []string {
			l[2] = strings.Replace(l[2], `"decision":"allow"`, `"decision":"deny"`, 1)
			return l
		}, ProblemModified, 3, "entry_hash does not match"},
		{"edit seq", func(l []string, _ []Event) []string {
			l[2] = strings.Replace(l[2], `"seq":3,`, `"seq":4,`, 1)
			return l
		}, ProblemModified, 3, "modified"},
		{"edit the hash", func(l []string, _ []Event) []string {
			end := len(l[2]) - len("00\"}\n")
			l[2] = l[2][:end] + map[bool]string{true: "11", false: "00"}[l[2][end:end+2] == "00"] + "\"}\n"
			return l
		}, ProblemModified, 3, "modified"},
		{"delete a line", func(l []string, _ []Event) []string {
			return slices.Delete(l, 2, 3)
		}, ProblemDeleted, 3, "seq jumps from 2 to 4: 1 record(s) missing"},
		{"delete the first lines", func(l []string, _ []Event) []string {
			return l[2:]
		}, ProblemDeleted, 1, "starts at seq 3: records 1 to 2 are missing"},
		{"insert a copy of a line", func(l []string, _ []Event) []string {
			return slices.Insert(l, 4, l[1])
		}, ProblemInserted, 5, "a second record with seq 2 (the first is at line 2)"},
		{"insert a forged line that links", func(l []string, e []Event) []string {
			return slices.Insert(l, 3, forge(mallory, 4, e[2].EntryHash))
		}, ProblemInserted, 5, "a second record with seq 4"},
		{"insert a forged line that does not link", func(l []string, _ []Event) []string {
			return slices.Insert(l, 3, forge(mallory, 4, ZeroHash))
		}, ProblemInserted, 4, "line 5 has seq 4 too: this record was inserted"},
		{"replace a record", func(l []string, e []Event) []string {
			l[2] = forge(mallory, 3, e[1].EntryHash)
			return l
		}, ProblemUnlinked, 4, "does not link to the record at line 3"},
		{"swap two lines", func(l []string, _ []Event) []string {
			l[2], l[3] = l[3], l[2]
			return l
		}, ProblemReordered, 3, "seq 4 where 3 was expected, which is at line 4"},
		{"move a line to the end", func(l []string, _ []Event) []string {
			return append(slices.Delete(slices.Clone(l), 1, 2), l[1])
		}, ProblemReordered, 2, "seq 3 where 2 was expected, which is at line 6"},
		{"truncate the last line", func(l []string, _ []Event) []string {
			l[5] = l[5][:40]
			return l
		}, ProblemTorn, 6, "torn last line, probably a crash (40 bytes without a newline)"},
		{"a line that is not a record", func(l []string, _ []Event) []string {
			return slices.Insert(l, 2, "hello\n")
		}, ProblemMalformed, 3, "not an audit record"},
		{"a blank line", func(l []string, _ []Event) []string {
			return slices.Insert(l, 2, "\n")
		}, ProblemMalformed, 3, "not an audit record"},
		{"an extra field, rehashed", func(l []string, _ []Event) []string {
			l[2] = rehash(l[2], func(s string) string { return strings.Replace(s, `{`, `{"token":"x",`, 1) })
			return l
		}, ProblemMalformed, 3, `unknown field "token"`},
		{"reformatted, rehashed", func(l []string, _ []Event) []string {
			l[2] = rehash(l[2], func(s string) string { return strings.Replace(s, `,"tool"`, `, "tool"`, 1) })
			return l
		}, ProblemMalformed, 3, "not in canonical form"},
		{"an invalid event, rehashed", func(l []string, _ []Event) []string {
			l[2] = rehash(l[2], func(s string) string { return strings.Replace(s, `"allow"`, `"maybe"`, 1) })
			return l
		}, ProblemMalformed, 3, `not a valid event: decision "maybe"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, lines, events := writeLog(t, 6)
			rewrite(t, path, tt.tamper(lines, events))
			r, err := Verify(path)
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("Verify: %v (%+v)", err, r)
			}
			if ve.Problem != tt.problem || ve.Line != tt.line || ve.File != path || !strings.Contains(ve.Detail, tt.detail) {
				t.Errorf("got %s line %d: %s\nwant %s line %d: ...%s...", ve.Problem, ve.Line, ve.Detail, tt.problem, tt.line, tt.detail)
			}
			if r.Records > tt.line-1 {
				t.Errorf("%d records verified before a fault at line %d", r.Records, tt.line)
			}
			if want := path + ":" + strconv.Itoa(ve.Line) + ": " + ve.Detail; err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
		})
	}
}

// Removing the last records leaves a valid, shorter chain: only a head kept
// elsewhere shows it.
func TestVerifyCannotSeeRemovedLastLine(t *testing.T) {
	path, lines, events := writeLog(t, 6)
	rewrite(t, path, lines[:5])
	r := verify(t, path)
	if r.Records != 5 || r.LastSeq != 5 || r.LastHash != events[4].EntryHash {
		t.Errorf("report %+v", r)
	}
	if head := events[5].EntryHash; r.LastHash == head {
		t.Error("the head kept elsewhere should differ")
	}
}

// rotatedSet writes records until PATH.3 exists and returns PATH.
func rotatedSet(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	l := open(t, Options{Path: path, MaxBytes: 2048})
	for i := 0; ; i++ {
		record(t, l, sample(i), false)
		if _, err := os.Stat(path + ".4"); err == nil {
			break
		}
	}
	_ = l.Close()
	return path
}

func TestVerifyRotatedSetFaults(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func(t *testing.T, path string) []string // the paths to verify
		problem Problem
		file    string
		line    int
	}{
		{"a file deleted", func(t *testing.T, path string) []string {
			_ = os.Remove(path + ".2")
			return []string{path}
		}, ProblemUnlinked, ".1", 1},
		{"the end of a file deleted", func(t *testing.T, path string) []string {
			lines := readLines(t, path+".2")
			rewrite(t, path+".2", lines[:len(lines)-1])
			return []string{path}
		}, ProblemUnlinked, ".1", 1},
		{"files out of order", func(t *testing.T, path string) []string {
			return []string{path + ".4", path + ".2", path + ".3", path + ".1", path}
		}, ProblemUnlinked, ".2", 1},
		{"a torn line in an older file", func(t *testing.T, path string) []string {
			appendBytes(t, path+".2", `{"time":`)
			return []string{path}
		}, ProblemTorn, ".2", 0},
		{"a record edited in an older file", func(t *testing.T, path string) []string {
			lines := readLines(t, path+".3")
			lines[1] = strings.Replace(lines[1], "alice", "alicf", 1)
			rewrite(t, path+".3", lines)
			return []string{path}
		}, ProblemModified, ".3", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := rotatedSet(t)
			_, err := Verify(tt.tamper(t, path)...)
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("Verify: %v", err)
			}
			if ve.Problem != tt.problem || ve.File != path+tt.file || (tt.line > 0 && ve.Line != tt.line) {
				t.Errorf("got %s at %s:%d: %s", ve.Problem, ve.File, ve.Line, ve.Detail)
			}
		})
	}
}

func TestVerifyDiscovery(t *testing.T) {
	path := rotatedSet(t)
	appendBytes(t, path+".x", "not part of the set\n")
	appendBytes(t, path+".01", "not part of the set\n")
	r := verify(t, path)
	want := []string{path + ".4", path + ".3", path + ".2", path + ".1", path}
	if !slices.Equal(r.Files, want) {
		t.Errorf("files %v, want %v", r.Files, want)
	}
	// One rotated file alone: its own set, starting from a hash of a file
	// not given.
	if r := verify(t, path+".2"); !slices.Equal(r.Files, []string{path + ".2"}) || r.FromStart() {
		t.Errorf("report %+v", r)
	}
	for _, paths := range [][]string{nil, {filepath.Join(t.TempDir(), "missing.log")}} {
		var ve *VerifyError
		if _, err := Verify(paths...); err == nil || errors.As(err, &ve) {
			t.Errorf("Verify(%v): %v", paths, err)
		}
	}
}

func TestVerifyLongLine(t *testing.T) {
	path, lines, _ := writeLog(t, 2)
	rewrite(t, path, append(lines, strings.Repeat("x", maxLine+10)+"\n"))
	var ve *VerifyError
	if _, err := Verify(path); !errors.As(err, &ve) || ve.Problem != ProblemMalformed || ve.Line != 3 {
		t.Errorf("Verify: %v", err)
	}
}
