// Package bitmapistplugin is a GORM plugin that records bitmapist events
// for the rows the database really committed: the Go take on the
// Bitmapistable SQLAlchemy mixin of flask-bitmapist (the Flask extension of
// Python bitmapist), without its defect of marking at flush time, so that a
// rolled-back transaction still recorded its events.
//
// Set-up is one call:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	db.Use(bitmapistplugin.New(rdb))
//
// and a model opts in by embedding bitmapist.Tracked:
//
//	type User struct {
//		ID uint
//		bitmapist.Tracked
//	}
//
// # Events
//
// For a tracked model the plugin marks <prefix>:created, <prefix>:updated
// and <prefix>:deleted, where <prefix> is the lower-cased Go type name
// (User → user:created), as flask-bitmapist does; a model can choose its
// own prefix with a BitmapistEventPrefix method (EventPrefixer). Each
// written row is marked for one user id:
//
//  1. its owner, when the model names one (UserOwned's BitmapistUserID or
//     UserKeyOwned's BitmapistUserKey): an Order of user 7 marks
//     order:created for 7;
//  2. else the user in the statement's context (WithUser, WithUserKey via
//     db.WithContext);
//  3. else its primary key: integers as they are (1 .. bitmapist.MaxUserID),
//     strings, UUIDs and other fmt.Stringer keys through the bitmapist id
//     map (WithIDMap, default "users").
//
// A zero id is not marked. The event time is the time of the commit (by
// the bitmapist client's clock), or the time in the context (WithTime) for
// imports and replays.
//
// # What is tracked
//
// Every way GORM writes through a model: Create of a row, a slice and
// CreateInBatches; Save (an existing row is updated; a new one, which GORM
// writes as an update of 0 rows followed by an insert, is created only);
// Update, Updates, UpdateColumn and UpdateColumns; Delete of a row, by key
// (Delete(&User{}, 6)) or by condition; soft delete (counted as deleted)
// and Unscoped hard delete. For an update or delete whose rows the model
// value does not name (by condition, Delete(&User{}, 6), an owned model,
// several rows) the plugin learns exactly the rows the statement changed,
// honouring soft delete and Unscoped:
//
//   - PostgreSQL and SQLite (updates, hard and soft deletes) and MariaDB
//     (hard deletes): the statement itself runs with RETURNING of the key
//     (every column for an owned model), through the plugin's connection
//     pool. No statement of the plugin's own is sent, so locking, deadlocks
//     and errors are exactly those of the statement.
//   - MariaDB/MySQL updates and soft deletes (MariaDB has no UPDATE ...
//     RETURNING, and a soft delete is an UPDATE), MySQL hard deletes and
//     other dialects: the rows the WHERE clause selects are read in the
//     statement's transaction just before it, with SELECT ... FOR UPDATE
//     and the same WHERE clause (ORDER BY and LIMIT included). InnoDB
//     locks the rows (and gaps) such a locking read scans exactly as the
//     UPDATE or DELETE that follows would (both are locking reads of the
//     latest committed rows), so the read takes, at the same point of the
//     transaction, the locks the statement would have taken, and the
//     statement then finds them held: a lock conflict or deadlock happens
//     where it would have happened, between the same transactions, with
//     the same victim (tested with the deadlock program and the random
//     workload on MariaDB). If that read fails (a deadlock victim, a lock
//     wait timeout) its error, the driver's own (*mysql.MySQLError 1213,
//     1205), becomes the statement's error and GORM does not run the
//     statement, as the statement itself would have failed.
//
// Whatever the plugin adds never turns a statement's error into another
// one: a deadlock stays 40P01 on PostgreSQL and 1213 on MariaDB, testable
// with errors.As, so retry loops keep working (tested by a seeded random
// workload run with and without the plugin, see docs/operations.md).
// Only statements that succeed and affect rows are marked.
//
// Not tracked: raw SQL (db.Exec, db.Raw), db.Table(...) writes with a map
// and no model, Create from a map, and models that do not embed
// bitmapist.Tracked. Such writes mark nothing and never fail because of the
// plugin. On MySQL/MariaDB an update that matches rows but changes no value
// reports 0 rows affected and is not marked; an update by condition that
// changes only some of the rows it matches marks all the matched rows.
// A Create with an ON CONFLICT clause (an upsert, and Save of a slice,
// which GORM writes as one) marks every row it was given as created once the
// statement affected any row: the database does not say which rows were
// inserted and which updated.
//
// # Transactions
//
// The plugin wraps the gorm.DB's connection pool, so every transaction
// GORM begins (its own per-statement transaction, db.Transaction,
// db.Begin) keeps the marks of its statements until its Commit succeeds
// and sends them then, in one bitmapist MarkEvents batch. Rollback drops
// them, and a nested db.Transaction that rolls back to its savepoint drops
// the marks made since the savepoint. Statements outside any transaction
// (SkipDefaultTransaction) send their marks as soon as they succeed.
// A commit whose outcome is unknown (the context was cancelled while
// COMMIT was in flight, the connection was lost during it) may or may not
// have committed: its marks are not sent but reported to the error handler
// as a *CommitUnknownError (errors.Is ErrCommitUnknown, and the driver's
// error) and counted by UnknownMarks; with WithOutbox they stay in the
// outbox, which commits with the rows.
//
// db.DB() still returns the *sql.DB. Install the plugin right after
// gorm.Open: *gorm.DB sessions derived before db.Use keep the unwrapped pool.
// Transactions begun outside the
// wrapped pool bypass this: db.Connection (a raw *sql.Conn) and plugins
// that swap the connection pool per statement (e.g. dbresolver); marks of
// statements in such transactions are sent when the statement ends, before
// the commit is known.
//
// # Sending and failures
//
// Redis never fails a database write, and the plugin has three ways of
// getting marks there:
//
//   - default: right after a transaction's commit succeeds, before
//     db.Create (or Save, Updates, Delete, Commit, db.Transaction) returns,
//     the committing goroutine sends its marks in one attempt bounded by
//     WithTimeout. A count read right after the write includes it, and a
//     program that exits right after its writes loses nothing (Flush and
//     Close are optional). Costs one Redis round trip per commit.
//   - WithQueue(n): a commit hands its marks to a bounded in-memory queue
//     and one goroutine sends them, merging waiting batches; commits never
//     wait for Redis. Call Flush before reading counts and Close before
//     exiting.
//   - WithOutbox (recommended for production): the marks are written to an
//     outbox table inside the transaction (one INSERT more; on PostgreSQL
//     a Create's marks go in the Create's own statement, no round trip
//     more), sent right
//     after the commit as in the default mode, and their rows deleted by the
//     relay in batches (one DELETE per 100 ms, off the commit path); what
//     could not be sent stays in the table and the relay sends it later,
//     retrying with backoff, also after a crash and restart. Call Flush to
//     wait until the table is empty and Close at shutdown. With WithQueue
//     too, commits do not wait for the send. Cost: one Redis round trip
//     per commit (plus one INSERT where a statement is not folded):
//     1.34x-1.39x a plain PostgreSQL Create, plain and plugin Creates
//     interleaved one by one (BenchmarkCreateVsPlain, 2-core test machine,
//     load 1.2-2.0, production client options below; the default mode
//     without an outbox row 1.18x-1.22x). Of the ~180 µs added, the Redis
//     MULTI/EXEC round trip is 82-114 µs, the folded outbox INSERT 40-51 µs
//     (see docs/benchmarks.md). With WithQueue too the commit does not
//     wait for Redis.
//
// In every mode a send runs on the goroutine that needs it (the
// committing one, the background sender, the relay) when the plugin's
// client is a *redis.Client made with ContextTimeoutEnabled: true and the
// marks need no id map (integer keys or owners): go-redis then ends every
// dial wait, pool wait, connection handshake, write and read by the send's
// deadline, so a commit never waits on a goroutine hand-off. Otherwise
// (the default go-redis options, which ignore a deadline while reading; a
// *redis.ClusterClient or *redis.Ring) each send runs on a goroutine of
// its own that its caller waits for at most WithTimeout plus 10 ms.
// Production set-up: redis.Options{DialerRetries: 1, MaxRetries: -1,
// ContextTimeoutEnabled: true}.
//
// What each mode loses, measured with the fault program
// (internal/faults/plugin: 200 Creates/s on PostgreSQL, a private Redis
// broken for 10 s per fault, WithTimeout(100ms); 2026-12-02 01:36, load
// average 2.5-3.8; details in docs/benchmarks.md). Marks of one fault are
// about 2,000 (200 rows/s for 10 s):
//
//	fault (10 s)                  default              WithQueue            WithOutbox
//	Redis killed                  2,022 lost           2,008 lost           none (1,864 sent later)
//	Redis paused (CLIENT PAUSE)   2,032 lost           2,027 lost           none (1,989 sent later)
//	Redis blackholed (no answer)  2,032 lost           2,008 lost           none (1,959 sent later)
//	Redis out of memory           1,978 lost           1,975 lost           none (1,926 sent later)
//	kill -9 of the application    sends in flight      the queued batches   none
//	  (1 s into a 2 s pause):     200 of 562 rows      200 of 573 rows      0 of 544 rows (195 outbox
//	  its rows without a mark     (mostly the pause's)                      rows sent after restart)
//	commit outcome unknown        reported, not sent   reported, not sent   none (sent if committed)
//	all rows of the run           8,058 of 18,931      8,017 of 18,831      0 of 18,494
//	                              without their mark   without their mark   without their mark
//
// Lost marks are counted (FailedMarks, Stats.Failed) and reported (a
// *SendError, or once per breaker opening); marks of a send that got no
// reply in time after it was sent (a timeout or lost connection after the
// write, a send that outlived its wait; the cause wraps
// bitmapist.ErrUnknownOutcome) may be in Redis and are counted apart
// (Stats.UnknownSent, SendError.Unknown), never as Failed. In the table
// above "lost" is rows without their mark, whichever counter they were in; no mode wrote a mark without
// its row (0 phantoms in all three), and no database write failed. In
// every mode the breaker opened once per fault and closed 58-248 ms after
// Redis was back (119-230 ms in the rerun on the final code, 08:55, outbox
// and default modes, inline sends).
//
// A circuit breaker (github.com/sony/gobreaker) guards every send, the
// background ones included: after WithBreaker's number of failed sends in
// a row (default 5; an error, or no answer within WithTimeout, default
// 500 ms) that went on for twice WithTimeout, at most 1 s (so that one
// short stall does not open it), it opens; when every one of them was a
// refused connection (a dial error: nothing was written) it opens after
// that number alone. Until it opens each of those commits waits for its
// send: with go-redis's default options a refused connection is redialled
// until WithTimeout ends (the first 5 commits wait 500 ms each, and report
// context.DeadlineExceeded as an unknown outcome, Stats.UnknownSent); a client made with
// DialerRetries: 1 and MaxRetries: -1 fails each at once with the dial
// error, so the breaker opens after 5 commits that waited for nothing.
// While it is open no commit spends time on
// Redis (measured: commit p99 while open minus that of writes without the
// plugin in the same seconds, compared with the same difference before the
// fault, -25.8 to +2.2 ms in all 12 faults of the 01:36 run; -5.4 to
// -0.6 ms in the 8 faults of the rerun on the final code, where the
// target is 5 ms). A background probe every 200 ms closes it: a PING (which
// dials and handshakes a connection when the pool has none, at most
// 300 ms), then a SET ... XX of a key that does not exist bounded by
// WithTimeout, as a send is; three in a row, 50 ms apart, must be
// answered in time. A Redis that answers, but later than WithTimeout (just
// after a pause, or on a machine too loaded to answer in time), keeps it
// open, since the sends would fail and open it again; once Redis answers
// at its usual speed it closes within a second.
// The error handler (WithErrorHandler, default log/slog) hears of each
// failed send while the breaker is closed (a *SendError),
// and then once when it opens and once when it closes (a *BreakerError),
// not once per commit; marks not sent meanwhile are counted (FailedMarks
// and Stats; with WithOutbox they stay in the outbox instead). A send that
// the Redis client lets overrun its deadline (a server that accepts but
// does not answer) holds its caller at most WithTimeout plus 10 ms and
// finishes in the background (Flush and Close wait for it). Marks are sent
// with a context that keeps the request's values but not its cancellation,
// so a request cancelled after its commit does not lose them.
//
// Stats reports what was sent, failed, of unknown outcome (commits, and
// sends), skipped (lost while the breaker was open), deferred (kept in the outbox while it was open) and is pending, and the
// breaker's state; WithMeterProvider exports the same as OpenTelemetry
// metrics.
package bitmapistplugin
