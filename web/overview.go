package web

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/redis/go-redis/v9"
)

// eventCount is one row of the overview: an event and how many distinct
// users did it in the current day, ISO week and month.
type eventCount struct {
	Event              string
	Today, Week, Month int64
}

// countEvents lists every event under c's prefix and counts its users in
// the day, ISO week and month containing now: one SCAN pass for the names,
// then one pipeline of 3 BITCOUNTs per event (split per node on a cluster).
// Rows come sorted by name.
func countEvents(ctx context.Context, c *bitmapist.Client, now time.Time) ([]eventCount, error) {
	names, err := c.EventNames(ctx, "")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, nil
	}
	p := c.Redis().Pipeline()
	cmds := make([]*redis.IntCmd, 0, 3*len(names))
	for _, n := range names {
		for _, g := range [...]bitmapist.TimeGroup{bitmapist.Days, bitmapist.Weeks, bitmapist.Months} {
			cmds = append(cmds, p.BitCount(ctx, c.Key(n, g, now), nil))
		}
	}
	if _, err := p.Exec(ctx); err != nil {
		return nil, fmt.Errorf("bitmapist/web: count %d events: %w", len(names), err)
	}
	rows := make([]eventCount, len(names))
	for i, n := range names {
		rows[i] = eventCount{Event: n, Today: cmds[3*i].Val(), Week: cmds[3*i+1].Val(), Month: cmds[3*i+2].Val()}
	}
	return rows, nil
}

// overviewSorts are the accepted values of the overview's "sort" parameter.
var overviewSorts = []string{"month", "week", "today", "name"}

// sortCounts orders rows by the column named by: "name" ascending, or a
// count ("today", "week", "month") descending with ties by name.
func sortCounts(rows []eventCount, by string) {
	key := func(r eventCount) int64 {
		switch by {
		case "today":
			return r.Today
		case "week":
			return r.Week
		case "month":
			return r.Month
		}
		return 0
	}
	slices.SortStableFunc(rows, func(a, b eventCount) int {
		return cmp.Or(cmp.Compare(key(b), key(a)), cmp.Compare(a.Event, b.Event))
	})
}

// overviewData is what overview.html reads.
type overviewData struct {
	base
	Rows             []eventCount
	Sort             string // the column the rows are sorted by
	Day, Week, Month string // labels of the current periods
	Users            int64  // sum of the month column (a user doing two events counts twice)
}

func (h *handler) overview(w http.ResponseWriter, r *http.Request) {
	v, err := queryValues(r)
	if err != nil {
		h.renderError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	sort := v.Get("sort")
	if sort == "" {
		sort = "month"
	}
	if !slices.Contains(overviewSorts, sort) {
		h.renderError(w, r, http.StatusBadRequest, fmt.Sprintf("sort: %q is not one of month, week, today, name", sort))
		return
	}
	now := h.c.Now()
	var rows []eventCount
	if err := h.run(r, func(ctx context.Context) error {
		var err error
		rows, err = countEvents(ctx, h.c, now)
		return err
	}); err != nil {
		h.failRedis(w, r, err, false)
		return
	}
	sortCounts(rows, sort)
	d := overviewData{
		base:  h.base("overview"),
		Rows:  rows,
		Sort:  sort,
		Day:   bitmapist.Days.Label(now),
		Week:  bitmapist.Weeks.Label(now),
		Month: bitmapist.Months.Label(now),
	}
	h.render(w, r, http.StatusOK, "overview", d)
}
