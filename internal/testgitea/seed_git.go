package testgitea

import "context"

func (g *Gitea) seedGit(context.Context) error { return nil }
