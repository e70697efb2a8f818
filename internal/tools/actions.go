package tools

func actionsTools() []*Tool { return nil }
