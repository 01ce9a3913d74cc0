package bitmapistplugin_test

import (
	"testing"

	"gorm.io/gorm"
)

func TestUntrackedWritesMarkNothing(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		p := Plain{Name: "p"}
		wantOK(t, e.db.Create(&p))
		wantOK(t, e.db.Model(&p).Update("name", "q"))
		wantOK(t, e.db.Where("name = ?", "q").Delete(&Plain{}))

		users := e.db.Config.NamingStrategy.TableName("User")
		wantOK(t, e.db.Table(users).Create(map[string]any{"name": "raw", "age": 1}))
		wantOK(t, e.db.Table(users).Where("age = ?", 1).Updates(map[string]any{"name": "raw2"}))
		wantOK(t, e.db.Exec("UPDATE "+users+" SET age = 2"))
		wantOK(t, e.db.Exec("DELETE FROM "+users))
		err := e.db.Transaction(func(tx *gorm.DB) error {
			return tx.Exec("INSERT INTO "+users+" (name, age) VALUES (?, ?)", "raw3", 3).Error
		})
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		wantOK(t, e.db.Model(&User{}).Count(&n))
		if n != 1 {
			t.Fatalf("%d user rows, want 1 (the raw insert)", n)
		}
		if names := e.eventNames(t); len(names) != 0 {
			t.Errorf("untracked writes marked %v", names)
		}
		e.noErrors(t)
	})
}
