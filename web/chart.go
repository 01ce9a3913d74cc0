package web

import (
	"math"
	"strconv"
	"strings"
)

// Geometry of the report charts, in SVG user units (the SVG scales to its
// container's width).
const (
	chartW, chartH        = 1100, 280
	chartLeft, chartRight = 64, 24
	chartTop, chartBottom = 16, 34
	chartPlotW            = chartW - chartLeft - chartRight
	chartPlotH            = chartH - chartTop - chartBottom
	chartMaxXTicks        = 12
)

// chart is an inline SVG chart: lines or bars over labelled x positions,
// with a y axis from Min to Max (Min < 0 for bars below the axis). The
// layout is computed here; the "chart" template only draws it.
type chart struct {
	W, H, Left, Right, Top, Bottom int
	ZeroY                          float64 // y of the value 0
	YTicks, XTicks                 []curveTick
	Lines                          []chartLine
	Bars                           []chartBar
	Legend                         []legendItem
	Title                          string // accessible name
}

// chartLine is one series drawn as a line.
type chartLine struct {
	Class, Name string
	D           string // path
	Dots        []chartDot
}

// chartDot is a point of a line with its tooltip.
type chartDot struct {
	X, Y  float64
	Title string
}

// chartBar is one rectangle of a bar chart, with its tooltip and an
// optional label above it.
type chartBar struct {
	X, Y, W, H   float64
	Class, Title string
	Label        string
	LabelY       float64
}

// legendItem names a series and its CSS class.
type legendItem struct{ Class, Name string }

// niceStep returns a round tick step (1, 2, 2.5 or 5 × 10^k) for an axis
// reaching m in about four steps; 1 for m <= 0.
func niceStep(m float64) float64 {
	if m <= 0 {
		return 1
	}
	raw := m / 4
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, f := range []float64{1, 2, 2.5, 5, 10} {
		if raw <= f*p+1e-9 {
			return math.Max(f*p, 1e-9)
		}
	}
	return 10 * p
}

// axis is a y axis from lo (<= 0) to hi (>= 0) in round steps.
type axis struct{ lo, hi, step float64 }

// newAxis returns the axis covering lo..hi with round ticks (whole numbers
// when whole is set).
func newAxis(lo, hi float64, whole bool) axis {
	step := niceStep(math.Max(hi, -lo))
	if whole {
		step = math.Max(1, math.Ceil(step))
	}
	a := axis{step: step}
	a.hi = math.Max(step, math.Ceil(hi/step-1e-9)*step)
	if lo < 0 {
		a.lo = math.Floor(lo/step+1e-9) * step
	}
	return a
}

// y maps v to an SVG y coordinate.
func (a axis) y(v float64) float64 {
	return round1(chartTop + (a.hi-v)/(a.hi-a.lo)*chartPlotH)
}

// newChart returns an empty chart on axis a, with y ticks formatted by
// format, and x ticks for labels placed by x.
func newChart(title string, a axis, format func(float64) string, labels []string, x func(int) float64) *chart {
	c := &chart{W: chartW, H: chartH, Left: chartLeft, Right: chartLeft + chartPlotW, Top: chartTop,
		Bottom: chartTop + chartPlotH, ZeroY: a.y(0), Title: title}
	for v := a.lo; v <= a.hi+a.step/1e6; v += a.step {
		c.YTicks = append(c.YTicks, curveTick{Pos: a.y(v), Label: format(v)})
	}
	step := (len(labels) + chartMaxXTicks - 1) / chartMaxXTicks
	for i := 0; i < len(labels); i += max(1, step) {
		c.XTicks = append(c.XTicks, curveTick{Pos: x(i), Label: labels[i]})
	}
	return c
}

// linePos places point i of n across the plot, the first and last at its
// edges (one point in the middle).
func linePos(n int) func(int) float64 {
	return func(i int) float64 {
		if n <= 1 {
			return chartLeft + chartPlotW/2
		}
		return round1(chartLeft + float64(i)*chartPlotW/float64(n-1))
	}
}

// barPos places the middle of slot i of n equal slots.
func barPos(n int) func(int) float64 {
	return func(i int) float64 { return round1(chartLeft + (float64(i)+0.5)*chartPlotW/float64(max(1, n))) }
}

// series is a named line of values, one per x position.
type series struct {
	Class, Name string
	Values      []float64
}

// newLineChart draws each series as a line over labels; format gives the
// y labels and the tooltips. A NaN value is no value (an undefined ratio):
// the line has a gap there, and no dot.
func newLineChart(title string, labels []string, ss []series, whole bool, format func(float64) string) *chart {
	hi := 0.0
	for _, s := range ss {
		for _, v := range s.Values {
			if !math.IsNaN(v) {
				hi = math.Max(hi, v)
			}
		}
	}
	a := newAxis(0, hi, whole)
	x := linePos(len(labels))
	c := newChart(title, a, format, labels, x)
	for _, s := range ss {
		l := chartLine{Class: s.Class, Name: s.Name}
		var d strings.Builder
		gap := true // the next point starts a segment
		for i, v := range s.Values {
			if math.IsNaN(v) {
				gap = true
				continue
			}
			px, py := x(i), a.y(v)
			switch {
			case gap && d.Len() == 0:
				d.WriteString("M")
			case gap:
				d.WriteString(" M")
			default:
				d.WriteString(" L")
			}
			gap = false
			d.WriteString(fmtCoord(px) + " " + fmtCoord(py))
			if len(s.Values) <= 120 {
				l.Dots = append(l.Dots, chartDot{X: px, Y: py, Title: labels[i] + ": " + s.Name + " " + format(v)})
			}
		}
		l.D = d.String()
		c.Lines = append(c.Lines, l)
		c.Legend = append(c.Legend, legendItem{s.Class, s.Name})
	}
	return c
}

// stack is one bar position of a stacked bar chart: its segments above
// the axis (bottom first) and below it (top first), each a series value.
type stack struct {
	Label     string
	Up, Down  []float64 // Down values are >= 0, drawn below the axis
	TopLabel  string    // shown above the bar, "" for none
	BarTitles []string  // tooltips, Up's then Down's
}

// newBarChart draws stacks over their labels: classes name Up's series
// then Down's, for the CSS and the legend (names).
func newBarChart(title string, stacks []stack, classes, names []string, format func(float64) string) *chart {
	hi, lo := 0.0, 0.0
	for _, s := range stacks {
		up, down := 0.0, 0.0
		for _, v := range s.Up {
			up += v
		}
		for _, v := range s.Down {
			down += v
		}
		hi, lo = math.Max(hi, up), math.Min(lo, -down)
	}
	a := newAxis(lo, hi*1.08, true) // room for the labels above the bars
	x := barPos(len(stacks))
	labels := make([]string, len(stacks))
	for i, s := range stacks {
		labels[i] = s.Label
	}
	c := newChart(title, a, format, labels, x)
	slot := float64(chartPlotW) / float64(max(1, len(stacks)))
	bw := round1(math.Max(1, math.Min(slot*0.7, 90)))
	for i, s := range stacks {
		left := round1(x(i) - bw/2)
		base := 0.0
		for j, v := range s.Up {
			top, bottom := a.y(base+v), a.y(base)
			c.Bars = append(c.Bars, chartBar{X: left, Y: top, W: bw, H: round1(bottom - top), Class: classes[j], Title: titleAt(s.BarTitles, j)})
			base += v
		}
		if s.TopLabel != "" && len(c.Bars) > 0 {
			b := &c.Bars[len(c.Bars)-1]
			b.Label, b.LabelY = s.TopLabel, round1(a.y(base)-6)
		}
		base = 0
		for j, v := range s.Down {
			top, bottom := a.y(-base), a.y(-base-v)
			c.Bars = append(c.Bars, chartBar{X: left, Y: top, W: bw, H: round1(bottom - top), Class: classes[len(s.Up)+j], Title: titleAt(s.BarTitles, len(s.Up)+j)})
			base += v
		}
	}
	for j, n := range names {
		c.Legend = append(c.Legend, legendItem{classes[j], n})
	}
	return c
}

func titleAt(ts []string, i int) string {
	if i < len(ts) {
		return ts[i]
	}
	return ""
}

// countLabel formats an axis value as a whole number with thousands
// separators ("12,000"), or with one decimal when it is not whole.
func countLabel(v float64) string {
	if v == math.Trunc(v) {
		return thousands(int64(v))
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// percentLabel formats a fraction as a percentage, without ".0".
func percentLabel(v float64) string {
	return strings.TrimSuffix(strconv.FormatFloat(v*100, 'f', 1, 64), ".0") + "%"
}
