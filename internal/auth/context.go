package auth

import "context"

type userKey struct{}

// WithUser attaches the authenticated user to a request's context, for the services and faces
// below the login check (see UserFrom).
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the authenticated user attached by WithUser, or nil.
func UserFrom(ctx context.Context) *User {
	u, _ := ctx.Value(userKey{}).(*User)
	return u
}
