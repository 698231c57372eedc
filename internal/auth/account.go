package auth

import (
	"context"
	"time"
)

// User is an account. PasswordHash never leaves the server.
type User struct {
	ID             string    `json:"id"`
	Username       string    `json:"username"`
	PasswordHash   string    `json:"-"`
	Role           Role      `json:"role"`
	OrganisationID string    `json:"organisation_id,omitempty"`
	Disabled       bool      `json:"disabled"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Session is a logged-in client, known to the server only by the hash of its token.
type Session struct {
	TokenHash  []byte
	UserID     string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	ClientAddr string
}

// Actor is who is asking: the user behind a request or a command, as the trail records it.
type Actor struct {
	UserID         string
	Username       string
	Role           Role
	OrganisationID string
	ClientAddr     string
}

// ActorOf describes a user acting from a client address.
func ActorOf(u *User, clientAddr string) Actor {
	return Actor{UserID: u.ID, Username: u.Username, Role: u.Role, OrganisationID: u.OrganisationID, ClientAddr: clientAddr}
}

type actorKey struct{}

// WithActor attaches the actor to a request's context, so that the trail can say who did what
// without every layer passing it along.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor attached to ctx.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}
