package bitmapist

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Sentinel errors. Test for them with errors.Is; every error this package
// returns for bad input wraps one of them, and is returned before anything is
// written to Redis.
var (
	// ErrInvalidUserID is returned for a user id above MaxUserID (Redis
	// SETBIT accepts bit offsets 0 .. 2^32-1 only).
	ErrInvalidUserID = errors.New("bitmapist: invalid user id")
	// ErrInvalidEventName is returned for an event name that breaks the
	// key format or key listing; see ValidateEventName for the rule.
	ErrInvalidEventName = errors.New("bitmapist: invalid event name")
	// ErrInvalidTimeGroup is returned by ParseTimeGroup and by functions
	// given a TimeGroup value outside Hours..Years.
	ErrInvalidTimeGroup = errors.New("bitmapist: invalid time group")
	// ErrInvalidTime is returned for an event time whose year, in the
	// client's location, is outside 1..9999 (the range of Python's datetime,
	// and of keys both sides can read).
	ErrInvalidTime = errors.New("bitmapist: invalid event time")
	// ErrNoRedis is returned by every call that needs Redis on a Client (or
	// IDMap) made without one: New(nil) gives a client that can only build
	// keys and periods.
	ErrNoRedis = errors.New("bitmapist: client has no Redis")
	// ErrNilSet is returned by every method of a set built with a nil Set
	// (And(a, nil), Not(nil), AndNot(nil, b), ...; a nil *Period or
	// *KeySet counts as nil), before anything is read.
	ErrNilSet = errors.New("bitmapist: nil set")
	// ErrIDMapFull is returned when a string id map has handed out every
	// offset it may (MaxUserID+1 by default) and is asked for a new one.
	ErrIDMapFull = errors.New("bitmapist: id map is full")
	// ErrUnsupported is returned, before anything is written, for work the
	// client's backend cannot do with Redis's results: Not on
	// bitmapist-server, string ids on bitmapist-server without
	// WithIDMapClient, an unknown backend name. See BackendBitmapistServer.
	ErrUnsupported = errors.New("bitmapist: not supported by this backend")
	// ErrNoIDMap is returned by the string id map (IDMap, MarkEventString)
	// on a bitmapist-server client made without WithIDMapClient: the map
	// needs Redis hashes and Lua, which bitmapist-server lacks. It wraps
	// ErrUnsupported, and nothing has been written when it is returned.
	ErrNoIDMap = fmt.Errorf("%w: string ids on bitmapist-server need a Redis for the id map (WithIDMapClient, --idmap-redis)", ErrUnsupported)
	// ErrUnknownOutcome is wrapped when a write was sent to Redis but its
	// reply never came (a timeout, a context cancelled or a connection lost
	// after the command went out) or said that only part of it ran: the bits
	// may or may not have been written. It is never wrapped when nothing
	// was sent (Redis unreachable, no free connection, a context already
	// done before the write: that error wraps ctx.Err()) or when Redis
	// refused the whole write. With go-redis's default options a refused
	// connection is redialled until the context ends, and the deadline
	// error that results is reported as unknown; a client made with
	// DialerRetries: 1 and MaxRetries: -1 returns the dial error at once,
	// which is "not written". Marking is idempotent, so such a write can simply be
	// retried.
	ErrUnknownOutcome = errors.New("bitmapist: outcome unknown, the write may have been applied")
)

// MaxUserID is the largest user id a bitmap can hold: Redis limits bit
// offsets to 2^32-1. Such an id makes a 512 MiB bitmap.
const MaxUserID = 1<<32 - 1

// MarkError reports which entry of a batch given to MarkEvents was rejected.
// It unwraps to the cause (ErrInvalidUserID or ErrInvalidEventName).
type MarkError struct {
	Index int   // index of the rejected Mark in the batch, from 0
	Err   error // the cause
}

// Error returns "mark <index>: <cause>".
func (e *MarkError) Error() string { return fmt.Sprintf("mark %d: %v", e.Index, e.Err) }

// Unwrap returns the cause.
func (e *MarkError) Unwrap() error { return e.Err }

func checkTime(t time.Time) error {
	if y := t.Year(); y < 1 || y > 9999 {
		return fmt.Errorf("%w: %s (year %d is outside 1..9999)", ErrInvalidTime, t.Format(time.RFC3339), y)
	}
	return nil
}

// checkMarkID is checkUserID against the client's WithMaxUserID bound.
func (c *Client) checkMarkID(id uint64) error {
	if id > c.maxID {
		if c.maxID == MaxUserID {
			return checkUserID(id)
		}
		return fmt.Errorf("%w: %d is above the client's maximum %d (WithMaxUserID)", ErrInvalidUserID, id, c.maxID)
	}
	return nil
}

func checkUserID(id uint64) error {
	if id > MaxUserID {
		return fmt.Errorf("%w: %d is above %d", ErrInvalidUserID, id, uint64(MaxUserID))
	}
	return nil
}

// KeyTypeError is returned when a key where a bitmap is read holds another
// Redis type (a hash, a list, ...): Redis answered WRONGTYPE. Test for it
// with errors.As(err, new(*KeyTypeError)), or errors.Is(err,
// &KeyTypeError{}) (any key) / errors.Is(err, &KeyTypeError{Key: k}).
type KeyTypeError struct {
	Key string // the key that is not a string
	Err error  // Redis's WRONGTYPE reply
}

// Error returns `bitmapist: key "<key>" is not a bitmap (string) key: <reply>`.
func (e *KeyTypeError) Error() string {
	return fmt.Sprintf("bitmapist: key %q is not a bitmap (string) key: %v", e.Key, e.Err)
}

// Unwrap returns Redis's reply.
func (e *KeyTypeError) Unwrap() error { return e.Err }

// Is reports whether target is a *KeyTypeError for the same key, or for
// any key when target's Key is "".
func (e *KeyTypeError) Is(target error) bool {
	t, ok := target.(*KeyTypeError)
	return ok && (t.Key == "" || t.Key == e.Key)
}

// WrongType returns a *KeyTypeError for key when err is (or wraps) Redis's
// WRONGTYPE reply to a command on key, nil otherwise. For code that reads
// bitmaps with its own go-redis commands.
func WrongType(key string, err error) error {
	var re redis.Error
	if err == nil || !errors.As(err, &re) || !strings.HasPrefix(re.Error(), "WRONGTYPE") {
		return nil
	}
	return &KeyTypeError{Key: key, Err: err}
}

// firstKeyTypeErr returns the *KeyTypeError of the first of cmds (run on
// keys[i]) that failed with WRONGTYPE, nil when none did.
func firstKeyTypeErr[C interface{ Err() error }](keys []string, cmds []C) error {
	for i, cmd := range cmds {
		if err := WrongType(keys[i], cmd.Err()); err != nil {
			return err
		}
	}
	return nil
}
