package bitmapistplugin_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"
)

func TestCreateOne(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		u := User{Name: "ann"}
		wantOK(t, e.db.Create(&u))
		if u.ID == 0 {
			t.Fatal("no id assigned")
		}
		e.want(t, "user:created", uint64(u.ID))
		e.want(t, "user:updated")
		e.want(t, "user:deleted")
		if got := e.eventNames(t); !slices.Equal(got, []string{"user:created"}) {
			t.Errorf("events = %v, want only user:created", got)
		}
		e.noErrors(t)
	})
}

func TestCreateSliceMarksEveryRow(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		users := []User{{Name: "a"}, {Name: "b"}, {Name: "c"}}
		wantOK(t, e.db.Create(&users))
		e.want(t, "user:created", idsOf(users, userID)...)
		if n := len(e.ids(t, "user:created")); n != 3 {
			t.Errorf("%d ids marked, want 3", n)
		}
		e.noErrors(t)
	})
}

func TestCreateSliceOfPointers(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		users := []*User{{Name: "a"}, {Name: "b"}}
		wantOK(t, e.db.Create(&users))
		e.want(t, "user:created", uint64(users[0].ID), uint64(users[1].ID))
	})
}

func TestCreateInBatches(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		users := []User{{Name: "a"}, {Name: "b"}, {Name: "c"}}
		wantOK(t, e.db.CreateInBatches(&users, 2))
		e.want(t, "user:created", idsOf(users, userID)...)
		if n := len(e.ids(t, "user:created")); n != 3 {
			t.Errorf("%d ids marked, want 3", n)
		}
		e.noErrors(t)
	})
}

func TestCreateDuplicateKeyMarksNothing(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		wantOK(t, e.db.Create(&Thing{ID: 5, Name: "first"}))
		// The failed insert is timed on another day, so a mark would show.
		other := testNow.AddDate(0, 0, 3)
		ctx := bitmapistplugin.WithTime(context.Background(), other)
		if err := e.db.WithContext(ctx).Create(&Thing{ID: 5, Name: "again"}).Error; err == nil {
			t.Fatal("duplicate insert succeeded")
		}
		if got := e.idsOn(t, "thing:created", other); len(got) != 0 {
			t.Errorf("failed insert marked %v", got)
		}
		e.want(t, "thing:created", 5)
		e.noErrors(t)
	})
}

func TestZeroPrimaryKeyIsNotMarked(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		wantOK(t, e.db.Create(&Thing{ID: 0, Name: "zero"}))
		wantOK(t, e.db.Create(&Thing{ID: 3, Name: "three"}))
		e.want(t, "thing:created", 3)
		e.noErrors(t)
	})
}

func TestSaveNewRowIsCreatedOnly(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		// Save of an absent id: GORM updates 0 rows, then inserts.
		wantOK(t, e.db.Save(&Thing{ID: 42, Name: "new"}))
		e.want(t, "thing:created", 42)
		e.want(t, "thing:updated")
		// Save without a key is a plain create.
		u := User{Name: "x"}
		wantOK(t, e.db.Save(&u))
		e.want(t, "user:created", uint64(u.ID))
		e.want(t, "user:updated")
		var n int64
		wantOK(t, e.db.Model(&Thing{}).Where("id = ?", 42).Count(&n))
		if n != 1 {
			t.Errorf("row 42 count = %d", n)
		}
		e.noErrors(t)
	})
}

func TestSaveExistingRowIsUpdated(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		u := User{Name: "old"}
		wantOK(t, e.db.Create(&u))
		u.Name = "new"
		wantOK(t, e.db.Save(&u))
		e.want(t, "user:created", uint64(u.ID))
		e.want(t, "user:updated", uint64(u.ID))
		e.noErrors(t)
	})
}

func TestStringPrimaryKeyUsesIDMap(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		wantOK(t, e.db.Create(&[]Account{{ID: "alice@example.com"}, {ID: "bob@example.com"}}))
		dev := Device{ID: uuid.MustParse("7d444840-9dc0-11d1-b245-5ffdce74fad2"), Name: "phone"}
		wantOK(t, e.db.Create(&dev))
		wantOK(t, e.db.Model(&Account{ID: "bob@example.com"}).Update("name", "Bob"))
		e.flush(t)
		m := e.c.Users()
		lookup := func(s string) uint64 {
			t.Helper()
			id, ok, err := m.Lookup(ctx, s)
			if err != nil || !ok {
				t.Fatalf("Lookup(%q) = %d, %v, %v", s, id, ok, err)
			}
			return id
		}
		alice, bob, phone := lookup("alice@example.com"), lookup("bob@example.com"), lookup(dev.ID.String())
		e.want(t, "account:created", alice, bob)
		e.want(t, "account:updated", bob)
		e.want(t, "device:created", phone)
		strs, err := m.Strings(ctx, e.ids(t, "account:created"))
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(strs)
		if !slices.Equal(strs, []string{"alice@example.com", "bob@example.com"}) {
			t.Errorf("account:created maps back to %v", strs)
		}
		e.noErrors(t)
	})
}

func TestStringKeysUseChosenIDMap(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		wantOK(t, e.db.Create(&Account{ID: "carol"}))
		e.flush(t)
		id, ok, err := e.c.IDMap("accounts").Lookup(ctx, "carol")
		if err != nil || !ok {
			t.Fatalf("carol not in the accounts map: %v %v", ok, err)
		}
		if _, ok, _ := e.c.Users().Lookup(ctx, "carol"); ok {
			t.Error("carol was put in the users map too")
		}
		e.want(t, "account:created", id)
	}, bitmapistplugin.WithIDMap("accounts"))
}

func TestEventPrefixOverride(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		m := Member{}
		wantOK(t, e.db.Create(&m))
		e.want(t, "club_member:created", uint64(m.ID))
		e.want(t, "member:created")
	})
}

func TestCompositeKeyIsReported(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		wantOK(t, e.db.Create(&Pair{A: 1, B: 2}))
		if names := e.eventNames(t); len(names) != 0 {
			t.Errorf("composite-key row marked %v", names)
		}
		if errs := e.errs.all(); !errorsIs(errs, bitmapistplugin.ErrNoPrimaryKey) {
			t.Errorf("errors %v, want ErrNoPrimaryKey", errs)
		}
	})
}

func TestKeyAboveMaxUserIDIsReported(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		wantOK(t, e.db.Create(&[]Thing{{ID: 7}, {ID: 1 << 33}}))
		e.want(t, "thing:created", 7)
		errs := e.errs.all()
		if !errorsIs(errs, bitmapistplugin.ErrUnsupportedKey) {
			t.Errorf("errors %v, want ErrUnsupportedKey", errs)
		}
		if n := e.p.FailedMarks(); n != 1 {
			t.Errorf("FailedMarks = %d, want 1", n)
		}
	})
}

func TestSkipDefaultTransactionMarksAtOnce(t *testing.T) {
	runCfg(t, &gorm.Config{SkipDefaultTransaction: true}, func(t *testing.T, e *env) {
		users := []User{{Name: "a", Age: 1}, {Name: "b", Age: 9}}
		wantOK(t, e.db.Create(&users))
		e.want(t, "user:created", idsOf(users, userID)...)
		wantOK(t, e.db.Model(&User{}).Where("age > ?", 5).Update("name", "old"))
		e.want(t, "user:updated", uint64(users[1].ID))
		wantOK(t, e.db.Delete(&User{}, users[0].ID))
		e.want(t, "user:deleted", uint64(users[0].ID))
		e.noErrors(t)
	})
}

// TestUseWithoutClient: every way of giving the plugin no usable Redis
// fails db.Use (instead of failing every mark later).
func TestUseWithoutClient(t *testing.T) {
	var nilRedis *redis.Client
	var nilClient *bitmapist.Client
	for name, p := range map[string]*bitmapistplugin.Plugin{
		"New(nil)":                       bitmapistplugin.New(nil),
		"New(nil *redis.Client)":         bitmapistplugin.New(nilRedis),
		"WithClient(bitmapist.New(nil))": bitmapistplugin.New(nil, bitmapistplugin.WithClient(bitmapist.New(nil))),
		"WithClient(nil *Client)":        bitmapistplugin.New(nil, bitmapistplugin.WithClient(nilClient)),
	} {
		db := openDB(t, dbCases(t)[0], nil)
		if err := db.Use(p); !errors.Is(err, bitmapistplugin.ErrNoClient) {
			t.Errorf("%s: Use = %v, want ErrNoClient", name, err)
		}
	}
}

// Gadget's prefix contains a space, which no event name may.
type Gadget struct {
	ID uint
	bitmapist.Tracked
}

func (Gadget) BitmapistEventPrefix() string { return "bad prefix" }

func TestInvalidPrefixIsReported(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		if err := e.db.AutoMigrate(&Gadget{}); err != nil {
			t.Fatal(err)
		}
		if e.db0 != "sqlite" {
			t.Cleanup(func() { _ = e.db.Migrator().DropTable(&Gadget{}) })
		}
		wantOK(t, e.db.Create(&[]Gadget{{}, {}}))
		if names := e.eventNames(t); len(names) != 0 {
			t.Errorf("marked %v", names)
		}
		if errs := e.errs.all(); !errorsIs(errs, bitmapistplugin.ErrInvalidPrefix) {
			t.Errorf("errors %v, want ErrInvalidPrefix", errs)
		}
		if n := e.p.FailedMarks(); n != 2 {
			t.Errorf("FailedMarks = %d, want 2", n)
		}
	})
}

func TestOwnerAboveMaxUserIDIsReported(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		wantOK(t, e.db.Create(&[]Order{{UserID: 1 << 40}, {UserID: 4}}))
		e.want(t, "order:created", 4)
		if errs := e.errs.all(); !errorsIs(errs, bitmapistplugin.ErrUnsupportedKey) {
			t.Errorf("errors %v, want ErrUnsupportedKey", errs)
		}
		if n := e.p.FailedMarks(); n != 1 {
			t.Errorf("FailedMarks = %d, want 1", n)
		}
	})
}
