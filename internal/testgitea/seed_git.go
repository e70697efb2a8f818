package testgitea

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
)

// Git history seeded on AliceRepo for the branch, tag, commit and file tools.
// Main gets two commits on top of the existing ones: ProjectCommitTitle adds
// the files below (tagged TagAnnotated), SetupCommitTitle rewrites SetupFile
// (tagged TagLight; it carries two commit statuses, StatusBuild and
// StatusLint). DevelopBranch forks main after that, adds RoadmapFile and is
// protected by a branch rule. README.md, GuideFile and PullBranch are untouched.
const (
	ProjectCommitTitle = "Add the project files"
	ProjectCommitBody  = "Seeds docs, sources and data."
	SetupCommitTitle   = "Expand the setup guide"
	RoadmapCommitTitle = "Start the roadmap"

	// Files added on main by ProjectCommitTitle.
	SetupFile   = "docs/setup.md"
	FAQFile     = "docs/faq.md"
	MainGoFile  = "src/main.go"
	UtilGoFile  = "src/util/strings.go"
	LinesFile   = "data/lines.txt"
	ConfigFile  = "data/deploy.env"
	BinaryFile  = "assets/logo.bin"
	RoadmapFile = "docs/roadmap.md" // on DevelopBranch only

	// LinesCount is the number of lines of LinesFile; line n reads LinesLine(n).
	LinesCount = 120

	// SearchNeedle occurs in FAQFile, MainGoFile (in other case) and
	// ConfigFile (inside a secret, which tools must mask).
	SearchNeedle = "needle-7f3a"
	// NeedleSecret is the secret value in ConfigFile that holds SearchNeedle.
	NeedleSecret = "s3cr3t-needle-7f3a-value"

	// SetupContent is SetupFile after SetupCommitTitle.
	SetupContent = "# Setup\n\nInstall the notes tool:\n\n    make install\n\nThen run `notes init`.\n"

	DevelopBranch = "develop"
	// DevelopRequiredApprovals and StatusBuild are DevelopBranch's protection rule.
	DevelopRequiredApprovals = 1

	TagAnnotated        = "v0.1.0" // annotated, on ProjectCommitTitle
	TagAnnotatedMessage = "First notes release"
	TagLight            = "v0.2.0" // lightweight, on SetupCommitTitle

	// Commit statuses on the SetupCommitTitle commit: combined state pending.
	StatusBuild            = "ci/build"
	StatusBuildDescription = "Build passed"
	StatusLint             = "ci/lint"
)

// LinesLine is line n (1-based) of LinesFile, without its newline.
func LinesLine(n int) string { return fmt.Sprintf("line %03d of the numbered file", n) }

// BinaryContent is BinaryFile's content: a PNG-like header with NUL bytes.
var BinaryContent = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")

func (g *Gitea) seedGit(ctx context.Context) error {
	var lines strings.Builder
	for n := 1; n <= LinesCount; n++ {
		lines.WriteString(LinesLine(n) + "\n")
	}
	project := map[string]string{
		SetupFile:  "# Setup\n\nTo be written.\n",
		FAQFile:    "# FAQ\n\nWhere is the " + SearchNeedle + "? In the haystack.\n",
		MainGoFile: "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"" + strings.ToUpper(SearchNeedle) + "\")\n}\n",
		UtilGoFile: "package util\n\n// Reverse returns s reversed.\nfunc Reverse(s string) string {\n\tr := []rune(s)\n\tfor i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {\n\t\tr[i], r[j] = r[j], r[i]\n\t}\n\treturn string(r)\n}\n",
		LinesFile:  lines.String(),
		ConfigFile: "region = eu-west\ndeploy_token = " + NeedleSecret + "\n",
		BinaryFile: string(BinaryContent),
	}
	var ops []map[string]any
	for _, path := range []string{SetupFile, FAQFile, MainGoFile, UtilGoFile, LinesFile, ConfigFile, BinaryFile} {
		ops = append(ops, map[string]any{"operation": "create", "path": path, "content": base64.StdEncoding.EncodeToString([]byte(project[path]))})
	}
	first, err := g.changeFiles(ctx, "main", "", ProjectCommitTitle+"\n\n"+ProjectCommitBody, ops)
	if err != nil {
		return err
	}
	if err := g.createTag(ctx, TagAnnotated, first.Commit.SHA, TagAnnotatedMessage); err != nil {
		return err
	}
	var setupSHA string
	for _, f := range first.Files {
		if f != nil && f.Path == SetupFile {
			setupSHA = f.SHA
		}
	}
	second, err := g.changeFiles(ctx, "main", "", SetupCommitTitle+"\n\nAdds install steps.", []map[string]any{{
		"operation": "update", "path": SetupFile, "sha": setupSHA, "content": base64.StdEncoding.EncodeToString([]byte(SetupContent)),
	}})
	if err != nil {
		return err
	}
	if err := g.createTag(ctx, TagLight, second.Commit.SHA, ""); err != nil {
		return err
	}
	for _, st := range []map[string]any{
		{"state": "success", "context": StatusBuild, "description": StatusBuildDescription, "target_url": "http://127.0.0.1:1/ci/build/1"},
		{"state": "pending", "context": StatusLint, "description": "Lint running"},
	} {
		err := g.api(ctx, apiCall{method: http.MethodPost, path: "/api/v1/repos/" + AliceName + "/" + AliceRepo + "/statuses/" + second.Commit.SHA,
			sudo: AliceName, want: http.StatusCreated, body: st}, nil)
		if err != nil {
			return err
		}
	}
	if _, err := g.changeFiles(ctx, "main", DevelopBranch, RoadmapCommitTitle, []map[string]any{{
		"operation": "create", "path": RoadmapFile, "content": base64.StdEncoding.EncodeToString([]byte("# Roadmap\n\n- search\n")),
	}}); err != nil {
		return err
	}
	return g.api(ctx, apiCall{method: http.MethodPost, path: "/api/v1/repos/" + AliceName + "/" + AliceRepo + "/branch_protections",
		sudo: AliceName, want: http.StatusCreated, body: map[string]any{
			"rule_name": DevelopBranch, "required_approvals": DevelopRequiredApprovals,
			"enable_status_check": true, "status_check_contexts": []string{StatusBuild},
		}}, nil)
}

// filesResponse is the answer of a change-files commit.
type filesResponse struct {
	Commit struct {
		SHA string `json:"sha"`
	} `json:"commit"`
	Files []*struct {
		Path string `json:"path"`
		SHA  string `json:"sha"`
	} `json:"files"`
}

// changeFiles commits ops to AliceRepo as alice on branch, or on a new
// branch newBranch forked from it.
func (g *Gitea) changeFiles(ctx context.Context, branch, newBranch, message string, ops []map[string]any) (*filesResponse, error) {
	body := map[string]any{"branch": branch, "message": message, "files": ops}
	if newBranch != "" {
		body["new_branch"] = newBranch
	}
	var out filesResponse
	err := g.api(ctx, apiCall{method: http.MethodPost, path: "/api/v1/repos/" + AliceName + "/" + AliceRepo + "/contents",
		sudo: AliceName, want: http.StatusCreated, body: body}, &out)
	if err != nil {
		return nil, err
	}
	if out.Commit.SHA == "" {
		return nil, fmt.Errorf("commit %q: no commit SHA in the answer", message)
	}
	return &out, nil
}

// createTag tags target in AliceRepo as alice; a message makes it annotated.
func (g *Gitea) createTag(ctx context.Context, name, target, message string) error {
	return g.api(ctx, apiCall{method: http.MethodPost, path: "/api/v1/repos/" + AliceName + "/" + AliceRepo + "/tags",
		sudo: AliceName, want: http.StatusCreated, body: map[string]any{"tag_name": name, "target": target, "message": message}}, nil)
}
