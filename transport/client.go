package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/runtime"
)

// Client talks to one node over an authenticated QUIC connection: it
// inserts tuples into input collections and watches output collections.
// Its methods may be called concurrently; each request uses its own
// stream on the one connection.
type Client struct {
	addr string
	udp  *net.UDPConn
	qt   *quic.Transport
	conn *quic.Conn

	mu     sync.Mutex
	colls  []Coll
	schema *Schema // inputs and outputs
}

// Dial connects to the node at addr (host:port) with creds.
func Dial(ctx context.Context, addr string, creds *Credentials) (*Client, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	laddr := &net.UDPAddr{IP: net.IPv4zero}
	if ua.IP.To4() == nil {
		laddr = &net.UDPAddr{IP: net.IPv6unspecified}
	}
	udp, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return nil, err
	}
	qt := &quic.Transport{Conn: udp}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	conn, err := qt.Dial(ctx, ua, creds.ClientConfig(addr), &quic.Config{
		MaxIdleTimeout:  30 * time.Second,
		KeepAlivePeriod: 10 * time.Second,
	})
	if err != nil {
		qt.Close()
		udp.Close()
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	return &Client{addr: addr, udp: udp, qt: qt, conn: conn}, nil
}

// Close closes the connection.
func (c *Client) Close() error {
	c.conn.CloseWithError(codeShutdown, "client done")
	c.qt.Close()
	return c.udp.Close()
}

// open opens a stream of the given kind and writes req after the kind
// byte.
func (c *Client) open(ctx context.Context, kind byte, req []byte) (*quic.Stream, error) {
	s, err := c.conn.OpenStreamSync(ctx)
	if err != nil {
		return nil, err
	}
	if d, ok := ctx.Deadline(); ok {
		s.SetDeadline(d)
	}
	if _, err := s.Write(append([]byte{kind}, req...)); err != nil {
		s.CancelRead(codeGone)
		return nil, err
	}
	return s, nil
}

// status reads a response's status byte, turning an error response into
// an error.
func status(r *streamReader) error {
	b, err := r.ReadByte()
	if err != nil {
		return streamErr(err)
	}
	switch b {
	case statusOK:
		return nil
	case statusErr:
		msg, err := r.str(1 << 16)
		if err != nil {
			return streamErr(err)
		}
		return errors.New(msg)
	}
	return fmt.Errorf("bad response status %d", b)
}

func streamErr(err error) error {
	var se *quic.StreamError
	if errors.As(err, &se) {
		switch se.ErrorCode {
		case codeBadFrame:
			return errors.New("the node rejected the request as malformed")
		case codeOverrun:
			return errors.New("watch too slow: the node disconnected it")
		}
	}
	return err
}

// Schema returns the node's input, output and channel collections.
func (c *Client) Schema(ctx context.Context) ([]Coll, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.colls != nil {
		return c.colls, nil
	}
	s, err := c.open(ctx, streamSchema, nil)
	if err != nil {
		return nil, err
	}
	defer s.CancelRead(codeGone)
	s.Close()
	r := &streamReader{s: s}
	if err := status(r); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(s, 1<<22))
	if err != nil {
		return nil, streamErr(err)
	}
	colls, err := decodeSchema(b)
	if err != nil {
		return nil, fmt.Errorf("schema from %s: %w", c.addr, err)
	}
	var ifc []Coll
	for _, cl := range colls {
		if cl.Kind == lang.Input || cl.Kind == lang.Output {
			ifc = append(ifc, cl)
		}
	}
	c.colls, c.schema = colls, NewSchemaOf(ifc)
	return colls, nil
}

// Parse reads tuples written as facts (`put("k", 1)`, a trailing `;`
// optional) for the node's input collections, converting the literals to
// the column types of the node's schema.
func (c *Client) Parse(ctx context.Context, facts ...string) ([]runtime.Message, error) {
	colls, err := c.Schema(ctx)
	if err != nil {
		return nil, err
	}
	return ParseFacts(colls, facts...)
}

// ParseFacts parses facts for input collections of the given schema.
func ParseFacts(colls []Coll, facts ...string) ([]runtime.Message, error) {
	var inputs []Coll
	for _, cl := range colls {
		if cl.Kind == lang.Input {
			inputs = append(inputs, cl)
		}
	}
	plan := PlanOf(inputs)
	var out []runtime.Message
	for i, f := range facts {
		src := f
		if n := len(src); n == 0 || src[n-1] != ';' {
			src += ";"
		}
		fs, err := plan.FactsFromSource(fmt.Sprintf("arg%d", i+1), []byte(src))
		if err != nil {
			var names []string
			for _, cl := range inputs {
				names = append(names, cl.Name)
			}
			return nil, fmt.Errorf("%w (the node's inputs: %v)", err, names)
		}
		for _, fa := range fs {
			out = append(out, runtime.Message{Coll: plan.Colls[fa.Coll].Name, Tuple: fa.Tuple})
		}
	}
	return out, nil
}

// Send inserts tuples into input collections and returns once the node
// has run the tick that consumed them, with that tick's number. An error
// means the node refused the batch or the tick failed (and so changed
// nothing); a transport error leaves it unknown whether the tick ran.
func (c *Client) Send(ctx context.Context, msgs []runtime.Message) (int64, error) {
	if _, err := c.Schema(ctx); err != nil {
		return 0, err
	}
	frame, err := c.schema.AppendFrame(nil, msgs)
	if err != nil {
		return 0, err
	}
	s, err := c.open(ctx, streamInsert, frame)
	if err != nil {
		return 0, err
	}
	defer s.CancelRead(codeGone)
	stop := context.AfterFunc(ctx, func() { s.CancelRead(codeGone) })
	defer stop()
	s.Close()
	r := &streamReader{s: s}
	if err := status(r); err != nil {
		return 0, err
	}
	tick, err := binary.ReadUvarint(r)
	if err != nil {
		return 0, streamErr(err)
	}
	return int64(tick), nil
}

// Watch streams the tuples of an output collection as the node publishes
// them: fn receives each tick's (non-empty) contents in canonical order.
// It returns when ctx ends (nil), fn returns an error (that error) or the
// stream fails.
func (c *Client) Watch(ctx context.Context, rel string, fn func(tick int64, tuples []runtime.Tuple) error) error {
	return c.WatchNotify(ctx, rel, nil, fn)
}

// WatchNotify is Watch that first calls ready (unless nil) once the node
// has registered the watch: every tick the node publishes after that
// reaches fn. Whoever triggers the ticks to watch waits for it, not for
// a guessed delay.
func (c *Client) WatchNotify(ctx context.Context, rel string, ready func(), fn func(tick int64, tuples []runtime.Tuple) error) error {
	if _, err := c.Schema(ctx); err != nil {
		return err
	}
	if _, ok := c.schema.Types(rel); !ok {
		return fmt.Errorf("%s is not an output collection of %s", rel, c.addr)
	}
	s, err := c.open(ctx, streamWatch, appendString(nil, rel))
	if err != nil {
		return err
	}
	s.SetDeadline(time.Time{})
	stop := context.AfterFunc(ctx, func() {
		s.CancelRead(codeGone)
		s.CancelWrite(codeGone)
	})
	defer stop()
	r := &streamReader{s: s}
	if err := status(r); err != nil {
		return err
	}
	if ready != nil {
		ready()
	}
	var hdr [HeaderSize]byte
	var body []byte
	for {
		tick, err := binary.ReadUvarint(r)
		if err == nil {
			_, err = io.ReadFull(s, hdr[:])
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, io.EOF) {
				return errors.New("the node ended the watch")
			}
			return streamErr(err)
		}
		n, err := ParseHeader(hdr[:], 1<<30)
		if err != nil {
			return err
		}
		if cap(body) < n {
			body = make([]byte, n)
		}
		body = body[:n]
		if _, err := io.ReadFull(s, body); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return streamErr(err)
		}
		msgs, err := c.schema.DecodeBody(body, nil)
		if err != nil {
			return err
		}
		ts := make([]runtime.Tuple, len(msgs))
		for i, m := range msgs {
			ts[i] = m.Tuple
		}
		if err := fn(int64(tick), ts); err != nil {
			return err
		}
	}
}
