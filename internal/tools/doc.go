// Package tools holds the MCP tools: each is one small declarative [Def]
// (name, description, typed input, required Gitea scopes, access level and
// a handler that receives a Gitea client bound to the caller), collected in
// a [Registry]. Input schemas are inferred from the input types; arguments
// are validated against them before a handler runs, on every transport.
//
// Handlers never see a token, policy or audit: the server's single call
// pipeline checks the caller, binds the arguments ([Tool.Bind]) and runs
// the bound [Call] ([Call.Run]) once every gate has passed. Of the policy,
// a handler only asks what may be shown ([Env.PathAllowed],
// [Env.RepoAllowed]): reads that return paths Gitea chose name a withheld
// one, marked "withheld": "policy", and show nothing more of it; reads that
// span repositories leave out those the policy denies.
package tools
