package server

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/audit"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/auth"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/config"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/policy"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/tools"
)

// known is what a policy file may name: the tools and toolsets of reg.
func known(reg *tools.Registry) policy.Known {
	var k policy.Known
	for _, t := range reg.Tools() {
		k.Tools = append(k.Tools, t.Name)
	}
	for _, a := range tools.Areas {
		k.Toolsets = append(k.Toolsets, string(a))
	}
	return k
}

// loadPolicy reads POLICY_FILE_PATH; without one the default allows
// everything the other gates allow. A bad file is a configuration error
// naming the file, the line and the problem.
func loadPolicy(path string, reg *tools.Registry) (*policy.Policy, error) {
	if path == "" {
		return policy.Default(), nil
	}
	p, err := policy.Load(path, known(reg))
	if err != nil {
		return nil, &config.Error{Problems: []config.Problem{{Var: "POLICY_FILE_PATH", Message: err.Error()}}}
	}
	return p, nil
}

// policyRequest is the policy's view of a call of t by p at target.
func policyRequest(p *auth.Principal, t *tools.Tool, target tools.Target) policy.Request {
	r := policy.Request{User: p.Login, Tool: t.Name, Toolset: string(t.Area), Access: t.Access.String(), Paths: target.Paths}
	// A name Gitea could not have (a/b) is left out: the Gitea client
	// refuses it as a bad argument before anything is sent.
	if gitea.ValidName(target.Owner) && gitea.ValidName(target.Repo) {
		r.Repo = target.Owner + "/" + target.Repo
	}
	return r
}

// decide asks pol about a bound call and notes the verdict in e.
// Every repository a write reaches whose name is known (a fork's
// destination, a pull request's head fork) must be allowed too.
func decide(pol *policy.Policy, p *auth.Principal, call *tools.Call, e *audit.Event) *refusal {
	d := pol.Decide(policyRequest(p, call.Tool, call.Target))
	if d.Allow && call.Tool.Access != tools.Read {
		for _, r := range call.Target.Related {
			if r.Owner == "" {
				r.Owner = p.Login
			}
			if r.Repo == "" { // a name not known beforehand: the whitelist needs owner/* for it
				continue
			}
			if rd := pol.Decide(policyRequest(p, call.Tool, tools.Target{Owner: r.Owner, Repo: r.Repo})); !rd.Allow {
				d = rd
				break
			}
		}
	}
	e.Rule = d.Rule
	if !d.Allow {
		e.Decision = audit.DecisionDeny
		return refuse(http.StatusForbidden, "policy_denied", d.Refusal())
	}
	e.Decision = audit.DecisionAllow
	return nil
}

// ReloadPolicy reads POLICY_FILE_PATH again (on SIGHUP). A valid file
// replaces the policy at once for every call that starts after; an invalid
// one is refused and the policy in force stays. Either way it is logged
// and on the audit record.
func (s *Server) ReloadPolicy() error {
	e := audit.Event{Kind: audit.KindPolicyReload, Outcome: audit.OutcomeOK}
	p, err := loadPolicy(s.cfg.PolicyFile, s.tools)
	if err != nil {
		e.Outcome, e.Reason = audit.OutcomeRefused, "invalid policy file: the policy in force stays"
		s.log.Error("policy reload refused; the policy in force stays", "file", s.cfg.PolicyFile, "error", err.Error())
	} else {
		s.policy.Store(p)
		s.log.Info("policy reloaded", "file", s.cfg.PolicyFile)
	}
	if s.audit != nil {
		if _, rerr := s.audit.Record(e, true); rerr != nil {
			s.log.Error("audit log write failed", "error", rerr.Error())
		}
	}
	return err
}

// CheckPolicy validates the policy file at path against this build's
// tools: `aegis-gitea-mcp policy check FILE`.
func CheckPolicy(path string) error {
	_, err := policy.Load(path, known(tools.Default()))
	return err
}

// PolicyQuestion is a call to explain: `policy explain`.
type PolicyQuestion struct {
	User, Tool, Repo, Path string
}

// ExplainPolicy says what the policy file at path decides for q, and by
// which rule, as one line.
func ExplainPolicy(path string, q PolicyQuestion) (string, error) {
	reg := tools.Default()
	t, ok := reg.Lookup(q.Tool)
	if !ok {
		return "", fmt.Errorf("no tool is called %q", q.Tool)
	}
	p, err := policy.Load(path, known(reg))
	if err != nil {
		return "", err
	}
	r := policy.Request{User: q.User, Tool: t.Name, Toolset: string(t.Area), Access: t.Access.String(), Repo: q.Repo}
	if q.Path != "" {
		r.Paths = []string{q.Path}
	}
	d := p.Decide(r)
	verdict := "allow"
	if !d.Allow {
		verdict = "deny"
	}
	where := "any repository"
	if q.Repo != "" {
		where = q.Repo
	}
	line := fmt.Sprintf("%s: %s %s (%s, toolset %s) in %s", verdict, cmp.Or(q.User, "(any user)"), t.Name, t.Access, t.Area, where)
	if q.Path != "" {
		line += " at " + q.Path
	}
	return line + " — rule " + strings.TrimSpace(d.Rule), nil
}

// WatchPolicy reloads POLICY_FILE_PATH whenever its modification time or
// size changes, checking every interval until ctx is done: a cheap poll,
// beside SIGHUP. Without a policy file it returns at once.
func (s *Server) WatchPolicy(ctx context.Context, interval time.Duration) {
	if s.cfg.PolicyFile == "" {
		return
	}
	stamp := func() (time.Time, int64) {
		fi, err := os.Stat(s.cfg.PolicyFile)
		if err != nil {
			return time.Time{}, -1
		}
		return fi.ModTime(), fi.Size()
	}
	lastTime, lastSize := stamp()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if t, n := stamp(); !t.Equal(lastTime) || n != lastSize {
				lastTime, lastSize = t, n
				_ = s.ReloadPolicy() // a bad file is logged and recorded; the policy in force stays
			}
		}
	}
}
