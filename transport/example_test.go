package transport_test

import (
	"encoding/hex"
	"fmt"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/stdlib"
	"github.com/bloomlang/bloom/transport"
)

// The frame of docs/wire.md's example.
func ExampleSchema_AppendFrame() {
	prog, _ := (&lang.Loader{}).LoadSource("ex.bloom", []byte(`channel ping(@to: addr, from: addr, seq: int);`))
	plan, _ := compiler.Compile(prog)
	s := transport.NewSchema(plan, lang.Channel)
	to := stdlib.Addr("127.0.0.1:7002")
	frame, _ := s.AppendFrame(nil, []runtime.Message{{To: to, Coll: "ping", Tuple: runtime.Tuple{to, stdlib.Addr("127.0.0.1:7001"), int64(5)}}})
	fmt.Println(hex.EncodeToString(frame[:8]), len(frame)-8)
	fmt.Printf("%08x\n", transport.Fingerprint(plan.ByName["ping"].Types))
	msgs, err := s.DecodeFrame(frame, 0)
	fmt.Println(msgs[0].Coll, msgs[0].To, msgs[0].Tuple[2], err)
	// Output:
	// 424c4d010000002a 42
	// 064080b0
	// ping 127.0.0.1:7002 5 <nil>
}
