// The official MCP TypeScript SDK's own OAuth client against this server's
// OAuth broker: discovery (protected resource metadata, then authorization
// server metadata), registration (RFC 7591 DCR, or a Client ID Metadata
// Document when CLIENT_METADATA_URL is set), PKCE, the resource indicator,
// the code exchange and the refresh are the SDK's code (auth(),
// StreamableHTTPClientTransport with an authProvider); this file only
// keeps state in memory and stands in for the browser.
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
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

const mcpURL = required('MCP_URL');
const redirectURL = process.env.REDIRECT_URL || 'http://127.0.0.1:1/callback';
const metadataURL = process.env.CLIENT_METADATA_URL || undefined;
const clientName = process.env.CLIENT_NAME || 'aegis e2e: TypeScript SDK client';
const tokenFile = process.env.TOKEN_FILE || '';

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
// the server (method, path, the token grant type; never headers, bodies
// or queries, which hold credentials).
const requests = [];
async function traced(input, init) {
  const u = new URL(input instanceof Request ? input.url : String(input));
  const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
  let grant;
  if (init?.body instanceof URLSearchParams) grant = init.body.get('grant_type') ?? undefined;
  const res = await fetch(input, init);
  const r = { method, path: u.pathname, status: res.status };
  if (grant) r.grant_type = grant;
  requests.push(r);
  emit({ event: 'http', ...r });
  return res;
}

const provider = new InMemoryProvider();
const newTransport = () => new StreamableHTTPClientTransport(new URL(mcpURL), { authProvider: provider, fetch: traced });
const newClient = () => new Client({ name: 'aegis-broker-e2e', version: sdkVersion });

async function main() {
  emit({ event: 'start', sdk: sdkVersion, node: process.versions.node, mcp_url: mcpURL, mode: metadataURL ? 'cimd' : 'dcr' });

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
  if (!provider.callback) throw new Error('the SDK did not ask for an authorization');

  // 2. The browser came back: check state (CSRF) and iss (RFC 9207, the
  //    metadata says the server sends it), then the SDK exchanges the code.
  const cb = provider.callback;
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
  await firstTransport.finishAuth(cb.searchParams.get('code'));
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
