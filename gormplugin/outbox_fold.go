package bitmapistplugin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// A fold writes the outbox rows of one PostgreSQL Create inside the
// Create's own statement, so that WithOutbox costs no database round trip
// of its own: the INSERT runs as a data-modifying CTE whose RETURNING rows
// feed the outbox INSERT, and the statement returns exactly what the
// INSERT returned (the same rows in the same order, or for a statement
// without RETURNING the same rows-affected count):
//
//	WITH bitmapist_rows AS (<the INSERT> [RETURNING <key>]),
//	bitmapist_ob AS (INSERT INTO <outbox> (...) SELECT ... FROM bitmapist_rows)
//	SELECT * FROM bitmapist_rows          -- or SELECT FROM ..., run as Exec
//
// Only Creates whose marks the SQL can compute exactly as marksFor does
// are folded: an integer primary key (rows with keys 1..MaxUserID are
// marked) or a WithUser/WithUserKey user, no owner method, no ON CONFLICT
// clause (which marks every row given, inserted or not), no raw SQL or
// table expression. Every other statement keeps the INSERT into the outbox
// staged at commit (stageOutbox).
type fold struct {
	o      *outbox
	stmt   *gorm.Statement
	prefix string // "INSERT INTO <table>"
	pk     string // the quoted key column
	pkName string // its column name
	user   *rowID // the context user every row is marked for, or nil: the key
	event  string

	at          time.Time // the marks' time: WithTime's, or the statement's
	provisional bool      // at is the statement's time, to be checked at commit
	notBefore   int64     // the rows' lease, Unix ms
	batch       int64

	ctx  context.Context // the statement's own context
	pool gorm.ConnPool   // the statement's own pool, when replaced

	mu     sync.Mutex
	closed bool // served a statement, or its statement is over
	ran    bool // its statement ran folded and succeeded
}

type foldKey struct{}

// foldInstance is the InstanceGet key of a statement's fold.
const foldInstance = PluginName + ":fold"

// beforeCreate runs between GORM's save_before_associations and create:
// it sets a foldable Create up to run folded (through the plugin's pool or
// transaction, past PrepareStmt's cache), and always records the result,
// so that a statement executed twice does not see its first fold.
func (p *Plugin) beforeCreate(db *gorm.DB) {
	var f *fold
	defer func() { db.InstanceSet(foldInstance, f) }()
	f = p.newFold(db)
	if f == nil {
		return
	}
	stmt := db.Statement
	f.ctx = stmt.Context
	if conn := ownConn(stmt.ConnPool); conn != stmt.ConnPool {
		f.pool = stmt.ConnPool
		stmt.ConnPool = conn
	}
	stmt.Context = context.WithValue(stmt.Context, foldKey{}, f)
}

// ranCreate runs right after GORM's create: it closes the fold and gives
// the statement back its own context and pool.
func (p *Plugin) ranCreate(db *gorm.DB) {
	f := foldOf(db)
	if f == nil {
		return
	}
	f.close()
	db.Statement.Context = f.ctx
	if f.pool != nil {
		db.Statement.ConnPool = f.pool
	}
}

// foldOf returns the statement's fold, if it has one.
func foldOf(db *gorm.DB) *fold {
	v, _ := db.InstanceGet(foldInstance)
	f, _ := v.(*fold)
	return f
}

// newFold returns the fold of a Create that can be folded, or nil.
func (p *Plugin) newFold(db *gorm.DB) *fold {
	o := p.outbox
	if o == nil || o.d.name != "postgres" || db.Dialector.Name() != "postgres" {
		return nil
	}
	mi := p.tracked(db)
	stmt := db.Statement
	if mi == nil || mi.err != nil || mi.pk == nil || mi.hasOwner() || db.Error != nil || db.DryRun ||
		stmt.SQL.Len() > 0 || stmt.Table == "" || ownConn(stmt.ConnPool) == nil {
		return nil
	}
	if _, ok := stmt.Clauses["ON CONFLICT"]; ok {
		return nil
	}
	table := stmt.Quote(stmt.Table)
	if e := stmt.TableExpr; e != nil { // db.Table(name): the INSERT names e
		if len(e.Vars) > 0 {
			return nil
		}
		table = e.SQL
	}
	f := &fold{o: o, stmt: stmt, event: mi.created, pkName: mi.pk.DBName, pk: stmt.Quote(mi.pk.DBName),
		prefix: "INSERT INTO " + table}
	if u, ok := userFrom(stmt.Context); ok {
		id := rowID(u)
		if id.key == "" && id.id > bitmapist.MaxUserID {
			return nil // marksFor reports it
		}
		f.user = &id
	} else if !integerKind(mi.pk.FieldType) {
		return nil
	}
	f.at = timeFrom(stmt.Context)
	if f.at.IsZero() {
		f.at, f.provisional = p.client.Now(), true
	}
	return f
}

// integerKind reports whether t (or what it points to) is an integer type.
func integerKind(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// close stops f from serving any later statement.
func (f *fold) close() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
}

// succeeded reports whether f's statement ran folded and succeeded.
func (f *fold) succeeded() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ran
}

// foldFrom returns the fold in ctx that claims query, if any: the first
// statement that starts with its INSERT.
func foldFrom(ctx context.Context, query string) *fold {
	if ctx == nil {
		return nil
	}
	f, _ := ctx.Value(foldKey{}).(*fold)
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || !hasStmtPrefix(query, f.prefix) {
		return nil
	}
	f.closed = true
	return f
}

// hasStmtPrefix reports whether query starts with p (case-insensitively)
// followed by white space or its end.
func hasStmtPrefix(query, p string) bool {
	head := strings.TrimLeft(query, " \t\r\n")
	return len(head) >= len(p) && strings.EqualFold(head[:len(p)], p) &&
		(len(head) == len(p) || strings.ContainsRune(" \t\r\n", rune(head[len(p)])))
}

// Names in the folded SQL.
const (
	foldHead = "WITH bitmapist_rows AS ("
	foldRows = "bitmapist_rows"
)

// rewrite returns query folded with the outbox INSERT, with the arguments
// to append to the statement's, or ok false when this form of statement is
// not folded (it then runs as it is). exec is true for a statement run
// with ExecContext (no RETURNING), false for QueryContext.
func (f *fold) rewrite(query string, nargs int, exec bool) (string, []any, bool) {
	c, has := f.stmt.Clauses["RETURNING"]
	if has == exec {
		return "", nil, false
	}
	var b strings.Builder
	b.WriteString(foldHead)
	b.WriteString(query)
	if exec {
		b.WriteString(" RETURNING " + f.pk)
	} else if ret, _ := c.Expression.(clause.Returning); !returnsColumn(ret, f.pkName) {
		return "", nil, false
	}
	ph := func(i int) string { return "$" + strconv.Itoa(nargs+i) }
	b.WriteString("), bitmapist_ob AS (INSERT INTO " + f.o.d.table +
		" (batch, seq, event, user_id, user_key, at_ms, not_before, target) SELECT " +
		ph(1) + "::bigint, (row_number() OVER ())::integer - 1, " + ph(2) + "::text, ")
	f.batch = newBatchID()
	f.notBefore = time.Now().Add(f.o.lease).UnixMilli()
	args := []any{f.batch, f.event, f.at.UnixMilli(), f.notBefore, f.o.d.target}
	if f.user != nil {
		b.WriteString(ph(6) + "::bigint, " + ph(7) + "::text, ")
		args = append(args, int64(f.user.id), f.user.key)
	} else {
		b.WriteString(foldRows + "." + f.pk + "::bigint, '', ")
	}
	b.WriteString(ph(3) + "::bigint, " + ph(4) + "::bigint, " + ph(5) + "::text FROM " + foldRows)
	if f.user == nil {
		b.WriteString(" WHERE " + foldRows + "." + f.pk + " BETWEEN 1 AND " + strconv.FormatUint(bitmapist.MaxUserID, 10))
	}
	if exec {
		b.WriteString(") SELECT FROM " + foldRows)
	} else {
		b.WriteString(") SELECT * FROM " + foldRows)
	}
	return b.String(), args, true
}

// returnsColumn reports whether ret returns column name (RETURNING * or
// a plain column of that name).
func returnsColumn(ret clause.Returning, name string) bool {
	if len(ret.Columns) == 0 {
		return true
	}
	for _, c := range ret.Columns {
		if !c.Raw && (c.Name == name || c.Name == "*") && c.Table == "" {
			return true
		}
	}
	return false
}

// foldQuery runs f's statement folded through q.QueryContext, or as it is
// when its form is not folded.
func foldQuery(ctx context.Context, q queryer, f *fold, query string, args []any) (*sql.Rows, error) {
	folded, extra, ok := f.rewrite(query, len(args), false)
	if !ok {
		return q.QueryContext(ctx, query, args...)
	}
	rows, err := q.QueryContext(ctx, folded, append(args[:len(args):len(args)], extra...)...)
	if err != nil {
		return nil, f.attribute(err, utf8.RuneCountInString(query))
	}
	f.mu.Lock()
	f.ran = true
	f.mu.Unlock()
	return rows, nil
}

// foldExec runs f's statement folded through q.ExecContext, or as it is
// when its form is not folded.
func foldExec(ctx context.Context, q execer, f *fold, query string, args []any) (sql.Result, error) {
	folded, extra, ok := f.rewrite(query, len(args), true)
	if !ok {
		return q.ExecContext(ctx, query, args...)
	}
	res, err := q.ExecContext(ctx, folded, append(args[:len(args):len(args)], extra...)...)
	if err != nil {
		return nil, f.attribute(err, utf8.RuneCountInString(query))
	}
	f.mu.Lock()
	f.ran = true
	f.mu.Unlock()
	return res, nil
}

// attribute returns the error of a folded statement: the plugin's error
// (wrapping the driver's) when the outbox INSERT caused it (its position
// lies in the SQL the fold added, it names the outbox table), else the
// driver's error as it is, its Position moved back to the statement's own
// SQL, so that the statement fails exactly as it would have unfolded.
func (f *fold) attribute(err error, userChars int) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	head := int32(len(foldHead))
	switch {
	case pe.Position > head+int32(userChars), f.o.d.names(pe):
		return fmt.Errorf("bitmapistplugin: outbox insert: %w", err)
	case pe.Position > head:
		pe.Position -= head
	}
	return err
}

// names reports whether pe is about the outbox table: a constraint of it
// (TableName), or an error that names it in its message (permission
// denied, relation does not exist).
func (d outboxDialect) names(pe *pgconn.PgError) bool {
	name := d.table[strings.LastIndex(d.table, ".")+1:]
	name = strings.Trim(name, `"`)
	if pe.TableName == name {
		return true
	}
	re := regexp.MustCompile(`(^|[^A-Za-z0-9_$])` + regexp.QuoteMeta(name) + `($|[^A-Za-z0-9_$])`)
	return strings.HasPrefix(pe.Code, "42") && re.MatchString(pe.Message)
}

// refresh brings the outbox rows of a committing transaction's folded
// statements up to date, through x (the transaction), just before its
// COMMIT, as if they had been written then: rows whose time is the
// statement's (no WithTime) get the commit time when it falls in another
// hour of the client's location (the same hour makes the same bitmaps:
// nothing to do), and rows whose lease has run more than half out get a
// new one. It changes the marks' time accordingly. A transaction that
// commits right after its statements (GORM's own, around one Create)
// sends nothing here.
func (o *outbox) refresh(ctx context.Context, x execer, folds []foldRec, marks []pendingMark) error {
	now := o.p.client.Now()
	wall := time.Now()
	notBefore := wall.Add(o.lease).UnixMilli()
	var retime, relet []int64
	for _, f := range folds {
		switch {
		case f.provisional && !sameHour(marks[f.start].at, now, o.p.client.Location()):
			retime = append(retime, f.batch)
			for i := f.start; i < f.start+f.n; i++ {
				marks[i].at = now
			}
		case f.notBefore-wall.UnixMilli() < o.lease.Milliseconds()/2:
			relet = append(relet, f.batch)
		}
	}
	if len(retime) > 0 {
		at := now.UnixMilli()
		if err := o.d.relet(ctx, x, retime, &at, notBefore); err != nil {
			return err
		}
	}
	if len(relet) > 0 {
		return o.d.relet(ctx, x, relet, nil, notBefore)
	}
	return nil
}

// sameHour reports whether a and b fall in the same hour of loc, and so
// in the same bitmaps of every period.
func sameHour(a, b time.Time, loc *time.Location) bool {
	a, b = a.In(loc), b.In(loc)
	return a.Year() == b.Year() && a.YearDay() == b.YearDay() && a.Hour() == b.Hour()
}
