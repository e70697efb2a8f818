package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/auth"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/tools"
)

// A destructive call is confirmed by the human in two rounds, the MCP way
// (multi round-trip requests, and for older clients the SDK's classic
// elicitation): the first call is answered with a question and a request
// state; the retried call carries the human's answer and that state back.
// The state is this server's signed promise of what was asked: the caller,
// the tool, a digest of the exact arguments, a nonce and an expiry. It is
// attacker-controlled on the way back, so it is verified, bound to all of
// these, and accepted once.

const (
	// confirmTTL is how long a question can be answered.
	confirmTTL = 5 * time.Minute
	// confirmInput is the id of the question among the input requests.
	confirmInput = "confirm"
	// maxSpentConfirmations bounds the spent nonces remembered until their
	// questions expire; past it, answers are refused (fail closed).
	maxSpentConfirmations = 10000
)

// confirmations issues and checks destructive-call confirmations.
type confirmations struct {
	key []byte
	now func() time.Time

	mu    sync.Mutex
	spent map[string]time.Time // nonce → expiry of its question
}

func newConfirmations(now func() time.Time) *confirmations {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand never fails on supported platforms
	return &confirmations{key: key, now: now, spent: map[string]time.Time{}}
}

// confirmState is what a request state promises.
type confirmState struct {
	User    string `json:"u"`
	Tool    string `json:"t"`
	Args    string `json:"a"` // base64url SHA-256 of the bound arguments
	Nonce   string `json:"n"`
	Expires int64  `json:"e"` // Unix seconds
}

// check returns confirmed when the call carries a valid, unspent state
// for exactly this caller, tool and arguments, and the human accepted.
// Otherwise it returns the result to send instead: the question, or what
// happened to the answer. Nothing runs in either case.
func (c *confirmations) check(p *auth.Principal, call *tools.Call, a *answer) (*mcp.CallToolResult, bool) {
	if a == nil || a.state == "" {
		return c.ask(p, call), false
	}
	st, ok := c.open(a.state)
	switch {
	case !ok || st.User != p.UserID || st.Tool != call.Tool.Name || st.Args != digest(call.Args):
		return tools.ErrorText("the confirmation does not match this call (another call, user or server): nothing was done; call the tool again to be asked anew"), false
	case c.now().Unix() > st.Expires:
		return tools.ErrorText("the confirmation expired: nothing was done; call the tool again to be asked anew"), false
	}
	if ok, full := c.spend(st); !ok {
		if full {
			return tools.ErrorText("too many confirmations were answered on this server in the last minutes: nothing was done; retry shortly"), false
		}
		return tools.ErrorText("this confirmation was already used: nothing was done; call the tool again to be asked anew"), false
	}
	res, _ := a.responses[confirmInput].(*mcp.ElicitResult)
	switch {
	case res == nil:
		return tools.ErrorText("no answer to the confirmation arrived: nothing was done"), false
	case res.Action == "decline" || res.Action == "cancel":
		return tools.ErrorText("the user declined: nothing was done. " + call.Question), false
	case res.Action != "accept" || res.Content["confirm"] != true:
		return tools.ErrorText("the user did not confirm: nothing was done. " + call.Question), false
	}
	return nil, true
}

// ask returns the question for call: an input-required result.
func (c *confirmations) ask(p *auth.Principal, call *tools.Call) *mcp.CallToolResult {
	st := confirmState{User: p.UserID, Tool: call.Tool.Name, Args: digest(call.Args), Nonce: rand.Text(),
		Expires: c.now().Add(confirmTTL).Unix()}
	return &mcp.CallToolResult{
		InputRequests: mcp.InputRequestMap{confirmInput: &mcp.ElicitParams{
			Mode:    "form",
			Message: call.Question + " This cannot be undone.",
			RequestedSchema: map[string]any{
				"type": "object",
				"properties": map[string]any{
					"confirm": map[string]any{"type": "boolean", "title": "Yes, do it", "default": false},
				},
				"required": []string{"confirm"},
			},
		}},
		RequestState: c.seal(st),
	}
}

// seal signs st: base64url(JSON) "." base64url(HMAC-SHA256).
func (c *confirmations) seal(st confirmState) string {
	payload, _ := json.Marshal(st) // a struct of strings and an int
	body := base64.RawURLEncoding.EncodeToString(payload)
	return body + "." + base64.RawURLEncoding.EncodeToString(c.mac(body))
}

// open verifies and decodes a sealed state.
func (c *confirmations) open(sealed string) (confirmState, bool) {
	var st confirmState
	body, sig, ok := strings.Cut(sealed, ".")
	if !ok || len(sealed) > 1024 {
		return st, false
	}
	want, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(want, c.mac(body)) {
		return st, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || json.Unmarshal(payload, &st) != nil {
		return st, false
	}
	return st, true
}

func (c *confirmations) mac(body string) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(body))
	return m.Sum(nil)
}

// spend marks st's nonce used, once; full reports a refusal because too
// many unexpired nonces are remembered.
func (c *confirmations) spend(st confirmState) (ok, full bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, used := c.spent[st.Nonce]; used {
		return false, false
	}
	if len(c.spent) >= maxSpentConfirmations {
		now := c.now()
		for n, exp := range c.spent {
			if now.After(exp) {
				delete(c.spent, n)
			}
		}
		if len(c.spent) >= maxSpentConfirmations {
			return false, true
		}
	}
	c.spent[st.Nonce] = time.Unix(st.Expires, 0)
	return true, false
}

func digest(args []byte) string {
	sum := sha256.Sum256(args)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
