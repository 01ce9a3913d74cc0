package bitmapistplugin_test

import (
	"context"
	"testing"

	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
)

func TestDeleteRow(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		users := fiveUsers(t, e)
		wantOK(t, e.db.Delete(&users[0]))
		e.want(t, "user:deleted", uint64(users[0].ID))
		e.noErrors(t)
	})
}

func TestDeleteByKeyOnly(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		users := fiveUsers(t, e)
		wantOK(t, e.db.Delete(&User{}, users[2].ID))
		e.want(t, "user:deleted", uint64(users[2].ID))
		wantOK(t, e.db.Delete(&User{}, []uint{users[3].ID, users[4].ID}))
		e.want(t, "user:deleted", uint64(users[2].ID), uint64(users[3].ID), uint64(users[4].ID))
		e.noErrors(t)
	})
}

func TestDeleteMissingIDMarksNothing(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		fiveUsers(t, e)
		res := wantOK(t, e.db.Delete(&User{}, 987654))
		if res.RowsAffected != 0 {
			t.Fatalf("RowsAffected = %d", res.RowsAffected)
		}
		wantOK(t, e.db.Delete(&User{ID: 987655}))
		e.want(t, "user:deleted")
		e.noErrors(t)
	})
}

func TestDeleteByCondition(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		users := fiveUsers(t, e)
		res := wantOK(t, e.db.Where("age <= ?", 2).Delete(&User{}))
		if res.RowsAffected != 2 {
			t.Fatalf("RowsAffected = %d, want 2", res.RowsAffected)
		}
		e.want(t, "user:deleted", uint64(users[0].ID), uint64(users[1].ID))
		wantOK(t, e.db.Delete(&User{}, "name = ?", "u5"))
		e.want(t, "user:deleted", uint64(users[0].ID), uint64(users[1].ID), uint64(users[4].ID))
		e.noErrors(t)
	})
}

func TestSoftDeleteAndUnscopedHardDelete(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		rows := []SoftUser{{Name: "a", Age: 1}, {Name: "b", Age: 2}, {Name: "c", Age: 3}}
		wantOK(t, e.db.Create(&rows))
		wantOK(t, e.db.Delete(&rows[0]))
		e.want(t, "softuser:deleted", uint64(rows[0].ID))
		var left int64
		wantOK(t, e.db.Unscoped().Model(&SoftUser{}).Count(&left))
		if left != 3 {
			t.Fatalf("soft delete removed the row: %d rows left", left)
		}

		// Deleting the soft-deleted row again changes nothing: no mark
		// (timed on another day so that a mark would show).
		day2 := testNow.AddDate(0, 0, 1)
		ctx2 := bitmapistplugin.WithTime(context.Background(), day2)
		wantOK(t, e.db.WithContext(ctx2).Delete(&SoftUser{}, rows[0].ID))
		wantOK(t, e.db.WithContext(ctx2).Where("age = ?", 1).Delete(&SoftUser{}))
		if got := e.idsOn(t, "softuser:deleted", day2); len(got) != 0 {
			t.Errorf("second soft delete marked %v", got)
		}

		// Unscoped deletes for real, including the soft-deleted row.
		day3 := testNow.AddDate(0, 0, 2)
		ctx3 := bitmapistplugin.WithTime(context.Background(), day3)
		res := wantOK(t, e.db.WithContext(ctx3).Unscoped().Where("age <= ?", 2).Delete(&SoftUser{}))
		if res.RowsAffected != 2 {
			t.Fatalf("RowsAffected = %d, want 2", res.RowsAffected)
		}
		if got, want := e.idsOn(t, "softuser:deleted", day3), []uint64{uint64(rows[0].ID), uint64(rows[1].ID)}; !equalIDs(got, want) {
			t.Errorf("unscoped delete marked %v, want %v", got, want)
		}
		wantOK(t, e.db.Unscoped().Model(&SoftUser{}).Count(&left))
		if left != 1 {
			t.Errorf("%d rows left, want 1", left)
		}
		e.noErrors(t)
	})
}

func TestDeleteWithLimitMarksOnlyDeletedRows(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		if e.db0 != "mysql" {
			t.Skip("DELETE ... ORDER BY ... LIMIT is MySQL syntax")
		}
		users := fiveUsers(t, e)
		wantOK(t, e.db.Order("age desc").Limit(2).Where("age > ?", 0).Delete(&User{}))
		e.want(t, "user:deleted", uint64(users[3].ID), uint64(users[4].ID))
	})
}
