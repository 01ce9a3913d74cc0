package web

import (
	"strconv"
	"strings"
)

// Geometry of the overview's sparklines, in SVG user units.
const sparkW, sparkH = 120, 26

// sparkline is a small inline SVG of daily users, one point per day.
type sparkline struct {
	W, H      int
	Line      string // "d" of the line
	Area      string // "d" of the area under it
	LastX     float64
	LastY     float64
	Max, Last int64
}

// newSparkline lays out the sparkline of counts (oldest first), scaled to
// its largest value; all zeros give a flat line on the axis.
func newSparkline(counts []int64) *sparkline {
	if len(counts) == 0 {
		return nil
	}
	s := &sparkline{W: sparkW, H: sparkH}
	for _, n := range counts {
		s.Max = max(s.Max, n)
	}
	s.Last = counts[len(counts)-1]
	const pad = 2.0
	x := func(i int) float64 {
		if len(counts) == 1 {
			return sparkW / 2
		}
		return round1(pad + float64(i)*(sparkW-2*pad)/float64(len(counts)-1))
	}
	y := func(n int64) float64 {
		if s.Max == 0 {
			return sparkH - pad
		}
		return round1(sparkH - pad - float64(n)/float64(s.Max)*(sparkH-2*pad))
	}
	var line strings.Builder
	for i, n := range counts {
		if i == 0 {
			line.WriteString("M")
		} else {
			line.WriteString(" L")
		}
		line.WriteString(fmtCoord(x(i)) + " " + fmtCoord(y(n)))
	}
	s.Line = line.String()
	s.Area = s.Line + " L" + fmtCoord(x(len(counts)-1)) + " " + fmtCoord(sparkH) + " L" + fmtCoord(x(0)) + " " + fmtCoord(sparkH) + " Z"
	s.LastX, s.LastY = x(len(counts)-1), y(s.Last)
	return s
}

// change compares a period's total with the previous period's.
type change struct {
	Text  string // "+12.5%", "−3.0%", "new", "–"
	Class string // "up", "down", "flat"
	Cur   int64  // this period's total
	Prev  int64  // the previous period's total
}

// newChange returns the change from prev to cur: a percentage of prev,
// "new" when only cur has users, "–" when neither has.
func newChange(cur, prev int64) change {
	c := change{Cur: cur, Prev: prev, Class: "flat"}
	switch {
	case prev == 0 && cur == 0:
		c.Text = "–"
	case prev == 0:
		c.Text, c.Class = "new", "up"
	default:
		pct := (float64(cur) - float64(prev)) / float64(prev) * 100
		c.Text = strconv.FormatFloat(pct, 'f', 1, 64) + "%"
		switch {
		case c.Text == "0.0%" || c.Text == "-0.0%":
			c.Text = "0.0%"
		case pct > 0:
			c.Text, c.Class = "+"+c.Text, "up"
		default:
			c.Text, c.Class = "−"+strings.TrimPrefix(c.Text, "-"), "down"
		}
	}
	return c
}
