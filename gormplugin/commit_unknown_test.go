package bitmapistplugin_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
)

// TestCommitCancelledInFlight cancels a Create's context while its COMMIT
// runs on PostgreSQL (a deferred constraint trigger makes COMMIT take
// 600 ms): the transaction usually commits (a late cancel request may
// abort it), the application sees an error, and the plugin must report its
// mark as of unknown outcome, neither sending it nor dropping it silently.
func TestCommitCancelledInFlight(t *testing.T) {
	dsn, ok := testutil.PostgresDSN(t)
	if !ok {
		t.Skip("needs PostgreSQL: set " + testutil.EnvPostgresDSN)
	}
	dc := dbCase{name: "postgres", open: func(testing.TB) gorm.Dialector { return postgres.Open(dsn) }}
	e := newEnv(t, dc, testutil.Miniredis(t), nil)
	table := e.db.NamingStrategy.TableName("User")
	fn := table + "_slow_commit"
	for _, q := range []string{
		fmt.Sprintf(`CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN BEGIN PERFORM pg_sleep(0.6); EXCEPTION WHEN query_canceled THEN RAISE WARNING 'cancel ignored'; END; RETURN NULL; END $$`, fn),
		fmt.Sprintf(`CREATE CONSTRAINT TRIGGER %s AFTER INSERT ON %s DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION %s()`, fn, table, fn),
	} {
		wantOK(t, e.db.Exec(q))
	}
	t.Cleanup(func() { e.db.Exec(fmt.Sprintf(`DROP FUNCTION IF EXISTS %s() CASCADE`, fn)) })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancel 150 ms after the INSERT, while COMMIT sleeps in the trigger.
	err := e.db.Callback().Create().Before("gorm:commit_or_rollback_transaction").Register("test:cancel_soon", func(db *gorm.DB) {
		if db.Error == nil && db.Statement.Context == ctx {
			time.AfterFunc(150*time.Millisecond, cancel)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	u := User{Name: "in doubt"}
	err = e.db.WithContext(ctx).Create(&u).Error
	t.Logf("Create: %v (%T)", err, err)
	if err == nil {
		t.Fatal("Create returned nil although its context was cancelled during COMMIT")
	}
	// The server usually finishes the commit on its own, but pgx's cancel
	// request can also reach it after the trigger's guard and abort the
	// COMMIT: the outcome is truly unknown to the client, which is why the
	// plugin must neither send the mark (a phantom if it aborted) nor drop
	// it silently (a lost mark if it committed). Either row count is the
	// database's; the plugin's side is checked below in both cases.
	var n int64
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		wantOK(t, e.db.Model(&User{}).Count(&n))
		if n > 0 {
			break
		}
	}
	if n > 1 {
		t.Fatalf("%d rows after the cancelled commit, want 1 (committed) or 0 (aborted by the cancel); reported %v", n, e.errs.all())
	}
	t.Logf("rows after the cancelled commit: %d", n)
	e.want(t, "user:created") // not sent: it may have been a phantom
	if got := e.p.UnknownMarks(); got != 1 {
		t.Errorf("UnknownMarks = %d, want 1", got)
	}
	if got := e.p.FailedMarks(); got != 0 {
		t.Errorf("FailedMarks = %d, want 0", got)
	}
	errs := e.errs.all()
	var ce *bitmapistplugin.CommitUnknownError
	if len(errs) != 1 || !errors.As(errs[0], &ce) || ce.Marks != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Errorf("reported %v, want one CommitUnknownError of 1 mark wrapping context.Canceled", errs)
	}
}
