package bitmapist_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

func TestIDMapAssignsDenseStableOffsets(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b)
		m := c.Users()
		ids, err := m.IDs(ctx, []string{"alice", "bob", "alice", "7479a3b3-uuid"})
		if err != nil || !slices.Equal(ids, []uint64{0, 1, 0, 2}) {
			t.Fatalf("IDs = %v, %v", ids, err)
		}
		if id, err := m.ID(ctx, "bob"); err != nil || id != 1 {
			t.Errorf("ID(bob) = %d, %v", id, err)
		}
		if id, ok, err := m.Lookup(ctx, "carol"); err != nil || ok || id != 0 {
			t.Errorf("Lookup(carol) = %d, %v, %v", id, ok, err)
		}
		strs, err := m.Strings(ctx, []uint64{2, 0, 99})
		if err != nil || !slices.Equal(strs, []string{"7479a3b3-uuid", "alice", ""}) {
			t.Errorf("Strings = %q, %v", strs, err)
		}
		if n, err := m.Len(ctx); err != nil || n != 3 {
			t.Errorf("Len = %d, %v", n, err)
		}
		// A second map is independent.
		if id, err := c.IDMap("devices").ID(ctx, "zed"); err != nil || id != 0 {
			t.Errorf("devices ID = %d, %v", id, err)
		}
		if _, err := m.ID(ctx, ""); !errors.Is(err, bitmapist.ErrInvalidUserID) {
			t.Errorf("empty string: %v", err)
		}
		// Marking by string id, then reading back.
		if err := c.MarkEventString(ctx, "signup", "bob"); err != nil {
			t.Fatal(err)
		}
		got, _ := c.Day("signup", c.Now()).IDs(ctx)
		back, _ := m.Strings(ctx, got)
		if !slices.Equal(back, []string{"bob"}) {
			t.Errorf("marked users = %q", back)
		}
		// The id map is not an event.
		if names, _ := c.EventNames(ctx, ""); !slices.Equal(names, []string{"signup"}) {
			t.Errorf("EventNames = %q", names)
		}
		if err := m.Delete(ctx); err != nil {
			t.Fatal(err)
		}
		if n, _ := m.Len(ctx); n != 0 {
			t.Errorf("Len after Delete = %d", n)
		}
	})
}

func TestIDMapConcurrentClientsAgree(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		const workers, users = 20, 200
		results := make([][]uint64, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Each worker has its own Client, as separate processes would.
				m := newClient(b).Users()
				strs := make([]string, users)
				for i := range strs {
					strs[(i+w*7)%users] = fmt.Sprintf("user-%d", i)
				}
				ids, err := m.IDs(ctx, strs)
				if err != nil {
					t.Error(err)
					return
				}
				byName := make([]uint64, users)
				for i, s := range strs {
					var n int
					fmt.Sscanf(s, "user-%d", &n)
					byName[n] = ids[i]
				}
				results[w] = byName
			}()
		}
		wg.Wait()
		seen := map[uint64]bool{}
		for _, id := range results[0] {
			if id >= users || seen[id] {
				t.Fatalf("offsets are not dense and unique: %v", results[0])
			}
			seen[id] = true
		}
		for w := 1; w < workers; w++ {
			if !slices.Equal(results[w], results[0]) {
				t.Fatalf("worker %d got other offsets", w)
			}
		}
	})
}

func TestIDMapFull(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		m := newClient(b).Users().WithLimit(2)
		if _, err := m.IDs(ctx, []string{"a", "b"}); err != nil {
			t.Fatal(err)
		}
		if _, err := m.ID(ctx, "c"); !errors.Is(err, bitmapist.ErrIDMapFull) {
			t.Errorf("third id: %v, want ErrIDMapFull", err)
		}
		// Known strings still resolve.
		if id, err := m.ID(ctx, "b"); err != nil || id != 1 {
			t.Errorf("ID(b) = %d, %v", id, err)
		}
		if n, _ := m.Len(ctx); n != 2 {
			t.Errorf("Len = %d, want 2", n)
		}
	})
}

// TestIDMapChunkedBatches: a batch spanning several script calls, with
// repeated strings, resolved by concurrent clients in different orders,
// gives every string one dense offset that maps back to it.
func TestIDMapChunkedBatches(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		const workers, users = 4, 2500
		results := make([]map[string]uint64, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m := newClient(b).IDMap("chunked")
				strs := make([]string, 0, users+users/3)
				for i := range users {
					strs = append(strs, fmt.Sprintf("s%d", (i*7919+w*131)%users))
					if i%3 == 0 {
						strs = append(strs, fmt.Sprintf("s%d", i)) // repeats, also within a chunk
					}
				}
				ids, err := m.IDs(ctx, strs)
				if err != nil {
					t.Error(err)
					return
				}
				got := map[string]uint64{}
				for i, s := range strs {
					if prev, ok := got[s]; ok && prev != ids[i] {
						t.Errorf("%s got %d and %d in one batch", s, prev, ids[i])
					}
					got[s] = ids[i]
				}
				results[w] = got
			}()
		}
		wg.Wait()
		m := newClient(b).IDMap("chunked")
		if n, _ := m.Len(ctx); n != users {
			t.Fatalf("map holds %d strings, want %d", n, users)
		}
		ids := make([]uint64, 0, users)
		names := make([]string, 0, users)
		for s, id := range results[0] {
			if id >= users {
				t.Fatalf("offset %d of %s is not dense", id, s)
			}
			for w := 1; w < workers; w++ {
				if results[w][s] != id {
					t.Fatalf("worker %d: %s = %d, worker 0: %d", w, s, results[w][s], id)
				}
			}
			ids, names = append(ids, id), append(names, s)
		}
		back, err := m.Strings(ctx, ids)
		if err != nil || !slices.Equal(back, names) {
			t.Fatalf("reverse map disagrees: %v", err)
		}
		_ = m.Delete(ctx)
	})
}
