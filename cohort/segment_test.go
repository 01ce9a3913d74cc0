package cohort_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

func TestParseLabel(t *testing.T) {
	for label, want := range map[string]struct {
		g bitmapist.TimeGroup
		t time.Time
	}{
		"2025-03-01T05":    {bitmapist.Hours, time.Date(2025, 3, 1, 5, 0, 0, 0, time.UTC)},
		"2025-03-01 05:00": {bitmapist.Hours, time.Date(2025, 3, 1, 5, 0, 0, 0, time.UTC)},
		"2025-03-01":       {bitmapist.Days, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)},
		"2025-W01":         {bitmapist.Weeks, time.Date(2024, 12, 30, 0, 0, 0, 0, time.UTC)},
		"2020-W53":         {bitmapist.Weeks, time.Date(2020, 12, 28, 0, 0, 0, 0, time.UTC)},
		"2025-03":          {bitmapist.Months, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)},
		"2025":             {bitmapist.Years, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		g, start, err := cohort.ParseLabel(label, time.UTC)
		if err != nil || g != want.g || !start.Equal(want.t) {
			t.Errorf("%q: %v %v %v, want %v %v", label, g, start, err, want.g, want.t)
		}
		if err == nil && g.Label(start) != strings.Replace(strings.Replace(label, "T05", " 05:00", 1), " 05:00", " 05:00", 1) {
			t.Errorf("%q: label round trip gives %q", label, g.Label(start))
		}
	}
	for _, bad := range []string{"", "2025-W54", "2021-W53", "2025-13", "yesterday", "2025-03-01T25", "2025-W1x", "2025-W+1", "2025-W 1", "+025-W01"} {
		if _, _, err := cohort.ParseLabel(bad, time.UTC); !errors.Is(err, cohort.ErrInvalidQuery) {
			t.Errorf("%q: %v, want ErrInvalidQuery", bad, err)
		}
	}
}

// TestParseLabelImpossible: a label of a known shape naming no real
// period says which: the year's ISO weeks, or the date's field out of
// range (a *DateError, the command's and the dashboard's words).
func TestParseLabelImpossible(t *testing.T) {
	for label, want := range map[string]string{
		"2016-W53":      `period label "2016-W53" is not a valid week (2016 has ISO weeks W01..W52)`,
		"2020-W54":      `period label "2020-W54" is not a valid week (2020 has ISO weeks W01..W53)`,
		"2016-W00":      `(2016 has ISO weeks W01..W52)`,
		"2016-02-30":    `period label "2016-02-30" is not a valid date (day out of range)`,
		"2016-13":       `period label "2016-13" is not a valid date (month out of range)`,
		"2016-04-27T25": `period label "2016-04-27T25" is not a valid date (hour out of range)`,
	} {
		_, _, err := cohort.ParseLabel(label, time.UTC)
		if !errors.Is(err, cohort.ErrInvalidQuery) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want ErrInvalidQuery and %q", label, err, want)
		}
		var de *cohort.DateError
		if strings.Contains(want, "valid date") != errors.As(err, &de) {
			t.Errorf("%q: %v: a *DateError exactly for an impossible date", label, err)
		}
	}
	if g, _, err := cohort.ParseLabel("2020-W53", time.UTC); err != nil || g != bitmapist.Weeks {
		t.Errorf("2020-W53 (2020 has 53 ISO weeks): %v %v", g, err)
	}
}

func TestParseSegment(t *testing.T) {
	b := testutil.Miniredis(t)
	c := newClient(b, engageStart, bitmapist.WithTrackUnique(true))
	ctx := context.Background()
	markIDs(t, c, "plan:pro", engageStart, 1, 2, 3)
	markIDs(t, c, "a@b", engageStart.AddDate(0, 1, 0), 2, 3, 4)
	s, err := cohort.ParseSegment(c, "plan:pro", " a@b@2024-12 ")
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := s.IDs(ctx); err != nil || !slices.Equal(ids, []uint64{2, 3}) {
		t.Errorf("segment ids %v %v, want [2 3]", ids, err)
	}
	if s, err := cohort.ParseSegment(c); s != nil || err != nil {
		t.Errorf("no specs: %v %v", s, err)
	}
	for _, bad := range []string{"bitop_x", "e@2025-99", "@2025"} {
		var qe *cohort.QueryError
		if _, err := cohort.ParseSegment(c, bad); !errors.As(err, &qe) || qe.Field != "segment" {
			t.Errorf("%q: %v, want a *QueryError on segment", bad, err)
		}
	}
	if _, err := cohort.ParseSegment(nil, "x"); !errors.Is(err, cohort.ErrNilClient) {
		t.Errorf("nil client: %v", err)
	}
}

func TestReportCSV(t *testing.T) {
	b := testutil.Miniredis(t)
	c := newClient(b, engageStart)
	ctx := context.Background()
	markIDs(t, c, "v", engageStart, 1, 2, 3)
	markIDs(t, c, "v", engageStart.AddDate(0, 0, 1), 1)
	markIDs(t, c, "buy", engageStart.AddDate(0, 0, 1), 1, 2)
	f, err := cohort.GetFunnel(ctx, c, cohort.FunnelQuery{Steps: []string{"v", "buy"}, TimeGroup: bitmapist.Days, Window: 1, From: engageStart, To: engageStart})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	want := "label,start,step,event,users,from_previous,from_first,drop_off\n" +
		"2024-11-04,2024-11-04T00:00:00Z,1,v,3,1.0000,1.0000,0\n" +
		"2024-11-04,2024-11-04T00:00:00Z,2,buy,2,0.6667,0.6667,1\n" +
		"total,,1,v,3,1.0000,1.0000,0\n" +
		"total,,2,buy,2,0.6667,0.6667,1\n"
	if buf.String() != want {
		t.Errorf("funnel CSV:\n%s\nwant:\n%s", buf.String(), want)
	}
	s, err := cohort.GetStickiness(ctx, c, cohort.StickinessQuery{Event: "v", TimeGroup: bitmapist.Days, From: engageStart, To: engageStart.AddDate(0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := s.WriteCSV(&buf); err != nil || buf.String() != "periods,users\n1,2\n2,1\n" {
		t.Errorf("stickiness CSV %q %v", buf.String(), err)
	}
	l, err := cohort.GetLifecycle(ctx, c, cohort.LifecycleQuery{Event: "v", TimeGroup: bitmapist.Days, From: engageStart, To: engageStart.AddDate(0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := l.WriteCSV(&buf); err != nil || buf.String() != "label,start,new,returning,resurrecting,dormant\n2024-11-04,2024-11-04T00:00:00Z,3,0,0,0\n2024-11-05,2024-11-05T00:00:00Z,0,1,0,-2\n" {
		t.Errorf("lifecycle CSV %q %v", buf.String(), err)
	}
	var nl *cohort.Lifecycle
	if err := nl.WriteCSV(&buf); !errors.Is(err, cohort.ErrNilReport) {
		t.Errorf("nil lifecycle: %v", err)
	}
}
