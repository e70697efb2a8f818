package tools

func wikiTools() []*Tool { return nil }
