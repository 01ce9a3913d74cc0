package bitmapistplugin_test

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"github.com/redis/go-redis/v9"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// The whole set-up is three lines: a Redis client, db.Use, and a model
// embedding bitmapist.Tracked. Every committed create, update and delete of
// a User is then marked as user:created, user:updated or user:deleted.
// Marks are sent in the background: Close (at shutdown) or Flush waits for
// them.
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
	plugin := bitmapistplugin.New(rdb)
	if err := db.Use(plugin); err != nil { // GORM: user:created/updated/deleted
		panic(err)
	}
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
	if err := plugin.Flush(ctx); err != nil { // or plugin.Close() at shutdown
		panic(err)
	}
	c := bitmapist.New(rdb)
	today := time.Now()
	for _, event := range []string{"user:created", "user:updated", "user:deleted"} {
		ids, _ := c.Day(event, today).IDs(ctx)
		fmt.Println(event, ids)
	}
	// Output:
	// user:created [1 2 3]
	// user:updated [1]
	// user:deleted [3]
}
