package bitmapist_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

func TestKeysMatchPythonBitmapist(t *testing.T) {
	plus2 := time.FixedZone("+02:00", 2*3600)
	cases := []struct {
		name string
		at   time.Time
		want []string // without prefix, sorted
	}{
		{"2024-12-30T05:10Z", time.Date(2024, 12, 30, 5, 10, 0, 0, time.UTC),
			[]string{"active_2024-12", "active_2024-12-30", "active_2024-12-30-5", "active_W2025-1", "active_u"}},
		{"2020-12-31T23:30Z", time.Date(2020, 12, 31, 23, 30, 0, 0, time.UTC),
			[]string{"active_2020-12", "active_2020-12-31", "active_2020-12-31-23", "active_W2020-53", "active_u"}},
		{"2021-01-01T00:30+02:00", time.Date(2021, 1, 1, 0, 30, 0, 0, plus2),
			[]string{"active_2020-12", "active_2020-12-31", "active_2020-12-31-22", "active_W2020-53", "active_u"}},
		{"2027-01-01T12:00Z", time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC),
			[]string{"active_2027-1", "active_2027-1-1", "active_2027-1-1-12", "active_W2026-53", "active_u"}},
	}
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				prefix := b.Prefix + strings.NewReplacer(":", "", "+", "").Replace(tc.name) + "_"
				c := bitmapist.New(b.Client, bitmapist.WithPrefix(prefix),
					bitmapist.WithTrackHourly(true), bitmapist.WithTrackUnique(true))
				if err := c.MarkEvent(context.Background(), "active", 7, bitmapist.At(tc.at)); err != nil {
					t.Fatal(err)
				}
				var want []string
				for _, k := range tc.want {
					want = append(want, prefix+k)
				}
				if got := testutil.Keys(t, b.Client, prefix); !slices.Equal(got, want) {
					t.Errorf("keys = %q, want %q", got, want)
				}
				// The Key method agrees with what MarkEvent wrote.
				for g, suffix := range map[bitmapist.TimeGroup]int{bitmapist.Months: 0, bitmapist.Days: 1, bitmapist.Hours: 2, bitmapist.Weeks: 3} {
					if got := c.Key("active", g, tc.at); got != want[suffix] {
						t.Errorf("Key(%v) = %q, want %q", g, got, want[suffix])
					}
				}
			})
		}
	})
}

func TestDefaultPrefixIsTrackist(t *testing.T) {
	b := testutil.Miniredis(t)
	c := bitmapist.New(b.Client)
	at := time.Date(2024, 12, 30, 5, 10, 0, 0, time.UTC)
	if err := c.MarkEvent(context.Background(), "active", 1, bitmapist.At(at)); err != nil {
		t.Fatal(err)
	}
	want := []string{"trackist_active_2024-12", "trackist_active_2024-12-30", "trackist_active_W2025-1"}
	if got := testutil.Keys(t, b.Client, ""); !slices.Equal(got, want) {
		t.Errorf("keys = %q, want %q", got, want)
	}
}

func TestValidateEventName(t *testing.T) {
	good := []string{"active", "user:logged_in", "song_played", "order.paid", "ünïcode", "a", strings.Repeat("x", bitmapist.MaxEventNameLen)}
	for _, n := range good {
		if err := bitmapist.ValidateEventName(n); err != nil {
			t.Errorf("ValidateEventName(%q) = %v, want nil", n, err)
		}
	}
	bad := []string{"", " ", "has space", "tab\there", "new\nline", "nul\x00", "bell\a", "star*", "what?", "[set]", "close]", `back\slash`,
		"bitop_AND_x", "\xff\xfe", strings.Repeat("x", bitmapist.MaxEventNameLen+1), "nbsp\u00a0x", "zero\u200bwidth"}
	for _, n := range bad {
		if err := bitmapist.ValidateEventName(n); !errors.Is(err, bitmapist.ErrInvalidEventName) {
			t.Errorf("ValidateEventName(%q) = %v, want ErrInvalidEventName", n, err)
		}
	}
}

func TestTimeGroupParse(t *testing.T) {
	for in, want := range map[string]bitmapist.TimeGroup{
		"hours": bitmapist.Hours, "hour": bitmapist.Hours, "Days": bitmapist.Days, "day": bitmapist.Days,
		"weeks": bitmapist.Weeks, "week": bitmapist.Weeks, "MONTHS": bitmapist.Months, "month": bitmapist.Months,
		"years": bitmapist.Years, " year ": bitmapist.Years,
	} {
		got, err := bitmapist.ParseTimeGroup(in)
		if err != nil || got != want {
			t.Errorf("ParseTimeGroup(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "fortnight", "dayss", "7"} {
		if _, err := bitmapist.ParseTimeGroup(in); !errors.Is(err, bitmapist.ErrInvalidTimeGroup) {
			t.Errorf("ParseTimeGroup(%q) error = %v, want ErrInvalidTimeGroup", in, err)
		}
	}
	if s := bitmapist.Weeks.String(); s != "weeks" {
		t.Errorf("Weeks.String() = %q", s)
	}
	if _, err := bitmapist.TimeGroup(9).MarshalText(); !errors.Is(err, bitmapist.ErrInvalidTimeGroup) {
		t.Errorf("MarshalText of invalid group: %v", err)
	}
}
