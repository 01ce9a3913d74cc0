package cohort_test

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// engageExample returns a client on an in-process miniredis holding the
// worked example of docs/concepts.md: five days of "play" (2025-03-01 ..
// 2025-03-05), sign-ups and purchases.
func engageExample() (*bitmapist.Client, func()) {
	mr, err := miniredis.Run()
	if err != nil {
		panic(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	c := bitmapist.New(rdb, bitmapist.WithTrackUnique(true))
	ctx := context.Background()
	for _, m := range []struct {
		event string
		day   int // of March 2025
		ids   []uint64
	}{
		{"play", 1, []uint64{1, 2, 4}}, {"play", 2, []uint64{1, 2}}, {"play", 3, []uint64{1, 3}},
		{"play", 4, []uint64{1, 2, 3, 5}}, {"play", 5, []uint64{1, 4, 5}},
		{"signup", 1, []uint64{1, 2, 4}}, {"signup", 3, []uint64{3}}, {"signup", 4, []uint64{5}},
		{"buy", 2, []uint64{2}}, {"buy", 4, []uint64{3}}, {"buy", 5, []uint64{1}},
	} {
		for _, id := range m.ids {
			if err := c.MarkEvent(ctx, m.event, id, bitmapist.At(time.Date(2025, 3, m.day, 12, 0, 0, 0, time.UTC))); err != nil {
				panic(err)
			}
		}
	}
	return c, func() { rdb.Close(); mr.Close() }
}

func march(day int) time.Time { return time.Date(2025, 3, day, 0, 0, 0, 0, time.UTC) }

func ExampleGetLifecycle() {
	c, done := engageExample()
	defer done()
	l, err := cohort.GetLifecycle(context.Background(), c, cohort.LifecycleQuery{
		Event: "play", TimeGroup: bitmapist.Days, From: march(2), To: march(5)})
	if err != nil {
		panic(err)
	}
	for _, p := range l.Periods {
		fmt.Printf("%s active %d: new %d, returning %d, resurrecting %d, dormant %d\n",
			p.Label, p.Active(), p.New, p.Returning, p.Resurrecting, p.Dormant)
	}
	// Output:
	// 2025-03-02 active 2: new 0, returning 2, resurrecting 0, dormant -1
	// 2025-03-03 active 2: new 1, returning 1, resurrecting 0, dormant -1
	// 2025-03-04 active 4: new 1, returning 2, resurrecting 1, dormant 0
	// 2025-03-05 active 3: new 0, returning 2, resurrecting 1, dormant -2
}

func ExampleGetStickiness() {
	c, done := engageExample()
	defer done()
	s, err := cohort.GetStickiness(context.Background(), c, cohort.StickinessQuery{
		Event: "play", TimeGroup: bitmapist.Days, From: march(1), To: march(5)})
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Users, "players in", s.NumPeriods, "days")
	for _, b := range s.Buckets {
		fmt.Printf("%d of 5 days: %d\n", b.Periods, b.Users)
	}
	// Output:
	// 5 players in 5 days
	// 1 of 5 days: 0
	// 2 of 5 days: 3
	// 3 of 5 days: 1
	// 4 of 5 days: 0
	// 5 of 5 days: 1
}

func ExampleGetFunnel() {
	c, done := engageExample()
	defer done()
	f, err := cohort.GetFunnel(context.Background(), c, cohort.FunnelQuery{
		Steps: []string{"signup", "play", "buy"}, TimeGroup: bitmapist.Days, Window: 1, From: march(1), To: march(4)})
	if err != nil {
		panic(err)
	}
	for _, r := range f.Rows {
		fmt.Println(r.Label, r.Steps[0].Users, r.Steps[1].Users, r.Steps[2].Users)
	}
	buy := f.Steps[2]
	fmt.Printf("total: %d signed up, %d played, %d bought (%.0f%% of sign-ups, %d dropped after playing)\n",
		f.Steps[0].Users, f.Steps[1].Users, buy.Users, 100*buy.FromFirst, buy.DropOff)
	// Output:
	// 2025-03-01 3 3 1
	// 2025-03-02 0 0 0
	// 2025-03-03 1 1 1
	// 2025-03-04 1 1 0
	// total: 5 signed up, 5 played, 2 bought (40% of sign-ups, 3 dropped after playing)
}

func ExampleParseSegment() {
	c, done := engageExample()
	defer done()
	// Only the players who signed up on March 1st.
	seg, err := cohort.ParseSegment(c, "signup@2025-03-01")
	if err != nil {
		panic(err)
	}
	l, err := cohort.GetLifecycle(context.Background(), c, cohort.LifecycleQuery{
		Event: "play", TimeGroup: bitmapist.Days, From: march(5), To: march(5), Segment: seg})
	if err != nil {
		panic(err)
	}
	p := l.Periods[0]
	fmt.Printf("%s: returning %d, resurrecting %d, dormant %d\n", p.Label, p.Returning, p.Resurrecting, p.Dormant)
	// Output:
	// 2025-03-05: returning 1, resurrecting 1, dormant -1
}

func ExampleParseSegment_negated() {
	c, done := engageExample()
	defer done()
	// The players who did not sign up on March 1st (3 and 5), the same as
	// Segment: bitmapist.Not(c.Events("signup", bitmapist.Days, march(1))).
	ctx := context.Background()
	for _, specs := range [][]string{{"!signup@2025-03-01"}, {"!signup@2025-03-01", "buy@2025-03"}} {
		seg, err := cohort.ParseSegment(c, specs...)
		if err != nil {
			panic(err)
		}
		tr, err := c.Trend(ctx, bitmapist.TrendQuery{Event: "play", TimeGroup: bitmapist.Days, From: march(3), To: march(5), Rolling: true, Segment: seg})
		if err != nil {
			panic(err)
		}
		fmt.Print(specs, ":")
		for _, p := range tr.Periods {
			fmt.Printf(" %s %d (WAU %d)", p.Label[5:], p.Count, p.WAU)
		}
		fmt.Println()
	}
	seg, _ := cohort.ParseSegment(c, "!signup@2025-03-01")
	l, err := cohort.GetLifecycle(ctx, c, cohort.LifecycleQuery{Event: "play", TimeGroup: bitmapist.Days, From: march(2), To: march(5), Segment: seg})
	if err != nil {
		panic(err)
	}
	p := l.Periods[3]
	fmt.Printf("lifecycle %s: returning %d, dormant %d\n", p.Label, p.Returning, p.Dormant)
	// Output:
	// [!signup@2025-03-01]: 03-03 1 (WAU 1) 03-04 2 (WAU 2) 03-05 1 (WAU 2)
	// [!signup@2025-03-01 buy@2025-03]: 03-03 1 (WAU 1) 03-04 1 (WAU 1) 03-05 0 (WAU 1)
	// lifecycle 2025-03-05: returning 1, dormant -1
}
