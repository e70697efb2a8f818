package tools

func releaseWriteTools() []*Tool { return nil }
