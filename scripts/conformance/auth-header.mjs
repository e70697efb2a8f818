// Preload module for the MCP conformance suite (@modelcontextprotocol/conformance).
//
// The suite's CLI has no way to add request headers, but our server requires
// `Authorization: Bearer <token>`. Load this module before the CLI:
//
//   CONFORMANCE_BEARER_TOKEN=... CONFORMANCE_TARGET=http://127.0.0.1:8080/mcp \
//     node --import ./auth-header.mjs node_modules/@modelcontextprotocol/conformance/dist/index.js server ...
//
// It adds the header ONLY to requests whose origin (scheme://host:port) equals
// the origin of CONFORMANCE_TARGET (falls back to MCP_URL). The token is never
// printed.
//
// The server scenarios send HTTP in two ways, so both are hooked:
//   1. globalThis.fetch           - the MCP SDK client transport and the raw
//                                   fetch() calls (e.g. server-sse-multiple-streams)
//   2. undici's request()         - dns-rebinding-protection (it must forge the
//                                   Host header, which fetch() forbids). Hooked by
//                                   composing an interceptor onto undici's global
//                                   dispatcher, which is shared through a global
//                                   symbol by every undici copy in the process,
//                                   including Node's built-in fetch.
// Matching uses the connection origin, not the Host header, so the forged
// `Host: evil.example.com` request of dns-rebinding-protection still carries the
// token: the server must then reject it for the Host, not for missing auth.

import { createRequire } from 'node:module';

const PREFIX = '[conformance auth-header]';

function fail(msg) {
  process.stderr.write(`${PREFIX} ${msg}\n`);
  process.exit(2);
}

const token = process.env.CONFORMANCE_BEARER_TOKEN;
if (!token) fail('CONFORMANCE_BEARER_TOKEN is not set or empty');
if (/[\r\n]/.test(token)) fail('CONFORMANCE_BEARER_TOKEN contains a newline');

const targetRaw = process.env.CONFORMANCE_TARGET || process.env.MCP_URL;
if (!targetRaw) fail('set CONFORMANCE_TARGET (or MCP_URL) to the server URL');

let targetOrigin;
try {
  targetOrigin = new URL(targetRaw).origin;
} catch {
  fail('CONFORMANCE_TARGET is not a valid URL');
}
if (!targetOrigin || targetOrigin === 'null') fail('CONFORMANCE_TARGET has no http(s) origin');

const headerValue = `Bearer ${token}`;

function originOf(u) {
  try {
    return new URL(String(u)).origin;
  } catch {
    return undefined;
  }
}

function isTarget(u) {
  return originOf(u) === targetOrigin;
}

// ---- 1. fetch --------------------------------------------------------------

const originalFetch = globalThis.fetch;
if (typeof originalFetch === 'function') {
  globalThis.fetch = function fetchWithAuth(input, init) {
    let url;
    if (typeof input === 'string') url = input;
    else if (input instanceof URL) url = input.href;
    else if (input && typeof input.url === 'string') url = input.url; // Request
    if (url !== undefined && isTarget(url)) {
      const base = init && init.headers !== undefined
        ? init.headers
        : (input && typeof input === 'object' && !(input instanceof URL) ? input.headers : undefined);
      const headers = new Headers(base);
      headers.set('authorization', headerValue);
      init = { ...(init || {}), headers };
    }
    return originalFetch.call(this, input, init);
  };
}

// ---- 2. undici dispatcher (undici.request / stream / built-in fetch) -------

// Returns headers in the same shape undici accepts, with any existing
// Authorization removed and ours added.
function withAuth(headers) {
  if (headers == null) return { authorization: headerValue };
  if (Array.isArray(headers)) {
    const out = [];
    if (headers.length > 0 && Array.isArray(headers[0])) {
      // [[name, value], ...]
      for (const [k, v] of headers) {
        if (String(k).toLowerCase() !== 'authorization') out.push([k, v]);
      }
      out.push(['authorization', headerValue]);
      return out;
    }
    // flat [name, value, name, value, ...]
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (String(headers[i]).toLowerCase() !== 'authorization') out.push(headers[i], headers[i + 1]);
    }
    out.push('authorization', headerValue);
    return out;
  }
  if (typeof headers === 'object') {
    const entries = typeof headers[Symbol.iterator] === 'function' && typeof headers.entries === 'function'
      ? Array.from(headers.entries()) // Headers / Map
      : Object.entries(headers);
    const out = {};
    for (const [k, v] of entries) {
      if (String(k).toLowerCase() !== 'authorization') out[k] = v;
    }
    out.authorization = headerValue;
    return out;
  }
  return headers;
}

let undici;
try {
  // Resolve the same undici copy the suite imports (hoisted next to it).
  const req = createRequire(import.meta.url);
  let from = import.meta.url;
  try {
    from = req.resolve('@modelcontextprotocol/conformance/package.json');
  } catch {
    try {
      from = req.resolve('@modelcontextprotocol/conformance');
    } catch { /* fall back to this file's location */ }
  }
  undici = createRequire(from)('undici');
} catch {
  fail('cannot load the "undici" package (run npm ci in scripts/conformance)');
}

const baseDispatcher = undici.getGlobalDispatcher();
if (typeof baseDispatcher.compose !== 'function') fail('undici global dispatcher has no compose() (undici < 6?)');
undici.setGlobalDispatcher(
  baseDispatcher.compose((dispatch) => function authInterceptor(opts, handler) {
    if (opts && opts.origin !== undefined && isTarget(opts.origin)) {
      opts = { ...opts, headers: withAuth(opts.headers) };
    }
    return dispatch(opts, handler);
  }),
);

if (process.env.CONFORMANCE_AUTH_DEBUG === '1') {
  process.stderr.write(`${PREFIX} adding Authorization header (token hidden) for origin ${targetOrigin}\n`);
}
