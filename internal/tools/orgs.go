package tools

func orgTools() []*Tool { return nil }
