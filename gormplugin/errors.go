package bitmapistplugin

import (
	"errors"
	"fmt"
)

// Sentinel errors. The error handler receives errors wrapping them (test
// with errors.Is); none of them ever reaches the GORM statement.
var (
	// ErrNoClient is returned by Initialize when New was given neither a
	// Redis client nor WithClient, or a client without Redis (then it also
	// wraps bitmapist.ErrNoRedis).
	ErrNoClient = errors.New("bitmapistplugin: no Redis client")
	// ErrQueueFull is reported when the background queue (WithQueue) is
	// full, or (when sending synchronously, the default) too many sends
	// that outlived their timeout are still running, and a batch of marks
	// is dropped rather than slowing the write.
	ErrQueueFull = errors.New("bitmapistplugin: mark queue full")
	// ErrUnsupportedKey is reported for a row whose primary key (or owner
	// id) is neither an integer nor a string-like value, or is a negative
	// integer or an integer above bitmapist.MaxUserID.
	ErrUnsupportedKey = errors.New("bitmapistplugin: unsupported key")
	// ErrNoPrimaryKey is reported for a tracked model with no single
	// primary key (none, or a composite key) and no owner-user method.
	ErrNoPrimaryKey = errors.New("bitmapistplugin: model has no single primary key")
	// ErrInvalidPrefix is reported for a tracked model whose event prefix
	// does not make valid bitmapist event names (bitmapist.ValidateEventName),
	// e.g. a generic type name with brackets. Its rows are not marked.
	ErrInvalidPrefix = errors.New("bitmapistplugin: invalid event prefix")
)

// SendError reports marks that were committed in the database but could
// not be written to Redis (Redis down, timeout, id map full). It unwraps to
// the cause; Marks of them are added to (*Plugin).FailedMarks.
type SendError struct {
	Marks  int      // how many marks were lost
	Events []string // distinct event names of the lost marks, in first-seen order
	Err    error    // the cause, e.g. a go-redis or context.DeadlineExceeded error
}

// Error says how many marks of which events were lost, and why.
func (e *SendError) Error() string {
	return fmt.Sprintf("bitmapistplugin: %d marks (%v) not recorded: %v", e.Marks, e.Events, e.Err)
}

// Unwrap returns the cause.
func (e *SendError) Unwrap() error { return e.Err }
