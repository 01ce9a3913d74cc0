package web

import (
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

func TestShade(t *testing.T) {
	for f, want := range map[float64]string{0: "h0", 0.001: "h1", 0.1: "h1", 0.1001: "h2", 0.5: "h5", 0.9: "h9", 0.95: "h10", 1: "h10", 1.5: "h10", -1: "h0"} {
		if got := shade(f); got != want {
			t.Errorf("shade(%v) = %s, want %s", f, got, want)
		}
	}
}

func TestNiceMax(t *testing.T) {
	for m, want := range map[float64]float64{0: 0.05, 0.03: 0.05, 0.05: 0.05, 0.07: 0.1, 0.3: 0.5, 0.6: 0.75, 0.99: 1, 1: 1} {
		if got := niceMax(m); got != want {
			t.Errorf("niceMax(%v) = %v, want %v", m, got, want)
		}
	}
}

func TestCurve(t *testing.T) {
	tb := &cohort.Table{
		Query: cohort.Query{TimeGroup: bitmapist.Weeks, Cols: 4},
		Averages: []cohort.Average{
			{Fraction: 0.8, Valid: true}, {}, {Fraction: 0.4, Valid: true}, {Fraction: 0.2, Valid: true},
		},
	}
	cv := newCurve(tb)
	if cv == nil {
		t.Fatal("no curve")
	}
	// The gap at column 1 splits the line in two runs.
	if len(cv.Lines) != 2 || len(cv.Areas) != 2 || len(cv.Points) != 3 {
		t.Fatalf("lines %q, areas %q, %d points", cv.Lines, cv.Areas, len(cv.Points))
	}
	// y axis 0..100% (niceMax(0.8) = 1); x spread over 4 columns.
	x := func(j int) float64 { return round1(curveLeft + float64(j)*curvePlotW/3) }
	y := func(f float64) float64 { return round1(curveBaseY - f*curvePlotH) }
	want := []curvePoint{
		{X: x(0), Y: y(0.8), Label: "80.0%", Column: "0"},
		{X: x(2), Y: y(0.4), Label: "40.0%", Column: "+2 weeks"},
		{X: x(3), Y: y(0.2), Label: "20.0%", Column: "+3 weeks"},
	}
	for i, p := range cv.Points {
		if p != want[i] {
			t.Errorf("point %d = %+v, want %+v", i, p, want[i])
		}
	}
	if strings.Contains(cv.Lines[0], "L") || strings.Count(cv.Lines[1], "L") != 1 {
		t.Errorf("lines %q", cv.Lines)
	}
	if !strings.HasSuffix(cv.Areas[1], "Z") || len(cv.YTicks) != 5 || cv.YTicks[4].Label != "100%" || cv.YTicks[2].Label != "50%" {
		t.Errorf("areas %q, y ticks %+v", cv.Areas, cv.YTicks)
	}
	if len(cv.XTicks) != 4 || !cv.ShowValues {
		t.Errorf("x ticks %+v, values %v", cv.XTicks, cv.ShowValues)
	}

	tb.Averages = []cohort.Average{{}, {}}
	if newCurve(tb) != nil {
		t.Error("a curve without any average")
	}
}
