package transport

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/stdlib"
)

// TestDecodedScalarsAreOrdinaryValues checks that the int, time and float
// values the decoder's per-column fast path produces behave exactly like
// the values encoded: type switches, ==, map keys, reflection, formatting
// and stdlib.Compare, down to the sign of a zero.
func TestDecodedScalarsAreOrdinaryValues(t *testing.T) {
	types := []*lang.Type{lang.TAddr, lang.TInt, lang.TTime, lang.TFloat}
	s := NewSchemaOf([]Coll{{Name: "c", Kind: lang.Channel, Types: types}})
	to := stdlib.Addr("h:1")
	var in []runtime.Message
	for _, x := range []int64{0, 1, -1, 255, 256, -300, 1 << 40, math.MaxInt64, math.MinInt64} {
		f := float64(x) / 3
		in = append(in, runtime.Message{To: to, Coll: "c", Tuple: runtime.Tuple{to, x, stdlib.Time(x), f}})
	}
	in = append(in, runtime.Message{To: to, Coll: "c", Tuple: runtime.Tuple{to, int64(2), stdlib.Time(2), math.Copysign(0, -1)}})
	frame, err := s.AppendFrame(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.DecodeFrame(frame, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[any]int{}
	for i, m := range out {
		for k, want := range in[i].Tuple {
			got := m.Tuple[k]
			if got != want {
				t.Errorf("tuple %d column %d: %#v != %#v", i, k, got, want)
			}
			if reflect.TypeOf(got) != reflect.TypeOf(want) || !reflect.DeepEqual(got, want) {
				t.Errorf("tuple %d column %d: reflect sees %T %v, want %T %v", i, k, got, got, want, want)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("tuple %d column %d: formats as %v, want %v", i, k, got, want)
			}
			if stdlib.Compare(types[k], got, want) != 0 {
				t.Errorf("tuple %d column %d: Compare differs", i, k)
			}
			seen[got]++
		}
		switch x := m.Tuple[1].(type) {
		case int64:
			if x != in[i].Tuple[1].(int64) {
				t.Errorf("type switch: %d", x)
			}
		default:
			t.Errorf("column 1 is a %T", x)
		}
		if x, ok := m.Tuple[2].(stdlib.Time); !ok || x != in[i].Tuple[2].(stdlib.Time) {
			t.Errorf("time column: %v %v", x, ok)
		}
		if x, ok := m.Tuple[3].(float64); !ok || math.Float64bits(x) != math.Float64bits(in[i].Tuple[3].(float64)) {
			t.Errorf("float column: %v %v", x, ok)
		}
	}
	for _, m := range in {
		for _, v := range m.Tuple {
			if seen[v] == 0 {
				t.Errorf("%#v not found as a map key", v)
			}
		}
	}
	// Decoding the same frame again gives equal, independent values.
	again, _ := s.DecodeFrame(frame, 0)
	for i := range out {
		if !reflect.DeepEqual(out[i].Tuple, again[i].Tuple) {
			t.Fatalf("tuple %d differs on a second decode", i)
		}
	}
}

// TestPeerStreamFramesOfAllSizes sends, over one peer stream, frames
// smaller and larger than the receive buffer, with bad frames in between,
// and checks that every valid tuple arrives intact, including the tuples
// of earlier frames that Deliver kept.
func TestPeerStreamFramesOfAllSizes(t *testing.T) {
	dir := certs(t, "b", "x")
	const program = `channel blob(@to: addr, n: int, s: string, f: float, ok: bool);`
	plan := mustPlan(t, program)
	rb, err := Listen(Config{Creds: creds(t, dir, "b"), Plan: plan})
	if err != nil {
		t.Fatal(err)
	}
	self := stdlib.Addr(rb.Addr().String())
	rb.SetSelf(self)
	var mu sync.Mutex
	var got []runtime.Message
	arrived := make(chan struct{}, 1)
	blobTypes, _ := NewSchema(plan, lang.Channel).Types("blob")
	rb.Start(Handlers{Deliver: func(bs []runtime.Batch) {
		mu.Lock()
		for i := range bs { // keep the batches, not the slice
			got = bs[i].AppendMessages(got, blobTypes, true)
		}
		mu.Unlock()
		rb.Release()
		select {
		case arrived <- struct{}{}:
		default:
		}
	}})
	defer rb.Close(time.Second)

	sch := NewSchema(plan, lang.Channel)
	var want []runtime.Message
	var stream []byte
	stream = binary.AppendUvarint(append(stream, streamPeer), 3)
	stream = append(stream, "x:1"...)
	seq := int64(0)
	frame := func(n, strLen int) []byte {
		var msgs []runtime.Message
		for range n {
			seq++
			str := strings.Repeat(string(rune('a'+seq%26)), strLen)
			if seq%3 == 0 {
				str = "same" // repeated values are shared by the decoder
			}
			msgs = append(msgs, runtime.Message{To: self, Coll: "blob", Tuple: runtime.Tuple{self, seq * 1000, str, float64(seq) / 7, seq%2 == 0}})
		}
		want = append(want, msgs...)
		f, err := sch.AppendFrame(nil, msgs)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	bad := func(f []byte) []byte {
		// A body that does not validate: the count says one more tuple.
		b := append([]byte{}, f...)
		b[HeaderSize+1+len("blob")+1+4]++
		return b
	}
	for _, f := range [][]byte{
		frame(1, 1),
		frame(500, 10),
		bad(frame(3, 1)),
		frame(2000, 100), // ≈ 240 KB: more than the read buffer
		frame(1, 0),
		bad(frame(2000, 100)),
		frame(3000, 3),
		frame(7, 5000),
	} {
		stream = append(stream, f...)
	}
	// The bad frames' tuples are not expected.
	var keep []runtime.Message
	keep = append(keep, want[:501]...)
	keep = append(keep, want[504:2505]...)
	want = append(keep, want[4505:]...)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, s := rawStream(ctx, t, dir, string(self))
	// Odd-sized writes, so that frames and headers straddle reads.
	for len(stream) > 0 {
		n := min(len(stream), 7919)
		if _, err := s.Write(stream[:n]); err != nil {
			t.Fatal(err)
		}
		stream = stream[n:]
	}
	s.Close()
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= len(want) {
			break
		}
		select {
		case <-arrived:
		case <-ctx.Done():
			t.Fatalf("received %d of %d tuples", n, len(want))
		}
	}
	// The receiver answers our FIN once it has read everything.
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := s.Read(make([]byte, 1)); err == nil || err.Error() != "EOF" {
		t.Fatalf("no FIN from the receiver: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("received %d tuples, want %d", len(got), len(want))
	}
	types, _ := sch.Types("blob")
	for i := range want {
		if got[i].Coll != "blob" || got[i].To != self {
			t.Fatalf("message %d: %s to %s", i, got[i].Coll, got[i].To)
		}
		for k, typ := range types {
			if stdlib.Compare(typ, got[i].Tuple[k], want[i].Tuple[k]) != 0 {
				t.Fatalf("message %d column %d: got %v, want %v", i, k, got[i].Tuple[k], want[i].Tuple[k])
			}
		}
	}
	if r := rb.Stats().FramesRejected; r != 2 {
		t.Fatalf("%d frames rejected, want 2", r)
	}
}

// TestFrameReader reads items of many sizes through frameReader from
// readers that return data in small, uneven or erroring pieces.
func TestFrameReader(t *testing.T) {
	var stream []byte
	var sizes []int
	for i := range 200 {
		n := (i * 7919) % 20000
		if i%10 == 0 {
			n = 100000 + i
		}
		sizes = append(sizes, n)
		for k := range n {
			stream = append(stream, byte(i+k))
		}
	}
	for name, wrap := range map[string]func(io.Reader) io.Reader{
		"plain":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data+err": iotest.DataErrReader,
	} {
		t.Run(name, func(t *testing.T) {
			f := frameReader{r: wrap(bytes.NewReader(stream))}
			for i, n := range sizes {
				b, err := f.next(n)
				if err != nil || len(b) != n {
					t.Fatalf("item %d: %d bytes, %v", i, len(b), err)
				}
				for k := range b {
					if b[k] != byte(i+k) {
						t.Fatalf("item %d byte %d: %d", i, k, b[k])
					}
				}
			}
			if b, err := f.next(1); len(b) != 0 || err != io.EOF {
				t.Fatalf("after the end: %d bytes, %v", len(b), err)
			}
		})
	}
	// A stream that ends inside an item gives what there was.
	f := frameReader{r: bytes.NewReader([]byte("BLM\x01\x00"))}
	if b, err := f.next(HeaderSize); string(b) != "BLM\x01\x00" || err != io.EOF {
		t.Fatalf("short read: %q, %v", b, err)
	}
}

// TestStrIntsPaths checks the loops for an address-and-numbers collection
// against the general ones: the same bytes from both encoders and the
// same batches from both decoders, on random tuples with short and long
// strings, small and large numbers, and on every truncation of a frame.
func TestStrIntsPaths(t *testing.T) {
	plan := mustPlan(t, `channel m(@to: addr, a: int, at: time, b: int);
		channel s(@to: addr, x: int);
		input in(k: string, v: int);
		input raw(k: bytes, v: time);`)
	fast := NewSchema(plan, lang.Channel, lang.Input)
	slow := NewSchema(plan, lang.Channel, lang.Input)
	for _, c := range slow.colls {
		if !fast.colls[c.name].strInts {
			t.Fatalf("%s does not take the strInts loops", c.name)
		}
		c.strInts = false
	}
	rng := rand.New(rand.NewPCG(1, 2))
	str := func() string {
		n := []int{0, 3, 8, 15, 16, 17, 127, 128, 300}[rng.IntN(9)]
		if rng.IntN(4) > 0 {
			n = 15 // mostly addresses that repeat
		}
		return strings.Repeat(string(rune('a'+rng.IntN(3))), n)
	}
	num := func() int64 {
		switch rng.IntN(4) {
		case 0:
			return rng.Int64N(64) - 32
		case 1:
			return rng.Int64N(16000) - 8000
		case 2:
			return rng.Int64()
		}
		return -rng.Int64()
	}
	for round := range 300 {
		var msgs []runtime.Message
		groups := 1 + rng.IntN(40)
		if round%20 == 0 {
			// Long groups: a count of one varint byte after a room of two
			// (129 messages left, a group of 100), and of two.
			groups = 300
		}
		for g := range groups {
			if groups == 300 {
				a := stdlib.Addr(str())
				if g < 100 || g >= 129 {
					msgs = append(msgs, runtime.Message{To: a, Coll: "s", Tuple: runtime.Tuple{a, num()}})
				} else {
					msgs = append(msgs, runtime.Message{Coll: "in", Tuple: runtime.Tuple{str(), num()}})
				}
				continue
			}
			switch rng.IntN(4) {
			case 0:
				a := stdlib.Addr(str())
				msgs = append(msgs, runtime.Message{To: a, Coll: "m", Tuple: runtime.Tuple{a, num(), stdlib.Time(num()), num()}})
			case 1:
				a := stdlib.Addr(str())
				msgs = append(msgs, runtime.Message{To: a, Coll: "s", Tuple: runtime.Tuple{a, num()}})
			case 2:
				msgs = append(msgs, runtime.Message{Coll: "in", Tuple: runtime.Tuple{str(), num()}})
			default:
				msgs = append(msgs, runtime.Message{Coll: "raw", Tuple: runtime.Tuple{stdlib.Bytes(str()), stdlib.Time(num())}})
			}
		}
		if round%10 == 0 {
			// A value of the wrong Go type: both encoders refuse it.
			bad := slices.Clone(msgs)
			bad[len(bad)-1].Tuple = runtime.Tuple{int64(1), int64(2)}
			if _, err := fast.AppendFrame(nil, bad); err == nil {
				t.Fatal("a tuple of the wrong types was encoded")
			}
		}
		fb, err := fast.AppendFrame(nil, msgs)
		if err != nil {
			t.Fatal(err)
		}
		sb, err := slow.AppendFrame(nil, msgs)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fb, sb) {
			t.Fatalf("round %d: the encoders differ:\n%x\n%x", round, fb, sb)
		}
		body := fb[HeaderSize:]
		for cut := len(body); cut >= 0; cut -= 1 + rng.IntN(7) {
			fbs, ferr := fast.DecodeBatches(body[:cut], nil)
			sbs, serr := slow.DecodeBatches(body[:cut], nil)
			if (ferr == nil) != (serr == nil) || ferr != nil && ferr.Error() != serr.Error() {
				t.Fatalf("round %d, %d bytes: errors %v and %v", round, cut, ferr, serr)
			}
			if !reflect.DeepEqual(fbs, sbs) {
				t.Fatalf("round %d, %d bytes: the decoders differ:\n%+v\n%+v", round, cut, fbs, sbs)
			}
			if cut == len(body) {
				var got []runtime.Message
				for i := range fbs {
					got = fbs[i].AppendMessages(got, fast.colls[fbs[i].Coll].types, fast.colls[fbs[i].Coll].kind == lang.Channel)
				}
				if again, _ := fast.AppendFrame(nil, got); !bytes.Equal(again, fb) {
					t.Fatalf("round %d: decoding and encoding again differs", round)
				}
			}
		}
	}
}

// TestBatchDecoderReuses checks that a batchDecoder decodes frame after
// frame like DecodeBatches, into memory it reuses: after the first frame,
// a frame costs only its new string values.
func TestBatchDecoderReuses(t *testing.T) {
	s, msgs := sampleMessages(t)
	dec := batchDecoder{schema: s}
	var bs []runtime.Batch
	for i := range 3 * len(msgs) {
		j := i % len(msgs)
		frame, err := s.AppendFrame(nil, msgs[j:min(j+3, len(msgs))])
		if err != nil {
			t.Fatal(err)
		}
		want, err := s.DecodeBatches(frame[HeaderSize:], nil)
		if err != nil {
			t.Fatal(err)
		}
		if bs, err = dec.decode(frame[HeaderSize:], bs[:0]); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(bs, want) {
			t.Fatalf("frame %d: %+v, want %+v", i, bs, want)
		}
	}
	s2 := NewSchema(mustPlan(t, benchProgram), lang.Channel)
	frame, err := s2.AppendFrame(nil, benchTuples(t, "127.0.0.1:7001", 500))
	if err != nil {
		t.Fatal(err)
	}
	dec = batchDecoder{schema: s2}
	allocs := testing.AllocsPerRun(20, func() {
		if bs, err = dec.decode(frame[HeaderSize:], bs[:0]); err != nil || len(bs) != 1 || bs[0].Len() != 500 {
			t.Fatalf("%v, %d batches", err, len(bs))
		}
	})
	// A stream does not keep the memory of an exceptional frame.
	big, err := s2.AppendFrame(nil, benchTuples(t, "127.0.0.1:7001", maxKeptWords))
	if err != nil {
		t.Fatal(err)
	}
	if bs, err = dec.decode(big[HeaderSize:], bs[:0]); err != nil || bs[0].Len() != maxKeptWords {
		t.Fatalf("%v, %d batches", err, len(bs))
	}
	if bs, err = dec.decode(frame[HeaderSize:], bs[:0]); err != nil || bs[0].Len() != 500 {
		t.Fatalf("%v, %d batches", err, len(bs))
	}
	if cap(dec.words) > maxKeptWords {
		t.Errorf("the decoder keeps %d words after a big frame", cap(dec.words))
	}
	if allocs > 2 { // the address: its bytes and its boxed header
		t.Errorf("%v allocations a frame, want at most 2", allocs)
	}
}
