package bitmapist_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

var (
	ctxType   = reflect.TypeFor[context.Context]()
	errType   = reflect.TypeFor[error]()
	timeType  = reflect.TypeFor[time.Time]()
	setType   = reflect.TypeFor[bitmapist.Set]()
	setsType  = reflect.TypeFor[[]bitmapist.Set]()
	groupType = reflect.TypeFor[bitmapist.TimeGroup]()
)

// callArgs returns plausible arguments for method m (skipping the
// receiver when recv): a live context, an event name, a time, a valid time
// group, zero values otherwise.
func callArgs(m reflect.Type, from int) []reflect.Value {
	var args []reflect.Value
	for i := from; i < m.NumIn(); i++ {
		in := m.In(i)
		if m.IsVariadic() && i == m.NumIn()-1 {
			break
		}
		switch {
		case in == ctxType:
			args = append(args, reflect.ValueOf(context.Background()))
		case in == timeType:
			args = append(args, reflect.ValueOf(day0))
		case in == groupType:
			args = append(args, reflect.ValueOf(bitmapist.Days))
		case in.Kind() == reflect.String:
			args = append(args, reflect.ValueOf("ev").Convert(in))
		default:
			args = append(args, reflect.Zero(in))
		}
	}
	return args
}

// callAll calls every exported method of v, failing t on a panic and
// returning each method's results by name.
func callAll(t *testing.T, what string, v reflect.Value) map[string][]reflect.Value {
	t.Helper()
	out := map[string][]reflect.Value{}
	for i := range v.NumMethod() {
		name := v.Type().Method(i).Name
		m := v.Method(i)
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s.%s panicked: %v", what, name, r)
				}
			}()
			out[name] = m.Call(callArgs(m.Type(), 0))
		}()
	}
	return out
}

// lastErr returns the error result of a call, if it has one.
func lastErr(res []reflect.Value) (error, bool) {
	if len(res) == 0 || res[len(res)-1].Type() != errType {
		return nil, false
	}
	err, _ := res[len(res)-1].Interface().(error)
	return err, true
}

// TestNilClientNeverPanics calls every exported method of a nil *Client
// and of a client made without Redis, and every method of the sets,
// readers and id maps they return: each one that can fail returns an error
// (ErrNoRedis for work that needs Redis), none panics.
func TestNilClientNeverPanics(t *testing.T) {
	for name, c := range map[string]*bitmapist.Client{"nil": nil, "New(nil)": bitmapist.New(nil)} {
		res := callAll(t, name+" client", reflect.ValueOf(c))
		for method, r := range res {
			if err, ok := lastErr(r); ok && err == nil && !noErrorWanted[method] {
				t.Errorf("%s client: %s returned no error", name, method)
			}
			for _, v := range r {
				if v.Kind() == reflect.Pointer && !v.IsNil() && v.Type() != reflect.TypeFor[*time.Location]() {
					for m, r2 := range callAll(t, name+" client: "+method+"()", v) {
						if err, ok := lastErr(r2); ok && err == nil && !noErrorWanted[v.Type().String()+"."+m] {
							t.Errorf("%s client: %s().%s returned no error", name, method, m)
						}
					}
				}
			}
		}
		if err := c.MarkEvent(context.Background(), "ev", 1); !errors.Is(err, bitmapist.ErrNoRedis) {
			t.Errorf("%s client: MarkEvent = %v, want ErrNoRedis", name, err)
		}
		if _, err := c.Day("ev", day0).Count(context.Background()); !errors.Is(err, bitmapist.ErrNoRedis) {
			t.Errorf("%s client: Day().Count = %v, want ErrNoRedis", name, err)
		}
	}
}

// noErrorWanted are the methods of a client without Redis that may succeed:
// they need no Redis for the arguments callAll gives.
var noErrorWanted = map[string]bool{
	"CheckSegment": true, // a nil segment is no segment
	"Fetch":        true, // no sets: nothing to read
	// No strings to map or resolve: nothing to do.
	"*bitmapist.IDMap.IDs":     true,
	"*bitmapist.IDMap.Strings": true,
}

// TestNilSetRejected: a combination given a nil set (nil interface or nil
// pointer) returns an error wrapping ErrNilSet from every method that
// reads, instead of treating it as empty.
func TestNilSetRejected(t *testing.T) {
	b := testutil.Miniredis(t)
	c := newClient(b)
	mark(t, c, "ns", day0, 1, 2)
	day := c.Day("ns", day0)
	var nilPeriod *bitmapist.Period
	var nilKeys *bitmapist.KeySet
	ctx := context.Background()
	for name, s := range map[string]bitmapist.Set{
		"And(nil)":            bitmapist.And(nil),
		"And(day, nil)":       bitmapist.And(day, nil),
		"Or(nil, day)":        bitmapist.Or(nil, day),
		"Xor(day, nilPeriod)": bitmapist.Xor(day, nilPeriod),
		"Not(nil)":            bitmapist.Not(nil),
		"Not(nilKeys)":        bitmapist.Not(nilKeys),
		"AndNot(nil, nil)":    bitmapist.AndNot(nil, nil),
		"AndNot(day, nil)":    bitmapist.AndNot(day, nil),
		"AndNot(nil, day)":    bitmapist.AndNot(nil, day),
		"Or(And(day, nil))":   bitmapist.Or(day, bitmapist.And(day, nil)),
	} {
		if n, err := s.Count(ctx); !errors.Is(err, bitmapist.ErrNilSet) {
			t.Errorf("%s.Count = %d, %v, want ErrNilSet", name, n, err)
		}
		if ids, err := s.IDs(ctx); !errors.Is(err, bitmapist.ErrNilSet) {
			t.Errorf("%s.IDs = %v, %v, want ErrNilSet", name, ids, err)
		}
		if _, err := s.Has(ctx, 1); !errors.Is(err, bitmapist.ErrNilSet) {
			t.Errorf("%s.Has: %v, want ErrNilSet", name, err)
		}
		if _, err := s.HasEvents(ctx); !errors.Is(err, bitmapist.ErrNilSet) {
			t.Errorf("%s.HasEvents: %v, want ErrNilSet", name, err)
		}
		if err := bitmapist.EachID(ctx, s, func([]uint64) error { return nil }); !errors.Is(err, bitmapist.ErrNilSet) {
			t.Errorf("EachID(%s): %v, want ErrNilSet", name, err)
		}
		if _, err := c.Fetch(ctx, s); !errors.Is(err, bitmapist.ErrNilSet) {
			t.Errorf("Fetch(%s): %v, want ErrNilSet", name, err)
		}
		_ = s.Keys() // must not panic
	}
	// No sets at all is still the empty set.
	if n, err := bitmapist.And().Count(ctx); n != 0 || err != nil {
		t.Errorf("And().Count = %d, %v, want 0, nil", n, err)
	}
}
