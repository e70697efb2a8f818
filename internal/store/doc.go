// Package store is what the OAuth broker keeps: registered clients, pending
// authorizations, single-use codes, consents, the users' Gitea grants and
// the broker's own tokens, behind one [Store] interface.
//
// Secrets never reach a Store in the clear. The broker's own tokens and
// codes are stored as SHA-256 hashes ([Hash]); Gitea's tokens arrive sealed
// (encrypted and authenticated) by the caller. A Store only orders, expires
// and atomically consumes rows.
//
// Two backends implement it, in package store/sqlstore: SQLite, embedded
// (pure Go, a file under a data directory), for one replica, and
// PostgreSQL for several replicas sharing state. Both pass the one
// conformance suite in package store/storetest.
//
// Every method takes a context and returns [ErrNotFound] (matched with
// errors.Is) when the row it names does not exist or has expired. Times are
// compared with the now the caller passes, never the database's clock, so
// expiry is tested without sleeping.
package store
