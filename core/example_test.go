package bitmapist_test

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// exampleRedis starts an in-memory Redis for the examples; in an app, use
// redis.NewClient(&redis.Options{Addr: "localhost:6379"}).
func exampleRedis() (*redis.Client, func()) {
	mr, err := miniredis.Run()
	if err != nil {
		panic(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	return rdb, func() { rdb.Close(); mr.Close() }
}

func Example() {
	rdb, stop := exampleRedis()
	defer stop()
	ctx := context.Background()
	c := bitmapist.New(rdb)

	at := time.Date(2024, 12, 30, 5, 10, 0, 0, time.UTC)
	for _, id := range []uint64{1, 2, 3} {
		_ = c.MarkEvent(ctx, "active", id, bitmapist.At(at))
	}
	_ = c.MarkEvent(ctx, "song:played", 2, bitmapist.At(at))

	active, _ := c.Day("active", at).Count(ctx)
	both, _ := bitmapist.And(c.Week("active", at), c.Week("song:played", at)).IDs(ctx)
	fmt.Println("active today:", active)
	fmt.Println("active and played this week:", both)
	fmt.Println("week key:", c.Key("active", bitmapist.Weeks, at))
	// Output:
	// active today: 3
	// active and played this week: [2]
	// week key: trackist_active_W2025-1
}

func ExampleAndNot() {
	rdb, stop := exampleRedis()
	defer stop()
	ctx := context.Background()
	c := bitmapist.New(rdb)
	at := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, id := range []uint64{1, 20} {
		_ = c.MarkEvent(ctx, "signed_up", id, bitmapist.At(at))
	}
	_ = c.MarkEvent(ctx, "paid", 2, bitmapist.At(at))

	signed, paid := c.Day("signed_up", at), c.Day("paid", at)
	notPaid, _ := bitmapist.AndNot(signed, paid).IDs(ctx)
	redisNot, _ := bitmapist.And(signed, bitmapist.Not(paid)).IDs(ctx)
	fmt.Println("signed up, not paid:", notPaid)
	fmt.Println("Redis AND NOT loses 20:", redisNot)
	// Output:
	// signed up, not paid: [1 20]
	// Redis AND NOT loses 20: [1]
}

func ExamplePeriod_Next() {
	c := bitmapist.New(nil)
	m := c.Month("active", time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC))
	for range 3 {
		fmt.Println(m.Label(), m.Key())
		m = m.Next()
	}
	// Output:
	// 2024-01 trackist_active_2024-1
	// 2024-02 trackist_active_2024-2
	// 2024-03 trackist_active_2024-3
}

func ExampleClient_MarkEventString() {
	rdb, stop := exampleRedis()
	defer stop()
	ctx := context.Background()
	c := bitmapist.New(rdb, bitmapist.WithClock(func() time.Time {
		return time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	}))
	for _, user := range []string{"5f0c-alice", "9e1d-bob", "5f0c-alice"} {
		_ = c.MarkEventString(ctx, "login", user)
	}
	ids, _ := c.Day("login", c.Now()).IDs(ctx)
	users, _ := c.Users().Strings(ctx, ids)
	fmt.Println(ids, users)
	// Output: [0 1] [5f0c-alice 9e1d-bob]
}

func ExampleClient_MarkEvents() {
	rdb, stop := exampleRedis()
	defer stop()
	ctx := context.Background()
	c := bitmapist.New(rdb)
	day := time.Date(2011, 1, 4, 0, 0, 0, 0, time.UTC)
	err := c.MarkEvents(ctx, []bitmapist.Mark{
		{Event: "purchased", UserID: 12346, Time: day},
		{Event: "purchased", UserID: 12347, Time: day.AddDate(0, 0, 1)},
		{Event: "purchased", UserID: 12346, Time: day.AddDate(0, 1, 0)},
	})
	n, _ := c.Month("purchased", day).Count(ctx)
	fmt.Println(err, n)
	// Output: <nil> 2
}

func ExampleClient_Trend() {
	rdb, stop := exampleRedis()
	defer stop()
	ctx := context.Background()
	c := bitmapist.New(rdb)
	for day, ids := range map[int][]uint64{1: {1, 2, 4}, 2: {1, 2}, 3: {1, 3}, 4: {1, 2, 3, 5}, 5: {1, 4, 5}} {
		for _, id := range ids {
			_ = c.MarkEvent(ctx, "play", id, bitmapist.At(time.Date(2025, 3, day, 12, 0, 0, 0, time.UTC)))
		}
	}
	t, err := c.Trend(ctx, bitmapist.TrendQuery{Event: "play", TimeGroup: bitmapist.Days, Rolling: true,
		From: time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		panic(err)
	}
	for _, p := range t.Periods {
		fmt.Printf("%s DAU %d WAU %d MAU %d DAU/MAU %.2f (previous: %s %d)\n",
			p.Label, p.Count, p.WAU, p.MAU, p.DAUMAU(), p.Previous.Label, p.Previous.Count)
	}
	fmt.Println("players:", t.Unique, "previous range:", t.PreviousUnique)
	// Output:
	// 2025-03-03 DAU 2 WAU 4 MAU 4 DAU/MAU 0.50 (previous: 2025-02-28 0)
	// 2025-03-04 DAU 4 WAU 5 MAU 5 DAU/MAU 0.80 (previous: 2025-03-01 3)
	// 2025-03-05 DAU 3 WAU 5 MAU 5 DAU/MAU 0.60 (previous: 2025-03-02 2)
	// players: 5 previous range: 3
}
