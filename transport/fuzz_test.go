package transport

import (
	"bytes"
	"testing"

	"github.com/bloomlang/bloom/runtime"
)

// FuzzDecodeFrame checks that the decoder never panics and that whatever
// it accepts is in canonical form: re-encoding the decoded messages gives
// back exactly the input bytes.
func FuzzDecodeFrame(f *testing.F) {
	s, msgs := sampleMessages(f)
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
	})
}
