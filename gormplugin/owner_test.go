package bitmapistplugin_test

import (
	"context"
	"testing"
	"time"

	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
)

func TestOrderOfUserSevenMarksSeven(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		o := Order{UserID: 7, Amount: 10}
		wantOK(t, e.db.Create(&o))
		e.want(t, "order:created", 7)
		if o.ID == 7 {
			t.Fatal("order id equals its user id; the test would prove nothing")
		}
		wantOK(t, e.db.Create(&[]Order{{UserID: 8}, {UserID: 9}, {UserID: 0}}))
		e.want(t, "order:created", 7, 8, 9)
		e.noErrors(t)
	})
}

func TestOwnedModelUpdateAndDeleteReadTheOwner(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		orders := []Order{{UserID: 7, Amount: 1}, {UserID: 8, Amount: 2}, {UserID: 9, Amount: 3}}
		wantOK(t, e.db.Create(&orders))
		// Only the key is known: the owner is read from the database.
		wantOK(t, e.db.Model(&Order{ID: orders[0].ID}).Update("amount", 5))
		e.want(t, "order:updated", 7)
		wantOK(t, e.db.Delete(&Order{}, orders[1].ID))
		e.want(t, "order:deleted", 8)
		wantOK(t, e.db.Where("amount = ?", 3).Delete(&Order{}))
		e.want(t, "order:deleted", 8, 9)
		e.noErrors(t)
	})
}

func TestStringOwnerKey(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		wantOK(t, e.db.Create(&Note{AuthorKey: "writer-1"}))
		e.flush(t)
		id, ok, err := e.c.Users().Lookup(context.Background(), "writer-1")
		if err != nil || !ok {
			t.Fatalf("writer-1 not mapped: %v %v", ok, err)
		}
		e.want(t, "note:created", id)
	})
}

func TestContextUserAndTime(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		ctx := bitmapistplugin.WithUser(context.Background(), 31)
		wantOK(t, e.db.WithContext(ctx).Create(&[]Post{{Title: "a"}, {Title: "b"}}))
		e.want(t, "post:created", 31)

		// The model's own owner wins over the context user.
		wantOK(t, e.db.WithContext(ctx).Create(&Order{UserID: 5}))
		e.want(t, "order:created", 5)

		past := time.Date(2020, 2, 29, 23, 30, 0, 0, time.UTC)
		ctx = bitmapistplugin.WithTime(bitmapistplugin.WithUserKey(context.Background(), "importer"), past)
		wantOK(t, e.db.WithContext(ctx).Create(&Post{Title: "old"}))
		e.flush(t)
		id, ok, err := e.c.Users().Lookup(context.Background(), "importer")
		if err != nil || !ok {
			t.Fatalf("importer not mapped: %v %v", ok, err)
		}
		if got := e.idsOn(t, "post:created", past); !equalIDs(got, []uint64{id}) {
			t.Errorf("post:created on %s = %v, want [%d]", past.Format(time.DateOnly), got, id)
		}
		e.want(t, "post:created", 31)
		e.noErrors(t)
	})
}
