package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestListenAddrReadsOnlyWhatServeWouldListenOn(t *testing.T) {
	file := filepath.Join(t.TempDir(), "x.env")
	if err := os.WriteFile(file, []byte("LISTEN_ADDR=127.0.0.1:9000\nGITEA_URL=not a url\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		environ []string
		file    string
		want    string
	}{
		{name: "default", want: DefaultListenAddr},
		{name: "environment", environ: []string{"LISTEN_ADDR=0.0.0.0:8080"}, want: "0.0.0.0:8080"},
		{name: "env file, with an unrelated bad variable", file: file, want: "127.0.0.1:9000"},
		{name: "environment over the file", environ: []string{"LISTEN_ADDR=:7000"}, file: file, want: ":7000"},
	} {
		got, err := ListenAddr(c.environ, c.file)
		if err != nil || got != c.want {
			t.Errorf("%s: ListenAddr = %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	var cfgErr *Error
	if _, err := ListenAddr([]string{"LISTEN_ADDR=nonsense"}, ""); !errors.As(err, &cfgErr) {
		t.Errorf("ListenAddr with a bad LISTEN_ADDR: %v, want a config error", err)
	}
	if _, err := ListenAddr(nil, "/nonexistent/.env"); !errors.As(err, &cfgErr) {
		t.Errorf("ListenAddr with a missing env file: %v, want a config error", err)
	}
}
