package server

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/audit"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/auth"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/tools"
)

// The audit records of the pipeline: one per read (after it ran), two per
// write (its intent before the Gitea request is sent, durable with
// AUDIT_FSYNC, and its outcome after), one per refusal, and one per
// authentication refusal at the HTTP layer. No record holds a token or
// the content of the arguments: arguments are recorded as their SHA-256.

// openAudit opens the audit log AUDIT_LOG_PATH names, if any.
func openAudit(path string, maxBytes int64, now func() time.Time) (*audit.Log, error) {
	if path == "" {
		return nil, nil
	}
	return audit.Open(audit.Options{Path: path, MaxBytes: maxBytes, Now: now})
}

// callEvent starts the record of c: who, how, which tool.
func (s *Server) callEvent(c toolCall) audit.Event {
	e := audit.Event{Kind: audit.KindToolInvocation, RequestID: c.via.request.requestID, Tool: c.name,
		Caller: audit.Caller{Transport: auditTransport(c.via.request.transport), Session: c.via.session,
			RemoteAddr: c.via.request.remoteAddr}}
	if s.audit != nil { // hashing is the one cost of a record; none without a log
		e.ArgumentsSHA256 = sha256Hex(c.args)
	}
	if c.principal != nil {
		e.Caller.UserID, _ = strconv.ParseInt(c.principal.UserID, 10, 64)
		e.Caller.Login = c.principal.Login
		if s.cfg.OAuthMode {
			e.Caller.ClientID = s.cfg.OAuthClientID // the audience every accepted token was issued to
		}
	}
	return e
}

// bound adds what binding learned: the target and the canonical arguments.
func (s *Server) bound(e *audit.Event, call *tools.Call) {
	t := call.Target
	e.Target = audit.Target{Owner: t.Owner, Repo: t.Repo, Ref: t.Ref, Paths: t.Paths, Number: t.Number}
	if s.audit != nil {
		e.ArgumentsSHA256 = sha256Hex(call.Args)
	}
}

// recordIntent records a write before it is sent. An error means the
// write must not be sent.
func (s *Server) recordIntent(e audit.Event) error {
	if s.audit == nil {
		return nil
	}
	e.Phase = audit.PhaseIntent
	_, err := s.audit.Record(e, s.cfg.AuditFsync)
	return err
}

// auditReady reports whether a read may run: with AUDIT_FAIL_MODE=closed,
// not while the audit log cannot be written.
func (s *Server) auditReady() error {
	if s.audit == nil || s.cfg.AuditFailOpen {
		return nil
	}
	return s.audit.Healthy()
}

// recordOutcome completes and writes e once the call ended as res or ref.
func (s *Server) recordOutcome(e audit.Event, write bool, call *tools.Call, ref *refusal, elapsed time.Duration) error {
	if s.audit == nil {
		return nil
	}
	e.DurationMS = elapsed.Milliseconds()
	switch {
	case ref != nil:
		e.Kind, e.Outcome, e.Reason = audit.KindAccessDenied, audit.OutcomeRefused, ref.code
		if e.Decision == "" {
			e.Decision = audit.DecisionDeny
		}
	case write:
		e.Phase = audit.PhaseOutcome
	}
	if call != nil && call.Failure != nil {
		var apiErr *gitea.APIError
		if errors.As(call.Failure, &apiErr) {
			e.GiteaStatus = apiErr.Status
		}
	}
	_, err := s.audit.Record(e, false)
	return err
}

// recordAuthRefusal records a request refused before it had a caller.
func (s *Server) recordAuthRefusal(r *http.Request, path string, err *auth.Error) {
	kind := audit.KindAccessDenied
	if err.Status >= 500 {
		kind = audit.KindSecurityEvent
	}
	s.recordRequest(r, path, kind, "authentication: "+cmp.Or(err.Code, "no token"))
}

// recordSecurityEvent records something done to the server rather than a
// call, such as an address shut out; reason says what.
func (s *Server) recordSecurityEvent(r *http.Request, path, reason string) {
	s.recordRequest(r, path, audit.KindSecurityEvent, reason)
}

// recordRequest records a refused request that has no caller.
func (s *Server) recordRequest(r *http.Request, path string, kind audit.Kind, reason string) {
	if s.audit == nil {
		return
	}
	e := audit.Event{Kind: kind, RequestID: r.Header.Get("X-Request-ID"), Outcome: audit.OutcomeRefused,
		Decision: audit.DecisionDeny, Reason: reason,
		Caller: audit.Caller{Transport: auditTransport(transportAt(path)), RemoteAddr: clientAddr(r)}}
	if _, err := s.audit.Record(e, false); err != nil {
		s.log.Error("audit log write failed", "error", err.Error())
	}
}

// auditTransport names a transport as the audit log does: the tools list
// is part of the plain HTTP API.
func auditTransport(t string) audit.Transport {
	if t == "tools_list" {
		return audit.TransportToolCall
	}
	return audit.Transport(t)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
