package gitea

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// User is a Gitea account, as the API returns it (fields we use only).
type User struct {
	ID       int64  `json:"id"`
	Login    string `json:"login"`
	FullName string `json:"full_name"`
	Email    string `json:"email"`
	IsAdmin  bool   `json:"is_admin"`
	HTMLURL  string `json:"html_url"`
}

// Repository is a Gitea repository (fields we use only).
type Repository struct {
	ID            int64       `json:"id"`
	Owner         User        `json:"owner"`
	Name          string      `json:"name"`
	FullName      string      `json:"full_name"`
	Description   string      `json:"description"`
	Private       bool        `json:"private"`
	Fork          bool        `json:"fork"`
	Archived      bool        `json:"archived"`
	Empty         bool        `json:"empty"`
	DefaultBranch string      `json:"default_branch"`
	HTMLURL       string      `json:"html_url"`
	CloneURL      string      `json:"clone_url"`
	Stars         int         `json:"stars_count"`
	Forks         int         `json:"forks_count"`
	OpenIssues    int         `json:"open_issues_count"`
	OpenPulls     int         `json:"open_pr_counter"`
	UpdatedAt     time.Time   `json:"updated_at"`
	Permissions   Permissions `json:"permissions"`
}

// Permissions are what the calling user may do in a repository.
type Permissions struct {
	Admin bool `json:"admin"`
	Push  bool `json:"push"`
	Pull  bool `json:"pull"`
}

// Contents is one entry of a repository's tree at a ref: a file, a
// directory, a symlink or a submodule.
type Contents struct {
	Type          string `json:"type"` // "file", "dir", "symlink" or "submodule"
	Name          string `json:"name"`
	Path          string `json:"path"`
	SHA           string `json:"sha"`
	LastCommitSHA string `json:"last_commit_sha"`
	Size          int64  `json:"size"`
	Encoding      string `json:"encoding"` // "base64" for files
	Content       string `json:"content"`
	Target        string `json:"target"` // symlink target
	HTMLURL       string `json:"html_url"`
}

// Decode returns a file's bytes.
func (c *Contents) Decode() ([]byte, error) {
	switch c.Encoding {
	case "base64":
		b, err := base64.StdEncoding.DecodeString(c.Content)
		if err != nil {
			return nil, fmt.Errorf("%w: file content is not valid base64", ErrBadResponse)
		}
		return b, nil
	case "":
		return []byte(c.Content), nil
	}
	return nil, fmt.Errorf("%w: unknown content encoding", ErrBadResponse)
}

// Version is Gitea's version, e.g. 1.27.3.
type Version struct {
	Raw                 string
	Major, Minor, Patch int
}

// ParseVersion parses "1.27.3", "v1.27.3" or "1.27.3+dev-12-gabc".
func ParseVersion(s string) (Version, error) {
	v := Version{Raw: s}
	core, _, _ := strings.Cut(strings.TrimPrefix(s, "v"), "+")
	core, _, _ = strings.Cut(core, "-")
	parts := strings.Split(core, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return v, fmt.Errorf("%w: version %q is not major.minor.patch", ErrBadResponse, s)
	}
	nums := [3]int{}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, fmt.Errorf("%w: version %q is not major.minor.patch", ErrBadResponse, s)
		}
		nums[i] = n
	}
	v.Major, v.Minor, v.Patch = nums[0], nums[1], nums[2]
	return v, nil
}

// AtLeast reports whether v is major.minor.patch or newer.
func (v Version) AtLeast(major, minor, patch int) bool {
	if v.Major != major {
		return v.Major > major
	}
	if v.Minor != minor {
		return v.Minor > minor
	}
	return v.Patch >= patch
}

func (v Version) String() string { return v.Raw }

// Discovery is Gitea's OpenID Connect discovery document.
type Discovery struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	UserinfoEndpoint      string   `json:"userinfo_endpoint"`
	IntrospectionEndpoint string   `json:"introspection_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	ScopesSupported       []string `json:"scopes_supported"`
	CodeChallengeMethods  []string `json:"code_challenge_methods_supported"`
}
