package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/stdlib"
	"github.com/bloomlang/bloom/transport"
)

var errWatchDone = errors.New("done")

func cmdWatch(env *cliEnv, args []string) int {
	fs := newFlags(env, "watch", "[--insecure-dev | --ca F --cert F --key F] [--json] [--count N] ADDR REL",
		`Streams the tuples of output collection REL of the node at ADDR as the node
publishes them (at the end of each tick in which REL is not empty), one a
line in fact syntax, or with --json one JSON object a line:
  {"tick": 12, "rel": "got", "tuple": {"k": "a", "v": 1}}
(int and time as numbers, float as numbers or "NaN"/"+Inf"/"-Inf", bytes as
base64, lmax/lmin as the scalar or null, lcounter as its value, lset as an
array, lmap as an array of [key, value] pairs, lpair as [a, b]).
Once the node has registered the watch, "bloomc watch: watching REL at ADDR"
goes to stderr: the ticks after that line are all streamed.
Runs until interrupted, or until --count tuples have been printed.`)
	var tf tlsFlags
	tf.register(fs)
	asJSON := fs.Bool("json", false, "print JSON lines")
	count := fs.Int("count", 0, "exit after printing `N` tuples (0: run until interrupted)")
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 2 {
		return usageError(env, fs, "want ADDR and REL")
	}
	addr, rel := pos[0], pos[1]
	creds, code := tf.credentials(env, fs, nil)
	if creds == nil {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	cl, err := transport.Dial(dctx, addr, creds)
	cancel()
	if err != nil {
		fmt.Fprintf(env.stderr, "bloomc watch: %v\n", err)
		return exitErrors
	}
	defer cl.Close()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	colls, err := cl.Schema(sctx)
	cancel()
	if err != nil {
		fmt.Fprintf(env.stderr, "bloomc watch: %v\n", err)
		return exitErrors
	}
	var coll *transport.Coll
	for i := range colls {
		if colls[i].Name == rel {
			coll = &colls[i]
		}
	}
	if coll == nil || coll.Kind != lang.Output {
		var outs []string
		for _, c := range colls {
			if c.Kind == lang.Output {
				outs = append(outs, c.Name)
			}
		}
		fmt.Fprintf(env.stderr, "bloomc watch: %s is not an output collection of %s (outputs: %v)\n", rel, addr, outs)
		return exitErrors
	}
	w := bufio.NewWriter(env.stdout)
	defer w.Flush()
	printed := 0
	var buf []byte
	ready := func() { fmt.Fprintf(env.stderr, "bloomc watch: watching %s at %s\n", rel, addr) }
	err = cl.WatchNotify(ctx, rel, ready, func(tick int64, ts []runtime.Tuple) error {
		for _, t := range ts {
			if *asJSON {
				buf = appendJSONTuple(buf[:0], tick, coll, t)
			} else {
				buf = stdlib.AppendFormatTuple(buf[:0], rel, coll.Types, t)
			}
			buf = append(buf, '\n')
			w.Write(buf)
			printed++
			if *count > 0 && printed >= *count {
				return errWatchDone
			}
		}
		return w.Flush()
	})
	if err != nil && !errors.Is(err, errWatchDone) {
		w.Flush()
		fmt.Fprintf(env.stderr, "bloomc watch: %v\n", err)
		return exitErrors
	}
	return exitOK
}

func appendJSONTuple(b []byte, tick int64, c *transport.Coll, t runtime.Tuple) []byte {
	b = append(b, `{"tick":`...)
	b = strconv.AppendInt(b, tick, 10)
	b = append(b, `,"rel":`...)
	b = appendJSONString(b, c.Name)
	b = append(b, `,"tuple":{`...)
	for i, typ := range c.Types {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, c.Cols[i])
		b = append(b, ':')
		b = appendJSONValue(b, typ, t[i])
	}
	return append(b, "}}"...)
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

func appendJSONValue(b []byte, t *lang.Type, v stdlib.Value) []byte {
	switch t.Kind {
	case lang.Int:
		x, _ := v.(int64)
		return strconv.AppendInt(b, x, 10)
	case lang.Time:
		x, _ := v.(stdlib.Time)
		return strconv.AppendInt(b, int64(x), 10)
	case lang.Float:
		x, _ := v.(float64)
		switch {
		case math.IsNaN(x):
			return append(b, `"NaN"`...)
		case math.IsInf(x, 1):
			return append(b, `"+Inf"`...)
		case math.IsInf(x, -1):
			return append(b, `"-Inf"`...)
		}
		return strconv.AppendFloat(b, x, 'g', -1, 64)
	case lang.String:
		x, _ := v.(string)
		return appendJSONString(b, x)
	case lang.Addr:
		x, _ := v.(stdlib.Addr)
		return appendJSONString(b, string(x))
	case lang.Bytes:
		x, _ := v.(stdlib.Bytes)
		return appendJSONString(b, base64.StdEncoding.EncodeToString([]byte(x)))
	case lang.Bool, lang.LBool:
		x, _ := v.(bool)
		return strconv.AppendBool(b, x)
	case lang.LMax, lang.LMin:
		if v == nil {
			return append(b, "null"...)
		}
		return appendJSONValue(b, t.Elem, v)
	case lang.LCounter:
		c, _ := v.(*stdlib.Counter)
		return strconv.AppendInt(b, c.Value(), 10)
	case lang.LSet:
		s, _ := v.(*stdlib.Set)
		b = append(b, '[')
		for i := range s.Len() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONValue(b, t.Elem, s.Elem(i))
		}
		return append(b, ']')
	case lang.LMap:
		m, _ := v.(*stdlib.Map)
		b = append(b, '[')
		for i := range m.Len() {
			if i > 0 {
				b = append(b, ',')
			}
			k, x := m.Entry(i)
			b = append(b, '[')
			b = appendJSONValue(b, t.Key, k)
			b = append(b, ',')
			b = appendJSONValue(b, t.Elem, x)
			b = append(b, ']')
		}
		return append(b, ']')
	case lang.LPair:
		p, _ := v.(stdlib.Pair)
		if p.A == nil {
			p.A = stdlib.Bottom(t.Key)
		}
		if p.B == nil {
			p.B = stdlib.Bottom(t.Elem)
		}
		b = append(b, '[')
		b = appendJSONValue(b, t.Key, p.A)
		b = append(b, ',')
		b = appendJSONValue(b, t.Elem, p.B)
		return append(b, ']')
	}
	return append(b, "null"...)
}
