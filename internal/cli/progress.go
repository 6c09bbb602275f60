package cli

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// progress draws one self-overwriting status line on a terminal. It is
// only ever used from the bench's waiting goroutine, so it needs no lock;
// when off (not a terminal, or --no-progress) every method does nothing.
type progress struct {
	w     io.Writer
	on    bool
	width int // longest line drawn, to blank leftovers of longer lines
}

func newProgress(w io.Writer, on bool) *progress { return &progress{w: w, on: on} }

func (p *progress) draw(line string) {
	if !p.on {
		return
	}
	pad := max(0, p.width-len(line))
	p.width = max(p.width, len(line))
	// A failed write to the terminal is not worth failing the bench over.
	_, _ = fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", pad))
}

// clear erases the line so the report starts on a clean line.
func (p *progress) clear() {
	if !p.on || p.width == 0 {
		return
	}
	_, _ = fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
	p.width = 0
}

// countLine renders "label 1,234/2,000 (61.7%)". The percentage is
// rounded down so 100.0% means done, not 99.96%.
func countLine(label string, done, want int64) string {
	pct := math.Floor(percent(done, want)*10) / 10
	return fmt.Sprintf("%s %s/%s (%.1f%%)", label, commaInt(done), commaInt(want), pct)
}
