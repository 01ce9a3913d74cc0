package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/alicebob/miniredis/v2"
)

// Importing a small event log and asking about it, as from a shell.
func Example() {
	mr := miniredis.NewMiniRedis() // stands in for a real Redis here
	if err := mr.Start(); err != nil {
		panic(err)
	}
	defer mr.Close()
	ctx := context.Background()
	sh := func(stdin string, args ...string) {
		args = append([]string{"--redis", "redis://" + mr.Addr()}, args...)
		if code := run(ctx, args, strings.NewReader(stdin), os.Stdout, os.Stdout); code != 0 {
			fmt.Println("exit status", code)
		}
	}

	log := "user,day,event\n1,2024-12-30,signup\n2,2024-12-30,signup\n1,2025-01-02,play\n,2025-01-02,play\n"
	sh(log, "import", "--user-col", "user", "--time-col", "day", "--event-col", "event", "-")
	sh("", "count", "--group", "weeks", "--at", "2025-01-01", "signup", "play")
	sh("", "events")
	// Output:
	// imported stdin
	//   rows:     4 read, 3 marked, 1 rejected
	//   format:   2006-01-02 (detected: it reads 4 of the first 4 rows' times; --time-format sets another)
	//   users:    2
	//   events:   play (1), signup (2)
	//   times:    2024-12-30 00:00:00 .. 2025-01-02 00:00:00 (UTC, the zone of the periods)
	//   rejected: 1 (missing id: 1)
	//     line 5: missing id: column user is empty
	// bitmapist: rows rejected: 1 of 4 rows, 3 marked (see the summary; --allow-rejects exits 0 for this)
	// exit status 3
	// 1
	// play
	// signup
}
