package chaos

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Direction is one way through a proxy.
type Direction int

const (
	// ToTarget is the way from the server that dialled the link to the
	// server the proxy forwards to.
	ToTarget Direction = iota
	// FromTarget is the way back.
	FromTarget
)

func (d Direction) String() string {
	switch d {
	case ToTarget:
		return "to-target"
	case FromTarget:
		return "from-target"
	}
	return fmt.Sprintf("Direction(%d)", int(d))
}

// Faults is what a link does to its traffic at one moment. The zero value
// is a healthy link.
type Faults struct {
	// Cut: no connection is let through; current ones are closed.
	Cut bool
	// Blackhole[d]: the bytes going way d are read and thrown away, and
	// the connection stays open.
	Blackhole [2]bool
	// Delay[d]: each chunk going way d is held this long before it is
	// passed on (chunks keep their order).
	Delay [2]time.Duration
	// DropProb is the probability that a chunk, either way, ends its
	// connection: a random prefix of it is passed on, then the
	// connection is closed. A flapping link.
	DropProb float64
}

// Verdict is what to do with one chunk read from a connection.
type Verdict struct {
	Pass  int           // pass on the chunk's first Pass bytes; the rest is lost
	Delay time.Duration // after holding them this long
	Close bool          // then end the connection
}

// Judge decides the fate of a chunk of n bytes (n > 0) going way d. It
// draws from rng only when a drop is possible, so that a link with no
// drop configured consumes no randomness and the draws of a scenario
// depend only on the chunks read while drops were on.
func (f *Faults) Judge(d Direction, n int, rng *rand.Rand) Verdict {
	if f.Cut {
		return Verdict{Close: true}
	}
	if f.DropProb > 0 && rng.Float64() < f.DropProb {
		pass := rng.IntN(n)
		if f.Blackhole[d] {
			pass = 0
		}
		return Verdict{Pass: pass, Delay: f.Delay[d], Close: true}
	}
	if f.Blackhole[d] {
		return Verdict{}
	}
	return Verdict{Pass: n, Delay: f.Delay[d]}
}

// Holes reports whether a verdict on n bytes leaves the connection open
// with bytes missing from its stream. TCP never delivers a stream with a
// hole, so Heal ends such a connection rather than let it carry on.
func (v Verdict) Holes(n int) bool { return !v.Close && v.Pass < n }

// checkProb refuses a probability outside [0, 1].
func checkProb(p float64) error {
	if !(p >= 0 && p <= 1) { // also refuses NaN
		return fmt.Errorf("drop probability %v is outside [0, 1]", p)
	}
	return nil
}
