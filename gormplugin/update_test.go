package bitmapistplugin_test

import (
	"context"
	"testing"

	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"gorm.io/gorm"
)

// fiveUsers creates users aged 1..5 and returns them.
func fiveUsers(t *testing.T, e *env) []User {
	t.Helper()
	users := []User{{Name: "u1", Age: 1}, {Name: "u2", Age: 2}, {Name: "u3", Age: 3}, {Name: "u4", Age: 4}, {Name: "u5", Age: 5}}
	wantOK(t, e.db.Create(&users))
	return users
}

func TestUpdateWaysOnModelWithKey(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		users := fiveUsers(t, e)
		wantOK(t, e.db.Model(&users[0]).Update("name", "x"))
		wantOK(t, e.db.Model(&users[1]).Updates(User{Name: "y", Age: 20}))
		wantOK(t, e.db.Model(&users[2]).Updates(map[string]any{"name": "z"}))
		wantOK(t, e.db.Model(&users[3]).UpdateColumn("age", 40))
		e.want(t, "user:updated", uint64(users[0].ID), uint64(users[1].ID), uint64(users[2].ID), uint64(users[3].ID))
		wantOK(t, e.db.Model(&users[4]).UpdateColumns(User{Age: 50}))
		e.want(t, "user:updated", idsOf(users, userID)...)
		e.noErrors(t)
	})
}

func TestUpdateByConditionMarksExactlyTheChangedRows(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		users := fiveUsers(t, e)
		res := wantOK(t, e.db.Model(&User{}).Where("age > ?", 3).Update("name", "senior"))
		if res.RowsAffected != 2 {
			t.Fatalf("RowsAffected = %d, want 2", res.RowsAffected)
		}
		e.want(t, "user:updated", uint64(users[3].ID), uint64(users[4].ID))
		e.noErrors(t)
	})
}

func TestUpdateByConditionWithKeyAndWhere(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		users := fiveUsers(t, e)
		// The key names row 1, the condition excludes it: nothing changes.
		res := wantOK(t, e.db.Model(&users[0]).Where("age > ?", 3).Update("name", "no"))
		if res.RowsAffected != 0 {
			t.Fatalf("RowsAffected = %d, want 0", res.RowsAffected)
		}
		e.want(t, "user:updated")
		wantOK(t, e.db.Model(&users[4]).Where("age > ?", 3).Update("name", "yes"))
		e.want(t, "user:updated", uint64(users[4].ID))
	})
}

func TestUpdateMatchingNothingMarksNothing(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		fiveUsers(t, e)
		wantOK(t, e.db.Model(&User{}).Where("age > ?", 100).Update("name", "none"))
		wantOK(t, e.db.Model(&User{ID: 9999}).Update("name", "none"))
		e.want(t, "user:updated")
		e.noErrors(t)
	})
}

func TestUpdateWithoutWhereIsRefusedAndUnmarked(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		fiveUsers(t, e)
		err := e.db.Model(&User{}).Update("name", "all").Error
		if err == nil {
			t.Fatal("global update allowed")
		}
		e.want(t, "user:updated")
		// With AllowGlobalUpdate every row is changed and marked.
		wantOK(t, e.db.Session(&gorm.Session{AllowGlobalUpdate: true}).Model(&User{}).Update("name", "all"))
		if n := len(e.ids(t, "user:updated")); n != 5 {
			t.Errorf("%d rows marked updated, want 5", n)
		}
	})
}

func TestUpdateSoftDeletedRowsAreNotTouched(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		rows := []SoftUser{{Name: "a", Age: 1}, {Name: "b", Age: 2}, {Name: "c", Age: 3}}
		wantOK(t, e.db.Create(&rows))
		wantOK(t, e.db.Delete(&rows[0]))
		res := wantOK(t, e.db.Model(&SoftUser{}).Where("age < ?", 3).Update("name", "x"))
		if res.RowsAffected != 1 {
			t.Fatalf("RowsAffected = %d, want 1", res.RowsAffected)
		}
		e.want(t, "softuser:updated", uint64(rows[1].ID))
		wantOK(t, e.db.Unscoped().Model(&SoftUser{}).Where("age < ?", 3).Update("name", "y"))
		e.want(t, "softuser:updated", uint64(rows[0].ID), uint64(rows[1].ID))
	})
}

func TestUpdateWithContextUser(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		posts := []Post{{Title: "a"}, {Title: "b"}}
		wantOK(t, e.db.Create(&posts))
		ctx := bitmapistplugin.WithUser(context.Background(), 77)
		wantOK(t, e.db.WithContext(ctx).Model(&Post{}).Where("title = ?", "b").Update("title", "B"))
		e.want(t, "post:updated", 77)
		wantOK(t, e.db.WithContext(ctx).Model(&Post{}).Where("title = ?", "zzz").Update("title", "Z"))
		e.want(t, "post:updated", 77)
	})
}
