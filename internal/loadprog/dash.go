package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/web"
)

// dash serves the dashboard with its defaults and sends n concurrent
// cohort.json requests for 52x52 weekly tables, then prints how many got
// each status, the slowest answer of each status and the peak RSS.
func dash(_ context.Context, c *bitmapist.Client, n int) error {
	srv := httptest.NewServer(web.Handler(c))
	defer srv.Close()
	url := srv.URL + "/cohort.json?primary_event=signup&secondary_event=active&time_group=weeks&num_rows=52&num_cols=52" +
		"&with_replacement=true&now=2025-12-20&additional=and:paid"
	var mu sync.Mutex
	codes := map[int]int{}
	slowest := map[int]time.Duration{}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			start := time.Now()
			code := 0
			if resp, err := http.Get(url); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				code = resp.StatusCode
			}
			d := time.Since(start)
			mu.Lock()
			codes[code]++
			slowest[code] = max(slowest[code], d)
			mu.Unlock()
		})
	}
	wg.Wait()
	keys := make([]int, 0, len(codes))
	for k := range codes {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		fmt.Printf("status %d: %d responses, slowest %s\n", k, codes[k], slowest[k])
	}
	fmt.Printf("peak RSS %d MB\n", peakRSS()>>20)
	return nil
}
