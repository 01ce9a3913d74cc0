package cohort

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// SegmentWithoutHours returns, for the first of specs (ParseSegment's text
// forms) that names an hour (EVENT@2025-03-01T05, or !EVENT@2025-03-01T05)
// whose event has no hourly bitmap for it but does have its day's, the
// explanation: the event was marked without hourly tracking, so the hour
// holds nobody (and its negation excludes nobody) although users did the
// event that day. It returns "" when every hour spec has its hourly bitmap
// or no daily data either (nobody did the event), and for specs of other
// periods. It asks Redis two EXISTS per hour spec: one pipeline of 25
// EXISTS for a spec whose hour has no bitmap; specs ParseSegment refuses
// are skipped.
func SegmentWithoutHours(ctx context.Context, c *bitmapist.Client, specs ...string) (string, error) {
	if c == nil {
		return "", ErrNilClient
	}
	for _, text := range specs {
		s, err := ParseSegmentSpec(c, text)
		if err != nil || s.Unique() || s.Group != bitmapist.Hours {
			continue
		}
		none, err := dayWithoutHours(ctx, c, s.Event, s.Start)
		if err != nil || !none {
			return "", err
		}
		d, what, not := bitmapist.Days.Label(s.Start), "holds nobody", ""
		if s.Not {
			what, not = "holds nobody, so the segment excludes nobody", "!"
		}
		return fmt.Sprintf("segment %s: %q has no hourly data on %s (it was marked without hourly tracking) though it has daily data, so an hour of that day %s; use the day, %s%s@%s", quoteShort(s.Text), s.Event, d, what, not, s.Event, d), nil
	}
	return "", nil
}

// dayWithoutHours reports whether event has no bitmap for the hour t but
// has one for t's day and none for any hour of that day (one pipeline of
// EXISTS, one key each, so that a cluster takes it).
func dayWithoutHours(ctx context.Context, c *bitmapist.Client, event string, t time.Time) (bool, error) {
	n, err := c.Redis().Exists(ctx, c.Key(event, bitmapist.Hours, t)).Result()
	if err != nil || n > 0 {
		return false, err
	}
	p := c.Redis().Pipeline()
	day := p.Exists(ctx, c.Key(event, bitmapist.Days, t))
	day0 := bitmapist.Days.Start(t)
	hours := make([]*redis.IntCmd, 0, 25)
	for h := day0; h.Before(bitmapist.Days.Add(day0, 1)); h = bitmapist.Hours.Add(h, 1) {
		hours = append(hours, p.Exists(ctx, c.Key(event, bitmapist.Hours, h)))
	}
	if _, err := p.Exec(ctx); err != nil {
		return false, fmt.Errorf("bitmapist/cohort: check hourly data: %w", err)
	}
	if day.Val() == 0 {
		return false, nil
	}
	for _, h := range hours {
		if h.Val() > 0 {
			return false, nil
		}
	}
	return true, nil
}
