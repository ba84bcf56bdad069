package transport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/stdlib"
)

func sampleMessages(tb testing.TB) (*Schema, []runtime.Message) {
	plan := mustPlan(tb, testProgram)
	s := NewSchema(plan, lang.Channel)
	lt := plan.ByName["lats"].Types
	nt := plan.ByName["nested"].Types
	to := stdlib.Addr("127.0.0.1:7001")
	msgs := []runtime.Message{
		{To: to, Coll: "scalars", Tuple: runtime.Tuple{to, int64(-5), 2.5, "héllo\x00", true, stdlib.Addr("10.0.0.1:1"), stdlib.Time(1700000000000000000), stdlib.Bytes("\xff\x00")}},
		{To: to, Coll: "scalars", Tuple: runtime.Tuple{to, int64(math.MinInt64), math.Inf(-1), "", false, stdlib.Addr(""), stdlib.Time(-1), stdlib.Bytes("")}},
		{To: to, Coll: "lats", Tuple: runtime.Tuple{to, nil, nil, nil, nil, nil, nil, nil}},
		{To: to, Coll: "lats", Tuple: runtime.Tuple{to, int64(7), -0.5, true,
			stdlib.NewSet(lang.TString, "b", "a", "c"),
			stdlib.NewMap(lang.TString, lt[5].Elem, []stdlib.Value{"x", "y"}, []stdlib.Value{int64(1), nil}),
			stdlib.NewCounterFrom(map[stdlib.Addr]int64{"a:1": 3, "b:2": 4}),
			stdlib.Pair{A: int64(3), B: stdlib.NewSet(lang.TAddr, stdlib.Addr("n:1"))}}},
		{To: to, Coll: "nested", Tuple: runtime.Tuple{to,
			stdlib.NewMap(lang.TInt, nt[1].Elem, []stdlib.Value{int64(2), int64(-1)}, []stdlib.Value{stdlib.NewSet(lang.TString, "q"), stdlib.NewSet(lang.TString)}),
			"zz"}},
		{To: to, Coll: "ping", Tuple: runtime.Tuple{to, stdlib.Addr("127.0.0.1:7002"), int64(1)}},
		{To: to, Coll: "pong", Tuple: runtime.Tuple{to, int64(1)}},
		{To: to, Coll: "pong", Tuple: runtime.Tuple{to, int64(-300)}},
		{To: to, Coll: "pong", Tuple: runtime.Tuple{to, int64(math.MaxInt64)}},
	}
	return s, msgs
}

func TestFrameRoundTrip(t *testing.T) {
	s, msgs := sampleMessages(t)
	frame, err := s.AppendFrame(nil, msgs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.DecodeFrame(frame, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(msgs) {
		t.Fatalf("got %d messages, want %d", len(got), len(msgs))
	}
	for i, m := range got {
		types, _ := s.Types(m.Coll)
		if m.Coll != msgs[i].Coll || m.To != msgs[i].To {
			t.Fatalf("message %d: got %s to %s", i, m.Coll, m.To)
		}
		for k, typ := range types {
			if stdlib.Compare(typ, m.Tuple[k], msgs[i].Tuple[k]) != 0 {
				t.Errorf("message %d column %d: got %s, want %s", i, k, stdlib.Format(typ, m.Tuple[k]), stdlib.Format(typ, msgs[i].Tuple[k]))
			}
		}
	}
	again, err := s.AppendFrame(nil, got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, frame) {
		t.Fatalf("re-encoding differs:\n%x\n%x", again, frame)
	}
	// An empty frame is valid.
	empty, _ := s.AppendFrame(nil, nil)
	if got, err := s.DecodeFrame(empty, 0); err != nil || len(got) != 0 {
		t.Fatalf("empty frame: %v %v", got, err)
	}
}

func TestEncodeRejectsBadValues(t *testing.T) {
	s, _ := sampleMessages(t)
	to := stdlib.Addr("x:1")
	for _, m := range []runtime.Message{
		{Coll: "nope", Tuple: runtime.Tuple{to}},
		{Coll: "ping", Tuple: runtime.Tuple{to, stdlib.Addr("y:1")}},
		{Coll: "ping", Tuple: runtime.Tuple{to, "not an addr", int64(1)}},
		{Coll: "ping", Tuple: runtime.Tuple{to, stdlib.Addr("y:1"), 1.5}},
	} {
		if _, err := s.AppendFrame(nil, []runtime.Message{m}); err == nil {
			t.Errorf("%v: encoded", m)
		}
	}
}

// TestDecodeRejects feeds corrupted frames; each must be an error wrapping
// ErrMalformed with the expected reason, never a panic.
func TestDecodeRejects(t *testing.T) {
	s, msgs := sampleMessages(t)
	good, err := s.AppendFrame(nil, msgs[len(msgs)-1:]) // one ping
	if err != nil {
		t.Fatal(err)
	}
	withBody := func(body []byte) []byte {
		f := append([]byte{'B', 'L', 'M', Version}, 0, 0, 0, 0)
		binary.BigEndian.PutUint32(f[4:], uint32(len(body)))
		return append(f, body...)
	}
	group := func(name string, arity uint64, fp uint32, count uint64, rest ...byte) []byte {
		b := appendString(nil, name)
		b = binary.AppendUvarint(b, arity)
		b = binary.BigEndian.AppendUint32(b, fp)
		b = binary.AppendUvarint(b, count)
		return append(b, rest...)
	}
	pingTypes, _ := s.Types("ping")
	pingFP := Fingerprint(pingTypes)
	setType := []*lang.Type{lang.TAddr, {Kind: lang.LSet, Elem: lang.TString}}
	set := NewSchemaOf([]Coll{{Name: "s", Kind: lang.Channel, Types: setType}})
	setFP := Fingerprint(setType)
	addrA := appendString(nil, "a")
	cases := []struct {
		name, reason string
		schema       *Schema
		frame        []byte
	}{
		{"empty input", "truncated", s, nil},
		{"short header", "truncated", s, good[:5]},
		{"bad magic", "bad_magic", s, append([]byte("XLM"), good[3:]...)},
		{"bad version", "bad_version", s, append([]byte("BLM\x07"), good[4:]...)},
		{"oversized", "oversized", s, []byte("BLM\x01\xff\xff\xff\xff")},
		{"truncated body", "truncated", s, good[:len(good)-1]},
		{"trailing garbage", "trailing", s, append(append([]byte{}, good...), 0)},
		{"unknown channel", "unknown_collection", s, withBody(group("nope", 3, pingFP, 1))},
		{"input is not a channel", "unknown_collection", s, withBody(group("put", 2, 0, 1))},
		{"wrong arity", "wrong_arity", s, withBody(group("ping", 2, pingFP, 1))},
		{"wrong types", "wrong_type", s, withBody(group("ping", 3, pingFP^1, 1))},
		{"zero count", "bad_count", s, withBody(group("ping", 3, pingFP, 0))},
		{"huge count", "bad_count", s, withBody(group("ping", 3, pingFP, 1<<60, 1, 2, 3))},
		{"empty name", "bad_name", s, withBody([]byte{0})},
		{"truncated tuple", "truncated", s, withBody(group("ping", 3, pingFP, 1, 1, 'a'))},
		{"string longer than frame", "truncated", s, withBody(group("ping", 3, pingFP, 1, 0x80, 0x80, 0x04))},
		{"non-minimal varint", "non_canonical", s, withBody(group("ping", 3, pingFP, 1, append(append(append([]byte{}, addrA...), addrA...), 0x82, 0x00)...))},
		{"varint overflow", "bad_varint", s, withBody(group("ping", 3, pingFP, 1, append(append(append([]byte{}, addrA...), addrA...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)...))},
		{"repeated group", "non_canonical", s, withBody(append(group("ping", 3, pingFP, 1, append(append(append([]byte{}, addrA...), addrA...), 2)...), group("ping", 3, pingFP, 1, append(append(append([]byte{}, addrA...), addrA...), 2)...)...))},
		{"unsorted set", "non_canonical", set, withBody(group("s", 2, setFP, 1, append(append([]byte{}, addrA...), 2, 1, 'b', 1, 'a')...))},
		{"duplicate set element", "non_canonical", set, withBody(group("s", 2, setFP, 1, append(append([]byte{}, addrA...), 2, 1, 'a', 1, 'a')...))},
		{"set count beyond frame", "bad_count", set, withBody(group("s", 2, setFP, 1, append(append([]byte{}, addrA...), 0xff, 0x01)...))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.schema.DecodeFrame(c.frame, 1<<20)
			if err == nil {
				t.Fatalf("decoded %v", got)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			if r := Reason(err); r != c.reason {
				t.Fatalf("reason %q, want %q (%v)", r, c.reason, err)
			}
		})
	}
}

func TestDecodeBoolAndLatticeBytes(t *testing.T) {
	typ := []*lang.Type{lang.TAddr, lang.TBool, {Kind: lang.LMax, Elem: lang.TInt}, lang.TLCount}
	s := NewSchemaOf([]Coll{{Name: "c", Kind: lang.Channel, Types: typ}})
	fp := Fingerprint(typ)
	mk := func(vals ...byte) []byte {
		b := appendString(nil, "c")
		b = binary.AppendUvarint(b, 4)
		b = binary.BigEndian.AppendUint32(b, fp)
		b = binary.AppendUvarint(b, 1)
		b = append(append(b, 1, 'a'), vals...)
		f := binary.BigEndian.AppendUint32([]byte{'B', 'L', 'M', Version}, uint32(len(b)))
		return append(f, b...)
	}
	for _, c := range []struct {
		name string
		b    []byte
		ok   bool
	}{
		{"valid", mk(1, 1, 2, 1, 1, 'x', 5), true},
		{"bool 2", mk(2, 0, 0), false},
		{"lmax presence 3", mk(0, 3, 0), false},
		{"counter zero count", mk(0, 0, 1, 1, 'x', 0), false},
		{"counter unsorted", mk(0, 0, 2, 1, 'y', 1, 1, 'x', 1), false},
	} {
		_, err := s.DecodeFrame(c.b, 0)
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v", c.name, err)
		}
	}
}

func TestFingerprintNamesTypes(t *testing.T) {
	a := Fingerprint([]*lang.Type{lang.TAddr, lang.TInt})
	b := Fingerprint([]*lang.Type{lang.TAddr, lang.TTime})
	if a == b {
		t.Fatal("int and time columns share a fingerprint")
	}
	if !strings.Contains((&lang.Type{Kind: lang.LSet, Elem: lang.TInt}).String(), "lset") {
		t.Fatal("type names changed")
	}
	_ = reflect.DeepEqual
}
