package server

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/audit"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/auth"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/policy"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/tools"
)

// toolCall is one tool call as a transport hands it to the pipeline.
type toolCall struct {
	principal *auth.Principal // the verified caller; nil is refused
	name      string
	args      json.RawMessage
	via       channel
}

// channel is what the connection a call or a listing comes through offers.
type channel struct {
	request requestInfo
	session string // the MCP session id, if the transport has sessions
	// toolsets narrows the server's areas for this connection; nil means
	// no narrowing. It can never widen them.
	toolsets []tools.Area
	// canAsk is set when the client can put a question to its human
	// (MCP elicitation in form mode).
	canAsk bool
	// answer is the human's reply to an earlier question, carried back by
	// the client with the retried call.
	answer *answer
}

// answer is a reply to a confirmation question: the client's input
// responses and the request state the question was issued with.
type answer struct {
	responses mcp.InputResponseMap
	state     string
}

// runCall is the one call path every transport uses. In order: the
// verified caller, the tool and whether this server and connection offer
// it, the token's scopes, the caller's rate and in-flight limits, the arguments bound to a call that knows its
// target, the write gates, the human's confirmation of a destructive act,
// then the tool itself with a Gitea client chosen by its access level, and
// its output shaped for the model. A refusal means nothing was sent to
// Gitea; anything that goes wrong inside the tool is an IsError result.
func (s *Server) runCall(ctx context.Context, c toolCall) (*mcp.CallToolResult, *refusal) {
	start := time.Now()
	e := s.callEvent(c)
	res, call, ref := s.pipeline(ctx, c, &e)
	write := call != nil && call.Tool.Access != tools.Read
	if err := s.recordOutcome(e, write, call, ref, time.Since(start)); err != nil {
		s.log.Error("audit log write failed", "error", err.Error())
		if !write && ref == nil && !s.cfg.AuditFailOpen { // a read whose record failed is withheld
			res, ref = nil, auditUnavailable()
		}
	}
	outcome, counted := "ok", "ok" // for the log, and for metrics
	switch {
	case ref != nil:
		outcome, counted = "refused: "+ref.code, ref.code
	case res.IsError:
		outcome, counted = "tool_error", "tool_error"
	case res.InputRequests != nil:
		outcome, counted = "asked_to_confirm", "confirmation_asked"
	}
	s.metrics.ToolCall(s.metricName(c.name), counted, time.Since(start))
	// A call is in the access log and the audit record already: its own
	// line is for debugging, or a refusal's (sampled: refusals come in
	// floods, a few lines a second per kind).
	if ref != nil || s.log.Enabled(ctx, slog.LevelDebug) {
		args := []any{"tool", s.logName(c.name), "caller", c.principal, "outcome", outcome,
			"transport", c.via.request.transport, "request_id", c.via.request.requestID, "duration_ms", time.Since(start).Milliseconds()}
		if ref != nil {
			s.sampled.info("refused: "+ref.code, "tool call", args...)
		} else {
			s.log.Debug("tool call", args...)
		}
	}
	return res, ref
}

// metricName is a call's tool name as a metric label: a tool's own name,
// or "unknown", so callers cannot make up label values.
func (s *Server) metricName(name string) string {
	if _, ok := s.tools.Lookup(name); ok {
		return name
	}
	return "unknown"
}

// logName is how a call's tool name is logged: a tool's own name, or for
// a name no tool has, a bounded and plain rendering of it.
func (s *Server) logName(name string) string {
	if _, ok := s.tools.Lookup(name); ok {
		return name
	}
	const maxLogged = 64
	var b strings.Builder
	for i, r := range name {
		if i >= maxLogged {
			return fmt.Sprintf("%s... (%d bytes, unknown)", b.String(), len(name))
		}
		if r < 0x20 || r > 0x7e {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String() + " (unknown)"
}

// pipeline runs c's checks in order and then the tool, completing e, the
// call's audit record, as it learns more. call is nil when the call was
// refused before it was bound.
func (s *Server) pipeline(ctx context.Context, c toolCall, e *audit.Event) (*mcp.CallToolResult, *tools.Call, *refusal) {
	p := c.principal
	if p == nil { // every transport authenticates first; doubt refuses
		return nil, nil, refuseAuth(auth.ErrNoToken)
	}
	t, ref := s.offered(c.name, c.via)
	if ref != nil {
		return nil, nil, ref
	}
	if !t.Allowed(p.Scopes) {
		return nil, nil, refuseAuth(s.insufficientScope(p, t))
	}
	release, ref := s.limits.admitCall(p, t)
	if ref != nil {
		return nil, nil, ref
	}
	defer release()
	if t.Access != tools.Read && len(c.args) > s.cfg.MaxWriteBytes {
		return nil, nil, refuse(http.StatusRequestEntityTooLarge, "write_too_large",
			fmt.Sprintf("the arguments are %d bytes, over this server's %d-byte limit for one write (MAX_WRITE_BYTES): split the change",
				len(c.args), s.cfg.MaxWriteBytes))
	}
	call, err := t.Bind(c.args)
	if err != nil {
		var argErr *tools.ArgumentError
		if errors.As(err, &argErr) {
			return nil, nil, refuse(http.StatusBadRequest, "invalid_arguments", argErr.Error())
		}
		return nil, nil, refuseInternal()
	}
	s.bound(e, call)
	if t.Access != tools.Read {
		if ref := s.writeAllowed(call.Target, p); ref != nil {
			return nil, call, ref
		}
	}
	pol := s.policy.Load() // one snapshot for the whole call, across a reload
	if ref := decide(pol, p, call, e); ref != nil {
		return nil, call, ref
	}
	if t.Access == tools.Destructive && s.cfg.ConfirmDestructive {
		if res, confirmed := s.confirm.check(p, call, c.via.answer); !confirmed {
			e.Outcome = "not_confirmed"
			if res.InputRequests != nil {
				e.Outcome = "confirmation_asked"
			}
			return res, call, nil
		}
	}
	if t.Access == tools.Read {
		if err := s.auditReady(); err != nil {
			return nil, call, auditUnavailable()
		}
	} else if err := s.recordIntent(*e); err != nil { // nothing is sent that is not on record
		s.log.Error("audit log write failed: write refused", "error", err.Error())
		return nil, call, auditUnavailable()
	}
	res, err := call.Run(ctx, s.clientFor(t, p), s.toolOptions(pol, p, t))
	if err != nil {
		s.log.Error("tool failed", "tool", t.Name, "error", err.Error())
		return nil, call, refuseInternal()
	}
	e.Outcome = audit.OutcomeOK
	if res.IsError {
		e.Outcome = audit.OutcomeToolError
	}
	return res, call, nil
}

// toolOptions are the output options of a call of t by p: with a policy
// file, the paths and repositories pol lets p see in what a read returns.
func (s *Server) toolOptions(pol *policy.Policy, p *auth.Principal, t *tools.Tool) tools.Options {
	opts := s.toolOpts
	if s.cfg.PolicyFile != "" {
		login := p.Login
		opts.PathAllowed = func(owner, repo, path string) bool {
			ok, _ := pol.PathAllowed(login, owner+"/"+repo, path)
			return ok
		}
		opts.PathsRestricted = func(owner, repo string) bool { return pol.RestrictsPaths(login, owner+"/"+repo) }
		opts.RepoAllowed = func(owner, repo string) bool {
			return pol.Decide(policy.Request{User: login, Tool: t.Name, Toolset: string(t.Area), Access: policy.Read, Repo: owner + "/" + repo}).Allow
		}
	}
	return opts
}

// auditUnavailable refuses a call that cannot be put on record.
func auditUnavailable() *refusal {
	return refuse(http.StatusServiceUnavailable, "audit_unavailable",
		"this server cannot write its audit log right now, so it runs nothing it cannot record: retry later, and tell the operator")
}

// clientFor returns the Gitea client a tool of t's access level gets: a
// read tool one that can only read, whatever it tries.
func (s *Server) clientFor(t *tools.Tool, p *auth.Principal) *gitea.Client {
	if t.Access == tools.Read {
		return s.gitea.As(p.Token())
	}
	return s.gitea.AsWriter(p.Token())
}

// offered returns the tool called name if this server and the channel
// offer it, or the refusal that says why not.
func (s *Server) offered(name string, via channel) (*tools.Tool, *refusal) {
	t, ok := s.tools.Lookup(name)
	switch {
	case !ok:
		return nil, &refusal{status: http.StatusNotFound, code: "unknown_tool", text: "unknown tool " + name, protocol: true}
	case !s.areaOffered(t.Area, via):
		return nil, refuse(http.StatusNotFound, "toolset_not_offered",
			fmt.Sprintf("%s belongs to the toolset %q, which this server or connection does not offer (TOOLSETS)", name, t.Area))
	case t.Access != tools.Read && !s.cfg.WriteMode:
		return nil, refuse(http.StatusForbidden, "write_mode_off",
			name+" changes data, and write mode is off on this server: its operator can turn it on with WRITE_MODE=true")
	case t.Access == tools.Destructive && s.cfg.ConfirmDestructive && !via.canAsk:
		return nil, refuse(http.StatusForbidden, "confirmation_unavailable",
			name+" is destructive, and this server asks the human to confirm such calls, which this client cannot do "+
				"(no MCP elicitation, or a plain HTTP call): use a client that supports elicitation, "+
				"or the operator may set CONFIRM_DESTRUCTIVE=false for automation")
	}
	return t, nil
}

func (s *Server) areaOffered(a tools.Area, via channel) bool {
	return slices.Contains(s.areas, a) && (via.toolsets == nil || slices.Contains(via.toolsets, a))
}

// visibleTools is the one answer to "which tools may this caller see",
// used by every tools/list path: the tools offered on the channel whose
// scopes the caller's token holds and which the policy may allow the
// caller somewhere. No principal sees none.
func (s *Server) visibleTools(p *auth.Principal, via channel) []*tools.Tool {
	var out []*tools.Tool
	if p == nil {
		return out
	}
	pol := s.policy.Load()
	for _, t := range s.tools.Tools() {
		if _, ref := s.offered(t.Name, via); ref == nil && t.Allowed(p.Scopes) &&
			pol.ToolAllowed(p.Login, t.Name, string(t.Area), t.Access.String()) {
			out = append(out, t)
		}
	}
	return out
}

// writeAllowed checks a write's target, and every repository it reaches,
// against WRITE_REPOSITORY_WHITELIST; a related repository without an
// owner is in p's own account.
func (s *Server) writeAllowed(t tools.Target, p *auth.Principal) *refusal {
	if t.Owner == "" || t.Repo == "" { // a write must name its repository: doubt refuses
		return refuse(http.StatusForbidden, "repository_not_writable", "this write names no repository, so this server cannot check it: refused")
	}
	if s.cfg.WriteAllowAllTokenRepos {
		return nil
	}
	for _, r := range t.Repos() {
		if r.Owner == "" {
			r.Owner = p.Login
		}
		if !s.writable(r) {
			return refuse(http.StatusForbidden, "repository_not_writable",
				fmt.Sprintf("writes to %s are not allowed on this server: it is not in WRITE_REPOSITORY_WHITELIST", r))
		}
	}
	return nil
}

// writable reports whether a whitelist pattern covers r. Gitea names are
// case-insensitive, so the match is too; a repository whose name is not
// known beforehand is covered by "owner/*" only.
func (s *Server) writable(r tools.RepoName) bool {
	for _, pat := range s.cfg.WriteRepositories {
		owner, repo, _ := strings.Cut(pat, "/")
		if strings.EqualFold(owner, r.Owner) && (repo == "*" || (r.Repo != "" && strings.EqualFold(repo, r.Repo))) {
			return true
		}
	}
	return false
}

// insufficientScope asks for the scopes the token has plus the ones the tool
// needs, so a re-grant keeps what already works; a held read scope whose
// write scope is missing gives way to it.
func (s *Server) insufficientScope(p *auth.Principal, t *tools.Tool) *auth.Error {
	var missing []gitea.Scope
	for _, sc := range t.Scopes {
		if !p.Scopes.Has(sc) {
			missing = append(missing, sc)
		}
	}
	held := slices.DeleteFunc(p.Scopes.List(), func(sc gitea.Scope) bool { return slices.Contains(missing, sc.WriteScope()) })
	if s.broker != nil {
		return auth.InsufficientScopeHere(missing, append(held, missing...))
	}
	return auth.InsufficientScope(missing, append(held, missing...))
}

// refusal is a call the pipeline would not run: nothing was sent to Gitea.
// Each transport renders it once, in its own wire format.
type refusal struct {
	status int    // the HTTP status, where HTTP carries one
	code   string // stable and machine-readable, e.g. "write_mode_off"
	text   string // fixed text, safe to show: no token, nothing Gitea said
	// auth is set for an authentication or scope refusal, which HTTP
	// answers with a WWW-Authenticate challenge.
	auth *auth.Error
	// protocol marks a refusal MCP reports as a JSON-RPC error rather than
	// a tool error (an unknown tool).
	protocol bool
	// retryAfter, for a limit, is how long to wait before trying again.
	retryAfter time.Duration
}

func refuse(status int, code, text string) *refusal {
	return &refusal{status: status, code: code, text: text}
}

func refuseAuth(e *auth.Error) *refusal {
	return &refusal{status: e.Status, code: cmp.Or(e.Code, "unauthorized"), text: e.Description, auth: e}
}

func refuseInternal() *refusal {
	return refuse(http.StatusInternalServerError, "internal_error", "internal error while running the tool")
}
