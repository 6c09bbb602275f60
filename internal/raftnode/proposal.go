package raftnode

import "context"

// Proposal is a proposal in flight. Done is closed once its outcome is
// known: Result then returns the committed entry's index and term and the
// state machine's value, or the error that ended it.
type Proposal struct {
	id    uint64
	term  uint64 // the leader term it was proposed in
	index uint64 // its log index, once the entry showed up in a Ready
	done  chan struct{}
	res   Result
	err   error
	// notify, when set, is told the outcome on the host's loop as it
	// settles (ProposeAsync): it must return at once.
	notify func(Result, error)
}

func newProposal(id, term uint64) *Proposal {
	return &Proposal{id: id, term: term, done: make(chan struct{})}
}

// Done is closed when the outcome is known.
func (p *Proposal) Done() <-chan struct{} { return p.done }

// Result returns the outcome; valid once Done is closed.
func (p *Proposal) Result() (Result, error) {
	select {
	case <-p.done:
		return p.res, p.err
	default:
		return Result{}, ErrUnknown
	}
}

// Wait blocks until the outcome is known or ctx ends. When ctx ends first
// the proposal may still commit.
func (p *Proposal) Wait(ctx context.Context) (Result, error) {
	select {
	case <-p.done:
		return p.res, p.err
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// succeed and fail are called by the host's loop only; the first call wins.
func (p *Proposal) succeed(r Result) {
	select {
	case <-p.done:
	default:
		p.res = r
		close(p.done)
		if p.notify != nil {
			p.notify(r, nil)
		}
	}
}

func (p *Proposal) fail(err error) {
	select {
	case <-p.done:
	default:
		p.err = err
		close(p.done)
		if p.notify != nil {
			p.notify(Result{}, err)
		}
	}
}
