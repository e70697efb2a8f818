package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrSchemaTooNew is returned by the Open functions for a database whose
// schema a newer binary has migrated: this one would misread it.
var ErrSchemaTooNew = errors.New("the database's schema is newer than this binary knows: run a newer binary")

// migrations are the schema's versions in order: migrations[i] makes
// version i+1. Append to the list; never change a migration that has been
// released. In a statement, {key} is the dialect's type of key columns.
var migrations = [][]string{
	{ // 1: the broker's tables
		`CREATE TABLE clients (
			id {key} PRIMARY KEY,
			kind TEXT NOT NULL,
			name TEXT NOT NULL,
			redirect_uris TEXT NOT NULL,
			application_type TEXT NOT NULL,
			created_at BIGINT,
			expires_at BIGINT
		)`,
		`CREATE TABLE auth_requests (
			id {key} PRIMARY KEY,
			client_id {key} NOT NULL,
			redirect_uri TEXT NOT NULL,
			state TEXT NOT NULL,
			code_challenge TEXT NOT NULL,
			scopes TEXT NOT NULL,
			resource TEXT NOT NULL,
			browser_hash TEXT NOT NULL,
			gitea_verifier TEXT NOT NULL,
			user_id {key} NOT NULL,
			login TEXT NOT NULL,
			consent_hash TEXT NOT NULL,
			expires_at BIGINT
		)`,
		`CREATE INDEX auth_requests_client ON auth_requests (client_id)`,
		`CREATE INDEX auth_requests_expires ON auth_requests (expires_at)`,
		`CREATE TABLE auth_codes (
			hash {key} PRIMARY KEY,
			client_id {key} NOT NULL,
			redirect_uri TEXT NOT NULL,
			code_challenge TEXT NOT NULL,
			user_id {key} NOT NULL,
			login TEXT NOT NULL,
			scopes TEXT NOT NULL,
			resource TEXT NOT NULL,
			expires_at BIGINT
		)`,
		`CREATE INDEX auth_codes_client_user ON auth_codes (client_id, user_id)`,
		`CREATE INDEX auth_codes_user ON auth_codes (user_id)`,
		`CREATE INDEX auth_codes_expires ON auth_codes (expires_at)`,
		`CREATE TABLE consents (
			user_id {key} NOT NULL,
			client_id {key} NOT NULL,
			scopes TEXT NOT NULL,
			created_at BIGINT,
			PRIMARY KEY (user_id, client_id)
		)`,
		`CREATE INDEX consents_client ON consents (client_id)`,
		`CREATE TABLE upstreams (
			user_id {key} PRIMARY KEY,
			login TEXT NOT NULL,
			scopes TEXT NOT NULL,
			sealed_access TEXT NOT NULL,
			sealed_refresh TEXT NOT NULL,
			access_expiry BIGINT,
			updated_at BIGINT
		)`,
		// tokens holds both kinds, so a family is revoked with one
		// statement; a refresh token is used once.
		`CREATE TABLE tokens (
			hash {key} PRIMARY KEY,
			family {key} NOT NULL,
			client_id {key} NOT NULL,
			user_id {key} NOT NULL,
			login TEXT NOT NULL,
			scopes TEXT NOT NULL,
			resource TEXT NOT NULL,
			expires_at BIGINT,
			kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
			used INTEGER NOT NULL DEFAULT 0
		)`,
		`CREATE INDEX tokens_family ON tokens (family)`,
		`CREATE INDEX tokens_client_user ON tokens (client_id, user_id)`,
		`CREATE INDEX tokens_user ON tokens (user_id)`,
		`CREATE INDEX tokens_expires ON tokens (expires_at)`,
	},
}

// SchemaVersion is the schema version this binary migrates databases to.
func SchemaVersion() int { return len(migrations) }

// migrate applies the migrations the database lacks, each in a
// transaction of its own.
func (s *Store) migrate(ctx context.Context) error {
	for {
		done, err := s.migrateStep(ctx)
		if err != nil || done {
			return err
		}
	}
}

// migrateStep applies the next migration the database lacks; done when it
// lacks none. Concurrent openers wait for the lock and then see the
// version the first one recorded.
func (s *Store) migrateStep(ctx context.Context) (done bool, err error) {
	err = s.write(ctx, "migrate", func(tx *sql.Tx) error {
		if s.dialect.lockMigrations != "" {
			if _, err := tx.ExecContext(ctx, s.dialect.lockMigrations); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY,
			applied_at BIGINT NOT NULL
		)`); err != nil {
			return err
		}
		version, err := schemaVersion(ctx, tx)
		switch {
		case err != nil:
			return err
		case version > len(migrations):
			return fmt.Errorf("schema version %d, this binary knows up to %d: %w", version, len(migrations), ErrSchemaTooNew)
		case version == len(migrations):
			done = true
			return nil
		}
		for _, statement := range migrations[version] {
			if _, err := tx.ExecContext(ctx, strings.ReplaceAll(statement, "{key}", s.dialect.keyText)); err != nil {
				return fmt.Errorf("version %d: %w", version+1, err)
			}
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
			version+1, time.Now().UnixNano())
		return err
	})
	return done, err
}

// schemaVersion is the highest version recorded, 0 for a new database.
func schemaVersion(ctx context.Context, q queryer) (int, error) {
	rows, err := q.QueryContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
	if err != nil {
		return 0, err
	}
	defer func() { _ = rows.Close() }() // rows.Err reports what matters
	version := 0
	if rows.Next() {
		if err := rows.Scan(&version); err != nil {
			return 0, err
		}
	}
	return version, rows.Err()
}
