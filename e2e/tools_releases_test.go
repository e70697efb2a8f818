package e2e

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// releasesScope is the one scope the releases, Actions and wiki tools need.
const releasesScope = "read:repository"

func relItems(t *testing.T, out map[string]any, key string) []map[string]any {
	t.Helper()
	raw, ok := out[key].([]any)
	if !ok {
		t.Fatalf("output %v has no list %q", out, key)
	}
	list := make([]map[string]any, len(raw))
	for i, v := range raw {
		list[i] = v.(map[string]any)
	}
	return list
}

func relWebsite(extra ...any) map[string]any {
	args := map[string]any{"owner": testgitea.BobName, "repo": testgitea.BobPublicRepo}
	for i := 0; i+1 < len(extra); i += 2 {
		args[extra[i].(string)] = extra[i+1]
	}
	return args
}

func TestReleasesReleaseTools(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, releasesScope)
	alice := a.token(t, g, testgitea.AliceName, releasesScope).AccessToken
	bob := a.token(t, g, testgitea.BobName, releasesScope).AccessToken

	// Alice reads bob's public releases; the draft stays hidden from a read token.
	list := mustCall(t, a, alice, "list_releases", relWebsite())
	rels := relItems(t, list, "releases")
	if len(rels) != 2 || rels[0]["tag"] != testgitea.PrereleaseTag || rels[0]["prerelease"] != true ||
		rels[1]["tag"] != testgitea.ReleaseTag || rels[1]["name"] != testgitea.ReleaseName || rels[1]["author"] != testgitea.BobName ||
		rels[1]["published_at"] == nil || list["total"] != 2.0 {
		t.Errorf("list_releases = %v, want the prerelease then the release, no draft", list)
	}
	if strings.Contains(fmt.Sprint(list), testgitea.DraftReleaseName) {
		t.Errorf("list_releases shows the draft to a read token: %v", list)
	}
	page := mustCall(t, a, alice, "list_releases", relWebsite("limit", 1))
	if len(relItems(t, page, "releases")) != 1 || page["next_page"] != 2.0 {
		t.Errorf("list_releases limit 1 = %v, want one release and next_page 2", page)
	}

	res := a.toolCall(t, alice, "get_release_by_tag", relWebsite("tag", testgitea.ReleaseTag))
	rel := res.Structured
	assets := relItems(t, rel, "assets")
	if res.IsError || rel["notes"] != testgitea.ReleaseNotes || rel["target"] != "main" || len(assets) != 1 ||
		assets[0]["name"] != testgitea.ReleaseAsset || assets[0]["size"] != float64(len(testgitea.ReleaseAssetContent)) ||
		assets[0]["download_count"] != 0.0 || !strings.HasPrefix(res.Text, "[untrusted content]") {
		t.Errorf("get_release_by_tag %s = %s", testgitea.ReleaseTag, res.Body)
	}
	byID := mustCall(t, a, alice, "get_release", relWebsite("id", rel["id"]))
	if byID["tag"] != testgitea.ReleaseTag || byID["notes"] != testgitea.ReleaseNotes {
		t.Errorf("get_release %v = %v, want %s", rel["id"], byID, testgitea.ReleaseTag)
	}
	if latest := mustCall(t, a, alice, "get_latest_release", relWebsite()); latest["tag"] != testgitea.ReleaseTag {
		t.Errorf("get_latest_release = %v, want %s (the prerelease is newer but does not count)", latest, testgitea.ReleaseTag)
	}
	pre := mustCall(t, a, alice, "get_release_by_tag", relWebsite("tag", testgitea.PrereleaseTag))
	if pre["prerelease"] != true || pre["name"] != testgitea.PrereleaseName || pre["notes"] != nil || pre["assets"] != nil {
		t.Errorf("get_release_by_tag %s = %v", testgitea.PrereleaseTag, pre)
	}

	// Bob's private release: his own, invisible to alice, and never confirmed to her.
	secret := map[string]any{"owner": testgitea.BobName, "repo": testgitea.BobPrivateRepo, "tag": testgitea.PrivateReleaseTag}
	private := mustCall(t, a, bob, "get_release_by_tag", secret)
	mustRefuse(t, a, alice, "get_release_by_tag", secret, "not found")
	mustRefuse(t, a, alice, "get_release", map[string]any{"owner": testgitea.BobName, "repo": testgitea.BobPrivateRepo, "id": private["id"]}, "not found")
	mustRefuse(t, a, alice, "get_latest_release", map[string]any{"owner": testgitea.BobName, "repo": testgitea.BobPrivateRepo}, "not found")
	mustRefuse(t, a, alice, "list_releases", map[string]any{"owner": testgitea.BobName, "repo": testgitea.BobPrivateRepo}, "not found")

	// A repository without releases says so; a tag without a release is not found.
	mustRefuse(t, a, bob, "get_latest_release", map[string]any{"owner": testgitea.Org, "repo": testgitea.OrgRepo}, "no published release")
	mustRefuse(t, a, bob, "get_release_by_tag", relWebsite("tag", "v9.9.9"), "not found")
	mustRefuse(t, a, bob, "get_release_by_tag", relWebsite("tag", "../../user"), "tag")
	if res := a.toolCall(t, bob, "get_release", relWebsite("id", 0)); res.Status != 400 || !strings.Contains(res.Body, "id") {
		t.Errorf("get_release id 0 = %d %s, want 400 naming id", res.Status, res.Body)
	}
}

func TestReleasesActionsTools(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, releasesScope)
	alice := a.token(t, g, testgitea.AliceName, releasesScope).AccessToken
	bob := a.token(t, g, testgitea.BobName, releasesScope).AccessToken

	wfs := relItems(t, mustCall(t, a, alice, "list_workflows", relWebsite()), "workflows")
	if len(wfs) != 1 || wfs[0]["file"] != "ci.yml" || wfs[0]["path"] != testgitea.WorkflowFile ||
		wfs[0]["name"] != testgitea.WorkflowName || wfs[0]["state"] != "active" {
		t.Errorf("list_workflows = %v, want %s", wfs, testgitea.WorkflowFile)
	}

	// The push of the workflow made one run: the seed's runner failed its
	// build job; no runner takes its deploy job, so the run stays queued.
	runs := relItems(t, mustCall(t, a, alice, "list_workflow_runs", relWebsite()), "runs")
	if len(runs) != 1 {
		t.Fatalf("list_workflow_runs = %v, want the one run of the workflow push", runs)
	}
	run := runs[0]
	if run["workflow"] != "ci.yml" || run["event"] != "push" || run["status"] != "queued" || run["branch"] != "main" ||
		run["title"] != "Add "+testgitea.WorkflowFile || run["actor"] != testgitea.BobName || run["started_at"] == nil || run["completed_at"] != nil {
		t.Errorf("the run = %v, want a started, queued push run of ci.yml", run)
	}
	for _, filter := range []map[string]any{
		relWebsite("status", "queued"), relWebsite("workflow", "ci.yml"), relWebsite("branch", "main", "event", "push"),
	} {
		if got := relItems(t, mustCall(t, a, alice, "list_workflow_runs", filter), "runs"); len(got) != 1 {
			t.Errorf("list_workflow_runs(%v) = %v, want the run", filter, got)
		}
	}
	none := mustCall(t, a, alice, "list_workflow_runs", relWebsite("status", "success"))
	if len(relItems(t, none, "runs")) != 0 || none["note"] != "no workflow runs match these filters." {
		t.Errorf("list_workflow_runs status success = %v, want none and a note", none)
	}
	mustRefuse(t, a, alice, "list_workflow_runs", relWebsite("workflow", "nope.yml"), "no workflow file nope.yml")
	if res := a.toolCall(t, alice, "list_workflow_runs", relWebsite("status", "broken")); res.Status != 400 || !strings.Contains(res.Body, "status") {
		t.Errorf("list_workflow_runs status broken = %d %s, want 400 naming status", res.Status, res.Body)
	}

	detail := mustCall(t, a, alice, "get_workflow_run", relWebsite("run_id", run["id"]))
	if detail["status"] != "queued" || detail["path"] != "ci.yml@refs/heads/main" || detail["triggered_by"] != testgitea.BobName ||
		detail["sha"] != run["sha"] || detail["url"] == nil {
		t.Errorf("get_workflow_run = %v", detail)
	}
	jobs := relItems(t, mustCall(t, a, alice, "list_workflow_jobs", relWebsite("run_id", run["id"])), "jobs")
	if len(jobs) != 2 {
		t.Fatalf("list_workflow_jobs = %v, want %s and %s", jobs, testgitea.WorkflowJob, testgitea.WorkflowQueuedJob)
	}
	build, deploy := jobs[0], jobs[1]
	if build["name"] != testgitea.WorkflowJob || build["status"] != "completed" || build["conclusion"] != "failure" ||
		build["runner"] != "seed-runner" || fmt.Sprint(build["labels"]) != "[ubuntu-latest]" || build["completed_at"] == nil ||
		fmt.Sprint(build["steps"]) != "[map[conclusion:failure name:Run make build number:0 status:completed]]" {
		t.Errorf("the failed job = %v", build)
	}
	if deploy["name"] != testgitea.WorkflowQueuedJob || deploy["status"] != "queued" || deploy["runner"] != nil || deploy["started_at"] != nil {
		t.Errorf("the queued job = %v", deploy)
	}

	// The failed job's log: its end, the secret masked, the size told.
	res := a.toolCall(t, alice, "get_job_log", relWebsite("job_id", build["id"]))
	log := res.Structured
	text, _ := log["log"].(string)
	var contentBytes int
	for _, line := range testgitea.JobLog() {
		contentBytes += len(line) + 1
	}
	if res.IsError || !strings.HasSuffix(text, testgitea.JobLogLastLine+"\n") || !strings.Contains(text, "compiling module 001 of 200") ||
		strings.Contains(res.Body, testgitea.JobLogSecret) || !strings.Contains(text, "deploy key: [MASKED SECRET]") ||
		log["size_bytes"].(float64) <= float64(contentBytes) || log["omitted_bytes"] != nil || log["truncated"] != nil ||
		!strings.Contains(fmt.Sprint(log["note"]), "1 secret(s) masked") || !strings.HasPrefix(res.Text, "[untrusted content]") {
		t.Errorf("get_job_log of the failed job = %s", res.Body)
	}
	tail := mustCall(t, a, alice, "get_job_log", relWebsite("job_id", build["id"], "tail_bytes", 1000))
	tailText, _ := tail["log"].(string)
	omitted, _ := tail["omitted_bytes"].(float64)
	if len(tailText) > 1000 || !strings.HasSuffix(tailText, testgitea.JobLogLastLine+"\n") || strings.Contains(tailText, "module 001") ||
		!strings.HasPrefix(tailText, "20") || tail["truncated"] != true || tail["size_bytes"] != log["size_bytes"] ||
		omitted < log["size_bytes"].(float64)-1000 || !strings.Contains(fmt.Sprint(tail["note"]), fmt.Sprintf("the first %d of %v bytes were left out", int(omitted), log["size_bytes"])) {
		t.Errorf("get_job_log tail_bytes 1000 = %v, want the last whole lines and how much was left out", tail)
	}
	queued := mustCall(t, a, alice, "get_job_log", relWebsite("job_id", deploy["id"]))
	if queued["status"] != "queued" || queued["log"] != nil || !strings.Contains(fmt.Sprint(queued["note"]), "has not started") {
		t.Errorf("get_job_log of the queued job = %v, want no log and a note saying why", queued)
	}
	if res := a.toolCall(t, alice, "get_job_log", relWebsite("job_id", build["id"], "tail_bytes", 10)); res.Status != 400 || !strings.Contains(res.Body, "tail_bytes") {
		t.Errorf("get_job_log tail_bytes 10 = %d %s, want 400 naming tail_bytes", res.Status, res.Body)
	}

	mustRefuse(t, a, alice, "get_workflow_run", relWebsite("run_id", 999999), "no workflow run 999999")
	mustRefuse(t, a, alice, "list_workflow_jobs", relWebsite("run_id", 999999), "no workflow run 999999")
	mustRefuse(t, a, alice, "get_job_log", relWebsite("job_id", 999999), "no job 999999")
	// Bob's team may read acme/handbook's code but not its Actions.
	handbook := map[string]any{"owner": testgitea.Org, "repo": testgitea.OrgRepo}
	for _, name := range []string{"list_workflows", "list_workflow_runs"} {
		mustRefuse(t, a, bob, name, handbook, "Gitea Actions is disabled for this repository")
	}
	mustRefuse(t, a, bob, "get_job_log", map[string]any{"owner": testgitea.Org, "repo": testgitea.OrgRepo, "job_id": build["id"]}, "Gitea Actions is disabled")
	// Alice cannot see bob's private repository at all, nor its jobs.
	secrets := map[string]any{"owner": testgitea.BobName, "repo": testgitea.BobPrivateRepo}
	mustRefuse(t, a, alice, "list_workflows", secrets, "not found: it does not exist")
	mustRefuse(t, a, alice, "get_job_log", map[string]any{"owner": testgitea.BobName, "repo": testgitea.BobPrivateRepo, "job_id": build["id"]}, "not found: it does not exist")
	// Bob's private repository has no workflow: empty lists, said plainly.
	if empty := mustCall(t, a, bob, "list_workflow_runs", secrets); len(relItems(t, empty, "runs")) != 0 || empty["note"] != "this repository has no workflow runs." {
		t.Errorf("list_workflow_runs of bob/secrets = %v", empty)
	}
	if empty := mustCall(t, a, bob, "list_workflows", secrets); len(relItems(t, empty, "workflows")) != 0 || empty["note"] == nil {
		t.Errorf("list_workflows of bob/secrets = %v", empty)
	}
}

func TestReleasesWikiTools(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, releasesScope)
	alice := a.token(t, g, testgitea.AliceName, releasesScope).AccessToken
	bob := a.token(t, g, testgitea.BobName, releasesScope).AccessToken

	list := mustCall(t, a, alice, "list_wiki_pages", relWebsite())
	pages := relItems(t, list, "pages")
	if len(pages) != 2 || pages[0]["title"] != testgitea.WikiDeploy || pages[0]["name"] != testgitea.WikiDeploySubURL ||
		pages[1]["title"] != testgitea.WikiHome || pages[1]["updated_at"] == nil || list["total"] != 2.0 {
		t.Errorf("list_wiki_pages = %v", list)
	}
	second := mustCall(t, a, alice, "list_wiki_pages", relWebsite("limit", 1, "page", 2))
	if p := relItems(t, second, "pages"); len(p) != 1 || p[0]["title"] != testgitea.WikiHome || second["next_page"] != nil {
		t.Errorf("list_wiki_pages page 2 of 1 = %v, want %s and no next page", second, testgitea.WikiHome)
	}

	res := a.toolCall(t, alice, "get_wiki_page", relWebsite("page", testgitea.WikiHome))
	home := res.Structured
	if res.IsError || home["content"] != testgitea.WikiHomeContent || home["last_change"] != "Add "+testgitea.WikiHome ||
		home["revisions"] != 1.0 || home["name"] != testgitea.WikiHome || !strings.HasPrefix(res.Text, "[untrusted content]") {
		t.Errorf("get_wiki_page %s = %s", testgitea.WikiHome, res.Body)
	}
	for _, name := range []string{testgitea.WikiDeploy, testgitea.WikiDeploySubURL, "Deployment%20Guide"} {
		if p := mustCall(t, a, alice, "get_wiki_page", relWebsite("page", name)); p["content"] != testgitea.WikiDeployBody {
			t.Errorf("get_wiki_page %q = %v, want the deployment page", name, p)
		}
	}

	mustRefuse(t, a, alice, "get_wiki_page", relWebsite("page", "No Such Page"), "not found")
	mustRefuse(t, a, alice, "get_wiki_page", relWebsite("page", "../../settings"), "page")
	secrets := map[string]any{"owner": testgitea.BobName, "repo": testgitea.BobPrivateRepo}
	mustRefuse(t, a, alice, "list_wiki_pages", secrets, "not found")
	empty := mustCall(t, a, bob, "list_wiki_pages", secrets)
	if len(relItems(t, empty, "pages")) != 0 || !strings.Contains(fmt.Sprint(empty["note"]), "no pages") {
		t.Errorf("list_wiki_pages of bob/secrets = %v, want none and a note", empty)
	}
}

// TestReleasesNeedReadRepository checks the declared scope against Gitea: a
// token without read:repository is refused by the server before Gitea is
// asked, and Gitea itself refuses such a token on these endpoints.
func TestReleasesNeedReadRepository(t *testing.T) {
	g := needGitea(t)
	const userOnly = "read:user"
	a := startAegisFor(t, g, userOnly)
	tok := a.token(t, g, testgitea.BobName, userOnly).AccessToken

	calls := map[string]map[string]any{
		"list_releases":      relWebsite(),
		"get_release":        relWebsite("id", 1),
		"get_latest_release": relWebsite(),
		"get_release_by_tag": relWebsite("tag", testgitea.ReleaseTag),
		"list_workflows":     relWebsite(),
		"list_workflow_runs": relWebsite(),
		"get_workflow_run":   relWebsite("run_id", 1),
		"list_workflow_jobs": relWebsite("run_id", 1),
		"get_job_log":        relWebsite("job_id", 1),
		"list_wiki_pages":    relWebsite(),
		"get_wiki_page":      relWebsite("page", testgitea.WikiHome),
	}
	for name, args := range calls {
		res := a.toolCall(t, tok, name, args)
		if res.Status != 403 || !strings.Contains(res.WWWAuthenticate, "insufficient_scope") || !strings.Contains(res.WWWAuthenticate, releasesScope) {
			t.Errorf("%s with %s = %d %q %s, want 403 insufficient_scope naming %s", name, userOnly, res.Status, res.WWWAuthenticate, res.Body, releasesScope)
		}
	}

	c := endpoint(t, g).As(tok)
	ctx := t.Context()
	gitea403 := map[string]func() error{
		"releases": func() error {
			_, _, err := c.ListReleases(ctx, testgitea.BobName, testgitea.BobPublicRepo, gitea.ListOptions{})
			return err
		},
		"workflows": func() error { _, err := c.Workflows(ctx, testgitea.BobName, testgitea.BobPublicRepo); return err },
		"runs": func() error {
			_, _, err := c.ListWorkflowRuns(ctx, testgitea.BobName, testgitea.BobPublicRepo, gitea.RunFilter{}, gitea.ListOptions{})
			return err
		},
		"job log": func() error { _, err := c.JobLog(ctx, testgitea.BobName, testgitea.BobPublicRepo, 1, 100); return err },
		"wiki": func() error {
			_, err := c.WikiPage(ctx, testgitea.BobName, testgitea.BobPublicRepo, testgitea.WikiHome)
			return err
		},
	}
	for name, call := range gitea403 {
		if err := call(); !errors.Is(err, gitea.ErrForbidden) {
			t.Errorf("Gitea %s with a %s token: error %v, want ErrForbidden", name, userOnly, err)
		}
	}
}
