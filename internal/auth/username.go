package auth

import "errors"

// ErrUsername is a username that breaks the rule every account follows, whoever creates it (an
// admin, the command line, an applicant registering). Its text is the rule, for the form.
var ErrUsername = errors.New("must be 3-64 letters, digits, '.', '-' or '_'")

// CheckUsername reports whether s may be a username: 3 to 64 ASCII letters, digits, '.', '-'
// or '_', so that a name reads the same in the trail, a URL and a terminal.
func CheckUsername(s string) error {
	if len(s) < 3 || len(s) > 64 {
		return ErrUsername
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return ErrUsername
		}
	}
	return nil
}
