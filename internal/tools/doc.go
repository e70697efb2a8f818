// Package tools holds the MCP tools: each is one small declarative [Def]
// (name, description, typed input, required Gitea scopes, access level and
// a handler that receives a Gitea client bound to the caller), collected in
// a [Registry]. Input schemas are inferred from the input types; arguments
// are validated against them before a handler runs, on every transport.
//
// Handlers never see a token, policy or audit: the server's single call
// path checks the caller, then calls [Tool.Call].
package tools
