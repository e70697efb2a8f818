package tools

func pullWriteTools() []*Tool { return nil }
