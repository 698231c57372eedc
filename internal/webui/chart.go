package webui

import "unicode/utf8"

// chart is a horizontal bar chart laid out on the server and drawn as inline SVG, so it needs
// no script and scales with the page (viewBox).
type chart struct {
	Width, Height int
	Bars          []bar
	Empty         bool
}

type bar struct {
	Label      string
	N          int
	Y, W       int // the bar's top and length, in viewBox units
	TextY      int
	ValueX     int
	LabelShort string
}

const (
	chartWidth  = 640
	chartLabelW = 220 // left column for labels
	chartBarMax = 360
	chartRow    = 28
	chartBarH   = 18
)

// barChart lays out one bar per count, scaled to the largest.
func barChart(cs []count) chart {
	c := chart{Width: chartWidth, Height: chartRow*len(cs) + 8}
	max := 0
	for _, x := range cs {
		if x.N > max {
			max = x.N
		}
	}
	if len(cs) == 0 {
		c.Empty = true
		c.Height = chartRow
	}
	for i, x := range cs {
		w := 0
		if max > 0 {
			w = x.N * chartBarMax / max
		}
		if x.N > 0 && w < 2 {
			w = 2 // a non-zero count stays visible
		}
		label := x.Label
		if label == "" {
			label = x.Key
		}
		y := 4 + i*chartRow
		c.Bars = append(c.Bars, bar{Label: label, LabelShort: shorten(label, 30), N: x.N, Y: y, W: w,
			TextY: y + chartBarH - 4, ValueX: chartLabelW + w + 6})
	}
	return c
}

// shorten cuts s to about n columns (a wide CJK character counts two) with an ellipsis; the
// full label stays in the bar's <title>.
func shorten(s string, n int) string {
	cols, cut := 0, -1
	for i, r := range s {
		w := 1
		if r >= 0x1100 && utf8.RuneLen(r) >= 3 {
			w = 2
		}
		if cols+w > n-1 && cut < 0 {
			cut = i
		}
		cols += w
	}
	if cols <= n || cut < 0 {
		return s
	}
	return s[:cut] + "…"
}
