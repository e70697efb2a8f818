package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/tools"
)

// hostileScopes grant every read tool.
const hostileScopes = "openid read:repository read:user read:issue read:organization read:notification"

// hostileCase is one call of a read tool that reaches the hostile data.
type hostileCase struct {
	tool string
	args map[string]any
	// want names JSON keys at least one of which (each) must still show
	// the visible HOSTILE word: what the cleaner must not eat.
	want []string
	// why, when want is empty, says why the tool has nothing hostile.
	why string
}

// hostileCases maps every read tool to calls reaching w's hostile data.
// A read tool added to the registry without a case here fails the test.
func hostileCases(w *testgitea.HostileWorld) []hostileCase {
	own, repo := w.Victim.Name, w.Repo
	r := func(more map[string]any) map[string]any {
		args := map[string]any{"owner": own, "repo": repo}
		for k, v := range more {
			args[k] = v
		}
		return args
	}
	return []hostileCase{
		// Users and organisations.
		{tool: "get_me", args: map[string]any{}, want: []string{"full_name"}},
		{tool: "get_user", args: map[string]any{"username": w.Mallory.Name}, want: []string{"full_name", "description", "location", "website"}},
		{tool: "search_users", args: map[string]any{"query": testgitea.HostileWord}, want: []string{"full_name"}},
		{tool: "list_my_organizations", args: map[string]any{}, want: []string{"full_name", "description", "location"}},
		{tool: "get_organization", args: map[string]any{"org": w.Org}, want: []string{"full_name", "description", "location", "website"}},
		{tool: "list_organization_teams", args: map[string]any{"org": w.Org}, want: []string{"description"}},
		{tool: "list_organization_repositories", args: map[string]any{"org": w.Org}, want: []string{"description", "default_branch"}},
		{tool: "list_org_labels", args: map[string]any{"org": w.Org}, want: []string{"name", "description"}},
		{tool: "list_notifications", args: map[string]any{"all": true}, want: []string{"title"}},

		// Repositories.
		{tool: "list_repositories", args: map[string]any{}, want: []string{"description", "default_branch"}},
		{tool: "get_repository", args: r(nil), want: []string{"description"}},
		{tool: "get_repository_languages", args: r(nil), want: []string{"name"}},
		{tool: "list_repository_topics", args: r(nil),
			why: "Gitea restricts topics to [a-z0-9.-] (it refused the hostile one): nothing hostile can be planted; still checked for hidden runes"},
		{tool: "list_repository_collaborators", args: r(nil), want: []string{"full_name"}},
		{tool: "list_forks", args: r(nil), want: []string{"description", "default_branch"}},

		// Git.
		{tool: "list_branches", args: r(nil), want: []string{"name"}},
		{tool: "get_branch", args: r(map[string]any{"branch": w.Branch}), want: []string{"name", "message", "author", "rule", "required_status_checks"}},
		{tool: "list_tags", args: r(nil), want: []string{"name", "summary"}},
		{tool: "get_tag", args: r(map[string]any{"tag": w.Tag}), want: []string{"name", "message"}},
		{tool: "list_commits", args: r(map[string]any{"ref": w.Branch}), want: []string{"message", "author"}},
		{tool: "get_commit", args: r(map[string]any{"ref": w.MainCommit, "include_patch": true}), want: []string{"message", "author", "committer", "path", "patch"}},
		{tool: "compare_refs", args: r(map[string]any{"base": "main", "head": w.Branch, "include_patch": true}), want: []string{"message", "author", "path", "patch"}},
		{tool: "get_commit_status", args: r(map[string]any{"ref": w.MainCommit}), want: []string{"context", "description", "target_url"}},
		{tool: "get_file_contents", args: r(map[string]any{"path": w.File}), want: []string{"path", "content"}},
		{tool: "list_directory", args: r(map[string]any{"path": w.Dir}), want: []string{"name", "path"}},
		{tool: "get_tree", args: r(nil), want: []string{"path"}},
		{tool: "get_blob", args: r(map[string]any{"sha": w.BlobSHA}), want: []string{"content"}},
		{tool: "search_code", args: r(map[string]any{"query": testgitea.HostileWord}), want: []string{"path", "text"}},

		// Issues.
		{tool: "list_issues", args: r(map[string]any{"state": "all"}), want: []string{"title", "labels"}},
		{tool: "get_issue", args: r(map[string]any{"number": w.Issue}), want: []string{"title", "body", "labels", "milestone"}},
		{tool: "list_issue_comments", args: r(map[string]any{"number": w.Issue}), want: []string{"body"}},
		{tool: "get_issue_timeline", args: r(map[string]any{"number": w.Issue}), want: []string{"body", "label", "milestone", "old_title", "new_title", "title"}},
		{tool: "search_issues", args: map[string]any{"query": testgitea.HostileWord, "state": "all"}, want: []string{"title", "labels"}},
		{tool: "list_labels", args: r(nil), want: []string{"name", "description"}},
		{tool: "list_milestones", args: r(map[string]any{"state": "all"}), want: []string{"title", "description"}},

		// Pull requests.
		{tool: "list_pull_requests", args: r(map[string]any{"state": "all"}), want: []string{"title", "ref", "labels"}},
		{tool: "get_pull_request", args: r(map[string]any{"number": w.Pull}), want: []string{"title", "body", "ref", "labels", "milestone"}},
		{tool: "get_pull_request_diff", args: r(map[string]any{"number": w.Pull}), want: []string{"diff"}},
		{tool: "list_pull_request_files", args: r(map[string]any{"number": w.Pull}), want: []string{"filename", "previous_filename"}},
		{tool: "list_pull_request_commits", args: r(map[string]any{"number": w.Pull}), want: []string{"message", "author"}},
		{tool: "list_pull_request_reviews", args: r(map[string]any{"number": w.Pull}), want: []string{"body"}},
		{tool: "list_review_comments", args: r(map[string]any{"number": w.Pull, "review_id": w.Review}), want: []string{"body", "path", "diff_hunk"}},

		// Releases.
		{tool: "list_releases", args: r(nil), want: []string{"name", "tag"}},
		{tool: "get_release", args: r(map[string]any{"id": w.Release}), want: []string{"name", "tag", "notes"}},
		{tool: "get_latest_release", args: r(nil), want: []string{"name", "tag", "notes"}},
		{tool: "get_release_by_tag", args: r(map[string]any{"tag": w.Tag}), want: []string{"name", "tag", "notes"}},

		// Actions.
		{tool: "list_workflows", args: r(nil), want: []string{"file", "name", "path"}},
		{tool: "list_workflow_runs", args: r(nil), want: []string{"title", "workflow"}},
		{tool: "get_workflow_run", args: r(map[string]any{"run_id": w.Run}), want: []string{"title", "workflow", "path"}},
		{tool: "list_workflow_jobs", args: r(map[string]any{"run_id": w.Run}), want: []string{"name", "labels", "runner"}},
		{tool: "get_job_log", args: r(map[string]any{"job_id": w.Job}), want: []string{"log"}},

		// Wiki.
		{tool: "list_wiki_pages", args: r(nil), want: []string{"title"}},
		// By title, and by the name list_wiki_pages gives (percent-escaped,
		// far longer than the title).
		{tool: "get_wiki_page", args: r(map[string]any{"page": w.WikiTitle}), want: []string{"title", "content", "last_change"}},
		{tool: "get_wiki_page", args: r(map[string]any{"page": w.WikiPage}), want: []string{"title", "content", "last_change"}},

		// The ChatGPT connector pair.
		{tool: "search", args: map[string]any{"query": testgitea.HostileWord}, want: []string{"title"}},
		{tool: "fetch", args: map[string]any{"id": fmt.Sprintf("issue/%s/%s/%d", own, repo, w.Issue)}, want: []string{"title", "text"}},
		{tool: "fetch", args: map[string]any{"id": fmt.Sprintf("pull/%s/%s/%d", own, repo, w.Pull)}, want: []string{"title", "text"}},
		{tool: "fetch", args: map[string]any{"id": "repo/" + w.Org + "/" + w.Fork}, want: []string{"text"}},
		{tool: "fetch", args: map[string]any{"id": fmt.Sprintf("file/%s/%s/%s", own, repo, w.File)}, want: []string{"title", "text"}},
	}
}

// knownRefusals are what Gitea 1.27.3 refuses or breaks: topics are
// [a-z0-9.-] only, team names AlphaDashDot, and a language name beyond
// the BMP makes the languages API answer with an empty body. Any other
// refusal means a field no longer carries hidden text: it fails the test.
var knownRefusals = []string{"topic", "team name", "language name"}

// mcpHostileTools are also called through the go-sdk client over /mcp.
var mcpHostileTools = []string{"get_issue", "get_pull_request", "list_branches", "list_directory", "get_commit_status", "get_user", "fetch"}

// TestHostileText is the registry-wide proof of finding 2 of the security
// review (issue 9): hidden text planted in every user-controllable name
// and text on the real Gitea reaches the model through no read tool, the
// visible text survives, and the untrusted marker names every field that
// carries user text, in the text notice and in structuredContent.
func TestHostileText(t *testing.T) {
	g := needGitea(t)
	start := time.Now()
	w, err := g.SeedHostile(t.Context())
	if err != nil {
		t.Fatalf("planting hostile text: %v", err)
	}
	t.Logf("planted hostile text in %v (repository %s/%s, organisation %s)", time.Since(start).Round(time.Millisecond), w.Victim.Name, w.Repo, w.Org)
	for _, r := range w.Refused {
		what, _, _ := strings.Cut(r, ":")
		if !slices.Contains(knownRefusals, what) {
			t.Errorf("Gitea refused or changed what the seed planted, so that field is not tested with hidden text: %+q", r)
			continue
		}
		t.Logf("Gitea refused or changed (known): %+q", r)
	}

	a := startAegisFor(t, g, hostileScopes)
	tok, err := g.AuthorizationCode(t.Context(), w.Victim, a.App, hostileScopes)
	if err != nil {
		t.Fatalf("code flow for %s: %v", w.Victim.Name, err)
	}
	a.mu.Lock()
	a.tokens = append(a.tokens, tok.AccessToken, tok.RefreshToken)
	a.mu.Unlock()

	cases := hostileCases(w)
	checkCoverage(t, cases)

	var report, notes []string
	names := caseNames(cases)
	for i, c := range cases {
		name := names[i]
		t.Run(name, func(t *testing.T) {
			text, structured, isError := rawToolCall(t, a, tok.AccessToken, c.tool, c.args)
			if isError {
				t.Errorf("%s failed: %s", c.tool, text)
				report = append(report, name+": tool error")
				return
			}
			problems := checkHostileResult(text, structured, true, c)
			for _, p := range problems {
				t.Error(p)
			}
			if len(problems) > 0 {
				report = append(report, name+": "+strings.Join(problems, "; "))
			}
			if c.tool == "get_issue" {
				checkReadable(t, text, structured)
			}
			if keys := percentEncodedHidden(structured); len(keys) > 0 {
				notes = append(notes, fmt.Sprintf("%s: %v", name, keys))
			}
		})
	}

	calls := len(cases)
	cs := a.connectWith(t, "/mcp", tok.AccessToken, "", nil)
	for i, c := range cases {
		if !slices.Contains(mcpHostileTools, c.tool) {
			continue
		}
		calls++
		name := "mcp/" + names[i]
		t.Run(name, func(t *testing.T) {
			res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: c.tool, Arguments: c.args})
			if err != nil {
				t.Fatalf("CallTool %s: %v", c.tool, err)
			}
			var text strings.Builder
			for _, content := range res.Content {
				if tc, ok := content.(*mcp.TextContent); ok {
					text.WriteString(tc.Text)
				}
			}
			if res.IsError {
				t.Errorf("%s over /mcp failed: %s", c.tool, text.String())
				report = append(report, name+": tool error")
				return
			}
			structured, err := json.Marshal(res.StructuredContent)
			if err != nil {
				t.Fatal(err)
			}
			// The client decodes structuredContent into a map: the order
			// of its keys is not checked here.
			problems := checkHostileResult(text.String(), structured, false, c)
			for _, p := range problems {
				t.Error(p)
			}
			if len(problems) > 0 {
				report = append(report, name+": "+strings.Join(problems, "; "))
			}
			if c.tool == "get_issue" {
				checkReadable(t, text.String(), structured)
			}
		})
	}
	if len(report) > 0 {
		t.Logf("hostile text findings (%d calls of %d):\n  %s", len(report), calls, strings.Join(report, "\n  "))
	}
	if len(notes) > 0 {
		// Not asserted: no hidden rune reaches the model, but these fields
		// (URLs, wiki page names) carry the payload percent-encoded.
		t.Logf("fields carrying the hidden payload percent-encoded (not asserted):\n  %s", strings.Join(notes, "\n  "))
	}
	t.Logf("TestHostileText took %v", time.Since(start).Round(time.Millisecond))
}

// caseNames names the cases for subtests: the tool, numbered from the
// second case of a tool on ("fetch", "fetch-2", ...).
func caseNames(cases []hostileCase) []string {
	seen := map[string]int{}
	names := make([]string, len(cases))
	for i, c := range cases {
		seen[c.tool]++
		names[i] = c.tool
		if seen[c.tool] > 1 {
			names[i] = fmt.Sprintf("%s-%d", c.tool, seen[c.tool])
		}
	}
	return names
}

// checkCoverage fails unless every read tool of the registry has a case,
// and every case names a read tool.
func checkCoverage(t *testing.T, cases []hostileCase) {
	t.Helper()
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.tool] = true
		if len(c.want) == 0 && c.why == "" {
			t.Errorf("case %s checks no visible text and says not why", c.tool)
		}
	}
	reads := 0
	for _, tool := range tools.Default().Tools() {
		if tool.Access != tools.Read {
			continue
		}
		reads++
		if !covered[tool.Name] {
			t.Errorf("read tool %s has no case in hostileCases: add one that reaches the hostile data", tool.Name)
		}
		delete(covered, tool.Name)
	}
	for name := range covered {
		t.Errorf("hostileCases has a case for %s, which is not a read tool of the registry", name)
	}
	if reads == 0 {
		t.Fatal("the registry has no read tools")
	}
}

// rawToolCall runs a tool through POST /mcp/tool/call and returns its text,
// its structuredContent as sent (key order kept) and its error flag.
func rawToolCall(t *testing.T, a *aegis, token, name string, args map[string]any) (string, json.RawMessage, bool) {
	t.Helper()
	res := do(t, "POST", a.URL+"/mcp/tool/call", token, map[string]any{"tool": name, "arguments": args})
	if res.status != http.StatusOK {
		t.Fatalf("%s: status %d: %s", name, res.status, res.body)
	}
	var body struct {
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
		StructuredContent json.RawMessage `json:"structuredContent"`
		IsError           bool            `json:"isError"`
	}
	res.json(t, &body)
	var text strings.Builder
	for _, c := range body.Content {
		text.WriteString(c.Text)
	}
	return text.String(), body.StructuredContent, body.IsError
}

// hiddenRune reports whether s[i:] starts with a rune that must never reach
// the model: the whole ranges of tag characters, variation selectors,
// BiDi controls, zero-width and invisible format characters and blank
// fillers, whichever were planted. The zero-width joiner and the emoji
// presentation selector pass only inside an emoji sequence.
func hiddenRune(runes []rune, i int) bool {
	r := runes[i]
	switch {
	case r >= 0xE0000 && r <= 0xE007F: // tag characters
		return true
	case r >= 0xFE00 && r <= 0xFE0E, r >= 0xE0100 && r <= 0xE01EF: // variation selectors
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F, r == 0x061C: // BiDi
		return true
	case r == 0x200B, r == 0x200C, r >= 0x2060 && r <= 0x2064, r >= 0x206A && r <= 0x206F, r == 0xFEFF, r == 0x00AD: // zero-width, format
		return true
	case r == 0x3164, r == 0x115F, r == 0x1160, r == 0xFFA0, r == 0x2800, r == 0x034F, r == 0x17B4, r == 0x17B5: // fillers
		return true
	case r >= 0x180B && r <= 0x180F, r >= 0x1D173 && r <= 0x1D17A, r >= 0xFFF9 && r <= 0xFFFB:
		return true
	case r == 0x200D: // zero-width joiner: only between two emoji
		return i == 0 || i+1 == len(runes) || !pictographic(runes[i-1]) || !pictographic(runes[i+1])
	case r == 0xFE0F: // emoji presentation selector: only after an emoji or a keycap base
		return i == 0 || !pictographic(runes[i-1]) && !strings.ContainsRune("0123456789#*", runes[i-1])
	}
	return false
}

func pictographic(r rune) bool {
	return r >= 0x1F000 && r <= 0x1FAFF || r >= 0x2600 && r <= 0x27BF
}

// hiddenIn lists the hidden runes of s (at most 8), as U+XXXX.
func hiddenIn(s string) []string {
	runes := []rune(s)
	var found []string
	for i := range runes {
		if hiddenRune(runes, i) {
			if found = append(found, fmt.Sprintf("U+%04X", runes[i])); len(found) == 8 {
				break
			}
		}
	}
	return found
}

// mapKey is the key walkStrings gives the keys of objects.
const mapKey = "(object key)"

// walkStrings calls f with every string of v (keys too) and the JSON key
// it is the value of: an array's strings belong to the array's key.
func walkStrings(v any, key string, f func(key, s string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			f(mapKey, k)
			walkStrings(x, k, f)
		}
	case []any:
		for _, x := range v {
			walkStrings(x, key, f)
		}
	case string:
		f(key, v)
	}
}

var noticePattern = regexp.MustCompile(`^\[untrusted content\] The fields? (.+?) holds? text written by Gitea users`)

// noticeFields returns the fields the text's untrusted notice names, and
// whether it has one.
func noticeFields(text string) ([]string, bool) {
	line, _, _ := strings.Cut(text, "\n")
	m := noticePattern.FindStringSubmatch(line)
	if m == nil {
		return nil, false
	}
	return strings.Split(m[1], ", "), true
}

// percentEncodedHidden lists the keys of strings that hold hidden runes
// once percent-decoded.
func percentEncodedHidden(raw json.RawMessage) []string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	keys := map[string]bool{}
	walkStrings(v, "", func(key, s string) {
		if !strings.Contains(s, "%") {
			return
		}
		if u, err := url.PathUnescape(s); err == nil && len(hiddenIn(u)) > 0 {
			keys[key] = true
		}
	})
	return sorted(keys)
}

// plainJSONText reports whether a tool's text is its JSON document alone,
// with no notice line before it: the search and fetch pair, whose text
// ChatGPT parses as JSON (see TestSearchAndFetch).
func plainJSONText(name string) bool {
	t, ok := tools.Default().Lookup(name)
	return ok && t.Area == tools.AreaSearch
}

// jsonUntrustedFields returns the untrusted_fields of a JSON object text
// (nil if it has none) and the object's first key.
func jsonUntrustedFields(text string) ([]string, string) {
	var doc struct {
		Fields []string `json:"untrusted_fields"`
	}
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return nil, ""
	}
	return doc.Fields, firstKey(json.RawMessage(text))
}

// checkHostileResult checks one successful result and returns what is wrong.
func checkHostileResult(text string, raw json.RawMessage, orderKnown bool, c hostileCase) []string {
	var problems []string
	if h := hiddenIn(text); len(h) > 0 {
		problems = append(problems, fmt.Sprintf("text content carries hidden runes %v", h))
	}
	var structured map[string]any
	if err := json.Unmarshal(raw, &structured); err != nil || structured == nil {
		return append(problems, fmt.Sprintf("structuredContent is not a JSON object: %.200s", raw))
	}
	hiddenKeys, hostileKeys, visible := map[string]bool{}, map[string]bool{}, map[string]bool{}
	walkStrings(structured, "", func(key, s string) {
		if key == "untrusted_fields" {
			return
		}
		if len(hiddenIn(s)) > 0 {
			hiddenKeys[key] = true
		}
		if key == mapKey {
			return // a key is a field name, not a field's text
		}
		if strings.Contains(s, testgitea.HostileWord) {
			hostileKeys[key], visible[key] = true, true
		}
	})
	if len(hiddenKeys) > 0 {
		problems = append(problems, fmt.Sprintf("structuredContent carries hidden runes in %v", sorted(hiddenKeys)))
	}
	var lost []string
	for _, k := range c.want {
		if !visible[k] {
			lost = append(lost, k)
		}
	}
	if len(lost) > 0 {
		problems = append(problems, fmt.Sprintf("the visible %q is missing from %v", testgitea.HostileWord, lost))
	}
	if len(c.want) > 0 && !strings.Contains(text, testgitea.HostileWord) {
		problems = append(problems, fmt.Sprintf("the text content does not show %q", testgitea.HostileWord))
	}
	if len(hostileKeys) == 0 {
		return problems
	}

	// The marker, in the text...
	if plainJSONText(c.tool) {
		// The ChatGPT connector convention: the text is exactly the JSON
		// document, so the marker is its untrusted_fields key, first.
		inText, first := jsonUntrustedFields(text)
		switch {
		case inText == nil:
			problems = append(problems, fmt.Sprintf("the text (plain JSON for %s) has no untrusted_fields, though %v hold user text", c.tool, sorted(hostileKeys)))
		case first != "untrusted_fields":
			problems = append(problems, fmt.Sprintf("untrusted_fields is not the first key of the text's JSON (%q is)", first))
		}
		if missing := notIn(hostileKeys, inText); inText != nil && len(missing) > 0 {
			problems = append(problems, fmt.Sprintf("the text's untrusted_fields does not name %v", missing))
		}
	} else if inText, ok := noticeFields(text); !ok {
		problems = append(problems, fmt.Sprintf("the text carries no untrusted notice, though %v hold user text", sorted(hostileKeys)))
	} else if missing := notIn(hostileKeys, inText); len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("the text notice does not name %v", missing))
	}
	// ...and in structuredContent, as its first key.
	list, ok := structured["untrusted_fields"].([]any)
	var inStructured []string
	for _, f := range list {
		if s, isString := f.(string); isString {
			inStructured = append(inStructured, s)
		}
	}
	switch {
	case !ok:
		problems = append(problems, fmt.Sprintf("structuredContent has no untrusted_fields, though %v hold user text", sorted(hostileKeys)))
	default:
		if missing := notIn(hostileKeys, inStructured); len(missing) > 0 {
			problems = append(problems, fmt.Sprintf("untrusted_fields does not name %v", missing))
		}
		if orderKnown && firstKey(raw) != "untrusted_fields" {
			problems = append(problems, fmt.Sprintf("untrusted_fields is not structuredContent's first key (%q is)", firstKey(raw)))
		}
	}
	return problems
}

// checkReadable checks that the emoji ZWJ sequence and the Japanese text
// of the hostile issue's body come back intact.
func checkReadable(t *testing.T, text string, raw json.RawMessage) {
	t.Helper()
	var issue struct{ Body string }
	if err := json.Unmarshal(raw, &issue); err != nil {
		t.Fatalf("decoding the issue: %v", err)
	}
	for _, want := range []string{testgitea.EmojiFamily, testgitea.Japanese} {
		if !strings.Contains(issue.Body, want) {
			t.Errorf("the issue body lost %q (%+q): %+q", want, want, issue.Body)
		}
		if !strings.Contains(text, want) {
			t.Errorf("the text content lost %q (%+q)", want, want)
		}
	}
}

func firstKey(raw json.RawMessage) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return ""
	}
	tok, err := dec.Token()
	if err != nil {
		return ""
	}
	key, _ := tok.(string)
	return key
}

func notIn(keys map[string]bool, names []string) []string {
	var missing []string
	for k := range keys {
		if !slices.Contains(names, k) {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	return missing
}

func sorted(keys map[string]bool) []string {
	out := make([]string, 0, len(keys))
	for k := range keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
