package tools

import (
	"context"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// search_code is a bounded scan of a repository: Gitea has no code-search API.

// Bounds of a code search: it scans, it does not query an index.
const (
	maxScanFiles      = 50
	maxScanFileBytes  = 256 << 10
	maxScanTreePages  = 2
	maxScanMatches    = 100
	maxMatchLineBytes = 200
	maxScanQuery      = 100
	maxScanBatches    = 4
	maxBatchPathBytes = 4 << 10 // JSON-encoded paths of one batch, well under the client's bound
)

// binaryExtensions are skipped by search_code without fetching them.
var binaryExtensions = map[string]bool{
	".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".ico": true, ".webp": true, ".bmp": true, ".pdf": true,
	".zip": true, ".gz": true, ".tgz": true, ".bz2": true, ".xz": true, ".7z": true, ".tar": true, ".jar": true,
	".class": true, ".exe": true, ".dll": true, ".so": true, ".dylib": true, ".a": true, ".o": true, ".bin": true,
	".woff": true, ".woff2": true, ".ttf": true, ".otf": true, ".eot": true, ".mp3": true, ".mp4": true, ".mov": true,
	".wav": true, ".ogg": true, ".psd": true, ".sqlite": true, ".db": true, ".pyc": true, ".wasm": true,
}

type searchCodeIn struct {
	RepoRef
	Query string `json:"query"`
	AtRef
	Path string `json:"path,omitempty" jsonschema:"only under this directory"`
}

type codeMatch struct {
	Path string   `json:"path"`
	Line int      `json:"line"`
	Text UserText `json:"text"`
}

type codeSearchOut struct {
	Matches         []codeMatch `json:"matches"`
	FilesScanned    int         `json:"files_scanned"`
	FilesSkipped    int         `json:"files_skipped"`
	FilesNotScanned int         `json:"files_not_scanned"`
	Truncated       bool        `json:"truncated,omitempty"`
	// Withheld names files the policy withholds, neither read nor
	// counted above (the first maxWithheldNames; the note counts them all).
	Withheld []string `json:"withheld,omitempty"`
	Note     string   `json:"note"`
}

var searchCode = Def[searchCodeIn, codeSearchOut]{
	Name:   "search_code",
	Title:  "Search code",
	Desc:   "Finds literal, case-insensitive text in files at a ref: path, line, text. Not an index: scans at most 50 text files under 256 KiB, in path order; counts say what was scanned.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaRepos,
	Schema: func(s *jsonschema.Schema) {
		one, most := 1, maxScanQuery
		s.Properties["query"].MinLength, s.Properties["query"].MaxLength = &one, &most
	},
	Run: func(ctx context.Context, e *Env, in searchCodeIn) (codeSearchOut, error) {
		if strings.TrimSpace(in.Query) == "" || strings.ContainsAny(in.Query, "\n\r") {
			return codeSearchOut{}, &ArgumentError{Field: "query", Problem: "must be one line of non-blank text"}
		}
		candidates, out, withheldPaths, err := scanCandidates(ctx, e, in)
		if err != nil {
			return codeSearchOut{}, err
		}
		out.Matches = []codeMatch{}
		withheld := 0
		batches, left := scanBatches(candidates)
		out.FilesNotScanned += left
		for _, batch := range batches {
			files, err := e.FilesContents(ctx, in.Owner, in.Repo, in.Ref, batch)
			if err != nil {
				return codeSearchOut{}, err
			}
			got := map[string]*gitea.Contents{}
			for _, f := range files {
				if f != nil {
					got[f.Path] = f
				}
			}
			for _, p := range batch {
				f := got[p]
				var data []byte
				if f != nil && f.Encoding != "" {
					data, err = f.Decode()
				}
				if f == nil || f.Encoding == "" || err != nil || isBinary(data) {
					out.FilesSkipped++
					continue
				}
				lines, _, err := maskLines(e, string(data))
				if err != nil {
					withheld++
					out.FilesSkipped++
					continue
				}
				out.FilesScanned++
				if !out.Truncated {
					out.Truncated = findMatches(&out.Matches, p, string(data), lines, in.Query)
				}
			}
		}
		notes := []string{fmt.Sprintf("bounded scan, not an index: at most %d text files under %d KiB are read", maxScanFiles, maxScanFileBytes>>10)}
		if out.FilesNotScanned > 0 {
			notes = append(notes, "some files were not scanned: narrow the search with path")
		}
		if withheld > 0 {
			notes = append(notes, fmt.Sprintf("%d file(s) holding secrets withheld", withheld))
		}
		if withheldPaths > 0 {
			notes = append(notes, fmt.Sprintf("%d file(s) withheld by this server's policy were not searched", withheldPaths))
		}
		if out.Truncated {
			notes = append(notes, fmt.Sprintf("only the first %d matches returned", maxScanMatches))
		}
		out.Note = joinNotes(notes...)
		return out, nil
	},
}

// scanCandidates lists the files search_code will read, in path order, and
// counts the ones it will not; the files the policy withholds it neither
// lists nor counts as skipped, but names in out.Withheld and counts apart.
func scanCandidates(ctx context.Context, e *Env, in searchCodeIn) ([]string, codeSearchOut, int, error) {
	var out codeSearchOut
	var candidates []string
	withheld := 0
	tree, prefix, err := treeAt(ctx, e, in.RepoRef, in.Ref, in.Path, true, 1, gitea.MaxTreePageSize)
	for page, listed := 1, 0; ; page++ {
		if err != nil {
			return nil, out, 0, err
		}
		listed += len(tree.Entries)
		for _, t := range tree.Entries {
			if t.Type != "blob" || t.Mode == "120000" {
				continue
			}
			switch p := prefix + t.Path; {
			case !e.PathAllowed(in.Owner, in.Repo, p):
				if withheld++; len(out.Withheld) < maxWithheldNames {
					out.Withheld = append(out.Withheld, p)
				}
			case t.Size > maxScanFileBytes || binaryExtensions[strings.ToLower(path.Ext(p))] ||
				strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }):
				out.FilesSkipped++
			case len(candidates) == maxScanFiles:
				out.FilesNotScanned++
			default:
				candidates = append(candidates, p)
			}
		}
		if !tree.Truncated || len(tree.Entries) == 0 {
			return candidates, out, withheld, nil
		}
		if page == maxScanTreePages {
			out.FilesNotScanned += max(tree.TotalCount-listed, 0) // entries never listed, directories among them
			return candidates, out, withheld, nil
		}
		tree, err = e.Tree(ctx, in.Owner, in.Repo, tree.SHA, true, page+1, gitea.MaxTreePageSize)
	}
}

// scanBatches groups paths into batches Gitea takes in one call, at most
// maxScanBatches of them; the paths left out are returned apart.
func scanBatches(paths []string) (batches [][]string, left int) {
	var cur []string
	size := 0
	for i, p := range paths {
		n := jsonTextLen(p) + 3 // quotes and comma
		if len(cur) == gitea.MaxFilesPerBatch || (len(cur) > 0 && size+n > maxBatchPathBytes) {
			batches, cur, size = append(batches, cur), nil, 0
		}
		if len(batches) == maxScanBatches {
			return batches, left + len(paths) - i
		}
		if n > maxBatchPathBytes {
			left++
			continue
		}
		cur, size = append(cur, p), size+n
	}
	if len(cur) > 0 {
		batches = append(batches, cur)
	}
	return batches, left
}

// findMatches appends the lines of text holding query (ignoring case) to
// matches, showing them from masked, the same lines with secrets handled.
// It reports whether it stopped at the match limit.
func findMatches(matches *[]codeMatch, file, text string, masked []string, query string) bool {
	q := strings.ToLower(query)
	n := 0
	for l := range strings.Lines(text) {
		n++
		lower := strings.ToLower(l)
		i := strings.Index(lower, q)
		if i < 0 {
			continue
		}
		if len(*matches) == maxScanMatches {
			return true
		}
		show := strings.TrimRight(masked[n-1], "\r\n")
		if len(lower) != len(l) || show != strings.TrimRight(l, "\r\n") {
			i = 0 // offsets differ: show the line from its start
		}
		start := max(0, i-maxMatchLineBytes/2)
		for start > 0 && !utf8.RuneStart(show[start]) {
			start--
		}
		s, _ := Cut(show[start:], maxMatchLineBytes)
		*matches = append(*matches, codeMatch{Path: file, Line: n, Text: UserText(s)})
	}
	return false
}
