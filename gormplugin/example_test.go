package bitmapistplugin_test

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	sqlite "github.com/glebarez/sqlite" // pure Go: no C compiler needed
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// The whole set-up is three lines: a Redis client, db.Use, and a model
// embedding bitmapist.Tracked. Every committed create, update and delete of
// a User is then marked as user:created, user:updated or user:deleted.
// Marks are sent when the commit succeeds, before Create (or Update,
// Delete, Transaction) returns, so they can be counted at once: no Flush
// or Close is needed. A rolled-back transaction marks nothing.
func Example() {
	mr, err := miniredis.Run() // stands in for a real Redis here
	if err != nil {
		panic(err)
	}
	defer mr.Close()
	db, err := gorm.Open(sqlite.Open("file:example?mode=memory&cache=shared"), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		panic(err)
	}

	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	db.Use(bitmapistplugin.New(rdb))
	type User struct {
		ID   uint
		Name string
		bitmapist.Tracked
	}

	if err := db.AutoMigrate(&User{}); err != nil {
		panic(err)
	}
	users := []User{{Name: "ann"}, {Name: "bob"}, {Name: "cid"}}
	db.Create(&users)
	db.Model(&users[0]).Update("name", "Ann")
	db.Delete(&users[2])
	db.Transaction(func(tx *gorm.DB) error {
		tx.Create(&User{Name: "rolled back"})
		return fmt.Errorf("changed my mind")
	})

	ctx := context.Background()
	c := bitmapist.New(rdb)
	for _, event := range []string{"user:created", "user:updated", "user:deleted"} {
		day := c.Day(event, time.Now())
		n, err := day.Count(ctx)
		if err != nil {
			panic(err)
		}
		ids, err := day.IDs(ctx)
		if err != nil {
			panic(err)
		}
		fmt.Println(event, n, ids)
	}
	// Output:
	// user:created 3 [1 2 3]
	// user:updated 1 [1]
	// user:deleted 1 [3]
}
