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

// SendError reports marks that were committed in the database but whose
// write to Redis failed (Redis down, timeout, id map full). It unwraps to
// the cause. Of its Marks, Unknown were sent with no reply confirming them
// (a timeout or lost connection after the write was sent; Err then wraps
// bitmapist.ErrUnknownOutcome): they may be recorded, and are added to
// (*Plugin).UnknownSentMarks (Stats.UnknownSent). The other Marks-Unknown
// were not recorded and are added to (*Plugin).FailedMarks (Stats.Failed).
type SendError struct {
	Marks   int      // how many marks are not known to be recorded
	Unknown int      // how many of Marks may be recorded (outcome unknown)
	Events  []string // distinct event names of the batch's marks, in first-seen order
	Err     error    // the cause, e.g. a go-redis or context.DeadlineExceeded error
}

// Error says how many marks of which events were not recorded or are of
// unknown outcome, and why.
func (e *SendError) Error() string {
	switch e.Unknown {
	case 0:
		return fmt.Sprintf("bitmapistplugin: %d marks (%v) not recorded: %v", e.Marks, e.Events, e.Err)
	case e.Marks:
		return fmt.Sprintf("bitmapistplugin: %d marks (%v) of unknown outcome, may be recorded: %v", e.Marks, e.Events, e.Err)
	}
	return fmt.Sprintf("bitmapistplugin: %d marks (%v) not recorded, %d more of unknown outcome: %v",
		e.Marks-e.Unknown, e.Events, e.Unknown, e.Err)
}

// Unwrap returns the cause.
func (e *SendError) Unwrap() error { return e.Err }
