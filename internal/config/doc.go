// Package config owns the server's configuration: it reads environment
// variables, an optional .env file and a few flags, validates them all at
// once, and renders the effective configuration with secrets redacted.
//
// Precedence, highest first: flags, the process environment, the .env file,
// defaults. Every secret also has a *_FILE variant naming a file that holds it.
package config
