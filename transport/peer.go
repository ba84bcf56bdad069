package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"time"

	"sync"

	"github.com/quic-go/quic-go"

	"github.com/bloomlang/bloom/runtime"
)

// chunk is the most messages encoded into one frame before the size check.
const chunk = 4096

// peer is the send side towards one address: a bounded queue drained by
// one goroutine into one long-lived stream.
type peer struct {
	t    *Transport
	addr string

	mu      sync.Mutex
	batches [][]runtime.Message
	queued  int
	conn    *quic.Conn // current connection (dialled or adopted); nil if none
	// lastSend is when messages were last queued; an idle peer retires.
	lastSend time.Time

	kick chan struct{}
	done chan struct{} // nil until the goroutine starts; closed when it ends

	// Owned by the goroutine.
	stream     *quic.Stream
	streamConn *quic.Conn
	backoff    time.Duration
	retryAt    time.Time
	buf        []byte
	spare      [][]runtime.Message // guarded by mu
}

func (t *Transport) newPeerLocked(addr string) *peer {
	p := &peer{t: t, addr: addr, kick: make(chan struct{}, 1)}
	t.peers[addr] = p
	return p
}

// start launches the goroutine; t.mu is held.
func (p *peer) start() {
	p.done = make(chan struct{})
	p.t.peerWG.Add(1)
	go func() {
		defer p.t.peerWG.Done()
		defer close(p.done)
		p.run()
	}()
}

// enqueueLocked adds msgs to the queue (t.mu held) and returns how many
// old messages were dropped to make room.
func (p *peer) enqueueLocked(msgs []runtime.Message) int {
	p.mu.Lock()
	p.batches = append(p.batches, msgs)
	p.queued += len(msgs)
	added := len(msgs)
	dropped := 0
	for p.queued > p.t.cfg.QueueLimit {
		// Drop the oldest messages first: newer ones carry newer state.
		over := p.queued - p.t.cfg.QueueLimit
		b := p.batches[0]
		if len(b) <= over {
			p.batches[0] = nil
			p.batches = p.batches[1:]
			p.queued -= len(b)
			dropped += len(b)
		} else {
			p.batches[0] = b[over:]
			p.queued -= over
			dropped += over
		}
	}
	p.lastSend = time.Now()
	p.mu.Unlock()
	p.t.m.queued(added - dropped)
	select {
	case p.kick <- struct{}{}:
	default:
	}
	return dropped
}

// take removes and returns every queued batch.
func (p *peer) take() [][]runtime.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.batches
	n := p.queued
	p.batches = p.spare[:0]
	p.spare = nil
	p.queued = 0
	p.t.m.queued(-n)
	return out
}

// recycle keeps a drained batch list for reuse.
func (p *peer) recycle(b [][]runtime.Message) {
	clear(b)
	p.mu.Lock()
	if p.spare == nil {
		p.spare = b[:0]
	}
	p.mu.Unlock()
}

func count(batches [][]runtime.Message) int {
	n := 0
	for _, b := range batches {
		n += len(b)
	}
	return n
}

func (p *peer) pending() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.queued > 0
}

// peerIdle is how long a peer with nothing to send keeps its goroutine
// and stream: peers come from program data, so idle ones must go.
var peerIdle = time.Minute

func (p *peer) run() {
	idle := time.NewTicker(peerIdle / 2)
	defer idle.Stop()
	for {
		select {
		case <-p.kick:
			p.drain(false)
		case <-idle.C:
			if p.retire() {
				p.finish()
				return
			}
		case <-p.t.flushed:
			p.drain(true)
			p.finish()
			return
		}
	}
}

// retire removes an idle peer from the transport's table.
func (p *peer) retire() bool {
	p.t.mu.Lock()
	defer p.t.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.queued > 0 || time.Since(p.lastSend) < peerIdle || p.t.closing {
		return false
	}
	if p.t.peers[p.addr] == p {
		delete(p.t.peers, p.addr)
	}
	return true
}

// drain writes queued messages until the queue is empty, dialling when
// needed. A dial failure drops what is queued (at most once) and delays
// the next attempt (exponential backoff up to 2s).
func (p *peer) drain(flushing bool) {
	for p.pending() {
		if wait := time.Until(p.retryAt); wait > 0 && !flushing {
			select {
			case <-time.After(wait):
			case <-p.t.flushed:
				return
			}
		}
		if err := p.ensureStream(); err != nil {
			batches := p.take()
			reason := "unreachable"
			var bad *badAddrError
			if errors.As(err, &bad) {
				reason = "bad_address"
			}
			p.t.drop(p.addr, reason, count(batches))
			p.recycle(batches)
			p.t.log.Debug("peer unreachable", "peer", p.addr, "err", err)
			if p.backoff == 0 {
				p.backoff = 50 * time.Millisecond
			} else if p.backoff < 2*time.Second {
				p.backoff *= 2
			}
			p.retryAt = time.Now().Add(p.backoff)
			if flushing {
				return
			}
			continue
		}
		p.backoff = 0
		batches := p.take()
		p.write(batches)
		p.recycle(batches)
	}
}

// writeChunk is how many bytes of frames are gathered before a Write.
const writeChunk = 64 << 10

// write encodes each batch (one tick's messages for this peer) into
// frames of at most chunk messages and writes them, gathering small frames
// into writes of about writeChunk bytes. On a write error the stream is
// abandoned and the unwritten messages are dropped (at most once).
func (p *peer) write(batches [][]runtime.Message) {
	buf := p.buf[:0]
	inBuf := 0             // messages encoded in buf
	left := count(batches) // messages not yet encoded
	flush := func() bool {
		if len(buf) == 0 {
			return true
		}
		p.stream.SetWriteDeadline(time.Now().Add(p.t.cfg.WriteTimeout))
		if _, err := p.stream.Write(buf); err != nil {
			p.t.drop(p.addr, "write_error", inBuf+left)
			p.t.log.Debug("peer write failed", "peer", p.addr, "err", err)
			p.resetStream()
			return false
		}
		p.t.sent.Add(int64(inBuf))
		p.t.m.sent(p.addr, inBuf, len(buf))
		buf, inBuf = buf[:0], 0
		return true
	}
	defer func() {
		if cap(buf) <= 4*writeChunk {
			p.buf = buf[:0]
		}
	}()
	for _, b := range batches {
		for len(b) > 0 {
			n := min(len(b), chunk)
			var k int
			buf, k = p.appendFrames(buf, b[:n])
			inBuf += k
			left -= n
			b = b[n:]
			if len(buf) >= writeChunk && !flush() {
				return
			}
		}
	}
	flush()
}

// appendFrames appends msgs as one frame, or, when that frame would exceed
// MaxFrame or a message cannot be encoded, as several (dropping the
// messages that cannot be sent, counted). It returns the messages encoded.
func (p *peer) appendFrames(buf []byte, msgs []runtime.Message) ([]byte, int) {
	start := len(buf)
	buf, err := p.t.channels.AppendFrame(buf, msgs)
	if err == nil && len(buf)-start-HeaderSize <= p.t.cfg.MaxFrame {
		return buf, len(msgs)
	}
	buf = buf[:start]
	if len(msgs) == 1 {
		reason := "encode_error"
		if err == nil {
			reason = "oversized"
		} else {
			p.t.log.Error("cannot encode message", "peer", p.addr, "coll", msgs[0].Coll, "err", err)
		}
		p.t.drop(p.addr, reason, 1)
		return buf, 0
	}
	h := len(msgs) / 2
	buf, a := p.appendFrames(buf, msgs[:h])
	buf, b := p.appendFrames(buf, msgs[h:])
	return buf, a + b
}

// ensureStream makes sure there is a live stream to the peer, reusing the
// current connection or dialling a new one.
func (p *peer) ensureStream() error {
	if p.stream != nil && p.streamConn.Context().Err() == nil && p.stream.Context().Err() == nil {
		return nil
	}
	p.resetStream()
	p.mu.Lock()
	conn := p.conn
	p.mu.Unlock()
	if conn == nil || conn.Context().Err() != nil {
		c, err := p.t.dial(p.addr)
		if err != nil {
			return err
		}
		conn = c
		p.mu.Lock()
		p.conn = conn
		p.mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(p.t.ctx, p.t.cfg.DialTimeout)
	defer cancel()
	s, err := conn.OpenStreamSync(ctx)
	if err != nil {
		p.mu.Lock()
		if p.conn == conn {
			p.conn = nil
		}
		p.mu.Unlock()
		return err
	}
	hello := binary.AppendUvarint([]byte{streamPeer}, uint64(len(p.t.self)))
	hello = append(hello, p.t.self...)
	s.SetWriteDeadline(time.Now().Add(p.t.cfg.WriteTimeout))
	if _, err := s.Write(hello); err != nil {
		s.CancelWrite(codeGone)
		return err
	}
	p.stream, p.streamConn = s, conn
	return nil
}

func (p *peer) resetStream() {
	if p.stream != nil {
		p.stream.CancelWrite(codeGone)
		p.stream.CancelRead(codeGone)
	}
	p.stream, p.streamConn = nil, nil
}

// finish ends the stream gracefully at shutdown: FIN, then wait for the
// peer's FIN, which it sends once it has read (and delivered) everything.
func (p *peer) finish() {
	if p.stream == nil {
		return
	}
	s := p.stream
	p.stream = nil
	s.Close()
	s.SetReadDeadline(time.Now().Add(2 * time.Second))
	io.Copy(io.Discard, s)
}
