package httpapi

import (
	"encoding/base64"
	"net/url"
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
