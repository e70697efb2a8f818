// Package audit is the server's tamper-evident audit log: one JSON line per
// tool call, refusal and policy reload, each line hash-chained to the one
// before it, so that editing, deleting, inserting or reordering records
// shows when the log is verified.
//
// # Record format
//
// A line is one [Event] encoded by encoding/json, then a newline:
//
//	{"time":"2025-06-01T12:00:00.123456789Z","request_id":"req-7f3a","event":"tool_invocation","phase":"intent","caller":{"user_id":7,"login":"alice","client_id":"claude-desktop","transport":"streamable","session":"3f1c9a","remote_addr":"192.0.2.10:51234"},"tool":"create_file","target":{"owner":"acme","repo":"widgets","ref":"main","paths":["docs/intro.md"]},"arguments_sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","decision":"allow","rule":"acme/widgets: write","seq":1,"prev_hash":"0000000000000000000000000000000000000000000000000000000000000000","entry_hash":"b523fd81385f5600a785d8cec0f1dc91db02d5047f2b7cd160bfbce3ad5d1cb4"}
//
// The keys, in this order; a key whose value is zero is absent, except
// the always present time, event, seq, prev_hash and entry_hash:
//
//	time              UTC, RFC 3339 with up to nanoseconds (trailing zeros dropped)
//	request_id        the HTTP X-Request-ID
//	event             tool_invocation, access_denied, security_event, policy_reload
//	phase             intent (before a write is sent to Gitea), outcome (after); absent for single records
//	caller            user_id, login, client_id, transport (streamable, sse, tool_call, stdio), session, remote_addr
//	tool              the tool's name
//	target            owner, repo, ref, paths (at most 16, each at most 256 bytes), paths_omitted, number
//	arguments_sha256  hex SHA-256 of the arguments: never the arguments
//	decision          allow, deny
//	rule              the policy rule that decided
//	outcome           ok, tool_error, refused, gitea_error, canceled, ... (a code)
//	reason            a fixed short text: a constant of the code, never an error message or input
//	gitea_status      the HTTP status of the Gitea request
//	duration_ms       how long the call took
//	seq               1, 2, 3... in each file
//	prev_hash         entry_hash of the record before, or 64 zeros for the first record of the log
//	entry_hash        the chain hash of this record
//
// A record never holds a token, a credential or argument content: the
// type has no field for them. Every string is cut to 256 bytes and made
// valid UTF-8; JSON escapes control characters, so a value cannot break a
// line.
//
// # Chain
//
// The canonical encoding of a record is the output of json.Marshal of its
// Event with EntryHash empty (the field is then omitted): a struct, so the
// members come in field order, with the chain members seq and prev_hash
// last. Then
//
//	entry_hash = lowercase hex of SHA-256(prev_hash || canonical encoding)
//
// where prev_hash is taken as its 64 ASCII hex characters. The line is the
// canonical encoding with `,"entry_hash":"<entry_hash>"` inserted before
// its final "}". So, without Go, a line's hash is checked by removing that
// member and hashing:
//
//	canonical=$(printf %s "$line" | sed -E 's/,"entry_hash":"[0-9a-f]{64}"\}$/}/')
//	printf %s "$prev_hash$canonical" | sha256sum
//
// The first record of a log has prev_hash of 64 zeros ([ZeroHash]). After
// a rotation the new file's first record has seq 1 and, as prev_hash, the
// last entry_hash of the file before: the chain goes on across files.
// [Verify] requires each line to be exactly the canonical encoding (plus
// entry_hash) of a valid Event, so any change of a byte is seen.
//
// # Files
//
// [Log.Record] appends each line with one write call, under a lock held
// only for the hash and that write; a durable record is fsynced after the
// lock is released, one fsync serving every durable caller waiting. With
// MaxBytes set, a record that would make the file exceed it first renames
// the file to PATH.1 (PATH.1 to PATH.2 and so on; [Keep] = 10 rotated
// files are kept, and the oldest is deleted) and goes to a new PATH. One
// process writes a path at a time. [Open] continues an existing chain; see
// it for a torn last line. Path "-" writes to standard output: no
// rotation, no fsync, and each start begins a new chain.
//
// A writer failure (write, fsync, rotation) is returned by Record, and the
// server fails closed on it; the log then refuses every record until it is
// opened again ([Log.Healthy] reports it for /readyz). A partial write is
// truncated away first, so the file still ends with a whole record.
//
// # Limitations
//
// The chain is a plain SHA-256 chain, not keyed: it shows changes made by
// anyone who does not rewrite every record after the change, and a
// rewrite from the changed record on goes unseen. Nor can a chain show
// that its last records were removed (or a whole log replaced): what is
// left is a valid, shorter chain. Both are closed by keeping the head
// elsewhere, out of the host's reach: ship each line off the host as it
// is written (the "-" output to a log collector, or a forwarder tailing
// the file), or record [Log.Head] periodically in another system, then
// compare [Report.LastHash] with it. Rotated files deleted by rotation
// leave a set that starts from a prev_hash that is not zero
// ([Report.StartHash]), so deleting whole oldest files also shows only
// against a copy kept elsewhere; records deleted from the start of a file
// do show, as its seq then does not start at 1.
package audit
