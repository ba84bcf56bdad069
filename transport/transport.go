// Package transport carries Bloom channel tuples between nodes over QUIC
// with mutual TLS, and serves clients (inserts into input collections,
// watches of output collections, the node's schema) over the same
// authenticated connections.
//
// One QUIC connection per peer pair is made on demand from the address in
// the data and reused (an inbound connection from a peer is adopted for
// sending back to it). On it each side opens one long-lived stream that
// carries length-prefixed frames (codec.go, docs/wire.md); each tick's
// messages for one destination are batched into frames. Per-peer send
// queues are bounded (oldest messages dropped first, counted), a dead peer
// is redialled on the next send, and delivery is at most once: messages in
// flight when a connection dies are lost, as in Bud. Inbound frames are
// validated against the program's schema; a bad frame is dropped and
// counted and the stream goes on with the next frame.
package transport

import (
	"context"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/stdlib"
)

// Stream kinds: the first byte of every stream says what it carries.
const (
	streamPeer   = 0x01 // node to node: hello, then frames until FIN
	streamSchema = 0x10 // client: the node's interface
	streamInsert = 0x11 // client: one frame of input tuples, answered with the tick
	streamWatch  = 0x12 // client: an output collection's tuples as published
)

// Response status bytes on client streams.
const (
	statusOK  = 0
	statusErr = 1
)

// Application error codes for closing connections and streams.
const (
	codeShutdown  quic.ApplicationErrorCode = 0
	codeGone      quic.StreamErrorCode      = 0
	codeBadStream quic.StreamErrorCode      = 1
	codeBadFrame  quic.StreamErrorCode      = 2
	codeOverrun   quic.StreamErrorCode      = 3
)

// Config configures a Transport.
type Config struct {
	// Listen is the UDP host:port to bind ("127.0.0.1:0" if empty).
	Listen string
	Creds  *Credentials
	// Plan gives the schema: inbound frames may carry only its channels,
	// client inserts only its inputs, watches only its outputs.
	Plan    *compiler.Plan
	Logger  *slog.Logger
	Metrics *Metrics
	// MaxFrame bounds the body of an inbound frame and splits outbound
	// batches (DefaultMaxFrame if 0).
	MaxFrame int
	// QueueLimit bounds the messages waiting for one peer (65536 if 0);
	// beyond it the oldest are dropped.
	QueueLimit int
	// InboxLimit bounds the messages delivered to the node and not yet
	// consumed by a tick (65536 if 0); beyond it reading stops, and QUIC
	// flow control pushes back on the senders.
	InboxLimit   int
	DialTimeout  time.Duration // 5s if 0
	IdleTimeout  time.Duration // 15s if 0; keep-alives every third of it
	WriteTimeout time.Duration // 10s if 0
}

// Handlers connect a Transport to a node.
type Handlers struct {
	// Deliver receives validated inbound channel tuples, one batch per
	// collection of a frame (required). It is called from many
	// goroutines. The batches' memory (the slice, Words and Vals) is
	// reused once Deliver returns: copy what is kept, as
	// runtime.Node.DeliverBatches does.
	Deliver func(batches []runtime.Batch)
	// Inject receives a client's input tuples and returns the number of
	// the tick that consumed them (runtime.Injection). Nil refuses inserts.
	Inject func(ctx context.Context, msgs []runtime.Message) (int64, error)
}

// Stats are totals since the transport started.
type Stats struct {
	Sent, Received, Dropped int64 // channel tuples
	FramesRejected          int64
	Dials, DialFailures     int64
}

// Transport is a node's QUIC endpoint.
type Transport struct {
	cfg  Config
	log  *slog.Logger
	m    *Metrics
	self string
	h    Handlers

	udp *net.UDPConn
	qt  *quic.Transport
	ln  *quic.Listener
	qc  *quic.Config

	channels, inputs, outputs *Schema
	iface                     []byte

	ctx     context.Context
	cancel  context.CancelFunc
	flushed chan struct{} // closed when Close starts flushing

	mu       sync.Mutex
	peers    map[string]*peer
	conns    map[*quic.Conn]bool
	watchers map[string]map[*watcher]bool
	closing  bool

	gate gate

	peerWG, connWG sync.WaitGroup

	sent, received, dropped, rejected, dials, dialFailures atomic.Int64
}

// Listen binds the UDP socket and prepares the QUIC listener; nothing is
// accepted or sent before Start.
func Listen(cfg Config) (*Transport, error) {
	if cfg.Creds == nil {
		return nil, errors.New("transport: no credentials")
	}
	if cfg.Plan == nil {
		return nil, errors.New("transport: no plan")
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.MaxFrame <= 0 {
		cfg.MaxFrame = DefaultMaxFrame
	}
	if cfg.QueueLimit <= 0 {
		cfg.QueueLimit = 1 << 16
	}
	if cfg.InboxLimit <= 0 {
		cfg.InboxLimit = 1 << 16
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 15 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ua, err := net.ResolveUDPAddr("udp", cfg.Listen)
	if err != nil {
		return nil, err
	}
	udp, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, err
	}
	t := &Transport{
		cfg: cfg, log: log, m: cfg.Metrics, udp: udp,
		channels: NewSchema(cfg.Plan, lang.Channel),
		inputs:   NewSchema(cfg.Plan, lang.Input),
		outputs:  NewSchema(cfg.Plan, lang.Output),
		iface:    appendSchema(nil, Interface(cfg.Plan)),
		flushed:  make(chan struct{}),
		peers:    map[string]*peer{},
		conns:    map[*quic.Conn]bool{},
		watchers: map[string]map[*watcher]bool{},
	}
	t.gate.limit = int64(cfg.InboxLimit)
	t.gate.cond = sync.NewCond(&t.gate.mu)
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.qc = &quic.Config{
		HandshakeIdleTimeout: cfg.DialTimeout,
		MaxIdleTimeout:       cfg.IdleTimeout,
		KeepAlivePeriod:      cfg.IdleTimeout / 3,
		MaxIncomingStreams:   1000,
	}
	t.qt = &quic.Transport{Conn: udp, StatelessResetKey: cfg.Creds.resetKey}
	t.ln, err = t.qt.Listen(cfg.Creds.ServerConfig(), t.qc)
	if err != nil {
		udp.Close()
		return nil, err
	}
	return t, nil
}

// Addr returns the bound UDP address.
func (t *Transport) Addr() net.Addr { return t.udp.LocalAddr() }

// SetSelf sets the node's address (what self() returns), which is sent to
// peers so that they can reuse the connection. Call it before Start and
// before the first Send.
func (t *Transport) SetSelf(self stdlib.Addr) { t.self = string(self) }

// Start begins accepting connections.
func (t *Transport) Start(h Handlers) {
	t.h = h
	t.connWG.Add(1)
	go func() {
		defer t.connWG.Done()
		for {
			conn, err := t.ln.Accept(t.ctx)
			if err != nil {
				return
			}
			t.track(conn)
		}
	}()
}

// Stats returns the transport's totals.
func (t *Transport) Stats() Stats {
	return Stats{
		Sent: t.sent.Load(), Received: t.received.Load(), Dropped: t.dropped.Load(),
		FramesRejected: t.rejected.Load(), Dials: t.dials.Load(), DialFailures: t.dialFailures.Load(),
	}
}

// track registers a connection (accepted or dialled) and serves the
// streams the other side opens on it.
func (t *Transport) track(conn *quic.Conn) bool {
	t.mu.Lock()
	if t.closing {
		t.mu.Unlock()
		conn.CloseWithError(codeShutdown, "shutting down")
		return false
	}
	t.conns[conn] = true
	t.mu.Unlock()
	t.connWG.Add(1)
	go func() {
		defer t.connWG.Done()
		defer func() {
			t.mu.Lock()
			delete(t.conns, conn)
			t.mu.Unlock()
		}()
		for {
			// Not t.ctx: the connection leaves t.conns only when it is
			// really gone, so that Close finds every live one.
			s, err := conn.AcceptStream(context.Background())
			if err != nil {
				return
			}
			t.connWG.Add(1)
			go func() {
				defer t.connWG.Done()
				t.serveStream(conn, s)
			}()
		}
	}()
	return true
}

// Send queues a tick's outgoing messages, batched per destination. It
// never blocks on the network; it is runtime.Options.Send.
func (t *Transport) Send(msgs []runtime.Message) {
	if len(msgs) == 0 {
		return
	}
	// Group by destination, keeping order within each.
	first := msgs[0].To
	same := true
	for i := 1; i < len(msgs); i++ {
		if !sameString(string(msgs[i].To), string(first)) {
			same = false
			break
		}
	}
	if same {
		t.enqueue(string(first), msgs)
		return
	}
	by := map[stdlib.Addr][]runtime.Message{}
	var order []stdlib.Addr
	for _, m := range msgs {
		if _, ok := by[m.To]; !ok {
			order = append(order, m.To)
		}
		by[m.To] = append(by[m.To], m)
	}
	for _, to := range order {
		t.enqueue(string(to), by[to])
	}
}

func (t *Transport) enqueue(addr string, msgs []runtime.Message) {
	t.mu.Lock()
	if t.closing {
		t.mu.Unlock()
		t.drop(addr, "closed", len(msgs))
		return
	}
	p := t.peers[addr]
	if p == nil {
		p = t.newPeerLocked(addr)
	}
	if p.done == nil {
		p.start()
	}
	dropped := p.enqueueLocked(msgs)
	t.mu.Unlock()
	t.drop(addr, "queue_full", dropped)
}

func (t *Transport) drop(peer, reason string, n int) {
	if n == 0 {
		return
	}
	t.dropped.Add(int64(n))
	t.m.dropped(peer, reason, n)
	t.log.Debug("messages dropped", "peer", peer, "reason", reason, "n", n)
}

// Release tells the transport that the node has run a tick, which
// consumed the messages delivered before it: reading resumes if it had
// stopped at InboxLimit. Call it after every tick (ServeOptions.AfterTick).
func (t *Transport) Release() { t.gate.release() }

// gate bounds the delivered-but-unconsumed messages.
type gate struct {
	mu      sync.Mutex
	cond    *sync.Cond
	pending int64
	limit   int64
	closed  bool
}

func (g *gate) acquire(n int) {
	g.mu.Lock()
	for !g.closed && g.pending > 0 && g.pending+int64(n) > g.limit {
		g.cond.Wait()
	}
	g.pending += int64(n)
	g.mu.Unlock()
}

func (g *gate) release() {
	g.mu.Lock()
	g.pending = 0
	g.cond.Broadcast()
	g.mu.Unlock()
}

func (g *gate) close() {
	g.mu.Lock()
	g.closed = true
	g.cond.Broadcast()
	g.mu.Unlock()
}

// Close stops the transport. It first flushes: every peer's queued
// messages are written and the transport waits, up to timeout in all, for
// each peer to confirm it has read its stream to the end. Then it closes
// watches, connections and the socket.
func (t *Transport) Close(timeout time.Duration) error {
	t.mu.Lock()
	if t.closing {
		t.mu.Unlock()
		return nil
	}
	t.closing = true
	var peers []*peer
	for _, p := range t.peers {
		if p.done != nil {
			peers = append(peers, p)
		}
	}
	t.mu.Unlock()
	close(t.flushed)
	deadline := time.Now().Add(timeout)
	for _, p := range peers {
		select {
		case <-p.done:
		case <-time.After(time.Until(deadline)):
		}
	}
	t.ln.Close()
	t.mu.Lock()
	conns := make([]*quic.Conn, 0, len(t.conns))
	for c := range t.conns {
		conns = append(conns, c)
	}
	t.mu.Unlock()
	for _, c := range conns {
		c.CloseWithError(codeShutdown, "shutting down")
	}
	t.cancel()
	t.gate.close()
	t.peerWG.Wait()
	t.connWG.Wait()
	err := t.qt.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	if cerr := t.udp.Close(); err == nil && !errors.Is(cerr, net.ErrClosed) {
		err = cerr
	}
	return err
}

// dial opens a connection to addr and tracks it.
func (t *Transport) dial(addr string) (*quic.Conn, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, &badAddrError{err}
	}
	ctx, cancel := context.WithTimeout(t.ctx, t.cfg.DialTimeout)
	defer cancel()
	t.dials.Add(1)
	conn, err := t.qt.Dial(ctx, ua, t.cfg.Creds.ClientConfig(addr), t.qc)
	if err != nil {
		t.dialFailures.Add(1)
		t.m.dial(addr, "error")
		return nil, err
	}
	t.m.dial(addr, "ok")
	if !t.track(conn) {
		return nil, errors.New("transport closed")
	}
	return conn, nil
}

type badAddrError struct{ err error }

func (e *badAddrError) Error() string { return "bad address: " + e.err.Error() }

// adopt records an inbound connection from the node at addr for sending
// back to it, when there is no live connection to addr yet and the peer's
// certificate names addr's host (or the transport is in insecure mode).
func (t *Transport) adopt(addr string, conn *quic.Conn) {
	if addr == "" || addr == t.self {
		return
	}
	if !t.cfg.Creds.Insecure {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return
		}
		certs := conn.ConnectionState().TLS.PeerCertificates
		if len(certs) == 0 || !certNames(certs[0], host) {
			return
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing {
		return
	}
	p := t.peers[addr]
	if p == nil {
		p = t.newPeerLocked(addr)
	}
	p.mu.Lock()
	if p.conn == nil || p.conn.Context().Err() != nil {
		p.conn = conn
	}
	p.mu.Unlock()
}

func certNames(c *x509.Certificate, host string) bool {
	return c.VerifyHostname(host) == nil
}

// serveStream handles one stream opened by the other side.
func (t *Transport) serveStream(conn *quic.Conn, s *quic.Stream) {
	var kind [1]byte
	s.SetReadDeadline(time.Now().Add(t.cfg.DialTimeout))
	if _, err := io.ReadFull(s, kind[:]); err != nil {
		s.CancelRead(codeBadStream)
		s.CancelWrite(codeBadStream)
		return
	}
	s.SetReadDeadline(time.Time{})
	remote := conn.RemoteAddr().String()
	switch kind[0] {
	case streamPeer:
		t.servePeer(conn, s, remote)
	case streamSchema:
		t.reply(s, func(b []byte) []byte { return append(b, t.iface...) })
		s.Close()
	case streamInsert:
		t.serveInsert(s, remote)
	case streamWatch:
		t.serveWatch(s)
	default:
		t.rejectFrame(remote, "bad_stream")
		s.CancelRead(codeBadStream)
		s.CancelWrite(codeBadStream)
	}
}

func (t *Transport) rejectFrame(peer, reason string) {
	t.rejected.Add(1)
	t.m.rejected(peer, reason)
	t.log.Warn("inbound frame rejected", "peer", peer, "reason", reason)
}

// servePeer reads a peer's hello and then its frames until the end of
// the stream, delivering each valid frame.
func (t *Transport) servePeer(conn *quic.Conn, s *quic.Stream, remote string) {
	r := &streamReader{s: s}
	hello, err := r.str(maxNameLen)
	if err != nil {
		t.rejectFrame(remote, "bad_hello")
		s.CancelRead(codeBadStream)
		s.CancelWrite(codeBadStream)
		return
	}
	peer := remote
	if hello != "" {
		peer = hello
		t.adopt(hello, conn)
	}
	fr := frameReader{r: s}
	// Frames decode into memory reused from frame to frame.
	dec := batchDecoder{schema: t.channels}
	var batches []runtime.Batch
	for {
		hdr, err := fr.next(HeaderSize)
		if err != nil {
			if len(hdr) == 0 && errors.Is(err, io.EOF) {
				// The sender is done (flush at shutdown): say we have
				// read everything.
				s.Close()
				return
			}
			if !errors.Is(err, io.EOF) {
				s.CancelWrite(codeGone)
				return
			}
			t.rejectFrame(peer, "truncated")
			s.CancelWrite(codeBadFrame)
			return
		}
		n, err := ParseHeader(hdr, t.cfg.MaxFrame)
		if err != nil {
			// The framing is lost: drop the stream. The sender redials
			// or reopens on its next send.
			t.rejectFrame(peer, Reason(err))
			s.CancelRead(codeBadFrame)
			s.CancelWrite(codeBadFrame)
			return
		}
		body, err := fr.next(n)
		if err != nil {
			t.rejectFrame(peer, "truncated")
			s.CancelRead(codeBadFrame)
			s.CancelWrite(codeBadFrame)
			return
		}
		batches, err = dec.decode(body, batches[:0])
		if err != nil {
			t.rejectFrame(peer, Reason(err))
			continue
		}
		tuples := 0
		for i := range batches {
			tuples += batches[i].Len()
		}
		if tuples == 0 {
			continue
		}
		t.gate.acquire(tuples)
		t.h.Deliver(batches)
		dec.release()
		clear(batches)
		t.received.Add(int64(tuples))
		t.m.received(peer, tuples, n+HeaderSize)
	}
}

// frameReader reads a peer stream through one buffer, which grows to
// hold the largest frame seen: a frame is decoded where it lies (decoding
// copies what it keeps), and small frames that arrive together cost one
// stream read.
type frameReader struct {
	r          io.Reader
	buf        []byte
	start, end int // buf[start:end] has been read and not yet returned
}

// minReadBuf is the initial size of a frameReader's buffer.
const minReadBuf = 4 << 10

func (f *frameReader) buffered() int { return f.end - f.start }

// next returns the next n bytes of the stream, valid until the next call.
// If the stream ends or fails first, it returns what there was and the
// error (io.EOF at the end of the stream).
func (f *frameReader) next(n int) ([]byte, error) {
	for f.end-f.start < n {
		if f.start+n > len(f.buf) {
			f.makeRoom(n)
		}
		m, err := f.r.Read(f.buf[f.end:])
		f.end += m
		if err != nil && f.end-f.start < n {
			b := f.buf[f.start:f.end]
			f.start = f.end
			return b, err
		}
	}
	b := f.buf[f.start : f.start+n : f.start+n]
	f.start += n
	return b, nil
}

// makeRoom moves the unread bytes to the front of the buffer, first
// growing it if n bytes would not fit.
func (f *frameReader) makeRoom(n int) {
	buf := f.buf
	if n > len(buf) {
		size := max(len(buf), minReadBuf)
		for size < n {
			size *= 2
		}
		buf = make([]byte, size)
	}
	f.end = copy(buf, f.buf[f.start:f.end])
	f.start = 0
	f.buf = buf
}

// reply writes an OK status followed by what body appends.
func (t *Transport) reply(s *quic.Stream, body func([]byte) []byte) error {
	s.SetWriteDeadline(time.Now().Add(t.cfg.WriteTimeout))
	b := body([]byte{statusOK})
	_, err := s.Write(b)
	return err
}

func (t *Transport) replyErr(s *quic.Stream, err error) {
	s.SetWriteDeadline(time.Now().Add(t.cfg.WriteTimeout))
	b := appendString([]byte{statusErr}, clipErr(err.Error()))
	s.Write(b)
	s.Close()
}

func clipErr(s string) string {
	if len(s) > 4096 {
		return s[:4096]
	}
	return s
}

func (t *Transport) serveInsert(s *quic.Stream, remote string) {
	s.SetReadDeadline(time.Now().Add(t.cfg.WriteTimeout))
	var hdr [HeaderSize]byte
	if _, err := io.ReadFull(s, hdr[:]); err != nil {
		t.rejectFrame(remote, "truncated")
		s.CancelRead(codeBadFrame)
		s.CancelWrite(codeBadFrame)
		return
	}
	n, err := ParseHeader(hdr[:], t.cfg.MaxFrame)
	if err != nil {
		t.rejectFrame(remote, Reason(err))
		t.replyErr(s, err)
		s.CancelRead(codeBadFrame)
		return
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(s, body); err != nil {
		t.rejectFrame(remote, "truncated")
		s.CancelRead(codeBadFrame)
		s.CancelWrite(codeBadFrame)
		return
	}
	msgs, err := t.inputs.DecodeBody(body, nil)
	if err != nil {
		t.rejectFrame(remote, Reason(err))
		t.replyErr(s, err)
		return
	}
	if t.h.Inject == nil {
		t.replyErr(s, errors.New("this node accepts no inserts"))
		return
	}
	ctx, cancel := context.WithCancel(t.ctx)
	defer cancel()
	go func() {
		// The client gave up: stop waiting.
		select {
		case <-s.Context().Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	tick, err := t.h.Inject(ctx, msgs)
	if err != nil {
		t.replyErr(s, err)
		return
	}
	t.reply(s, func(b []byte) []byte { return binary.AppendUvarint(b, uint64(tick)) })
	s.Close()
}

// watcher is one client's watch of an output collection.
type watcher struct {
	ch      chan watchItem
	cancel  context.CancelFunc
	overrun atomic.Bool
}

type watchItem struct {
	tick   int64
	tuples []runtime.Tuple
}

// Publish hands a tick's contents of an output collection to its
// watchers (runtime.Node.Observe). A watcher that has fallen more than
// 256 ticks behind is disconnected.
func (t *Transport) Publish(tick int64, coll string, tuples []runtime.Tuple) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for w := range t.watchers[coll] {
		select {
		case w.ch <- watchItem{tick, tuples}:
		default:
			w.overrun.Store(true)
			w.cancel()
		}
	}
}

func (t *Transport) serveWatch(s *quic.Stream) {
	s.SetReadDeadline(time.Now().Add(t.cfg.WriteTimeout))
	r := &streamReader{s: s}
	name, err := r.str(maxNameLen)
	if err != nil {
		s.CancelRead(codeBadStream)
		s.CancelWrite(codeBadStream)
		return
	}
	s.SetReadDeadline(time.Time{})
	if _, ok := t.outputs.Types(name); !ok {
		t.replyErr(s, fmt.Errorf("%s is not an output collection of this node", name))
		return
	}
	ctx, cancel := context.WithCancel(t.ctx)
	defer cancel()
	w := &watcher{ch: make(chan watchItem, 256), cancel: cancel}
	t.mu.Lock()
	if t.watchers[name] == nil {
		t.watchers[name] = map[*watcher]bool{}
	}
	t.watchers[name][w] = true
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		delete(t.watchers[name], w)
		t.mu.Unlock()
	}()
	if err := t.reply(s, func(b []byte) []byte { return b }); err != nil {
		return
	}
	go func() {
		// The client closes its side (or the stream dies): stop.
		io.Copy(io.Discard, s)
		cancel()
	}()
	var buf []byte
	var msgs []runtime.Message
	for {
		select {
		case <-ctx.Done():
			if w.overrun.Load() {
				t.log.Warn("watcher too slow: disconnected", "coll", name)
				s.CancelWrite(codeOverrun)
			} else {
				s.Close()
			}
			return
		case it := <-w.ch:
			msgs = msgs[:0]
			for _, tu := range it.tuples {
				msgs = append(msgs, runtime.Message{Coll: name, Tuple: tu})
			}
			buf = binary.AppendUvarint(buf[:0], uint64(it.tick))
			buf, err = t.outputs.AppendFrame(buf, msgs)
			if err != nil {
				t.log.Error("watch: encode", "err", err)
				s.CancelWrite(codeBadFrame)
				return
			}
			s.SetWriteDeadline(time.Now().Add(t.cfg.WriteTimeout))
			if _, err := s.Write(buf); err != nil {
				return
			}
		}
	}
}

// streamReader reads small length-prefixed items from a stream.
type streamReader struct {
	s   io.Reader
	one [1]byte
}

func (r *streamReader) ReadByte() (byte, error) {
	_, err := io.ReadFull(r.s, r.one[:])
	return r.one[0], err
}

func (r *streamReader) str(max int) (string, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return "", err
	}
	if n > uint64(max) {
		return "", fmt.Errorf("string of %d bytes exceeds %d", n, max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r.s, b); err != nil {
		return "", err
	}
	return string(b), nil
}
