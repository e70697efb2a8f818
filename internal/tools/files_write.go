package tools

func repoWriteTools() []*Tool { return nil }
