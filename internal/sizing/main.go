// Command sizing measures what one event costs per year of day, week and
// month bitmaps, for 1M and 10M users with dense and sparse ids, on Redis
// (MEMORY USAGE) and on bitmapist-server (the roaring size that
// `bitmapist stats` reports), and prints the table of docs/operations.md.
//
//	go build -o /tmp/bms ../shared/tools/bitmapist-server   # once
//	go run ./internal/sizing -server-bin /tmp/bms
//
// It starts its own redis-server (-redis-port, default 6452) and
// bitmapist-server (-server-port, default 6453, database in a temporary
// directory) on loopback and stops both at the end: never the shared ones.
//
// The model: every day 10% of the users are active (a fresh random
// draw), so a week bitmap holds the union of 7 days (52%) and a month of
// 30 (96%). Dense ids are 0..N-1; sparse ids spread the same N users over
// 0..64N-1 (one in 64 offsets used, as with ids from a shared sequence or
// a hash). One key of each group is written, measured and multiplied by
// 365, 52 and 12; Redis strings and roaring bitmaps of equal fill have
// equal sizes, so the product is the year's cost.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/faults"
)

// group is a time group of the model: its key count per year and the
// days its bitmap unites.
type group struct {
	name       string
	perYear    int
	days       int
	bitmapistG bitmapist.TimeGroup
}

var groups = []group{{"day", 365, 1, bitmapist.Days}, {"week", 52, 7, bitmapist.Weeks}, {"month", 12, 30, bitmapist.Months}}

func main() {
	redisPort := flag.Int("redis-port", 6452, "loopback port of the private redis-server")
	serverPort := flag.Int("server-port", 6453, "loopback port of the private bitmapist-server")
	serverBin := flag.String("server-bin", "", "bitmapist-server binary (built from shared/tools/bitmapist-server)")
	flag.Parse()
	if *serverBin == "" {
		log.Fatal("-server-bin is required")
	}
	ctx := context.Background()
	r, err := faults.StartRedis(ctx, faults.RedisConfig{Port: *redisPort})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	stop, err := startServer(*serverBin, *serverPort)
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr(), ReadTimeout: time.Minute, WriteTimeout: time.Minute})
	srv := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(*serverPort), ReadTimeout: time.Minute, WriteTimeout: time.Minute})
	fmt.Println("| users | ids | group | Redis per key | bitmapist-server per key | Redis per year | bitmapist-server per year |")
	fmt.Println("|---:|---|---|---:|---:|---:|---:|")
	for _, n := range []int{1_000_000, 10_000_000} {
		for _, sparse := range []bool{false, true} {
			var yr, ys int64
			for _, g := range groups {
				b := model(n, sparse, g.days)
				rm, sm, err := measure(ctx, rdb, srv, b, g)
				if err != nil {
					log.Fatal(err)
				}
				yr += rm * int64(g.perYear)
				ys += sm * int64(g.perYear)
				fmt.Printf("| %s | %s | %s | %s | %s | | |\n", users(n), kind(sparse), g.name, mib(rm), mib(sm))
			}
			fmt.Printf("| %s | %s | **year** | | | **%s** | **%s** |\n", users(n), kind(sparse), mib(yr), mib(ys))
		}
	}
}

// model returns the bitmap (Redis layout) of the users active on any of
// days random days, each day drawing 10% of n users.
func model(n int, sparse bool, days int) []byte {
	spread := 1
	if sparse {
		spread = 64
	}
	b := make([]byte, (n*spread+7)/8)
	rng := rand.New(rand.NewPCG(uint64(n), uint64(days)))
	for range days {
		for range n / 10 {
			u := rng.IntN(n)
			id := u*spread + int(uint(u*2654435761)%uint(spread)) // a fixed offset per user
			b[id/8] |= 0x80 >> (id % 8)
		}
	}
	return b
}

// measure writes b under one key on each server and returns Redis's
// MEMORY USAGE and bitmapist-server's size as Client.Stats reports it.
func measure(ctx context.Context, rdb, srv *redis.Client, b []byte, g group) (int64, int64, error) {
	const prefix = "sizing_"
	key := prefix + "ev_" + map[string]string{"day": "2025-1-1", "week": "W2025-1", "month": "2025-1"}[g.name]
	var out [2]int64
	for i, c := range []*redis.Client{rdb, srv} {
		if err := c.Set(ctx, key, b, 0).Err(); err != nil {
			return 0, 0, err
		}
		st, err := bitmapist.New(c, bitmapist.WithPrefix(prefix)).Stats(ctx, bitmapist.StatsOptions{})
		if err != nil {
			return 0, 0, err
		}
		if len(st.Largest) != 1 || st.Largest[0].Bytes <= 0 {
			return 0, 0, fmt.Errorf("stats found %+v", st.Largest)
		}
		out[i] = st.Largest[0].Bytes
		if err := c.Del(ctx, key).Err(); err != nil {
			return 0, 0, err
		}
	}
	return out[0], out[1], nil
}

// startServer starts bitmapist-server on a loopback port with a fresh
// database and returns the function that stops it.
func startServer(bin string, port int) (func(), error) {
	dir, err := os.MkdirTemp("", "sizing-bms-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:"+strconv.Itoa(port), "-db", filepath.Join(dir, "db"))
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); _ = os.RemoveAll(dir) }
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port)})
	defer c.Close()
	for range 60 {
		if c.Ping(context.Background()).Err() == nil {
			return stop, nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	stop()
	return nil, fmt.Errorf("bitmapist-server on port %d did not answer", port)
}

func users(n int) string { return fmt.Sprintf("%dM", n/1_000_000) }

func kind(sparse bool) string {
	if sparse {
		return "sparse (1 in 64)"
	}
	return "dense"
}

func mib(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%.0f KiB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
