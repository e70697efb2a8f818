package gitea

import (
	"net/http"
	"net/url"
	"strconv"
)

// MaxPageSize is the largest page Gitea serves by default ([api] MAX_RESPONSE_ITEMS).
const MaxPageSize = 50

// ListOptions select one page of a list. Zero values mean page 1 of
// [MaxPageSize] items; larger limits are capped.
type ListOptions struct {
	Page  int
	Limit int
}

func (o ListOptions) normalized() ListOptions {
	if o.Page < 1 {
		o.Page = 1
	}
	if o.Limit < 1 || o.Limit > MaxPageSize {
		o.Limit = MaxPageSize
	}
	return o
}

func (o ListOptions) query() url.Values {
	return url.Values{"page": {strconv.Itoa(o.Page)}, "limit": {strconv.Itoa(o.Limit)}}
}

// PageInfo describes where a page sits in its list.
type PageInfo struct {
	// Total is the number of items in the whole list, or -1 if Gitea did not say.
	Total int64
	// NextPage is the page to ask for next, or 0 when this was the last.
	NextPage int
}

func pageInfo(h http.Header, o ListOptions, got int) PageInfo {
	info := PageInfo{Total: -1}
	if n, err := strconv.ParseInt(h.Get("X-Total-Count"), 10, 64); err == nil && n >= 0 {
		info.Total = n
		if int64(o.Page)*int64(o.Limit) < n {
			info.NextPage = o.Page + 1
		}
		return info
	}
	if got >= o.Limit {
		info.NextPage = o.Page + 1
	}
	return info
}
