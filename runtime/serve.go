package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/bloomlang/bloom/lang"
)

// Waker wakes a serving node: whoever calls Node.Deliver or Node.Enqueue
// from another goroutine calls Wake afterwards so that Serve notices the
// new work. Make it with NewWaker and pass it as ServeOptions.Wake.
type Waker chan struct{}

// NewWaker returns a Waker (a channel with a buffer of one).
func NewWaker() Waker { return make(Waker, 1) }

// Wake signals the serve loop without blocking; many wakes before the
// loop looks coalesce into one.
func (w Waker) Wake() {
	select {
	case w <- struct{}{}:
	default:
	}
}

// Injection is a batch of input tuples from a client. Serve enqueues the
// batch between two ticks and, once the tick that consumed it has run,
// sends the result on Done (which must have room for one value).
type Injection struct {
	Inputs []Message // Coll names an input collection; To is ignored
	Done   chan InjectResult
}

// InjectResult reports the tick that consumed an Injection; Err is set
// when the batch was invalid or that tick failed (and so changed nothing).
type InjectResult struct {
	Tick int64
	Err  error
}

// ServeOptions configure Serve.
type ServeOptions struct {
	// Wake is signalled after messages or inputs are handed to the node
	// from other goroutines (see Waker). Nil: Serve wakes only for
	// injections, timers and cancellation.
	Wake <-chan struct{}
	// Inject carries client input batches (see Injection).
	Inject <-chan *Injection
	// AfterTick, if set, is called on Serve's goroutine after every tick,
	// with the tick's number, duration and error (nil on success). It may
	// read the node (Contents, Count, Stats, TickCount).
	AfterTick func(tick int64, d time.Duration, err error)
	// Logger receives tick errors; nil uses the node's logger settings
	// (discarding when it has none).
	Logger *slog.Logger
}

// Serve drives a long-lived node with the real clock: it runs a tick
// whenever the node has work (facts not yet inserted, pending changes,
// arrived messages, queued inputs) or a periodic is due, and otherwise
// sleeps until woken (Wake, Inject) or until the next timer. A failed
// tick is logged and reported to AfterTick; the node keeps running, except
// when durable state could not be committed: then Serve returns that error
// (a *StorageError, see Node.UseStore). The node's outgoing messages leave
// through its Options.Send, so Serve knows nothing of the transport.
//
// When ctx is cancelled Serve lets the current tick finish and returns
// nil; the caller may then read the node's final state. The node's clock
// should be the wall clock (Serve sleeps with time.Timer until the times
// NextTimer reports). Serve must be the only goroutine calling Tick.
func Serve(ctx context.Context, n *Node, opts ServeOptions) error {
	log := opts.Logger
	if log == nil {
		log = n.log
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	var waiting []*Injection
	accept := func(inj *Injection) {
		if err := n.enqueueBatch(inj.Inputs); err != nil {
			inj.Done <- InjectResult{Tick: n.tick, Err: err}
			return
		}
		waiting = append(waiting, inj)
	}
	for {
		if halt := n.Halted(); halt != nil {
			return halt // durable state could not be committed (durable.go): stop
		}
		if ctx.Err() != nil && len(waiting) == 0 {
			return nil
		}
		// Take every injection that is already there, so that one tick
		// consumes as many client batches as possible.
	drain:
		for {
			select {
			case inj := <-opts.Inject:
				accept(inj)
			default:
				break drain
			}
		}
		due := false
		next, hasTimer := n.NextTimer()
		if hasTimer && !n.opts.Clock.Now().Before(next) {
			due = true
		}
		if due || n.HasWork() || len(waiting) > 0 {
			start := time.Now()
			err := n.Tick()
			d := time.Since(start)
			if err != nil {
				log.Error("tick failed", "tick", n.tick, "err", err)
			}
			for _, inj := range waiting {
				inj.Done <- InjectResult{Tick: n.tick, Err: err}
			}
			waiting = waiting[:0]
			if opts.AfterTick != nil {
				opts.AfterTick(n.tick, d, err)
			}
			continue
		}
		var timerC <-chan time.Time
		if hasTimer {
			wait := time.Until(next)
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			timerC = timer.C
		}
		select {
		case <-ctx.Done():
			return nil
		case <-opts.Wake:
		case inj := <-opts.Inject:
			accept(inj)
		case <-timerC:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// enqueueBatch checks a whole batch of inputs before queueing any of it,
// so that a bad tuple rejects the batch rather than half of it.
func (n *Node) enqueueBatch(inputs []Message) error {
	for _, m := range inputs {
		c := n.plan.ByName[m.Coll]
		switch {
		case c == nil:
			return fmt.Errorf("unknown collection %s", m.Coll)
		case c.Info.Kind != lang.Input:
			return fmt.Errorf("%s is a %s, not an input", m.Coll, c.Info.Kind)
		case len(m.Tuple) != len(c.Types):
			return fmt.Errorf("%s has %d columns, got %d values", m.Coll, len(c.Types), len(m.Tuple))
		}
	}
	for _, m := range inputs {
		if err := n.Enqueue(m.Coll, m.Tuple); err != nil {
			return err
		}
	}
	return nil
}
