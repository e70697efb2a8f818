// Package tools holds the MCP tools: each is one small declarative [Def]
// (name, description, typed input, required Gitea scopes, access level and
// a handler that receives a Gitea client bound to the caller), collected in
// a [Registry]. Input schemas are inferred from the input types; arguments
// are validated against them before a handler runs, on every transport.
//
// Handlers never see a token, policy or audit: the server's single call
// path checks the caller, then calls [Tool.Call]. Of the policy, a handler
// only asks whether a path may be shown ([Env.PathAllowed]): reads that
// return paths Gitea chose name a withheld one, marked "withheld":
// "policy", and show nothing more of it.
package tools
