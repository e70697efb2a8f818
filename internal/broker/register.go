package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/clientdoc"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
)

// maxRegistrationBytes bounds a registration request's body.
const maxRegistrationBytes = 16 << 10

// maxRedirectURIs bounds the redirect URIs one client may register.
const maxRedirectURIs = 10

// registration is an RFC 7591 client registration request and response.
type registration struct {
	ClientID                string   `json:"client_id,omitempty"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at,omitempty"`
	ClientName              string   `json:"client_name,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	ApplicationType         string   `json:"application_type,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
}

func invalidMetadata(desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "invalid_client_metadata", description: desc}
}

func invalidRedirect(desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "invalid_redirect_uri", description: desc}
}

// serveRegister registers a public client (RFC 7591). Registrations are
// limited per address and forgotten when unused for RegistrationTTL.
func (b *Broker) serveRegister(w http.ResponseWriter, r *http.Request) {
	if ok, wait := b.registration.Allow(b.clientAddr(r)); !ok {
		writeOAuthError(w, &oauthError{status: http.StatusTooManyRequests, code: "slow_down",
			description: "too many client registrations from your address; retry later", retryAfter: wait})
		return
	}
	reg, oerr := readRegistration(r)
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	now := b.now()
	c := store.Client{
		ID:              randomToken("dyn_")[:36],
		Kind:            store.ClientDynamic,
		Name:            reg.ClientName,
		RedirectURIs:    reg.RedirectURIs,
		ApplicationType: reg.ApplicationType,
		CreatedAt:       now,
		ExpiresAt:       now.Add(b.regTTL),
	}
	if err := b.store.CreateClient(r.Context(), c); err != nil {
		b.log.Error("cannot store a client registration", "err", err)
		writeOAuthError(w, serverError("cannot register the client right now"))
		return
	}
	b.log.Info("client registered", "client_id", c.ID, "client_name", c.Name, "redirect_uris", c.RedirectURIs)
	b.record(Event{Reason: ReasonRegistered, ClientID: c.ID})
	reg.ClientID, reg.ClientIDIssuedAt = c.ID, now.Unix()
	writeJSON(w, http.StatusCreated, reg)
}

// readRegistration reads and checks a registration request, filling in
// the defaults: a public web client using the authorization code flow.
func readRegistration(r *http.Request) (*registration, *oauthError) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return nil, invalidMetadata("the registration must be a JSON object (Content-Type: application/json)")
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxRegistrationBytes))
	if err != nil {
		return nil, invalidMetadata(fmt.Sprintf("the registration is not readable or larger than %d KiB", maxRegistrationBytes>>10))
	}
	var reg registration
	if err := json.Unmarshal(body, &reg); err != nil {
		return nil, invalidMetadata("the registration is not a JSON object of RFC 7591 client metadata")
	}
	switch reg.TokenEndpointAuthMethod {
	case "", "none":
		reg.TokenEndpointAuthMethod = "none"
	default:
		return nil, invalidMetadata(`only public clients can register here: token_endpoint_auth_method must be "none" (PKCE proves the client)`)
	}
	if reg.GrantTypes == nil {
		reg.GrantTypes = []string{"authorization_code", "refresh_token"}
	}
	for _, g := range reg.GrantTypes {
		if g != "authorization_code" && g != "refresh_token" {
			return nil, invalidMetadata(`grant_types may only hold "authorization_code" and "refresh_token"`)
		}
	}
	if !slices.Contains(reg.GrantTypes, "authorization_code") {
		return nil, invalidMetadata(`grant_types must include "authorization_code"`)
	}
	if reg.ResponseTypes == nil {
		reg.ResponseTypes = []string{"code"}
	}
	if len(reg.ResponseTypes) != 1 || reg.ResponseTypes[0] != "code" {
		return nil, invalidMetadata(`response_types must be ["code"]`)
	}
	switch reg.ApplicationType {
	case "":
		reg.ApplicationType = "web"
	case "web", "native":
	default:
		return nil, invalidMetadata(`application_type must be "web" or "native"`)
	}
	if len(reg.RedirectURIs) == 0 || len(reg.RedirectURIs) > maxRedirectURIs {
		return nil, invalidRedirect(fmt.Sprintf("register between 1 and %d redirect_uris", maxRedirectURIs))
	}
	for _, u := range reg.RedirectURIs {
		if err := clientdoc.CheckRedirectURI(u); err != nil {
			return nil, invalidRedirect(err.Error())
		}
	}
	reg.ClientName = clientdoc.CleanName(reg.ClientName)
	reg.Scope = "" // scopes are asked for at authorization, and consented to there
	return &reg, nil
}

// errUnknownClient is a client_id the broker does not know.
var errUnknownClient = errors.New("unknown client")

// client returns the client with id: a registered one, or the Client ID
// Metadata Document at the URL id.
func (b *Broker) client(ctx context.Context, id string) (store.Client, error) {
	if sc, ok := b.static[id]; ok {
		return sc.client(), nil
	}
	if clientdoc.IsMetadataURL(id) {
		if b.docs == nil {
			return store.Client{}, errUnknownClient
		}
		doc, err := b.docs.Fetch(ctx, id)
		if err != nil {
			return store.Client{}, err
		}
		return store.Client{ID: doc.ClientID, Kind: store.ClientMetadata, Name: doc.ClientName, RedirectURIs: doc.RedirectURIs}, nil
	}
	c, err := b.store.Client(ctx, id, b.now())
	if errors.Is(err, store.ErrNotFound) {
		return store.Client{}, errUnknownClient
	}
	return c, err
}
