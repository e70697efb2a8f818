package tools

func commitTools() []*Tool { return nil }
