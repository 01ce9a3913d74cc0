package bitmapistplugin

import (
	"context"
	"fmt"
	"reflect"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Callback names, and GORM's own callbacks they are placed between. Both
// bounds are given: with only After, GORM would run a callback after the
// statement's own commit.
const (
	cbCreated      = PluginName + ":created"
	cbBeforeUpdate = PluginName + ":before_update"
	cbUpdated      = PluginName + ":updated"
	cbBeforeDelete = PluginName + ":before_delete"
	cbDeleted      = PluginName + ":deleted"
	gormCommit     = "gorm:commit_or_rollback_transaction"
	foundKey       = PluginName + ":found"
)

// register adds the plugin's callbacks to db.
func (p *Plugin) register(db *gorm.DB) error {
	cb := db.Callback()
	for _, err := range []error{
		cb.Create().After("gorm:after_create").Before(gormCommit).Register(cbCreated, p.afterCreate),
		cb.Update().After("gorm:before_update").Before("gorm:update").Register(cbBeforeUpdate, p.beforeChange),
		cb.Update().After("gorm:after_update").Before(gormCommit).Register(cbUpdated, p.afterUpdate),
		cb.Delete().After("gorm:before_delete").Before("gorm:delete").Register(cbBeforeDelete, p.beforeChange),
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
	cp := db.Statement.ConnPool
	for {
		switch v := cp.(type) {
		case *txConn:
			v.add(marks)
			return
		case *gorm.PreparedStmtTX:
			cp = v.Tx
			continue
		}
		break
	}
	p.dispatch(db.Statement.Context, marks)
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
	p.emit(db, p.marksFor(db.Statement.Context, mi, mi.created, db.Statement.ReflectValue))
}

// afterUpdate marks <prefix>:updated (see afterChange).
func (p *Plugin) afterUpdate(db *gorm.DB) {
	p.afterChange(db, func(mi *modelInfo) string { return mi.updated })
}

// afterDelete marks <prefix>:deleted (see afterChange).
func (p *Plugin) afterDelete(db *gorm.DB) {
	p.afterChange(db, func(mi *modelInfo) string { return mi.deleted })
}

// found is what beforeChange learnt about the rows an update or delete
// will touch.
type found struct {
	rows    reflect.Value // *[]Model read in the statement's transaction
	err     error         // the read failed
	ctxUser bool          // every row is marked for the context user
}

// beforeChange runs just before GORM's update or delete. When the rows'
// ids cannot be taken from the model value (an update or delete by
// condition, Delete(&User{}, 6), an owned model whose owner is not loaded)
// it reads the rows the statement's WHERE clause selects, in the
// statement's transaction (locking them with FOR UPDATE except on SQLite),
// respecting soft delete and Unscoped as the statement does.
func (p *Plugin) beforeChange(db *gorm.DB) {
	mi := p.tracked(db)
	if mi == nil {
		return
	}
	// Always set (or clear) the result: a statement executed twice must
	// not see the rows read for its first execution.
	var f *found
	defer func() { db.InstanceSet(foundKey, f) }()
	if mi.err != nil || db.Error != nil || mi.pk == nil {
		return
	}
	stmt := db.Statement
	ctx := stmt.Context
	if _, ok := userFrom(ctx); ok && !mi.hasOwner() {
		f = &found{ctxUser: true}
		return
	}
	var pks []any
	keyed := false
	eachRow(stmt.ReflectValue, mi.typ, func(row reflect.Value) {
		keyed = true
		if v, zero := mi.pk.ValueOf(ctx, row); !zero {
			pks = append(pks, v)
		} else {
			keyed = false
		}
	})
	var conds []clause.Expression
	if c, ok := stmt.Clauses["WHERE"]; ok {
		if w, ok := c.Expression.(clause.Where); ok {
			conds = append(conds, w.Exprs...)
		}
	}
	if keyed && len(conds) == 0 && !mi.hasOwner() {
		return // the model value names every row: no query needed
	}
	if len(pks) > 0 {
		conds = append(conds, clause.IN{Column: clause.PrimaryColumn, Values: pks})
	}
	if len(conds) == 0 && !db.AllowGlobalUpdate {
		return // GORM refuses the statement (ErrMissingWhereClause)
	}
	q := db.Session(&gorm.Session{NewDB: true, SkipHooks: true, Context: ctx})
	if stmt.Unscoped {
		q = q.Unscoped()
	}
	if stmt.Table != "" {
		q = q.Table(stmt.Table)
	}
	if len(conds) > 0 {
		q = q.Clauses(clause.Where{Exprs: conds})
	}
	for _, name := range [...]string{"ORDER BY", "LIMIT"} {
		if c, ok := stmt.Clauses[name]; ok {
			if e, ok := c.Expression.(clause.Interface); ok {
				q = q.Clauses(e)
			}
		}
	}
	if db.Dialector.Name() != "sqlite" {
		q = q.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate})
	}
	dest := reflect.New(reflect.SliceOf(mi.typ))
	err := q.Find(dest.Interface()).Error
	f = &found{rows: dest, err: err}
}

// afterChange marks the event for the rows a successful update or delete
// changed: those beforeChange read, or else those of the model value.
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
	f, _ := v.(*found)
	switch {
	case f == nil:
		p.emit(db, p.marksFor(ctx, mi, ev, db.Statement.ReflectValue))
	case f.err != nil:
		p.report(ctx, int(db.RowsAffected), fmt.Errorf("bitmapistplugin: %s: reading the affected rows: %w", ev, f.err))
	case f.ctxUser:
		u, _ := userFrom(ctx)
		p.emit(db, []pendingMark{{event: ev, id: rowID(u), at: timeFrom(ctx)}})
	default:
		p.emit(db, p.marksFor(ctx, mi, ev, f.rows))
	}
}
