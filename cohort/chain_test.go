package cohort_test

import (
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

// chainEvents are the event names of the upstream chain cases by letter:
// i=logged_in, o=logged_out, c=created, u=updated, d=deleted.
var chainEvents = map[byte]string{
	'i': "user:logged_in", 'o': "user:logged_out", 'c': "user:created", 'u': "user:updated", 'd': "user:deleted",
}

// chainSteps parses "and o, or c" into steps.
func chainSteps(s string) []cohort.Step {
	var steps []cohort.Step
	for _, part := range strings.Split(s, ",") {
		op, ev, _ := strings.Cut(strings.TrimSpace(part), " ")
		o := cohort.And
		if op == "or" {
			o = cohort.Or
		}
		steps = append(steps, cohort.Step{Event: chainEvents[ev[0]], Op: o})
	}
	return steps
}

// TestChainUpstream runs every chain_events case of flask-bitmapist's tests, both through
// Chain and through a one-cell table whose cohort is every user.
func TestChainUpstream(t *testing.T) {
	now := time.Date(2025, 6, 15, 10, 0, 0, 0, time.UTC)
	users := map[uint64]string{11: "iocud", 22: "iocd", 33: "iou", 44: "icd", 55: "io", 66: "ocud", 77: "cud", 88: "od", 99: "d"}
	all := []uint64{11, 22, 33, 44, 55, 66, 77, 88, 99}
	but := func(out ...uint64) []uint64 {
		return slices.DeleteFunc(slices.Clone(all), func(id uint64) bool { return slices.Contains(out, id) })
	}
	cases := []struct {
		steps string
		want  []uint64
	}{
		{"and o", []uint64{11, 22, 33, 55}},
		{"and o, and c", []uint64{11, 22}},
		{"and o, and c, and d", []uint64{11, 22}},
		{"or o", but(77, 99)},
		{"or o, or u", but(99)},
		{"or o, or u, or d", all},
		{"and o, or c", []uint64{11, 22, 33, 44, 55}},
		{"or o, and c", []uint64{11, 22, 44, 66}},
		{"and o, and c, or d", []uint64{11, 22}},
		{"and o, or c, and d", []uint64{11, 22, 44}},
		{"or o, and c, and d", []uint64{11, 22, 44, 66}},
		{"or u, or c, and d", []uint64{11, 22, 44, 66, 77}},
		{"or u, and c, or d", []uint64{11, 22, 44, 66, 77}},
		{"and u, or c, or d", []uint64{11, 22, 33, 44}},
	}
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, now)
		var marks []bitmapist.Mark
		for id, evs := range users {
			marks = append(marks, bitmapist.Mark{Event: "everyone", UserID: id, Time: now})
			for i := range len(evs) {
				marks = append(marks, bitmapist.Mark{Event: chainEvents[evs[i]], UserID: id, Time: now})
			}
		}
		if err := c.MarkEvents(ctx, marks); err != nil {
			t.Fatal(err)
		}
		for _, tc := range cases {
			steps := chainSteps(tc.steps)
			kept := slices.Clone(steps)
			set, err := cohort.Chain(c, chainEvents['i'], steps, bitmapist.Days, now)
			if err != nil {
				t.Fatal(err)
			}
			ids, err := set.IDs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("i %s: Chain gives %v, want %v", tc.steps, ids, tc.want)
			}
			if !slices.Equal(steps, kept) {
				t.Errorf("i %s: Chain modified the steps: %v", tc.steps, steps)
			}
			tab, err := cohort.Get(ctx, c, cohort.Query{Primary: "everyone", Secondary: chainEvents['i'],
				Additional: steps, TimeGroup: bitmapist.Days, Rows: 1, Cols: 1})
			if err != nil {
				t.Fatal(err)
			}
			if got := tab.Cells[0][0]; !got.Valid || got.Count != int64(len(tc.want)) {
				t.Errorf("i %s: table cell %+v, want %d users", tc.steps, got, len(tc.want))
			}
		}
	})
}

func TestChainInvalid(t *testing.T) {
	c := bitmapist.New(testutil.Miniredis(t).Client)
	for _, tc := range []struct {
		base  string
		steps []cohort.Step
		g     bitmapist.TimeGroup
	}{
		{"", nil, bitmapist.Days},
		{"a", []cohort.Step{{Event: "b", Op: 2}}, bitmapist.Days},
		{"a", []cohort.Step{{Event: "b\x00c"}}, bitmapist.Days},
		{"a", nil, -1},
	} {
		if _, err := cohort.Chain(c, tc.base, tc.steps, tc.g, time.Now()); !errors.Is(err, cohort.ErrInvalidQuery) {
			t.Errorf("Chain(%q, %v, %v): error %v, want ErrInvalidQuery", tc.base, tc.steps, tc.g, err)
		}
	}
}

func TestOpText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want cohort.Op
	}{{"and", cohort.And}, {"AND", cohort.And}, {" or ", cohort.Or}, {"||", cohort.Or}, {"&&", cohort.And}} {
		got, err := cohort.ParseOp(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseOp(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if _, err := cohort.ParseOp("xor"); !errors.Is(err, cohort.ErrInvalidQuery) {
		t.Errorf("ParseOp(xor): %v", err)
	}
	if cohort.And.String() != "and" || cohort.Or.String() != "or" || cohort.Op(5).String() != "Op(5)" {
		t.Error("Op.String")
	}
	if _, err := cohort.Op(5).MarshalText(); err == nil {
		t.Error("MarshalText of an invalid Op: no error")
	}
}
