// The official MCP TypeScript SDK's own OAuth client against this server's
// OAuth broker: discovery (protected resource metadata, then authorization
// server metadata), registration (RFC 7591 DCR, or a Client ID Metadata
// Document when CLIENT_METADATA_URL is set), PKCE, the resource indicator,
// the code exchange and the refresh are the SDK's code (auth(),
// StreamableHTTPClientTransport with an authProvider); this file only
// keeps state in memory and stands in for the browser, and in the step-up
// mode calls auth() itself where SDK 1.32.2 does not get there alone (see
// stepUp).
//
// The browser cannot run here: redirectToAuthorization prints one line
//   {"authorize": "<authorization URL>"}
// and waits for one line on stdin: the URL the authorization server
// finally redirected the browser to (code, state, iss).
//
// Every other line on stdout is one JSON event ({"event": ...}). No token
// is ever printed: only lengths and the 9-character prefix (aegis_at_).
//
// Environment:
//   MCP_URL              (required) the server's Streamable HTTP endpoint
//   REDIRECT_URL         the client's redirect URI (default http://127.0.0.1:1/callback);
//                        nothing needs to listen there
//   CLIENT_METADATA_URL  an https URL serving this client's metadata document:
//                        the client_id (CIMD) instead of registering by DCR
//   CLIENT_NAME          client_name for DCR (default "aegis e2e: TypeScript SDK client")
//   TOKEN_FILE           if set, the tokens this client held are written there
//                        (0600) when it ends, so a test can look for them in logs
//   STEP_UP_REPO         owner/repo: the step-up mode (stepUp below) instead of the
//                        whole flow: authorize for reading only, call create_issue
//                        there, step up to the scope of the 403 insufficient_scope
//                        challenge (a second authorization, so a second
//                        {"authorize": ...} line), and create the issue
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { auth, extractWWWAuthenticateParams, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

const mcpURL = required('MCP_URL');
const redirectURL = process.env.REDIRECT_URL || 'http://127.0.0.1:1/callback';
const metadataURL = process.env.CLIENT_METADATA_URL || undefined;
const clientName = process.env.CLIENT_NAME || 'aegis e2e: TypeScript SDK client';
const tokenFile = process.env.TOKEN_FILE || '';
const stepUpRepo = process.env.STEP_UP_REPO || '';

// readScopes is what the step-up mode's first authorization asks for.
const readScopes = 'read:repository read:user read:issue';

const sdkVersion = JSON.parse(readFileSync(new URL('./node_modules/@modelcontextprotocol/sdk/package.json', import.meta.url), 'utf8')).version;

function required(name) {
  const v = process.env[name];
  if (!v) {
    process.stderr.write(`broker-client: ${name} must be set\n`);
    process.exit(2);
  }
  return v;
}

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// held holds every token this client saw, for TOKEN_FILE only.
const held = new Set();

function describeTokens(t) {
  return {
    access_prefix: t.access_token.slice(0, 9),
    access_len: t.access_token.length,
    refresh_prefix: t.refresh_token ? t.refresh_token.slice(0, 9) : '',
    refresh_len: t.refresh_token ? t.refresh_token.length : 0,
    token_type: t.token_type,
    expires_in: t.expires_in,
    scope: t.scope
  };
}

// stdinLines reads stdin line by line, on demand.
const stdin = createInterface({ input: process.stdin, crlfDelay: Infinity });
const stdinLines = stdin[Symbol.asyncIterator]();
async function readLine() {
  const { value, done } = await stdinLines.next();
  if (done) throw new Error('stdin ended before the redirect URL arrived');
  return value.trim();
}

// InMemoryProvider is an OAuthClientProvider keeping everything in memory.
class InMemoryProvider {
  constructor() {
    this.clientMetadataUrl = metadataURL;
    this._client = undefined;
    this._tokens = undefined;
    this._verifier = undefined;
    this._discovery = undefined;
    this._state = undefined;
    this.callback = undefined; // the URL the browser was sent back to
    this.tokenSaves = 0;
    this.redirects = 0;
    this.invalidated = [];
    // interactive: false once the browser came back; a new authorization
    // the SDK asks for later is recorded, not waited for.
    this.interactive = true;
  }

  get redirectUrl() {
    return redirectURL;
  }

  get clientMetadata() {
    return {
      client_name: clientName,
      redirect_uris: [redirectURL],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none'
    };
  }

  state() {
    this._state = randomBytes(16).toString('base64url');
    return this._state;
  }

  clientInformation() {
    return this._client;
  }

  saveClientInformation(info) {
    this._client = info;
    emit({ event: 'client', client_id: info.client_id, registered: metadataURL ? 'cimd' : 'dcr', issuer: info.issuer });
  }

  tokens() {
    return this._tokens;
  }

  saveTokens(tokens) {
    this._tokens = tokens;
    this.tokenSaves++;
    held.add(tokens.access_token);
    if (tokens.refresh_token) held.add(tokens.refresh_token);
    emit({ event: 'tokens', n: this.tokenSaves, ...describeTokens(tokens) });
  }

  async redirectToAuthorization(url) {
    this.redirects++;
    const q = url.searchParams;
    this.requestedScope = q.get('scope');
    emit({
      event: 'authorization_request',
      endpoint: url.origin + url.pathname,
      client_id: q.get('client_id'),
      redirect_uri: q.get('redirect_uri'),
      resource: q.get('resource'),
      scope: q.get('scope'),
      code_challenge_method: q.get('code_challenge_method'),
      has_code_challenge: !!q.get('code_challenge'),
      has_state: !!q.get('state')
    });
    if (!this.interactive) {
      emit({ event: 'reauthorization_requested' });
      return;
    }
    emit({ authorize: url.href });
    this.callback = new URL(await readLine());
    this.interactive = false;
  }

  saveCodeVerifier(v) {
    this._verifier = v;
  }

  codeVerifier() {
    if (!this._verifier) throw new Error('no PKCE code verifier saved');
    return this._verifier;
  }

  saveDiscoveryState(s) {
    this._discovery = s;
    const m = s.authorizationServerMetadata ?? {};
    emit({
      event: 'discovery',
      authorization_server: s.authorizationServerUrl,
      resource: s.resourceMetadata?.resource,
      issuer: m.issuer,
      registration_endpoint: m.registration_endpoint,
      revocation_endpoint: m.revocation_endpoint,
      client_id_metadata_document_supported: m.client_id_metadata_document_supported === true
    });
  }

  discoveryState() {
    return this._discovery;
  }

  invalidateCredentials(scope) {
    this.invalidated.push(scope);
    emit({ event: 'invalidate_credentials', scope });
    if (scope === 'all' || scope === 'client') this._client = undefined;
    if (scope === 'all' || scope === 'tokens') this._tokens = undefined;
    if (scope === 'all' || scope === 'verifier') this._verifier = undefined;
    if (scope === 'all' || scope === 'discovery') this._discovery = undefined;
  }

  // expireAccessToken replaces the access token the client holds by one
  // the server never issued, keeping the refresh token: the next request
  // is answered 401, as it would be after 15 minutes, and the SDK's own
  // 401 handling refreshes.
  expireAccessToken() {
    this._tokens = { ...this._tokens, access_token: 'aegis_at_' + 'expired'.padEnd(43, '0') };
  }
}

// traced is the fetch the SDK gets: it records each request it makes to
// the server (method, path, the token grant type, the WWW-Authenticate
// challenge of a 401 or 403; never other headers, bodies or queries, which
// hold credentials).
const requests = [];
const lastChallenge = {}; // status -> the last WWW-Authenticate answered with it
async function traced(input, init) {
  const u = new URL(input instanceof Request ? input.url : String(input));
  const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
  let grant;
  if (init?.body instanceof URLSearchParams) grant = init.body.get('grant_type') ?? undefined;
  const res = await fetch(input, init);
  const r = { method, path: u.pathname, status: res.status };
  if (grant) r.grant_type = grant;
  // A refusal's challenge (RFC 6750 §3: error, scope, resource_metadata)
  // holds no credential.
  const challenge = res.headers.get('www-authenticate');
  if (challenge && (res.status === 401 || res.status === 403)) {
    r.www_authenticate = challenge;
    lastChallenge[res.status] = challenge;
  }
  requests.push(r);
  emit({ event: 'http', ...r });
  return res;
}

const provider = new InMemoryProvider();
const newTransport = () => new StreamableHTTPClientTransport(new URL(mcpURL), { authProvider: provider, fetch: traced });
const newClient = () => new Client({ name: 'aegis-broker-e2e', version: sdkVersion });

async function main() {
  emit({ event: 'start', sdk: sdkVersion, node: process.versions.node, mcp_url: mcpURL, mode: metadataURL ? 'cimd' : 'dcr', step_up: !!stepUpRepo });
  if (stepUpRepo) {
    await stepUp();
    return;
  }

  // 1. Connect without a token: 401, and the SDK's auth() discovers,
  //    registers and sends the user to the authorization endpoint.
  const first = newClient();
  const firstTransport = newTransport();
  try {
    await first.connect(firstTransport);
    throw new Error('the server accepted a connection without a token');
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) throw e;
  }
  // 2. The browser came back; the SDK exchanges the code.
  await firstTransport.finishAuth(takeCallback());
  const firstTokens = provider.tokens();
  await first.close().catch(() => {});

  // 3. Connected as the user: list tools, call get_me.
  const client = newClient();
  await client.connect(newTransport());
  emit({ event: 'connected', server_name: client.getServerVersion()?.name, server_version: client.getServerVersion()?.version });
  const { tools } = await client.listTools();
  emit({ event: 'tools', count: tools.length, names: tools.map(t => t.name) });
  emit({ event: 'get_me', ...(await getMe(client)) });

  // 4. Refresh, by the SDK's own 401 handling: the access token is made
  //    stale, the call is answered 401, auth() refreshes and retries.
  const saves = provider.tokenSaves;
  provider.expireAccessToken();
  const me = await getMe(client);
  const refreshed = provider.tokens();
  emit({
    event: 'refresh',
    refreshed: provider.tokenSaves === saves + 1,
    new_access_token: refreshed.access_token !== firstTokens.access_token && refreshed.access_token.startsWith('aegis_at_'),
    new_refresh_token: refreshed.refresh_token !== firstTokens.refresh_token,
    ...me
  });

  // 5. Revocation (RFC 7009; the SDK has no helper for it): the refreshed
  //    access token ends its whole authorization.
  const meta = provider.discoveryState().authorizationServerMetadata;
  if (!meta.revocation_endpoint) throw new Error('the metadata names no revocation_endpoint');
  const rev = await traced(meta.revocation_endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams({ token: refreshed.access_token, token_type_hint: 'access_token', client_id: provider.clientInformation().client_id })
  });
  await rev.body?.cancel();
  emit({ event: 'revoke', status: rev.status });

  // The revoked token, sent as it is, is refused.
  const refused = await traced(mcpURL, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${refreshed.access_token}`,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': '2025-11-25'
    },
    body: JSON.stringify({
      jsonrpc: '2.0', id: 1, method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'revoked', version: '0' } }
    })
  });
  await refused.body?.cancel();
  emit({ event: 'revoked_access_token', status: refused.status, challenge: (refused.headers.get('www-authenticate') ?? '').split(' ')[0] });

  // And the SDK, calling on with it: 401, its refresh is refused too
  // (invalid_grant), it drops the tokens and asks for a new sign-in.
  const redirects = provider.redirects;
  let outcome;
  try {
    await client.callTool({ name: 'get_me', arguments: {} });
    outcome = 'accepted';
  } catch (e) {
    outcome = e instanceof UnauthorizedError ? 'unauthorized' : `error: ${e.message}`;
  }
  emit({
    event: 'after_revocation',
    outcome,
    tokens_dropped: provider.invalidated.includes('tokens') && provider.tokens() === undefined,
    reauthorization_requested: provider.redirects === redirects + 1
  });

  await client.close().catch(() => {});
}

// takeCallback checks the authorization response the browser brought back
// (state against CSRF, and iss: RFC 9207, the metadata says the server
// sends it) and returns its code.
function takeCallback() {
  const cb = provider.callback;
  provider.callback = undefined;
  if (!cb) throw new Error('the SDK did not ask for an authorization');
  if (cb.origin + cb.pathname !== new URL(redirectURL).href) throw new Error('the browser was not sent back to the redirect URI');
  if (cb.searchParams.get('error')) {
    throw new Error(`authorization refused: ${cb.searchParams.get('error')}: ${cb.searchParams.get('error_description')}`);
  }
  const issuer = provider.discoveryState()?.authorizationServerMetadata?.issuer;
  const callback = {
    event: 'callback',
    state_ok: cb.searchParams.get('state') === provider._state,
    iss_ok: !!issuer && cb.searchParams.get('iss') === issuer,
    has_code: !!cb.searchParams.get('code')
  };
  emit(callback);
  if (!callback.state_ok || !callback.iss_ok || !callback.has_code) throw new Error('the authorization response does not match the request');
  return cb.searchParams.get('code');
}

// stepUp: read first, write later (the MCP spec's step-up authorization
// flow, 2025-11-25, "Scope Challenge Handling").
//
// How SDK 1.32.2 picks a scope: auth() asks for the scope it is given (the
// transports pass the scope of the last 401 or 403 challenge), else the
// protected resource metadata's scopes_supported, else
// clientMetadata.scope (client/auth.js authInternal, SEP-835). This server
// names every scope its tools use in both, the write scopes too in write
// mode, so the SDK's own 401 handling asks for write:issue at once and
// clientMetadata.scope would never be read. A client that wants to read
// first calls auth() itself with the narrower scope, as here.
//
// Does the SDK step up by itself? StreamableHTTPClientTransport.send()
// handles a 403 with error="insufficient_scope": it takes the challenge's
// scope and calls auth() with it, and retries the request once. But
// auth() refreshes first whenever it holds a refresh token, and a refresh
// cannot widen a grant (RFC 6749 §6; the SDK sends no scope with it
// anyway): it gets the same read-only token, the retry is refused with the
// same challenge, and send() gives up ("Server returned 403 after trying
// upscoping"), never asking the user (typescript-sdk issue #2255). So,
// after letting the SDK try, this client steps up through auth() itself:
// it reads the scope from the 403's WWW-Authenticate (the SDK's
// extractWWWAuthenticateParams), drops the tokens it holds
// (invalidateCredentials('tokens'), as the SDK does itself on
// invalid_grant), so auth() goes to the authorization endpoint with that
// scope instead of refreshing, exchanges the new code and calls again.
// Should the SDK ask for the authorization itself (a later version), that
// is taken instead: the event step_up says which way it went.
async function stepUp() {
  const [owner, repo] = stepUpRepo.split('/');
  if (!owner || !repo) throw new Error('STEP_UP_REPO must be owner/repo');
  const serverUrl = new URL(mcpURL);

  // 1. What the SDK's own 401 handling would ask for: it discovers (the
  //    401's resource_metadata), registers and builds the authorization
  //    request, which is recorded and not followed.
  provider.interactive = false;
  const probe = newClient();
  try {
    await probe.connect(newTransport());
    throw new Error('the server accepted a connection without a token');
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) throw e;
  }
  await probe.close().catch(() => {});
  emit({ event: 'sdk_scope_choice', challenge_scope: challengeOf(401).scope, requested_scope: provider.requestedScope });

  // 2. The first authorization, for reading only: auth() with the scope.
  provider.interactive = true;
  if ((await auth(provider, { serverUrl, scope: readScopes, fetchFn: traced })) !== 'REDIRECT') {
    throw new Error('auth() did not send the user to the authorization endpoint');
  }
  const transport = newTransport();
  await transport.finishAuth(takeCallback());
  const readTokens = provider.tokens();
  const client = newClient();
  await client.connect(transport);
  emit({ event: 'connected', server_name: client.getServerVersion()?.name, scope: readTokens.scope });

  // 3. The write, with the read token: 403 insufficient_scope, and the
  //    SDK's own handling of it.
  const args = { owner, repo, title: 'step-up by the TypeScript SDK', body: 'created after a 403 insufficient_scope and a second consent' };
  const before = { saves: provider.tokenSaves, redirects: provider.redirects, requests: requests.length };
  let refusal, accepted;
  try {
    accepted = await client.callTool({ name: 'create_issue', arguments: args });
  } catch (e) {
    refusal = e;
  }
  if (!refusal) throw new Error(`create_issue with the read token was not refused (is_error ${!!accepted.isError})`);
  const during = requests.slice(before.requests);
  const attempt = {
    event: 'sdk_step_up',
    error: refusal?.constructor?.name,
    code: refusal?.code,
    message: String(refusal?.message ?? refusal),
    refusals: during.filter(r => r.path === serverUrl.pathname && r.status === 403).length,
    refreshed: during.some(r => r.grant_type === 'refresh_token' && r.status === 200),
    same_scope_after_refresh: provider.tokens()?.scope === readTokens.scope,
    reauthorization_requested: provider.redirects > before.redirects
  };
  emit(attempt);

  const challenge = challengeOf(403);
  let path;
  if (attempt.reauthorization_requested) {
    // The SDK asked for the authorization itself (auth() answered
    // REDIRECT, so send() threw UnauthorizedError): exchange the code.
    if (!(refusal instanceof UnauthorizedError)) throw refusal;
    path = 'sdk';
  } else {
    if (!(refusal instanceof StreamableHTTPError) || refusal.code !== 403) throw refusal;
    if (challenge.error !== 'insufficient_scope' || !challenge.scope) throw new Error('the 403 carries no insufficient_scope challenge with a scope');
    path = 'explicit';
    await provider.invalidateCredentials('tokens');
    provider.interactive = true;
    const r = await auth(provider, { serverUrl, scope: challenge.scope, resourceMetadataUrl: challenge.resourceMetadataUrl, fetchFn: traced });
    if (r !== 'REDIRECT') throw new Error(`auth() with the challenge's scope answered ${r}, not a new authorization`);
  }
  await transport.finishAuth(takeCallback());
  emit({
    event: 'step_up',
    path,
    challenge_error: challenge.error,
    challenge_scope: challenge.scope,
    requested_scope: provider.requestedScope,
    scope: provider.tokens()?.scope
  });

  // 4. The same call again, on the same session: now it may write.
  const created = toolResult(await client.callTool({ name: 'create_issue', arguments: args }));
  emit({ event: 'create_issue', is_error: created.is_error, number: created.data?.number, title: created.data?.title, error: created.is_error ? created.text : undefined });
  if (created.is_error || !created.data?.number) throw new Error('create_issue failed after the step-up');
  const got = toolResult(await client.callTool({ name: 'get_issue', arguments: { owner, repo, number: created.data.number } }));
  emit({ event: 'get_issue', is_error: got.is_error, number: got.data?.number, title: got.data?.title });

  await client.close().catch(() => {});
}

// challengeOf parses the last WWW-Authenticate answered with status, with
// the SDK's own parser.
function challengeOf(status) {
  const h = lastChallenge[status];
  if (!h) return {};
  return extractWWWAuthenticateParams(new Response(null, { status, headers: { 'WWW-Authenticate': h } }));
}

// toolResult is a tool call's structured result (or its text as JSON).
function toolResult(res) {
  const text = (res.content ?? []).filter(c => c.type === 'text').map(c => c.text).join('');
  let data = res.structuredContent;
  if (!data) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  return { is_error: !!res.isError, data, text: text.slice(0, 300) };
}

async function getMe(client) {
  const res = await client.callTool({ name: 'get_me', arguments: {} });
  const text = (res.content ?? []).filter(c => c.type === 'text').map(c => c.text).join('');
  let login;
  const structured = res.structuredContent;
  if (structured && typeof structured.login === 'string') {
    login = structured.login;
  } else {
    try {
      login = JSON.parse(text).login;
    } catch {
      login = undefined;
    }
  }
  return { is_error: !!res.isError, login };
}

let rc = 0;
try {
  await main();
  emit({ event: 'done', requests: requests.length });
} catch (e) {
  emit({ event: 'error', name: e?.constructor?.name, message: String(e?.message ?? e) });
  rc = 1;
} finally {
  if (tokenFile) writeFileSync(tokenFile, JSON.stringify({ tokens: [...held] }) + '\n', { mode: 0o600 });
  stdin.close();
}
process.exit(rc);
