package broker

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
)

// maxConsentForm bounds the consent form's body.
const maxConsentForm = 4 << 10

// serveConsentPage shows the signed-in user what the client asks for:
// its name (as the client states it), its client id, where it will be
// sent, and the Gitea scopes. The form carries a fresh single-use CSRF
// token; only the browser that started the authorization can see it.
func (b *Broker) serveConsentPage(w http.ResponseWriter, r *http.Request) {
	req, ok := b.pendingRequest(w, r, r.URL.Query().Get("request"))
	if !ok {
		return
	}
	if req.UserID == "" {
		showError(w, http.StatusBadRequest, "Sign in at Gitea first: start again from the application.")
		return
	}
	c, err := b.client(r.Context(), req.ClientID)
	if err != nil {
		b.showClientError(w, err)
		return
	}
	up, err := b.store.Upstream(r.Context(), req.UserID)
	if err != nil {
		b.storeFailed(w, "cannot read a Gitea grant", err)
		return
	}
	granted, missing := grantable(req, up)
	csrf := randomToken("")
	req.ConsentHash = store.Hash(csrf)
	if err := b.store.UpdateAuthRequest(r.Context(), req); err != nil {
		b.storeFailed(w, "cannot save a consent form", err)
		return
	}
	pageHeaders(w)
	_ = consentPage.Execute(w, consentView{
		Action:      b.url(PathConsent),
		Request:     req.ID,
		CSRF:        csrf,
		ClientName:  cmpName(c),
		ClientID:    c.ID,
		Kind:        string(c.Kind),
		RedirectURI: req.RedirectURI,
		Login:       req.Login,
		Gitea:       b.gitea.BaseURL().String(),
		Scopes:      describeScopes(granted),
		Missing:     gitea.ScopeWords(missing),
		Settings:    b.gitea.BaseURL().String() + "/user/settings/applications",
	})
}

// serveConsentDecision takes the user's answer. It is refused unless it
// comes from this server's own page (Origin and Fetch metadata), in the
// browser that started the authorization, with the page's CSRF token; an
// authorization is decided once.
func (b *Broker) serveConsentDecision(w http.ResponseWriter, r *http.Request) {
	if !b.sameOrigin(r) {
		showError(w, http.StatusForbidden, "This answer did not come from this server's consent page.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxConsentForm)
	if err := r.ParseForm(); err != nil {
		showError(w, http.StatusBadRequest, "The consent form could not be read.")
		return
	}
	req, ok := b.pendingRequest(w, r, r.PostForm.Get("request"))
	if !ok {
		return
	}
	csrf := r.PostForm.Get("csrf")
	if req.UserID == "" || req.ConsentHash == "" || csrf == "" || !equalHashes(store.Hash(csrf), req.ConsentHash) {
		showError(w, http.StatusForbidden, "This consent form is stale or was not served to you. Start again from the application.")
		return
	}
	switch r.PostForm.Get("decision") {
	case "allow":
		granted, err := b.consent(r.Context(), req)
		if err != nil {
			b.storeFailed(w, "cannot store a consent", err)
			return
		}
		b.issueCode(w, r, req, granted)
	case "deny":
		b.log.Info("client refused by the user", "user", req.Login, "client_id", req.ClientID)
		b.record(Event{Reason: ReasonRefused, UserID: req.UserID, Login: req.Login, ClientID: req.ClientID})
		b.finish(w, r, req, func(req store.AuthRequest) {
			b.redirectError(w, r, req.RedirectURI, req.State, "access_denied", "the user did not allow this application")
		})
	default:
		showError(w, http.StatusBadRequest, "Choose Allow or Deny.")
	}
}

// consent records that the user allowed req's client the scopes the Gitea
// grant holds of those it asked for, adding them to what the user allowed
// it before, and returns them.
func (b *Broker) consent(ctx context.Context, req store.AuthRequest) (gitea.ScopeSet, error) {
	up, err := b.store.Upstream(ctx, req.UserID)
	if err != nil {
		return gitea.ScopeSet{}, err
	}
	granted, _ := grantable(req, up)
	allowed := granted
	if before, err := b.store.Consent(ctx, req.UserID, req.ClientID); err == nil {
		allowed = allowed.Union(parseScopes(before.Scopes))
	}
	err = b.store.PutConsent(ctx, store.Consent{UserID: req.UserID, ClientID: req.ClientID,
		Scopes: gitea.ScopeWords(allowed.List()), CreatedAt: b.now()})
	return granted, err
}

// sameOrigin reports whether a form post comes from this server's pages:
// its Origin, when sent, is the issuer's, and Fetch metadata, when sent,
// says same-origin.
func (b *Broker) sameOrigin(r *http.Request) bool {
	site := r.Header.Get("Sec-Fetch-Site")
	if site != "" && site != "same-origin" {
		return false
	}
	origin := r.Header.Get("Origin")
	// A browser whose referrer setting is stricter than the page's sends
	// Origin: null on the page's own form; its fetch metadata still says
	// same-origin (an opaque origin, e.g. a sandboxed frame, is cross-site).
	if origin == "" || (origin == "null" && site == "same-origin") {
		return true
	}
	iss, err := url.Parse(b.issuer)
	return err == nil && origin == iss.Scheme+"://"+iss.Host
}

type consentView struct {
	Action, Request, CSRF      string
	ClientName, ClientID, Kind string
	RedirectURI, Login, Gitea  string
	Scopes                     []string // what allowing gives the client
	Missing                    []string // asked for, but not in the Gitea grant
	Settings                   string   // Gitea's page where the user removes a grant
}

func cmpName(c store.Client) string {
	if strings.TrimSpace(c.Name) != "" {
		return c.Name
	}
	return "An unnamed application"
}

// scopeText describes the Gitea scope categories on the consent page.
var scopeText = map[string]string{
	"repository":   "repositories: code, branches, commits, pull requests and releases",
	"issue":        "issues, their comments and labels",
	"user":         "your profile",
	"organization": "your organizations and teams",
	"notification": "your notifications",
	"package":      "packages",
	"misc":         "miscellaneous data",
	"activitypub":  "ActivityPub data",
	"admin":        "site administration",
}

// describeScopes says in words what each scope of set allows.
func describeScopes(set gitea.ScopeSet) []string {
	var out []string
	for _, sc := range set.List() {
		verb, cat, ok := strings.Cut(string(sc), ":")
		if !ok {
			out = append(out, "Only public repositories and data (public-only)")
			continue
		}
		what := scopeText[cat]
		if what == "" {
			what = cat
		}
		if verb == "write" {
			out = append(out, "Read and change "+what+" ("+string(sc)+")")
		} else {
			out = append(out, "Read "+what+" ("+string(sc)+")")
		}
	}
	return out
}

const pageStyle = `body{font:16px/1.5 system-ui,sans-serif;background:#f6f7f9;color:#1b1f24;margin:0}
main{max-width:34rem;margin:3rem auto;background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:1.5rem 2rem}
h1{font-size:1.3rem;margin-top:0}code{background:#f0f2f4;padding:0 .25rem;border-radius:4px;word-break:break-all}
ul{padding-left:1.2rem}.fine{color:#57606a;font-size:.9rem}.actions{display:flex;gap:1rem;margin-top:1.5rem}
button{font-size:1rem;padding:.5rem 1.2rem;border-radius:6px;border:1px solid #d0d7de;cursor:pointer}
button.allow{background:#1f883d;color:#fff;border-color:#1a7f37}`

var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Allow access? — AegisGitea MCP</title><style>` + pageStyle + `</style></head>
<body><main>
<h1>Allow <q>{{.ClientName}}</q> to use Gitea as {{.Login}}?</h1>
<p>An application that calls itself <strong>{{.ClientName}}</strong> asks to act as you, <strong>{{.Login}}</strong>, at <code>{{.Gitea}}</code>, through this MCP server. It will be able to:</p>
<ul>{{range .Scopes}}<li>{{.}}</li>{{end}}</ul>
{{if .Missing}}<p class="fine">It also asked for {{range $i, $s := .Missing}}{{if $i}}, {{end}}<code>{{$s}}</code>{{end}}, which your Gitea authorization of this server does not hold: Gitea keeps an authorization's first scopes.
To give them, remove this server's app under <a href="{{.Settings}}">Gitea → Settings → Applications</a> (Authorized OAuth2 Applications) and sign in again.</p>{{end}}
<p class="fine">Client id: <code>{{.ClientID}}</code> ({{.Kind}})<br>
You will be sent back to: <code>{{.RedirectURI}}</code><br>
The name is the application's own claim: allow only if you started this from the application you expect, and the address above is its own.
You can revoke this later (ask your administrator, or remove the app in Gitea's settings to end every application's access).</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="request" value="{{.Request}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<div class="actions"><button class="allow" type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button></div>
</form></main></body></html>`))
