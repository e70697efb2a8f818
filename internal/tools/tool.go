package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/textsafe"
)

// Access is what a tool may do to the user's data. It sets the MCP
// readOnlyHint and destructiveHint annotations, both always explicitly.
type Access int

// Access levels. The zero value is invalid, so a tool must choose one.
const (
	_           Access = iota
	Read               // reads only
	Write              // creates or changes, without destroying
	Destructive        // may delete or overwrite
)

func (a Access) String() string {
	switch a {
	case Read:
		return "read"
	case Write:
		return "write"
	case Destructive:
		return "destructive"
	}
	return "invalid"
}

// Def declares a tool with input type In and output type Out. In must be a
// struct; its JSON schema (fields without omitempty are required, unknown
// fields refused) is what clients see and what arguments are checked against.
type Def[In, Out any] struct {
	Name   string
	Title  string
	Desc   string
	Scopes []gitea.Scope // all of them are required
	Access Access
	Area   Area
	// Idempotent marks a Write or Destructive tool whose repeated call with
	// the same arguments changes nothing more (readOnlyHint tools are
	// idempotent anyway).
	Idempotent bool
	// Schema, if set, refines the inferred input schema (enums, bounds).
	Schema func(*jsonschema.Schema)
	// Confirm, required for Destructive tools, words the question put to
	// the human before the call runs, e.g. "Delete branch x in o/r?".
	Confirm func(in In) string
	Run     func(ctx context.Context, e *Env, in In) (Out, error)
}

// Tool is a registered tool, its types erased.
type Tool struct {
	Name     string
	Scopes   []gitea.Scope
	Access   Access
	Area     Area
	mcp      *mcp.Tool
	input    *jsonschema.Resolved
	bind     func(args json.RawMessage) (*Call, error)
	confirms bool         // has a Confirm question
	output   reflect.Type // Out, for the tests of what tools return
}

// Tool builds the registered form of d. It panics if In has no valid
// schema: that is a programming error, caught by the registry test.
func (d Def[In, Out]) Tool() *Tool {
	schema, err := jsonschema.For[In](nil)
	if err != nil {
		panic(fmt.Sprintf("tool %s: input schema: %v", d.Name, err))
	}
	if d.Schema != nil {
		d.Schema(schema)
	}
	resolved, err := schema.Resolve(&jsonschema.ResolveOptions{ValidateDefaults: true})
	if err != nil {
		panic(fmt.Sprintf("tool %s: resolving input schema: %v", d.Name, err))
	}
	destructive, openWorld := d.Access == Destructive, false
	t := &Tool{
		Name:     d.Name,
		Scopes:   d.Scopes,
		Access:   d.Access,
		Area:     d.Area,
		input:    resolved,
		confirms: d.Confirm != nil,
		output:   reflect.TypeFor[Out](),
		mcp: &mcp.Tool{
			Name:        d.Name,
			Title:       d.Title,
			Description: d.Desc,
			InputSchema: schema,
			Annotations: &mcp.ToolAnnotations{
				ReadOnlyHint:    d.Access == Read,
				DestructiveHint: &destructive,
				IdempotentHint:  d.Access == Read || d.Idempotent,
				OpenWorldHint:   &openWorld, // one self-hosted Gitea, not the open web
			},
		},
	}
	t.bind = func(args json.RawMessage) (*Call, error) {
		args, err := t.validate(args)
		if err != nil {
			return nil, err
		}
		var in In
		dec := json.NewDecoder(bytes.NewReader(args))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return nil, &ArgumentError{Problem: "arguments do not match the tool's input schema"}
		}
		c := &Call{Tool: t, Target: targetOf(in), Args: args,
			run: func(ctx context.Context, e *Env) (any, error) { return d.Run(ctx, e, in) }}
		if d.Confirm != nil {
			c.Question = textsafe.Clean(d.Confirm(in))
		}
		return c, nil
	}
	return t
}

// MCP returns the tool's tools/list entry. Callers must not modify it.
func (t *Tool) MCP() *mcp.Tool { return t.mcp }

// Bind validates args against the input schema and decodes them into a
// [Call] that knows its tool and its target. Invalid arguments are an
// [*ArgumentError]; nothing has run.
func (t *Tool) Bind(args json.RawMessage) (*Call, error) { return t.bind(args) }

// Call is a tool call whose arguments are validated and decoded, ready to
// run once every check on it has passed.
type Call struct {
	Tool   *Tool
	Target Target
	// Args are the validated arguments, defaults applied, as JSON.
	Args json.RawMessage
	// Question asks the human to confirm a Destructive call; "" otherwise.
	Question string
	// Failure is, once Run returned an IsError result, the tool's own error
	// behind it, for the server's records; it never reaches the client.
	Failure error
	run     func(ctx context.Context, e *Env) (any, error)
}

// errWrongClient is a call handed a client its access level must not
// have: a Read tool with a client that may write.
var errWrongClient = errors.New("a read tool was handed a client that may write")

// Run runs the call as the owner of c. A Read tool must be given a
// read-only client and refuses a writer. A failure of the tool itself is a
// result with IsError set, whose text says what happened and what to do,
// never Gitea's own words. Every string of a result, whatever its type, is
// cleaned and then has its secrets masked (unless masking is off) by the
// output walker, [sanitize]; a result holding user-controlled text is
// marked untrusted, naming the fields that hold it: its text starts with
// the untrusted notice and its structuredContent, a JSON object, with an
// "untrusted_fields" key. The search and fetch pair keeps its text the
// JSON alone, as ChatGPT's convention wants, the key inside. A result
// over the output budget is refused with advice to narrow the request.
func (c *Call) Run(ctx context.Context, client *gitea.Client, opts Options) (*mcp.CallToolResult, error) {
	t := c.Tool
	if t.Access == Read && client != nil && client.CanWrite() {
		return nil, fmt.Errorf("tool %s: %w", t.Name, errWrongClient)
	}
	out, err := c.run(ctx, &Env{Client: client, opts: opts})
	if err != nil {
		c.Failure = err
		return errorResult(err, t.Access), nil
	}
	buf, data, err := encodeResult(out)
	if err != nil {
		return nil, fmt.Errorf("tool %s: encoding output: %w", t.Name, err)
	}
	data, fields := sanitize(data, opts.Secrets != textsafe.Off)
	if len(data) > opts.budget() {
		return ErrorText(fmt.Sprintf("the result is %d bytes, over this server's %d-byte budget: ask for less (a smaller limit, a narrower path or range)",
			len(data), opts.budget())), nil
	}
	var text string
	structured := data
	switch {
	case len(fields) == 0:
		text = string(data)
	case t.Area == AreaSearch:
		structured = withUntrustedFields(buf, data, fields)
		text = string(structured)
	default:
		text = untrustedNotice(fields) + string(data) // before the key overwrites data
		structured = withUntrustedFields(buf, data, fields)
	}
	return &mcp.CallToolResult{
		Content:           []mcp.Content{&mcp.TextContent{Text: text}},
		StructuredContent: json.RawMessage(structured),
	}, nil
}

// validate checks args against the schema and returns them with defaults applied.
func (t *Tool) validate(args json.RawMessage) (json.RawMessage, error) {
	v := map[string]any{}
	if len(bytes.TrimSpace(args)) > 0 && !bytes.Equal(bytes.TrimSpace(args), []byte("null")) {
		if err := json.Unmarshal(args, &v); err != nil {
			return nil, &ArgumentError{Problem: "arguments must be a JSON object"}
		}
	}
	if err := t.input.ApplyDefaults(&v); err != nil {
		return nil, &ArgumentError{Problem: "arguments do not match the tool's input schema"}
	}
	if err := t.input.Validate(v); err != nil {
		return nil, schemaError(t.input.Schema(), v, err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, &ArgumentError{Problem: "arguments cannot be encoded"}
	}
	return out, nil
}

// schemaError names the first argument at fault. The validator's own text
// is not passed on: it can quote the caller's values.
func schemaError(s *jsonschema.Schema, args map[string]any, err error) *ArgumentError {
	for _, name := range s.Required {
		if _, ok := args[name]; !ok {
			return &ArgumentError{Field: name, Problem: "is required"}
		}
	}
	for name := range args {
		if _, ok := s.Properties[name]; !ok {
			return &ArgumentError{Field: name, Problem: "is not an argument of this tool"}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
		v, ok := args[name]
		if !ok {
			continue
		}
		if r, rerr := s.Properties[name].CloneSchemas().Resolve(nil); rerr == nil && r.Validate(v) != nil {
			return &ArgumentError{Field: name, Problem: describe(s.Properties[name])}
		}
	}
	return &ArgumentError{Problem: "arguments do not match the tool's input schema"}
}

func describe(p *jsonschema.Schema) string {
	switch {
	case len(p.Enum) > 0:
		return fmt.Sprintf("must be one of %v", p.Enum)
	case p.Pattern != "":
		return fmt.Sprintf("must match %s", p.Pattern)
	case p.Minimum != nil && p.Maximum != nil:
		return fmt.Sprintf("must be a %s from %v to %v", p.Type, *p.Minimum, *p.Maximum)
	case p.Type != "":
		return "must be a " + p.Type
	}
	return "has an invalid value"
}
