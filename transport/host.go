package transport

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/stdlib"
)

// HostConfig configures a Host: a node served on the network.
type HostConfig struct {
	Config
	// Advertise is the node's address as peers reach it, which self()
	// returns. Empty: the listen address (with the bound port when the
	// listen port is 0).
	Advertise string
	// Observe, if set, also receives every published output.
	Observe func(tick int64, coll string, tuples []runtime.Tuple)
	// AfterTick, if set, is called after every tick (on the serve
	// goroutine, where it may read the node).
	AfterTick func(tick int64, d time.Duration, err error)
}

// Host runs one node on a Transport: inbound messages are delivered to
// the node, its outgoing messages are sent, client inserts become
// injections, and published outputs go to watchers.
type Host struct {
	Node *runtime.Node
	T    *Transport
	Self stdlib.Addr

	cfg    HostConfig
	wake   runtime.Waker
	inject chan *runtime.Injection
	served chan struct{}
}

// NewHost binds the transport and creates the node; Run serves it.
func NewHost(plan *compiler.Plan, cfg HostConfig) (*Host, error) {
	t, err := Listen(cfg.Config)
	if err != nil {
		return nil, err
	}
	self := cfg.Advertise
	if self == "" {
		self = cfg.Listen
		host, port, err := net.SplitHostPort(self)
		if err != nil || port == "0" || port == "" {
			ua, _ := t.Addr().(*net.UDPAddr)
			if err != nil || host == "" {
				host = ua.IP.String()
			}
			self = net.JoinHostPort(host, strconv.Itoa(ua.Port))
		}
	}
	h := &Host{T: t, Self: stdlib.Addr(self), cfg: cfg, wake: runtime.NewWaker(),
		inject: make(chan *runtime.Injection), served: make(chan struct{})}
	t.SetSelf(h.Self)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h.Node = runtime.New(plan, runtime.Options{Self: h.Self, Send: t.Send, Logger: log})
	h.Node.Observe(func(tick int64, coll string, tuples []runtime.Tuple) {
		t.Publish(tick, coll, tuples)
		if cfg.Observe != nil {
			cfg.Observe(tick, coll, tuples)
		}
	})
	return h, nil
}

// Run serves the node until ctx is cancelled, then lets the current tick
// finish and returns; the node's state may then be read. Call Close after.
func (h *Host) Run(ctx context.Context) error {
	h.T.Start(Handlers{
		Deliver: func(batches []runtime.Batch) {
			// The frame was checked against the schema; delivery only
			// fails for non-channels, which cannot decode.
			h.Node.DeliverBatches(batches)
			h.wake.Wake()
		},
		Inject: h.injectInputs,
	})
	defer close(h.served)
	m := h.cfg.Metrics
	plan := h.Node.Plan()
	return runtime.Serve(ctx, h.Node, runtime.ServeOptions{
		Wake:   h.wake,
		Inject: h.inject,
		Logger: h.cfg.Logger,
		AfterTick: func(tick int64, d time.Duration, err error) {
			h.T.Release()
			if m != nil {
				m.ObserveTick(d, err)
				for _, c := range plan.Colls {
					n, _ := h.Node.Count(c.Name)
					m.SetTuples(c.Name, n)
				}
			}
			if h.cfg.AfterTick != nil {
				h.cfg.AfterTick(tick, d, err)
			}
		},
	})
}

var errStopped = errors.New("node is shutting down")

func (h *Host) injectInputs(ctx context.Context, msgs []runtime.Message) (int64, error) {
	inj := &runtime.Injection{Inputs: msgs, Done: make(chan runtime.InjectResult, 1)}
	select {
	case h.inject <- inj:
	case <-h.served:
		return 0, errStopped
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	select {
	case r := <-inj.Done:
		return r.Tick, r.Err
	case <-h.served:
		// Serve returned between accepting and acking: it acks before
		// returning, so look once more.
		select {
		case r := <-inj.Done:
			return r.Tick, r.Err
		default:
			return 0, errStopped
		}
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Close flushes and closes the transport (see Transport.Close).
func (h *Host) Close(flush time.Duration) error { return h.T.Close(flush) }
