package adminapi

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/scimbridge/scimbridge"
)

// Page sizes of every list.
const (
	DefaultLimit = scimbridge.DefaultPageSize
	MaxLimit     = scimbridge.MaxPageSize
)

// list is the body of every list: a page and, when more remain, the
// cursor of the next (the after of the next request).
type list[T any] struct {
	Data []T    `json:"data"`
	Next string `json:"next,omitempty"`
}

// snapshot is a page of the directory: the first page (no after) also
// carries the changes feed cursor to follow once every page is read.
type snapshot[T any] struct {
	list[T]
	Cursor string `json:"cursor,omitempty"`
}

// page reads limit and after: after is an opaque cursor of kind made by
// cursor (an offset or an id), "" for the first page.
func page(r *http.Request, kind string) (limit int, after string, err error) {
	if limit, err = pageLimit(r); err != nil {
		return 0, "", err
	}
	if v := r.URL.Query().Get("after"); v != "" {
		raw, err := base64.RawURLEncoding.DecodeString(v)
		k, val, ok := strings.Cut(string(raw), ":")
		if err != nil || !ok || k != kind || val == "" {
			return 0, "", scimbridge.Errorf(scimbridge.EINVALID, "invalid after cursor: use the next of the previous page")
		}
		after = val
	}
	return limit, after, nil
}

// pageLimit reads limit alone, for lists whose cursor the admin
// operation reads.
func pageLimit(r *http.Request) (int, error) {
	limit := DefaultLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLimit {
			return 0, scimbridge.Errorf(scimbridge.EINVALID, "invalid limit %q: use 1 to %d", v, MaxLimit)
		}
		limit = n
	}
	return limit, nil
}

// cursor is the opaque form of a position of kind.
func cursor(kind, val string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + val))
}

// offsetPage is items[off:off+limit] of a list paged by offset, with the
// cursor of the next page.
func offsetPage[T any](items []T, kind string, after string, limit int) (list[T], error) {
	off := 0
	if after != "" {
		n, err := strconv.Atoi(after)
		if err != nil || n < 0 {
			return list[T]{}, scimbridge.Errorf(scimbridge.EINVALID, "invalid after cursor: use the next of the previous page")
		}
		off = n
	}
	out := list[T]{Data: []T{}}
	if off < len(items) {
		end := min(off+limit, len(items))
		out.Data = items[off:end]
		if end < len(items) {
			out.Next = cursor(kind, strconv.Itoa(end))
		}
	}
	return out, nil
}
