package bitmapistplugin

import (
	"database/sql/driver"
	"fmt"
	"reflect"
	"strings"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"gorm.io/gorm/schema"
)

// Event name suffixes, as flask-bitmapist's Bitmapistable mixin names them:
// <prefix>:created, <prefix>:updated, <prefix>:deleted.
const (
	SuffixCreated = ":created"
	SuffixUpdated = ":updated"
	SuffixDeleted = ":deleted"
)

// EventPrefixer is implemented by tracked models that choose their own
// event prefix instead of the lower-cased Go type name. It is called once
// per model type, on a zero value, so it must not depend on the row.
type EventPrefixer interface {
	BitmapistEventPrefix() string
}

// UserOwned is implemented by tracked models whose events belong to a user
// other than the row itself: an Order of user 7 returns 7 and is marked as
// order:created for 7. It is called on each written row (value or pointer
// receiver); 0 means "no owner", and such a row is not marked. For updates
// and deletes the plugin reads the rows from the database before the
// statement, so the owner is the one stored before the change.
type UserOwned interface {
	BitmapistUserID() uint64
}

// UserKeyOwned is UserOwned for string user ids, mapped to integers
// through the plugin's id map (WithIDMap). "" means "no owner".
type UserKeyOwned interface {
	BitmapistUserKey() string
}

var (
	trackedType  = reflect.TypeFor[bitmapist.TrackedModel]()
	prefixerType = reflect.TypeFor[EventPrefixer]()
	ownedType    = reflect.TypeFor[UserOwned]()
	keyOwnedType = reflect.TypeFor[UserKeyOwned]()
)

// modelInfo is what the plugin knows about one schema, computed once.
type modelInfo struct {
	tracked  bool
	typ      reflect.Type // the model struct type
	created  string       // event names
	updated  string
	deleted  string
	pk       *schema.Field // nil when there is no single primary key
	owned    bool          // implements UserOwned
	keyOwned bool          // implements UserKeyOwned
	err      error         // why a tracked model cannot be marked (bad prefix)
}

// info returns the cached modelInfo of s.
func (p *Plugin) info(s *schema.Schema) *modelInfo {
	if v, ok := p.models.Load(s); ok {
		return v.(*modelInfo)
	}
	mi := newModelInfo(s)
	v, _ := p.models.LoadOrStore(s, mi)
	return v.(*modelInfo)
}

func newModelInfo(s *schema.Schema) *modelInfo {
	t := s.ModelType
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	pt := reflect.PointerTo(t)
	mi := &modelInfo{typ: t, tracked: pt.Implements(trackedType)}
	if !mi.tracked {
		return mi
	}
	prefix := strings.ToLower(t.Name())
	if pt.Implements(prefixerType) {
		prefix = reflect.New(t).Interface().(EventPrefixer).BitmapistEventPrefix()
	}
	mi.created, mi.updated, mi.deleted = prefix+SuffixCreated, prefix+SuffixUpdated, prefix+SuffixDeleted
	if err := bitmapist.ValidateEventName(mi.created); err != nil {
		mi.err = fmt.Errorf("%w: model %s: %w", ErrInvalidPrefix, t, err)
	}
	mi.pk = s.PrioritizedPrimaryField
	mi.owned = pt.Implements(ownedType)
	mi.keyOwned = pt.Implements(keyOwnedType)
	return mi
}

// hasOwner reports whether rows name their user by a method.
func (mi *modelInfo) hasOwner() bool { return mi.owned || mi.keyOwned }

// rowID is the user id a row is marked for: an integer, or a string key to
// map through the id map.
type rowID struct {
	id  uint64
	key string
}

// ptrTo returns a pointer to row (a struct value of the model type),
// copying it when it is not addressable.
func ptrTo(row reflect.Value) any {
	if row.CanAddr() {
		return row.Addr().Interface()
	}
	p := reflect.New(row.Type())
	p.Elem().Set(row)
	return p.Interface()
}

// ownerOf returns the owner named by the row's method; ok is false when
// the model has no owner method. zero is true when the method says "none".
func (mi *modelInfo) ownerOf(row reflect.Value) (id rowID, zero, ok bool) {
	if !mi.hasOwner() {
		return rowID{}, false, false
	}
	v := ptrTo(row)
	if mi.owned {
		if n := v.(UserOwned).BitmapistUserID(); n != 0 {
			return rowID{id: n}, false, true // checked against MaxUserID by marksFor
		}
	}
	if mi.keyOwned {
		if k := v.(UserKeyOwned).BitmapistUserKey(); k != "" {
			return rowID{key: k}, false, true
		}
	}
	return rowID{}, true, true
}

// keyID converts a primary key value to a rowID. zero is true for a zero
// key (not marked); err wraps ErrUnsupportedKey.
func keyID(v any) (id rowID, zero bool, err error) {
	rv := reflect.ValueOf(v)
	for rv.IsValid() && (rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface) {
		if rv.IsNil() {
			return rowID{}, true, nil
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return rowID{}, true, nil
	}
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := rv.Int()
		switch {
		case n == 0:
			return rowID{}, true, nil
		case n < 0 || uint64(n) > bitmapist.MaxUserID:
			return rowID{}, false, fmt.Errorf("%w: integer key %d outside 1..%d", ErrUnsupportedKey, n, uint64(bitmapist.MaxUserID))
		}
		return rowID{id: uint64(n)}, false, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n := rv.Uint()
		switch {
		case n == 0:
			return rowID{}, true, nil
		case n > bitmapist.MaxUserID:
			return rowID{}, false, fmt.Errorf("%w: integer key %d above %d", ErrUnsupportedKey, n, uint64(bitmapist.MaxUserID))
		}
		return rowID{id: n}, false, nil
	case reflect.String:
		s := rv.String()
		return rowID{key: s}, s == "", nil
	}
	switch x := rv.Interface().(type) {
	case fmt.Stringer: // uuid.UUID and the like
		if rv.IsZero() {
			return rowID{}, true, nil
		}
		return rowID{key: x.String()}, false, nil
	case driver.Valuer: // sql.NullInt64, sql.NullString, ...
		dv, err := x.Value()
		if err != nil {
			return rowID{}, false, fmt.Errorf("%w: %w", ErrUnsupportedKey, err)
		}
		if _, again := dv.(driver.Valuer); again {
			break
		}
		return keyID(dv)
	case []byte:
		return rowID{key: string(x)}, len(x) == 0, nil
	}
	return rowID{}, false, fmt.Errorf("%w: key of type %T", ErrUnsupportedKey, v)
}
