package transport

import (
	"testing"

	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/stdlib"
)

// BenchmarkDecodeBatches, BenchmarkDecodeBody and BenchmarkAppendFrame
// measure the codec alone on BenchmarkTransportTuples' frames (benchBatch
// small tuples), per tuple.
func BenchmarkDecodeBody(b *testing.B) {
	sch, body := benchBody(b)
	var msgs []runtime.Message
	var err error
	for i := 0; i < b.N; i += benchBatch {
		if msgs, err = sch.DecodeBody(body, msgs[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBatches(b *testing.B) {
	sch, body := benchBody(b)
	// As a peer stream decodes: into reused memory.
	dec := batchDecoder{schema: sch}
	var bs []runtime.Batch
	var err error
	for i := 0; i < b.N; i += benchBatch {
		if bs, err = dec.decode(body, bs[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

// benchBody is the schema of benchProgram's channels and the body of a
// frame of benchBatch tuples.
func benchBody(b *testing.B) (*Schema, []byte) {
	sch := NewSchema(mustPlan(b, benchProgram), lang.Channel)
	frame, err := sch.AppendFrame(nil, benchTuples(b, stdlib.Addr("127.0.0.1:40000"), benchBatch))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(frame)) / benchBatch)
	b.ReportAllocs()
	return sch, frame[HeaderSize:]
}

func BenchmarkAppendFrame(b *testing.B) {
	sch := NewSchema(mustPlan(b, benchProgram), lang.Channel)
	msgs := benchTuples(b, stdlib.Addr("127.0.0.1:40000"), benchBatch)
	var buf []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i += benchBatch {
		var err error
		if buf, err = sch.AppendFrame(buf[:0], msgs); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)) / benchBatch)
}
