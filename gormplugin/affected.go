package bitmapistplugin

import (
	"context"
	"database/sql"
	"errors"
	"reflect"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ErrRowsUnknown is reported (with the number of rows affected, counted in
// FailedMarks) for an update or delete whose changed rows the plugin could
// not learn: the statement asked for them with RETURNING but was run on a
// connection pool the plugin does not wrap (a plugin that swaps the pool
// per statement, such as dbresolver).
var ErrRowsUnknown = errors.New("bitmapistplugin: rows changed by the statement unknown")

// change is what beforeChange learnt about the rows an update or delete
// will touch, and what it changed in the statement for the time of its
// execution (statementRan puts it back).
type change struct {
	ctxUser bool          // every row is marked for the context user
	rows    reflect.Value // *[]Model read before the statement (pre-read)
	ret     *returning    // the statement runs with RETURNING

	ctx  context.Context // the statement's own context
	pool gorm.ConnPool   // the statement's own pool, when replaced
}

// beforeUpdate prepares the reading of an update's rows (beforeChange).
func (p *Plugin) beforeUpdate(db *gorm.DB) { p.beforeChange(db, false) }

// beforeDelete prepares the reading of a delete's rows (beforeChange).
func (p *Plugin) beforeDelete(db *gorm.DB) { p.beforeChange(db, true) }

// beforeChange runs just before GORM's update or delete. When the rows'
// ids cannot be taken from the model value (an update or delete by
// condition, Delete(&User{}, 6), an owned model whose owner is not loaded,
// several rows) it arranges to learn the rows the statement changes:
//
//   - PostgreSQL and SQLite (update and delete), MariaDB (hard delete): the
//     statement itself runs with a RETURNING clause of the key (every column
//     for an owned model), through the plugin's pool; nothing else is sent.
//   - Otherwise (MariaDB and MySQL updates, MySQL deletes, other dialects)
//     it reads the rows the WHERE clause selects, in the statement's
//     transaction, locking them as the statement will (FOR UPDATE; none on
//     SQLite), respecting soft delete and Unscoped. When that read fails,
//     its error (the driver's own) becomes the statement's error and GORM
//     does not run the statement.
func (p *Plugin) beforeChange(db *gorm.DB, del bool) {
	mi := p.tracked(db)
	if mi == nil {
		return
	}
	// Always set (or clear) the result: a statement executed twice must
	// not see what was learnt for its first execution.
	var c *change
	defer func() { db.InstanceSet(foundKey, c) }()
	if mi.err != nil || db.Error != nil || mi.pk == nil {
		return
	}
	stmt := db.Statement
	ctx := stmt.Context
	if _, ok := userFrom(ctx); ok && !mi.hasOwner() {
		c = &change{ctxUser: true}
		return
	}
	conds, pks, keyed := targets(db, mi)
	ret, conn := p.canReturn(db, del)
	if keyed && len(conds) == 0 && !mi.hasOwner() && (!ret || len(pks) <= 1) {
		return // the model value names every row: no read needed
	}
	if len(pks) > 0 {
		conds = append(conds, clause.IN{Column: clause.PrimaryColumn, Values: pks})
	}
	if len(conds) == 0 && !db.AllowGlobalUpdate {
		return // GORM refuses the statement (ErrMissingWhereClause)
	}
	if ret {
		c = p.returningChange(db, mi, conn)
		return
	}
	rows, err := preRead(db, mi, conds, del)
	if err != nil {
		db.AddError(err) // the statement fails with the read's error, unrun
		return
	}
	c = &change{rows: rows}
}

// statementRan runs right after GORM's update or delete statement: it
// closes the RETURNING request and gives the statement back its own
// context and pool, before associations and AfterUpdate/AfterDelete hooks
// run.
func (p *Plugin) statementRan(db *gorm.DB) {
	v, _ := db.InstanceGet(foundKey)
	c, _ := v.(*change)
	if c == nil || c.ret == nil {
		return
	}
	c.ret.close()
	db.Statement.Context = c.ctx
	if c.pool != nil {
		db.Statement.ConnPool = c.pool
	}
}

// targets returns the statement's WHERE conditions and the primary keys of
// its model value; keyed is true when the model value holds rows that all
// have a key.
func targets(db *gorm.DB, mi *modelInfo) (conds []clause.Expression, pks []any, keyed bool) {
	stmt := db.Statement
	eachRow(stmt.ReflectValue, mi.typ, func(row reflect.Value) {
		keyed = true
		if v, zero := mi.pk.ValueOf(stmt.Context, row); !zero {
			pks = append(pks, v)
		} else {
			keyed = false
		}
	})
	if keyed && len(pks) == 0 {
		keyed = false
	}
	if c, ok := stmt.Clauses["WHERE"]; ok {
		if w, ok := c.Expression.(clause.Where); ok {
			conds = append(conds, w.Exprs...)
		}
	}
	return conds, pks, keyed
}

// returningChange sets the statement up to run with RETURNING through
// conn, the plugin's pool or transaction under the statement's pool.
func (p *Plugin) returningChange(db *gorm.DB, mi *modelInfo, conn gorm.ConnPool) *change {
	stmt := db.Statement
	table := stmt.Quote(stmt.Table)
	cols := stmt.Quote(mi.pk.DBName)
	if mi.hasOwner() {
		cols = "*" // the owner method may read any field
	}
	sch := stmt.Schema
	base := db.Session(&gorm.Session{NewDB: true, SkipHooks: true})
	r := &returning{
		prefixes: [2]string{"UPDATE " + table, "DELETE FROM " + table},
		suffix:   " RETURNING " + cols,
		scan: func(rows *sql.Rows) (reflect.Value, error) {
			dest := reflect.New(reflect.SliceOf(mi.typ))
			q := base.Model(dest.Interface())
			q.Statement.Dest = dest.Interface()
			q.Statement.ReflectValue = dest.Elem()
			q.Statement.Schema = sch
			gorm.Scan(rows, q, 0)
			return dest, errors.Join(q.Error, rows.Err())
		},
	}
	c := &change{ret: r, ctx: stmt.Context}
	if conn != stmt.ConnPool {
		c.pool = stmt.ConnPool
		stmt.ConnPool = conn
	}
	stmt.Context = withReturning(stmt.Context, r)
	return c
}

// canReturn reports whether the statement can learn its rows with
// RETURNING, and the plugin's pool or transaction to run it on.
func (p *Plugin) canReturn(db *gorm.DB, del bool) (bool, gorm.ConnPool) {
	stmt := db.Statement
	switch db.Dialector.Name() {
	case "postgres", "sqlite":
	case "mysql":
		// MariaDB has DELETE ... RETURNING but no UPDATE ... RETURNING;
		// a soft delete is an UPDATE.
		if !del || !p.isMariaDB(db) || (len(stmt.Schema.DeleteClauses) > 0 && !stmt.Unscoped) {
			return false, nil
		}
	default:
		return false, nil
	}
	if _, ok := stmt.Clauses["RETURNING"]; ok || stmt.TableExpr != nil || stmt.Table == "" || stmt.SQL.Len() > 0 || db.DryRun {
		return false, nil
	}
	conn := ownConn(stmt.ConnPool)
	return conn != nil, conn
}

// ownConn returns the plugin's pool or transaction under cp (itself, or
// under GORM's prepared-statement wrappers), or nil.
func ownConn(cp gorm.ConnPool) gorm.ConnPool {
	switch v := cp.(type) {
	case *pool, *txConn:
		return v
	case *gorm.PreparedStmtTX:
		if t, ok := v.Tx.(*txConn); ok {
			return t
		}
	case *gorm.PreparedStmtDB:
		if p, ok := v.ConnPool.(*pool); ok {
			return p
		}
	}
	return nil
}

// preRead reads, in the statement's transaction, the rows conds select,
// locked as the statement will lock them: FOR UPDATE (FOR NO KEY UPDATE
// for a PostgreSQL update), nothing on SQLite.
func preRead(db *gorm.DB, mi *modelInfo, conds []clause.Expression, del bool) (reflect.Value, error) {
	stmt := db.Statement
	q := db.Session(&gorm.Session{NewDB: true, SkipHooks: true, Context: stmt.Context})
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
	switch db.Dialector.Name() {
	case "sqlite":
	case "postgres":
		if del {
			q = q.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate})
		} else {
			q = q.Clauses(clause.Locking{Strength: lockNoKeyUpdate})
		}
	default:
		q = q.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate})
	}
	dest := reflect.New(reflect.SliceOf(mi.typ))
	err := q.Find(dest.Interface()).Error
	return dest, err
}

// lockNoKeyUpdate is PostgreSQL's row lock of an UPDATE that changes no
// key column.
const lockNoKeyUpdate = "NO KEY UPDATE"
