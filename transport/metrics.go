package transport

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// maxPeerLabels bounds the number of distinct peer label values: addresses
// come from program data, so a program could otherwise create unbounded
// series. Peers beyond the limit are counted under "other".
const maxPeerLabels = 256

// Metrics are a node's Prometheus metrics, registered on a registry of the
// caller's (no global state). A nil *Metrics records nothing.
type Metrics struct {
	Ticks        prometheus.Counter
	FailedTicks  prometheus.Counter
	TickDuration prometheus.Histogram
	Tuples       *prometheus.GaugeVec // collection
	MsgsSent     *prometheus.CounterVec
	BytesSent    *prometheus.CounterVec
	MsgsRecv     *prometheus.CounterVec
	BytesRecv    *prometheus.CounterVec
	MsgsDropped  *prometheus.CounterVec // peer, reason
	FramesBad    *prometheus.CounterVec // peer, reason
	Dials        *prometheus.CounterVec // peer, result
	Queued       prometheus.Gauge

	mu    sync.Mutex
	peers map[string]bool
}

// NewMetrics creates the metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	peer := []string{"peer"}
	m := &Metrics{
		Ticks:        prometheus.NewCounter(prometheus.CounterOpts{Name: "bloom_ticks_total", Help: "Ticks run."}),
		FailedTicks:  prometheus.NewCounter(prometheus.CounterOpts{Name: "bloom_failed_ticks_total", Help: "Ticks that failed and were rolled back."}),
		TickDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "bloom_tick_duration_seconds", Help: "Duration of a tick.", Buckets: prometheus.ExponentialBuckets(10e-6, 4, 10)}),
		Tuples:       prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "bloom_collection_tuples", Help: "Tuples in each collection at the end of the last tick."}, []string{"collection"}),
		MsgsSent:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bloom_messages_sent_total", Help: "Channel tuples written to a peer."}, peer),
		BytesSent:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bloom_bytes_sent_total", Help: "Frame bytes written to a peer."}, peer),
		MsgsRecv:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bloom_messages_received_total", Help: "Channel tuples received from a peer and delivered."}, peer),
		BytesRecv:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bloom_bytes_received_total", Help: "Frame bytes received from a peer."}, peer),
		MsgsDropped:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bloom_messages_dropped_total", Help: "Channel tuples dropped (queue_full, unreachable, write_error, bad_address, encode_error, closed, rejected)."}, []string{"peer", "reason"}),
		FramesBad:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bloom_frames_rejected_total", Help: "Inbound frames dropped because they failed validation."}, []string{"peer", "reason"}),
		Dials:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bloom_dials_total", Help: "Outbound connection attempts."}, []string{"peer", "result"}),
		Queued:       prometheus.NewGauge(prometheus.GaugeOpts{Name: "bloom_send_queue_messages", Help: "Channel tuples waiting in the per-peer send queues."}),
		peers:        map[string]bool{},
	}
	reg.MustRegister(m.Ticks, m.FailedTicks, m.TickDuration, m.Tuples, m.MsgsSent, m.BytesSent,
		m.MsgsRecv, m.BytesRecv, m.MsgsDropped, m.FramesBad, m.Dials, m.Queued)
	return m
}

// peerLabel returns addr, or "other" once maxPeerLabels peers are known.
func (m *Metrics) peerLabel(addr string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.peers[addr] {
		return addr
	}
	if len(m.peers) >= maxPeerLabels {
		return "other"
	}
	m.peers[addr] = true
	return addr
}

// ObserveTick records one tick.
func (m *Metrics) ObserveTick(d time.Duration, err error) {
	if m == nil {
		return
	}
	m.Ticks.Inc()
	if err != nil {
		m.FailedTicks.Inc()
	}
	m.TickDuration.Observe(d.Seconds())
}

// SetTuples records a collection's size.
func (m *Metrics) SetTuples(coll string, n int) {
	if m == nil {
		return
	}
	m.Tuples.WithLabelValues(coll).Set(float64(n))
}

func (m *Metrics) sent(peer string, msgs, bytes int) {
	if m == nil {
		return
	}
	p := m.peerLabel(peer)
	m.MsgsSent.WithLabelValues(p).Add(float64(msgs))
	m.BytesSent.WithLabelValues(p).Add(float64(bytes))
}

func (m *Metrics) received(peer string, msgs, bytes int) {
	if m == nil {
		return
	}
	p := m.peerLabel(peer)
	m.MsgsRecv.WithLabelValues(p).Add(float64(msgs))
	m.BytesRecv.WithLabelValues(p).Add(float64(bytes))
}

func (m *Metrics) dropped(peer, reason string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.MsgsDropped.WithLabelValues(m.peerLabel(peer), reason).Add(float64(n))
}

func (m *Metrics) rejected(peer, reason string) {
	if m == nil {
		return
	}
	m.FramesBad.WithLabelValues(m.peerLabel(peer), reason).Inc()
}

func (m *Metrics) dial(peer, result string) {
	if m == nil {
		return
	}
	m.Dials.WithLabelValues(m.peerLabel(peer), result).Inc()
}

func (m *Metrics) queued(delta int) {
	if m == nil || delta == 0 {
		return
	}
	m.Queued.Add(float64(delta))
}
