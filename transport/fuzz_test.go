package transport

import (
	"bytes"
	"testing"

	"github.com/bloomlang/bloom/runtime"
)

// FuzzDecodeFrame checks that the decoder never panics, that whatever it
// accepts is in canonical form (re-encoding the decoded messages gives
// back exactly the input bytes), and that a node takes the batches it
// decodes to and runs a tick on them.
func FuzzDecodeFrame(f *testing.F) {
	s, msgs := sampleMessages(f)
	node := runtime.New(mustPlan(f, testProgram), runtime.Options{Self: "127.0.0.1:7001"})
	for i := range msgs {
		frame, err := s.AppendFrame(nil, msgs[i:i+1])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(frame)
	}
	all, err := s.AppendFrame(nil, msgs)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(all)
	empty, _ := s.AppendFrame(nil, nil)
	f.Add(empty)
	f.Fuzz(func(t *testing.T, frame []byte) {
		got, err := s.DecodeFrame(frame, 1<<16)
		if err != nil {
			if got != nil {
				t.Fatalf("error %v with %d messages", err, len(got))
			}
			_ = Reason(err)
			return
		}
		again, err := s.AppendFrame(nil, got)
		if err != nil {
			t.Fatalf("decoded messages do not encode: %v", err)
		}
		if !bytes.Equal(again, frame) {
			t.Fatalf("not canonical:\n in  %x\n out %x", frame, again)
		}
		var into []runtime.Message
		if _, err := s.DecodeBody(frame[HeaderSize:], into); err != nil {
			t.Fatalf("body decode disagrees: %v", err)
		}
		bs, err := s.DecodeBatches(frame[HeaderSize:], nil)
		if err != nil {
			t.Fatalf("batch decode disagrees: %v", err)
		}
		if err := node.DeliverBatches(bs); err != nil {
			t.Fatalf("the node refuses a decoded batch: %v", err)
		}
		if err := node.Tick(); err != nil {
			t.Fatalf("a tick fails on decoded batches: %v", err)
		}
	})
}
