package stdlib

import (
	"testing"

	"github.com/bloomlang/bloom/lang"
)

func TestPackWordRoundTrip(t *testing.T) {
	tInt, tBool, tTime := &lang.Type{Kind: lang.Int}, &lang.Type{Kind: lang.Bool}, &lang.Type{Kind: lang.Time}
	cases := []struct {
		t  *lang.Type
		in Value
		// want is the value UnpackWord gives back; nil means PackWord
		// must refuse in.
		want Value
	}{
		{tInt, int64(-1 << 63), int64(-1 << 63)},
		{tInt, int64(1<<63 - 1), int64(1<<63 - 1)},
		{tInt, int64(-7), int64(-7)},
		{tInt, 3.0, int64(3)},
		{tInt, 3.5, nil},
		{tInt, "x", nil},
		{tBool, true, true},
		{tBool, false, false},
		{tBool, int64(1), nil},
		{tTime, Time(-5), Time(-5)},
		{tTime, Time(1 << 62), Time(1 << 62)},
		{tLMin(tInt), int64(-3), int64(-3)},
		{tLMin(tInt), nil, nil}, // bottom has no word
		{&lang.Type{Kind: lang.LMax, Elem: tInt}, int64(9), int64(9)},
		{tLMin(&lang.Type{Kind: lang.Float}), 1.5, nil},
	}
	for _, c := range cases {
		w, ok := PackWord(c.t, c.in)
		if ok != (c.want != nil) {
			t.Errorf("PackWord(%s, %#v) ok = %v", c.t, c.in, ok)
			continue
		}
		if !ok {
			continue
		}
		if got := UnpackWord(c.t, w); got != c.want {
			t.Errorf("UnpackWord(PackWord(%s, %#v)) = %#v, want %#v", c.t, c.in, got, c.want)
		}
	}
	if IsWordType(&lang.Type{Kind: lang.Float}) || IsWordType(tLMin(&lang.Type{Kind: lang.Float})) || !IsWordType(tTime) || !IsWordType(tLMin(tInt)) {
		t.Error("IsWordType: floats and lmin<float> are not word types, time and lmin<int> are")
	}
}
