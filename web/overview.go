package web

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/redis/go-redis/v9"
)

// overviewPageSize is how many events one overview page lists.
const overviewPageSize = 50

// sparkDays is the length of the overview's sparkline and of the two
// periods its change compares, in days.
const sparkDays = 30

// eventCount is one row of the overview: an event and how many distinct
// users did it in the current day, ISO week and month.
type eventCount struct {
	Event              string
	Today, Week, Month int64
}

// countEvents lists every event under c's prefix and counts its users in
// the day, ISO week and month containing now (countNames). Rows come
// sorted by name.
func countEvents(ctx context.Context, c *bitmapist.Client, now time.Time) ([]eventCount, error) {
	names, err := c.EventNames(ctx, "")
	if err != nil {
		return nil, err
	}
	return countNames(ctx, c, names, now)
}

// countNames counts the users of each event of names in the day, ISO week
// and month containing now: one pipeline of 3 BITCOUNTs per event (split
// per node on a cluster). Rows are in the order of names.
func countNames(ctx context.Context, c *bitmapist.Client, names []string, now time.Time) ([]eventCount, error) {
	if len(names) == 0 {
		return nil, nil
	}
	p := c.Redis().Pipeline()
	cmds := make([]*redis.IntCmd, 0, 3*len(names))
	keys := make([]string, 0, 3*len(names))
	for _, n := range names {
		for _, g := range [...]bitmapist.TimeGroup{bitmapist.Days, bitmapist.Weeks, bitmapist.Months} {
			keys = append(keys, c.Key(n, g, now))
			cmds = append(cmds, p.BitCount(ctx, keys[len(keys)-1], nil))
		}
	}
	if _, err := p.Exec(ctx); err != nil {
		for i, cmd := range cmds {
			if kt := bitmapist.WrongType(keys[i], cmd.Err()); kt != nil {
				return nil, kt
			}
		}
		return nil, fmt.Errorf("bitmapist/web: count %d events: %w", len(names), err)
	}
	rows := make([]eventCount, len(names))
	for i, n := range names {
		rows[i] = eventCount{Event: n, Today: cmds[3*i].Val(), Week: cmds[3*i+1].Val(), Month: cmds[3*i+2].Val()}
	}
	return rows, nil
}

// dailyCounts returns, for each event of names, its users on each of the
// days days ending with the day containing last, oldest first: one
// pipeline of len(names) × days BITCOUNTs.
func dailyCounts(ctx context.Context, c *bitmapist.Client, names []string, last time.Time, days int) ([][]int64, error) {
	if len(names) == 0 {
		return nil, nil
	}
	p := c.Redis().Pipeline()
	cmds := make([]*redis.IntCmd, 0, days*len(names))
	first := bitmapist.Days.Add(bitmapist.Days.Start(last), -(days - 1))
	for _, n := range names {
		for d := range days {
			cmds = append(cmds, p.BitCount(ctx, c.Key(n, bitmapist.Days, bitmapist.Days.Add(first, d)), nil))
		}
	}
	if _, err := p.Exec(ctx); err != nil {
		return nil, fmt.Errorf("bitmapist/web: daily counts of %d events: %w", len(names), err)
	}
	out := make([][]int64, len(names))
	for i := range names {
		out[i] = make([]int64, days)
		for d := range days {
			out[i][d] = cmds[i*days+d].Val()
		}
	}
	return out, nil
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

// filterNames returns the names containing q, case-insensitively (all of
// them for an empty q).
func filterNames(names []string, q string) []string {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return names
	}
	var out []string
	for _, n := range names {
		if strings.Contains(strings.ToLower(n), q) {
			out = append(out, n)
		}
	}
	return out
}

// eventRow is one event row as the overview shows it.
type eventRow struct {
	eventCount
	Spark        *sparkline
	Change       change
	RetentionURL string // weekly retention of the event, with replacement
	EventURL     string // the event's page
}

// overviewData is what overview.html reads.
type overviewData struct {
	base
	Rows             []eventRow
	Sort             string // the column the rows are sorted by
	SortURLs         map[string]string
	Filter           string    // the filter box ("q")
	NowField         dateField // the date control
	Day, Week, Month string    // labels of the current periods
	SparkFrom        string    // first day of the sparklines
	Events           int       // events recorded (all of them)
	Matching         int       // events matching the filter
	Page, Pages      int       // 1-based page number and page count
	First, Last      int       // 1-based positions of the rows shown
	PrevURL, NextURL string    // "" on the first / last page
	PageNote         string    // says that the page asked for is past the last one, shown instead
	Error            string    // message of a bad parameter
}

// overviewQuery is the overview's parsed parameters.
type overviewQuery struct {
	sort, filter string
	page         int
	now          time.Time
	nowText      string // the "now" parameter as given, "" for the clock
}

func (h *handler) parseOverview(v url.Values) (overviewQuery, error) {
	q := overviewQuery{sort: cmp.Or(strings.TrimSpace(v.Get("sort")), "month"), filter: strings.TrimSpace(v.Get("q")), page: 1}
	if !slices.Contains(overviewSorts, q.sort) {
		return q, fmt.Errorf("sort: %s is not one of month, week, today, name", quoteClip(q.sort))
	}
	if s := strings.TrimSpace(v.Get("page")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, fmt.Errorf("page: %s is not a page number (1, 2, ...)", quoteClip(s))
		}
		q.page = n
	}
	var err error
	q.nowText = strings.TrimSpace(v.Get(nowParam))
	if q.now, err = h.pageNow(v); err != nil {
		_, msg, _ := queryError(err)
		return q, fmt.Errorf("%s", msg)
	}
	return q, nil
}

func (h *handler) overview(w http.ResponseWriter, r *http.Request) {
	v, err := queryValues(r)
	if err != nil {
		_, msg, _ := queryError(err)
		h.renderError(w, r, http.StatusBadRequest, msg)
		return
	}
	q, err := h.parseOverview(v)
	if err != nil {
		h.renderError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	d := overviewData{base: h.pageBase("overview", v, q.now), Sort: q.sort, Filter: q.filter,
		NowField: dateField{ID: "now", Name: nowParam, Label: "Date", Value: strings.TrimSpace(v.Get(nowParam)), Hint: "empty: today"},
		Day:      bitmapist.Days.Label(q.now), Week: bitmapist.Weeks.Label(q.now), Month: bitmapist.Months.Label(q.now),
		SparkFrom: bitmapist.Days.Label(bitmapist.Days.Add(q.now, -(sparkDays - 1)))}
	if err := h.run(r, func(ctx context.Context) error { return h.overviewRows(ctx, q, &d) }); err != nil {
		h.failRedis(w, r, err, false)
		return
	}
	d.SortURLs = map[string]string{}
	for _, s := range overviewSorts {
		d.SortURLs[s] = withParams("?sort="+s, v, "q", nowParam)
	}
	if d.Page > 1 {
		d.PrevURL = withParams("?page="+strconv.Itoa(d.Page-1), v, "sort", "q", nowParam)
	}
	if d.Page < d.Pages {
		d.NextURL = withParams("?page="+strconv.Itoa(d.Page+1), v, "sort", "q", nowParam)
	}
	h.render(w, r, http.StatusOK, "overview", d)
}

// overviewRows fills d's rows: the events matching q's filter, sorted, the
// page asked for (the last one if it is past the end), each with its
// counts and its sparkline. Sorted by name only the page's events are
// counted.
func (h *handler) overviewRows(ctx context.Context, q overviewQuery, d *overviewData) error {
	names, err := h.c.EventNames(ctx, "")
	if err != nil {
		return err
	}
	d.Events = len(names)
	names = filterNames(names, q.filter)
	d.Matching = len(names)
	d.Pages = max(1, (len(names)+overviewPageSize-1)/overviewPageSize)
	d.Page = min(q.page, d.Pages)
	if q.page > d.Pages {
		d.PageNote = fmt.Sprintf("There is no page %d: the %s fit on %s. This is the last page.",
			q.page, plural(d.Matching, map[bool]string{true: "matching event", false: "event"}[q.filter != ""]), plural(d.Pages, "page"))
	}
	lo, hi := (d.Page-1)*overviewPageSize, min(len(names), d.Page*overviewPageSize)
	var rows []eventCount
	if q.sort == "name" {
		rows, err = countNames(ctx, h.c, names[lo:hi], q.now)
	} else if rows, err = countNames(ctx, h.c, names, q.now); err == nil {
		sortCounts(rows, q.sort)
		rows = rows[lo:hi]
	}
	if err != nil {
		return err
	}
	page := make([]string, len(rows))
	for i, r := range rows {
		page[i] = r.Event
	}
	series, err := dailyCounts(ctx, h.c, page, q.now, 2*sparkDays)
	if err != nil {
		return err
	}
	d.First, d.Last = lo+1, hi
	for i, r := range rows {
		prev, cur := series[i][:sparkDays], series[i][sparkDays:]
		d.Rows = append(d.Rows, eventRow{eventCount: r, Spark: newSparkline(cur), Change: newChange(sum(cur), sum(prev)),
			RetentionURL: retentionLink(r.Event, q.nowText), EventURL: withParams("event?event="+url.QueryEscape(r.Event), url.Values{nowParam: {q.nowText}}, nowParam)})
	}
	return nil
}

func sum(xs []int64) int64 {
	var s int64
	for _, x := range xs {
		s += x
	}
	return s
}
