package tools

func branchTools() []*Tool { return nil }
