module github.com/aegis-gitea/aegis-gitea-mcp

go 1.26.10

require (
	github.com/google/go-cmp v0.7.0 // indirect
	golang.org/x/mod v0.37.0 // indirect
)
