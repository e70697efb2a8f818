// Package testpg runs a throwaway PostgreSQL server for tests: the
// installed initdb and postgres (from PATH, else the newest of Debian's
// /usr/lib/postgresql/*/bin) make a cluster in a new temporary directory
// and serve it on 127.0.0.1 only, fast and unsafe (no fsync), with trust
// authentication for the user [User]. PostgreSQL refuses to run as root,
// so as root it runs as the Debian package's user postgres (else nobody).
//
// [Start] starts a server; [Server.NewDatabase] hands a test a fresh
// database (the broker's migrations run per database), [Server.NewSchema]
// a fresh schema of one database, cheaper; [Server.Stop] ends it by its
// process id and removes its directory. [Need] gives a test a server of
// its own, [Shared] one server per test process; both skip the test where
// PostgreSQL is not installed, and fail it instead when [RequireEnv] is 1,
// as CI sets it.
//
// It is for tests only; nothing in the server imports it.
package testpg
