package models

import "context"

// Actor kinds.
const (
	ActorUser   = "user"
	ActorToken  = "token"
	ActorSystem = "system"
)

// Actor is who makes a change: a console user, an API token, or the system
// (command-line tools, start-up). The audit log records it.
type Actor struct {
	Kind   string
	Name   string
	UserID int64
}

// String is how the audit log names the actor: the user's email,
// "token:<name>", or "system".
func (a Actor) String() string {
	switch a.Kind {
	case ActorUser:
		return a.Name
	case ActorToken:
		return "token:" + a.Name
	}
	return ActorSystem
}

type actorKey struct{}

// WithActor returns a context that attributes changes to a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of ctx, or the system actor when none was set.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Kind: ActorSystem}
}
