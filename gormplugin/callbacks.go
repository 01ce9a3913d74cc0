package bitmapistplugin

import (
	"context"
	"fmt"
	"reflect"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"gorm.io/gorm"
)

// Callback names, and GORM's own callbacks they are placed between. Both
// bounds are given: with only After, GORM would run a callback after the
// statement's own commit.
const (
	cbCreated      = PluginName + ":created"
	cbBeforeCreate = PluginName + ":before_create"
	cbRanCreate    = PluginName + ":ran_create"
	cbBeforeUpdate = PluginName + ":before_update"
	cbRanUpdate    = PluginName + ":ran_update"
	cbUpdated      = PluginName + ":updated"
	cbBeforeDelete = PluginName + ":before_delete"
	cbRanDelete    = PluginName + ":ran_delete"
	cbDeleted      = PluginName + ":deleted"
	gormCommit     = "gorm:commit_or_rollback_transaction"
	foundKey       = PluginName + ":found"
)

// register adds the plugin's callbacks to db.
func (p *Plugin) register(db *gorm.DB) error {
	cb := db.Callback()
	for _, err := range []error{
		cb.Create().After("gorm:save_before_associations").Before("gorm:create").Register(cbBeforeCreate, p.beforeCreate),
		cb.Create().After("gorm:create").Before("gorm:save_after_associations").Register(cbRanCreate, p.ranCreate),
		cb.Create().After("gorm:after_create").Before(gormCommit).Register(cbCreated, p.afterCreate),
		cb.Update().After("gorm:save_before_associations").Before("gorm:update").Register(cbBeforeUpdate, p.beforeUpdate),
		cb.Update().After("gorm:update").Before("gorm:save_after_associations").Register(cbRanUpdate, p.statementRan),
		cb.Update().After("gorm:after_update").Before(gormCommit).Register(cbUpdated, p.afterUpdate),
		cb.Delete().After("gorm:delete_before_associations").Before("gorm:delete").Register(cbBeforeDelete, p.beforeDelete),
		cb.Delete().After("gorm:delete").Before("gorm:after_delete").Register(cbRanDelete, p.statementRan),
		cb.Delete().After("gorm:after_delete").Before(gormCommit).Register(cbDeleted, p.afterDelete),
	} {
		if err != nil {
			return fmt.Errorf("bitmapistplugin: register callbacks: %w", err)
		}
	}
	return nil
}

// tracked returns the modelInfo of the statement's model, or nil when the
// statement has no schema (db.Table with a map, raw SQL) or the model does
// not embed bitmapist.Tracked.
func (p *Plugin) tracked(db *gorm.DB) *modelInfo {
	if db.Statement.Schema == nil {
		return nil
	}
	mi := p.info(db.Statement.Schema)
	if !mi.tracked {
		return nil
	}
	return mi
}

// eachRow calls fn with every struct of type typ in v (a struct, a pointer
// to one, or a slice or array of structs or pointers).
func eachRow(v reflect.Value, typ reflect.Type, fn func(reflect.Value)) {
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == typ {
			fn(v)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			eachRow(v.Index(i), typ, fn)
		}
	}
}

// marksFor builds the marks of event for rows: each row's owner (UserOwned,
// UserKeyOwned), else the context user (WithUser), else its primary key.
// Rows with a zero id are skipped; unusable ids are reported and counted.
func (p *Plugin) marksFor(ctx context.Context, mi *modelInfo, event string, rows reflect.Value) []pendingMark {
	user, hasUser := userFrom(ctx)
	at := timeFrom(ctx)
	var marks []pendingMark
	var noKey bool
	eachRow(rows, mi.typ, func(row reflect.Value) {
		var id rowID
		if owner, zero, ok := mi.ownerOf(row); ok && !zero {
			id = owner
		} else if hasUser {
			id = rowID(user)
		} else if ok {
			return // an owned model without owner: not a user's event
		} else if mi.pk == nil {
			noKey = true
			return
		} else {
			v, zero := mi.pk.ValueOf(ctx, row)
			if zero {
				return
			}
			var err error
			if id, zero, err = keyID(v); err != nil {
				p.report(ctx, 1, fmt.Errorf("%s: %w", event, err))
				return
			} else if zero {
				return
			}
		}
		if id.key == "" && id.id > bitmapist.MaxUserID {
			p.report(ctx, 1, fmt.Errorf("%s: %w: user id %d above %d", event, ErrUnsupportedKey, id.id, uint64(bitmapist.MaxUserID)))
			return
		}
		marks = append(marks, pendingMark{event: event, id: id, at: at})
	})
	if noKey {
		p.report(ctx, 0, fmt.Errorf("%w: %s (%s)", ErrNoPrimaryKey, mi.typ, event))
	}
	return marks
}

// emit hands the marks of one statement to its transaction, to be sent at
// commit, or sends them at once when the statement ran outside any
// transaction of the plugin's pool.
func (p *Plugin) emit(db *gorm.DB, marks []pendingMark) {
	if len(marks) == 0 {
		return
	}
	if t := txOf(db.Statement.ConnPool); t != nil {
		t.add(marks)
		return
	}
	p.dispatch(db.Statement.Context, marks)
}

// emitFolded hands the marks of folded statement f (see fold), whose
// outbox rows it wrote, to its transaction; outside any transaction the
// statement has committed them with its rows, and they are sent at once.
func (p *Plugin) emitFolded(db *gorm.DB, f *fold, marks []pendingMark) {
	if len(marks) == 0 {
		return
	}
	for i := range marks {
		marks[i].at, marks[i].folded = f.at, true
	}
	if t := txOf(db.Statement.ConnPool); t != nil {
		t.addFolded(marks, f)
		return
	}
	p.outbox.committed(context.WithoutCancel(db.Statement.Context), []int64{f.batch}, marks)
}

// txOf returns the plugin's transaction under cp, or nil.
func txOf(cp gorm.ConnPool) *txConn {
	for {
		switch v := cp.(type) {
		case *txConn:
			return v
		case *gorm.PreparedStmtTX:
			cp = v.Tx
			continue
		}
		return nil
	}
}

// written reports whether the statement really wrote rows.
func written(db *gorm.DB) bool { return db.Error == nil && db.RowsAffected > 0 }

// afterCreate marks <prefix>:created for the rows a successful create wrote.
func (p *Plugin) afterCreate(db *gorm.DB) {
	mi := p.tracked(db)
	if mi == nil || !written(db) {
		return
	}
	if mi.err != nil {
		n := 0
		eachRow(db.Statement.ReflectValue, mi.typ, func(reflect.Value) { n++ })
		p.report(db.Statement.Context, n, mi.err)
		return
	}
	marks := p.marksFor(db.Statement.Context, mi, mi.created, db.Statement.ReflectValue)
	if f := foldOf(db); f != nil && f.succeeded() {
		p.emitFolded(db, f, marks)
		return
	}
	p.emit(db, marks)
}

// afterUpdate marks <prefix>:updated (see afterChange).
func (p *Plugin) afterUpdate(db *gorm.DB) {
	p.afterChange(db, func(mi *modelInfo) string { return mi.updated })
}

// afterDelete marks <prefix>:deleted (see afterChange).
func (p *Plugin) afterDelete(db *gorm.DB) {
	p.afterChange(db, func(mi *modelInfo) string { return mi.deleted })
}

// afterChange marks the event for the rows a successful update or delete
// changed: those it returned (RETURNING) or beforeChange read, or else
// those of the model value.
func (p *Plugin) afterChange(db *gorm.DB, event func(*modelInfo) string) {
	mi := p.tracked(db)
	if mi == nil || !written(db) {
		return
	}
	ctx := db.Statement.Context
	if mi.err != nil {
		p.report(ctx, int(db.RowsAffected), mi.err)
		return
	}
	ev := event(mi)
	v, _ := db.InstanceGet(foundKey)
	c, _ := v.(*change)
	switch {
	case c == nil:
		p.emit(db, p.marksFor(ctx, mi, ev, db.Statement.ReflectValue))
	case c.ctxUser:
		u, _ := userFrom(ctx)
		p.emit(db, []pendingMark{{event: ev, id: rowID(u), at: timeFrom(ctx)}})
	case c.ret != nil:
		rows, ran := c.ret.result()
		if !ran {
			// Another plugin ran the statement on a pool not wrapped by
			// this one: which rows it changed is not known.
			p.report(ctx, int(db.RowsAffected), fmt.Errorf("%w: %s", ErrRowsUnknown, ev))
			return
		}
		p.emit(db, p.marksFor(ctx, mi, ev, rows))
	default:
		p.emit(db, p.marksFor(ctx, mi, ev, c.rows))
	}
}
