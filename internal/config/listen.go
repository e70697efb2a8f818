package config

// ListenAddr is the LISTEN_ADDR that `serve` would use with the same
// environment and env file (envFile, or ./.env when empty and it exists),
// without loading or validating anything else: what a health probe needs
// to find the server. A bad LISTEN_ADDR or env file is an [*Error].
func ListenAddr(environ []string, envFile string) (string, error) {
	l := &loader{env: environToMap(environ)}
	l.readEnvFile(envFile)
	addr := l.listenAddr()
	if len(l.problems) > 0 {
		return "", &Error{Problems: l.problems}
	}
	return addr, nil
}
