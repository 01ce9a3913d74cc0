package web

import (
	"math"
	"strconv"
	"strings"

	"github.com/bitmapist-go/bitmapist/cohort"
)

// Geometry of the retention curve, in SVG user units (the SVG scales to
// its container's width).
const (
	curveW, curveH         = 1100, 260 // viewBox
	curveLeft, curveRight  = 48, 40    // margins for the y labels and the last x label
	curveTop, curveBottom  = 18, 34    // margins for value labels and x labels
	curvePlotW, curvePlotH = curveW - curveLeft - curveRight, curveH - curveTop - curveBottom
	curveBaseY             = curveTop + curvePlotH // y of 0%
	curveMaxXTicks         = 13                    // at most this many column labels
	curveMaxValueLabels    = 16                    // above this many points, values only in tooltips
)

// curvePoint is one point of the curve, in SVG coordinates.
type curvePoint struct {
	X, Y   float64
	Label  string // "43.1%"
	Column string // column heading
}

// curveTick is a labelled grid line or axis label.
type curveTick struct {
	Pos   float64 // x for x ticks, y for y ticks
	Label string
}

// curve is the retention curve of a table: the average fraction of each
// column (Table.Averages), drawn as an inline SVG by cohort.html.
type curve struct {
	W, H, Left, Right, Base, XLabelY, YLabelX int
	Lines                                     []string // "d" of each unbroken run of valid averages
	Areas                                     []string // "d" of the area under each run
	Points                                    []curvePoint
	XTicks, YTicks                            []curveTick
	ShowValues                                bool // label each point with its value
}

// niceMax returns the y axis top for the largest fraction m: the smallest
// of 5%, 10%, 20%, 25%, 50%, 75%, 100% (or m itself above 1) not below m.
func niceMax(m float64) float64 {
	for _, v := range []float64{0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1} {
		if m <= v+1e-9 {
			return v
		}
	}
	return m
}

// round1 rounds f to one decimal, enough for SVG coordinates.
func round1(f float64) float64 { return math.Round(f*10) / 10 }

func fmtCoord(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// newCurve lays out the curve of t, or returns nil when no column has an
// average.
func newCurve(t *cohort.Table) *curve {
	maxF := 0.0
	found := false
	for _, a := range t.Averages {
		if a.Valid {
			found = true
			maxF = max(maxF, a.Fraction)
		}
	}
	if !found {
		return nil
	}
	top := niceMax(maxF)
	cols := len(t.Averages)
	x := func(j int) float64 {
		if cols == 1 {
			return curveLeft + curvePlotW/2
		}
		return round1(curveLeft + float64(j)*curvePlotW/float64(cols-1))
	}
	y := func(f float64) float64 { return round1(curveBaseY - f/top*curvePlotH) }
	cv := &curve{W: curveW, H: curveH, Left: curveLeft, Right: curveLeft + curvePlotW, Base: curveBaseY,
		XLabelY: curveBaseY + 20, YLabelX: curveLeft - 8}
	for k := 0; k <= 4; k++ {
		f := top * float64(k) / 4
		cv.YTicks = append(cv.YTicks, curveTick{Pos: y(f), Label: strings.TrimSuffix(strconv.FormatFloat(f*100, 'f', 1, 64), ".0") + "%"})
	}
	step := (cols + curveMaxXTicks - 1) / curveMaxXTicks
	for j := 0; j < cols; j += step {
		cv.XTicks = append(cv.XTicks, curveTick{Pos: x(j), Label: t.ColumnLabel(j)})
	}
	var line, area strings.Builder
	var runStart float64
	flush := func(lastX float64) {
		if line.Len() == 0 {
			return
		}
		cv.Lines = append(cv.Lines, line.String())
		area.WriteString(" L" + fmtCoord(lastX) + " " + fmtCoord(curveBaseY) + " Z")
		cv.Areas = append(cv.Areas, area.String())
		line.Reset()
		area.Reset()
	}
	lastX := 0.0
	for j, a := range t.Averages {
		if !a.Valid {
			flush(lastX)
			continue
		}
		px, py := x(j), y(a.Fraction)
		if line.Len() == 0 {
			runStart = px
			line.WriteString("M" + fmtCoord(px) + " " + fmtCoord(py))
			area.WriteString("M" + fmtCoord(runStart) + " " + fmtCoord(curveBaseY) + " L" + fmtCoord(px) + " " + fmtCoord(py))
		} else {
			line.WriteString(" L" + fmtCoord(px) + " " + fmtCoord(py))
			area.WriteString(" L" + fmtCoord(px) + " " + fmtCoord(py))
		}
		lastX = px
		cv.Points = append(cv.Points, curvePoint{X: px, Y: py, Label: percent(a.Fraction), Column: t.ColumnLabel(j)})
	}
	flush(lastX)
	cv.ShowValues = len(cv.Points) <= curveMaxValueLabels
	return cv
}
