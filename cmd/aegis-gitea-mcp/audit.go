package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/audit"
)

// auditVerify checks an audit log, or a rotated set of them: exit 0 when
// the chain is intact, 1 naming the first bad line, 2 on usage.
func auditVerify(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, "aegis-gitea-mcp audit verify: name the log file (its rotated PATH.N siblings are found), or the files oldest first\n")
		return exitConfig
	}
	rep, err := audit.Verify(args...)
	var bad *audit.VerifyError
	switch {
	case errors.As(err, &bad):
		fmt.Fprintf(stdout, "audit log NOT intact: %s (%s)\n", bad.Error(), bad.Problem)
		return exitFailure
	case err != nil:
		fmt.Fprintf(stderr, "aegis-gitea-mcp audit verify: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "audit log intact: %d records in %d file(s), last seq %d, head %s\n", rep.Records, len(rep.Files), rep.LastSeq, rep.LastHash)
	if !rep.FromStart() {
		fmt.Fprintln(stdout, "note: the oldest file checked continues an earlier one, which was not checked")
	}
	for _, loc := range rep.Recovered {
		fmt.Fprintf(stdout, "note: %s:%d is a torn line from a crash, set aside when the log was reopened\n", loc.File, loc.Line)
	}
	return exitOK
}
