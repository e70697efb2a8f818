package tools

import (
	"encoding/json"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Ceilings on the average size of one tool's tools/list entry, for the
// read tools alone (what a server without write mode lists) and for every
// tool: every client pays for the whole list in context.
const (
	maxAverageReadToolBytes = 600
	maxAverageToolBytes     = 650
)

// TestToolsListSize measures what tools/list costs a client with every
// tool visible (`go test -v -run TestToolsListSize ./internal/tools`).
func TestToolsListSize(t *testing.T) {
	tools := Default().Tools()
	list := make([]*mcp.Tool, len(tools))
	largest, largestName := 0, ""
	for i, tool := range tools {
		list[i] = tool.MCP()
		b, err := json.Marshal(tool.MCP())
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > largest {
			largest, largestName = len(b), tool.Name
		}
	}
	b, err := json.Marshal(mcp.ListToolsResult{Tools: list})
	if err != nil {
		t.Fatal(err)
	}
	avg := len(b) / len(tools)
	t.Logf("tools/list: %d tools, %d bytes, %d bytes per tool on average, largest %s (%d bytes)", len(tools), len(b), avg, largestName, largest)
	if avg > maxAverageToolBytes {
		t.Errorf("tools/list averages %d bytes per tool, over the %d-byte ceiling: shorten descriptions", avg, maxAverageToolBytes)
	}
	var reads []*mcp.Tool
	for _, tool := range tools {
		if tool.Access == Read {
			reads = append(reads, tool.MCP())
		}
	}
	rb, err := json.Marshal(mcp.ListToolsResult{Tools: reads})
	if err != nil {
		t.Fatal(err)
	}
	readAvg := len(rb) / len(reads)
	t.Logf("tools/list without write mode: %d read tools, %d bytes, %d bytes per tool on average", len(reads), len(rb), readAvg)
	if readAvg > maxAverageReadToolBytes {
		t.Errorf("the read tools average %d bytes per tool, over the %d-byte ceiling: shorten descriptions", readAvg, maxAverageReadToolBytes)
	}
}
