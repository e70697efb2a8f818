package gitea

import (
	"context"
	"io"
	"strconv"
	"time"
)

// PullRequest is a Gitea pull request (fields we use only).
type PullRequest struct {
	Number             int64      `json:"number"`
	Title              string     `json:"title"`
	Body               string     `json:"body"`
	State              string     `json:"state"`
	Draft              bool       `json:"draft"`
	IsLocked           bool       `json:"is_locked"`
	User               User       `json:"user"`
	Labels             []Label    `json:"labels"`
	Assignees          []User     `json:"assignees"`
	Milestone          *Milestone `json:"milestone"`
	RequestedReviewers []User     `json:"requested_reviewers"`
	RequestedTeams     []struct {
		Name string `json:"name"`
	} `json:"requested_reviewers_teams"`
	Head           PullRequestRef `json:"head"`
	Base           PullRequestRef `json:"base"`
	Mergeable      bool           `json:"mergeable"`
	Merged         bool           `json:"merged"`
	MergedAt       *time.Time     `json:"merged_at"`
	MergedBy       *User          `json:"merged_by"`
	MergeBase      string         `json:"merge_base"`
	MergeCommitSHA string         `json:"merge_commit_sha"`
	Comments       int            `json:"comments"`
	ReviewComments int            `json:"review_comments"`
	Additions      int            `json:"additions"`
	Deletions      int            `json:"deletions"`
	ChangedFiles   int            `json:"changed_files"`
	HTMLURL        string         `json:"html_url"`
	CreatedAt      time.Time      `json:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
	ClosedAt       *time.Time     `json:"closed_at"`
}

// PullRequestRef is the head or base of a pull request.
type PullRequestRef struct {
	Label string `json:"label"`
	Ref   string `json:"ref"`
	SHA   string `json:"sha"`
	Repo  *struct {
		FullName string `json:"full_name"`
	} `json:"repo"`
}

// PullFilter narrows a list of pull requests.
type PullFilter struct {
	State string // "open" (default), "closed" or "all"
	// Sort is one of PullSorts; empty means newest first.
	Sort string
	// Base keeps the pull requests into this branch.
	Base string
	// Author keeps the pull requests opened by this user.
	Author string
}

// PullSorts are the orders Gitea lists pull requests in.
var PullSorts = []string{"oldest", "recentupdate", "leastupdate", "mostcomment", "leastcomment", "recentclose", "priority"}

// PullRequests lists the pull requests of owner/repo.
func (c *Client) PullRequests(ctx context.Context, owner, repo string, f PullFilter, opts ListOptions) ([]PullRequest, PageInfo, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, PageInfo{}, err
	}
	opts = opts.normalized()
	q := opts.query()
	if err := setState(q, f.State); err != nil {
		return nil, PageInfo{}, err
	}
	if f.Sort != "" {
		known := false
		for _, s := range PullSorts {
			known = known || s == f.Sort
		}
		if !known {
			return nil, PageInfo{}, invalid("sort must be one of %v", PullSorts)
		}
		q.Set("sort", f.Sort)
	}
	if f.Base != "" {
		if err := checkRef(f.Base); err != nil {
			return nil, PageInfo{}, err
		}
		q.Set("base_branch", f.Base)
	}
	if f.Author != "" {
		if err := checkName("author", f.Author); err != nil {
			return nil, PageInfo{}, err
		}
		q.Set("poster", f.Author)
	}
	var pulls []PullRequest
	h, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/pulls", p+"/pulls", q, &pulls)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return pulls, pageInfo(h, opts, len(pulls)), nil
}

// PullRequest returns pull request number of owner/repo.
func (c *Client) PullRequest(ctx context.Context, owner, repo string, number int64) (*PullRequest, error) {
	p, err := pullPath(owner, repo, number)
	if err != nil {
		return nil, err
	}
	var pr PullRequest
	if _, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/pulls/{number}", p, nil, &pr); err != nil {
		return nil, err
	}
	return &pr, nil
}

// PullRequestDiff returns the unified diff of pull request number, at most
// limit bytes of it; truncated says whether it was cut.
func (c *Client) PullRequestDiff(ctx context.Context, owner, repo string, number int64, limit int) (diff string, truncated bool, err error) {
	p, err := pullPath(owner, repo, number)
	if err != nil {
		return "", false, err
	}
	if limit < 1 {
		return "", false, invalid("limit must be positive")
	}
	return c.getText(ctx, "GET /api/v1/repos/{owner}/{repo}/pulls/{number}.diff", p+".diff", nil, limit)
}

// ReadPullRequestDiff hands read the unified diff of pull request number as
// a stream of at most limit bytes, for read to keep only what it needs;
// truncated says whether the diff went on past limit, when read read that
// far (see [Endpoint.sendStream]).
func (c *Client) ReadPullRequestDiff(ctx context.Context, owner, repo string, number int64, limit int, read func(io.Reader) error) (truncated bool, err error) {
	p, err := pullPath(owner, repo, number)
	if err != nil {
		return false, err
	}
	if limit < 1 {
		return false, invalid("limit must be positive")
	}
	return c.getStream(ctx, "GET /api/v1/repos/{owner}/{repo}/pulls/{number}.diff", p+".diff", nil, limit, read)
}

// PullRequestFile is a file a pull request changes.
type PullRequestFile struct {
	Filename         string `json:"filename"`
	PreviousFilename string `json:"previous_filename"`
	Status           string `json:"status"`
	Additions        int    `json:"additions"`
	Deletions        int    `json:"deletions"`
	Changes          int    `json:"changes"`
}

// PullRequestFiles lists the files pull request number changes.
func (c *Client) PullRequestFiles(ctx context.Context, owner, repo string, number int64, opts ListOptions) ([]PullRequestFile, PageInfo, error) {
	p, err := pullPath(owner, repo, number)
	if err != nil {
		return nil, PageInfo{}, err
	}
	opts = opts.normalized()
	var files []PullRequestFile
	h, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/pulls/{number}/files", p+"/files", opts.query(), &files)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return files, pageInfo(h, opts, len(files)), nil
}

// PullRequestCommit is a commit of a pull request.
type PullRequestCommit struct {
	SHA    string `json:"sha"`
	Commit struct {
		Message string `json:"message"`
		Author  struct {
			Name string    `json:"name"`
			Date time.Time `json:"date"`
		} `json:"author"`
	} `json:"commit"`
	// Author is the Gitea account of the commit's author, when Gitea knows it.
	Author *User `json:"author"`
	Stats  *struct {
		Additions int `json:"additions"`
		Deletions int `json:"deletions"`
	} `json:"stats"`
}

// PullRequestCommits lists the commits of pull request number, oldest first.
func (c *Client) PullRequestCommits(ctx context.Context, owner, repo string, number int64, opts ListOptions) ([]PullRequestCommit, PageInfo, error) {
	p, err := pullPath(owner, repo, number)
	if err != nil {
		return nil, PageInfo{}, err
	}
	opts = opts.normalized()
	q := opts.query()
	// Signature checks and per-commit file lists are slow and unused.
	q.Set("verification", "false")
	q.Set("files", "false")
	var commits []PullRequestCommit
	h, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/pulls/{number}/commits", p+"/commits", q, &commits)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return commits, pageInfo(h, opts, len(commits)), nil
}

// PullReview is a review of a pull request.
type PullReview struct {
	ID   int64 `json:"id"`
	User *User `json:"user"`
	Team *struct {
		Name string `json:"name"`
	} `json:"team"`
	// State is APPROVED, REQUEST_CHANGES, COMMENT, PENDING or REQUEST_REVIEW.
	State       string    `json:"state"`
	Body        string    `json:"body"`
	CommitID    string    `json:"commit_id"`
	Stale       bool      `json:"stale"`
	Official    bool      `json:"official"`
	Dismissed   bool      `json:"dismissed"`
	Comments    int       `json:"comments_count"`
	SubmittedAt time.Time `json:"submitted_at"`
	HTMLURL     string    `json:"html_url"`
}

// PullReviews lists the reviews of pull request number.
func (c *Client) PullReviews(ctx context.Context, owner, repo string, number int64, opts ListOptions) ([]PullReview, PageInfo, error) {
	p, err := pullPath(owner, repo, number)
	if err != nil {
		return nil, PageInfo{}, err
	}
	opts = opts.normalized()
	var reviews []PullReview
	h, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/pulls/{number}/reviews", p+"/reviews", opts.query(), &reviews)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return reviews, pageInfo(h, opts, len(reviews)), nil
}

// PullReviewComment is a comment a review made on a line of the diff.
type PullReviewComment struct {
	ID       int64  `json:"id"`
	User     *User  `json:"user"`
	Body     string `json:"body"`
	Path     string `json:"path"`
	CommitID string `json:"commit_id"`
	// Line is the line in the new file; OldLine, in the old one (for a
	// comment on a removed line). One of them is set.
	Line      int       `json:"position"`
	OldLine   int       `json:"original_position"`
	DiffHunk  string    `json:"diff_hunk"`
	Resolver  *User     `json:"resolver"`
	CreatedAt time.Time `json:"created_at"`
	HTMLURL   string    `json:"html_url"`
}

// PullReviewComments returns the line comments of review id on pull
// request number; Gitea does not page them.
func (c *Client) PullReviewComments(ctx context.Context, owner, repo string, number, id int64) ([]PullReviewComment, error) {
	p, err := pullPath(owner, repo, number)
	if err != nil {
		return nil, err
	}
	if id < 1 {
		return nil, invalid("review_id must be a positive review id")
	}
	var comments []PullReviewComment
	_, err = c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/pulls/{number}/reviews/{id}/comments",
		p+"/reviews/"+strconv.FormatInt(id, 10)+"/comments", nil, &comments)
	if err != nil {
		return nil, err
	}
	return comments, nil
}

// pullPath is the API path of pull request number of owner/repo.
func pullPath(owner, repo string, number int64) (string, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return "", err
	}
	if number < 1 {
		return "", invalid("number must be a positive pull request number")
	}
	return p + "/pulls/" + strconv.FormatInt(number, 10), nil
}
