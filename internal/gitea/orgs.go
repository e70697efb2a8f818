package gitea

import "context"

// Organization is a Gitea organization (fields we use only).
type Organization struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	FullName    string `json:"full_name"`
	Description string `json:"description"`
	Website     string `json:"website"`
	Location    string `json:"location"`
	Visibility  string `json:"visibility"` // public, limited or private
}

// Team is a team of an organization (fields we use only).
type Team struct {
	ID                      int64             `json:"id"`
	Name                    string            `json:"name"`
	Description             string            `json:"description"`
	Permission              string            `json:"permission"` // none, read, write, admin or owner
	IncludesAllRepositories bool              `json:"includes_all_repositories"`
	CanCreateOrgRepo        bool              `json:"can_create_org_repo"`
	UnitsMap                map[string]string `json:"units_map"` // e.g. "repo.code": "read"
}

// MyOrganizations lists the organizations the caller belongs to.
func (c *Client) MyOrganizations(ctx context.Context, opts ListOptions) ([]Organization, PageInfo, error) {
	opts = opts.normalized()
	var orgs []Organization
	h, err := c.get(ctx, "GET /api/v1/user/orgs", "/api/v1/user/orgs", opts.query(), &orgs)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return orgs, pageInfo(h, opts, len(orgs)), nil
}

// Organization returns the organization called org.
func (c *Client) Organization(ctx context.Context, org string) (*Organization, error) {
	p, err := orgPath(org)
	if err != nil {
		return nil, err
	}
	var o Organization
	if _, err := c.get(ctx, "GET /api/v1/orgs/{org}", p, nil, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// OrganizationTeams lists the teams of org. Gitea answers only the
// organization's members (ErrForbidden for others).
func (c *Client) OrganizationTeams(ctx context.Context, org string, opts ListOptions) ([]Team, PageInfo, error) {
	p, err := orgPath(org)
	if err != nil {
		return nil, PageInfo{}, err
	}
	opts = opts.normalized()
	var teams []Team
	h, err := c.get(ctx, "GET /api/v1/orgs/{org}/teams", p+"/teams", opts.query(), &teams)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return teams, pageInfo(h, opts, len(teams)), nil
}

// OrganizationRepositories lists the repositories of org the caller can see.
func (c *Client) OrganizationRepositories(ctx context.Context, org string, opts ListOptions) ([]Repository, PageInfo, error) {
	p, err := orgPath(org)
	if err != nil {
		return nil, PageInfo{}, err
	}
	opts = opts.normalized()
	var repos []Repository
	h, err := c.get(ctx, "GET /api/v1/orgs/{org}/repos", p+"/repos", opts.query(), &repos)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return repos, pageInfo(h, opts, len(repos)), nil
}

func orgPath(org string) (string, error) {
	if err := checkName("org", org); err != nil {
		return "", err
	}
	return "/api/v1/orgs/" + org, nil
}
