package httpapi

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Paged lists answer {"<items>": [...], "next_cursor": "..."} and take ?limit= and ?cursor=, as
// the trail does. A cursor is opaque to clients: the list's name and the key of the last item
// served (keyset paging, so a page costs the same wherever it is and an insert between two
// pages neither repeats nor skips an item). The name makes a cursor of one list refused by
// another rather than silently misread.

// Page sizes of the paged lists.
const (
	defaultPageLimit = 100
	maxPageLimit     = 1000
)

// encodeCursor is the cursor after the item with key parts.
func encodeCursor(list string, parts ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(list + "\n" + strings.Join(parts, "\n")))
}

// decodeCursor reads a cursor of list with n key parts; a cursor that is not one is a 400.
func decodeCursor(list, c string, n int) ([]string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, badRequest("cursor", "is not a cursor of this list")
	}
	parts := strings.Split(string(b), "\n")
	if len(parts) != n+1 || parts[0] != list {
		return nil, badRequest("cursor", "is not a cursor of this list")
	}
	return parts[1:], nil
}

// pageParams reads ?limit= (default and maximum as given) and ?cursor= of list, whose keys have n
// parts; keys is nil on the first page.
func pageParams(q url.Values, list string, n, def, max int) (limit int, keys []string, err error) {
	if limit, err = intParam(q.Get("limit"), "limit", def, 1, max); err != nil {
		return 0, nil, err
	}
	if c := q.Get("cursor"); c != "" {
		if keys, err = decodeCursor(list, c, n); err != nil {
			return 0, nil, err
		}
	}
	return limit, keys, nil
}

// cursorInt reads an integer key part.
func cursorInt(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, badRequest("cursor", "is not a cursor of this list")
	}
	return n, nil
}

// writePage answers one page of a list the service returns whole, {"<list>": [...],
// "next_cursor": "..."}: the items ordered by key (ascending, or newest first with desc), the
// page after the cursor's key, at most ?limit= of them. Keyset paging still: a cursor names the
// last key served, so an item added or removed between pages neither repeats nor skips another.
// The keys must be unique (end them with the item's id) and have n parts.
func writePage[T any](w http.ResponseWriter, r *http.Request, list string, items []T, n int, key func(T) []string, desc bool) error {
	cmp := func(a, b []string) int {
		if desc {
			return slices.Compare(b, a)
		}
		return slices.Compare(a, b)
	}
	limit, after, err := pageParams(r.URL.Query(), list, n, defaultPageLimit, maxPageLimit)
	if err != nil {
		return err
	}
	sorted := slices.Clone(items)
	slices.SortStableFunc(sorted, func(a, b T) int { return cmp(key(a), key(b)) })
	start := 0
	if after != nil {
		start, _ = slices.BinarySearchFunc(sorted, after, func(it T, k []string) int {
			if cmp(key(it), k) <= 0 {
				return -1
			}
			return 1
		})
	}
	page := slices.Clip(sorted[start:min(len(sorted), start+limit)])
	if page == nil {
		page = []T{}
	}
	body := map[string]any{list: page}
	if start+len(page) < len(sorted) && len(page) > 0 {
		body["next_cursor"] = encodeCursor(list, key(page[len(page)-1])...)
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}
