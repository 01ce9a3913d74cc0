package bitmapistplugin

import (
	"context"
	"time"
)

type ctxKey int

const (
	userKey ctxKey = iota
	timeKey
)

// ctxUser is the user a statement's events belong to: an integer id, or a
// string id mapped through the plugin's id map when key is not empty.
type ctxUser struct {
	id  uint64
	key string
}

// WithUser returns a context that makes every tracked row written by a
// statement run with it (db.WithContext(ctx)) be marked for user id instead
// of for the row's primary key, unless the model names its owner itself
// (UserOwned, UserKeyOwned). Use it for events that belong to the acting
// user but not to a user model: an Order created by user 7 is marked as
// order:created for 7. Give it only to the statements it is meant for: it
// applies to every tracked model they write, a User row included.
func WithUser(ctx context.Context, id uint64) context.Context {
	return context.WithValue(ctx, userKey, ctxUser{id: id})
}

// WithUserKey is WithUser for a string user id (a UUID, an e-mail), which
// is mapped to an integer through the plugin's id map (WithIDMap, default
// the core "users" map) when the marks are sent. An empty key removes a
// user set by an outer WithUser/WithUserKey.
func WithUserKey(ctx context.Context, key string) context.Context {
	if key == "" {
		return context.WithValue(ctx, userKey, nil)
	}
	return context.WithValue(ctx, userKey, ctxUser{key: key})
}

// WithTime returns a context whose statements' events are marked at t
// instead of at the time of their commit, for
// imports and replays of past activity. It is the bitmapist.At of every
// mark; t is cut into periods in the client's location.
func WithTime(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, timeKey, t)
}

func userFrom(ctx context.Context) (ctxUser, bool) {
	if ctx == nil {
		return ctxUser{}, false
	}
	u, ok := ctx.Value(userKey).(ctxUser)
	return u, ok
}

func timeFrom(ctx context.Context) time.Time {
	if ctx == nil {
		return time.Time{}
	}
	t, _ := ctx.Value(timeKey).(time.Time)
	return t
}
