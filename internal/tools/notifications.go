package tools

func notificationTools() []*Tool { return nil }
