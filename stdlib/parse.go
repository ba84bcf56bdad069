package stdlib

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bloomlang/bloom/lang"
)

// ParseText parses one CSV field as a value of type t:
//
//   - int: decimal integer; float: anything strconv.ParseFloat accepts;
//   - bool, lbool: true or false (any case);
//   - string, addr, bytes: the raw field text as is (encoding/csv has
//     already removed any surrounding double quotes);
//   - time: integer nanoseconds since the epoch, or an RFC 3339 timestamp;
//   - lmax<T>, lmin<T>: as T (the word "bottom" gives the empty lattice,
//     except when T is a string type);
//   - lcounter: a non-negative integer, recorded under the empty address;
//   - lset, lmap, lpair: their literal syntax, as ParseLiteral.
//
// Surrounding spaces are ignored except for string types. Errors read like
// `cannot parse "abc" as int`.
func ParseText(t *lang.Type, s string) (Value, error) {
	if t == nil {
		return nil, fmt.Errorf("cannot parse %q: no type", s)
	}
	trimmed := strings.TrimSpace(s)
	switch t.Kind {
	case lang.Int:
		x, err := strconv.ParseInt(trimmed, 10, 64)
		if err != nil {
			return nil, parseErr(s, t, err)
		}
		return x, nil
	case lang.Float:
		x, err := strconv.ParseFloat(trimmed, 64)
		if err != nil {
			return nil, parseErr(s, t, err)
		}
		return x, nil
	case lang.Bool, lang.LBool:
		switch {
		case strings.EqualFold(trimmed, "true"):
			return true, nil
		case strings.EqualFold(trimmed, "false"):
			return false, nil
		}
		return nil, parseErr(s, t, nil)
	case lang.String:
		return s, nil
	case lang.Addr:
		return Addr(s), nil
	case lang.Bytes:
		return Bytes(s), nil
	case lang.Time:
		if x, err := strconv.ParseInt(trimmed, 10, 64); err == nil {
			return Time(x), nil
		}
		tm, err := time.Parse(time.RFC3339Nano, trimmed)
		if err != nil {
			return nil, parseErr(s, t, nil)
		}
		return Time(tm.UnixNano()), nil
	case lang.LMax, lang.LMin:
		if trimmed == BottomText && t.Elem != nil && t.Elem.Kind != lang.String && t.Elem.Kind != lang.Addr && t.Elem.Kind != lang.Bytes {
			return nil, nil
		}
		v, err := ParseText(t.Elem, s)
		if err != nil {
			return nil, parseErr(s, t, nil)
		}
		return v, nil
	case lang.LCounter:
		x, err := strconv.ParseInt(trimmed, 10, 64)
		if err != nil || x < 0 {
			return nil, parseErr(s, t, nil)
		}
		return CounterOf("", x), nil
	case lang.LSet, lang.LMap, lang.LPair:
		return ParseLiteral(t, s)
	}
	return nil, fmt.Errorf("cannot parse %q as %s: unsupported type", s, t)
}

func parseErr(s string, t *lang.Type, err error) error {
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		return fmt.Errorf("cannot parse %q as %s: out of range", s, t)
	}
	return fmt.Errorf("cannot parse %q as %s", s, t)
}

// ParseLiteral parses the canonical literal syntax produced by Format (spec
// section 9) as a value of type t: quoted strings, numbers, true/false,
// "bottom" for an empty lmax/lmin, {e1, e2} sets, {k: v} maps and (a, b)
// pairs, nested arbitrarily. Format's output reads back to an Equal value,
// except for lcounter, whose text is only its sum (read back as a count at
// the empty address). A time may also be given as a quoted RFC 3339 string.
func ParseLiteral(t *lang.Type, s string) (Value, error) {
	p := &litParser{s: s}
	v, err := p.value(t)
	if err == nil {
		p.space()
		if p.i < len(p.s) {
			err = p.errorf("unexpected %q", p.s[p.i:])
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cannot parse %q as %s: %v", s, t, err)
	}
	return v, nil
}

type litParser struct {
	s string
	i int
}

func (p *litParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at offset %d: "+format, append([]any{p.i}, args...)...)
}

func (p *litParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *litParser) eat(c byte) bool {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *litParser) expect(c byte) error {
	if !p.eat(c) {
		if p.i >= len(p.s) {
			return p.errorf("expected %q, found end of text", c)
		}
		return p.errorf("expected %q, found %q", c, p.s[p.i])
	}
	return nil
}

// word scans a run of characters that can make up a number or keyword.
func (p *litParser) word() string {
	p.space()
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == ',' || c == '}' || c == ')' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '{' || c == '(' || c == '"' {
			break
		}
		p.i++
	}
	return p.s[start:p.i]
}

// quoted scans a Go double-quoted string.
func (p *litParser) quoted() (string, error) {
	p.space()
	if p.i >= len(p.s) || p.s[p.i] != '"' {
		return "", p.errorf("expected a quoted string")
	}
	j := p.i + 1
	for j < len(p.s) {
		switch p.s[j] {
		case '\\':
			j += 2
			continue
		case '"':
			u, err := strconv.Unquote(p.s[p.i : j+1])
			if err != nil {
				return "", p.errorf("bad string literal %s", p.s[p.i:j+1])
			}
			p.i = j + 1
			return u, nil
		}
		j++
	}
	return "", p.errorf("unterminated string")
}

func (p *litParser) value(t *lang.Type) (Value, error) {
	if t == nil {
		return nil, p.errorf("no type")
	}
	switch t.Kind {
	case lang.Int, lang.LCounter:
		w := p.word()
		x, err := strconv.ParseInt(w, 10, 64)
		if err != nil {
			return nil, p.errorf("bad integer %q", w)
		}
		if t.Kind == lang.LCounter {
			if x < 0 {
				return nil, p.errorf("negative lcounter %d", x)
			}
			return CounterOf("", x), nil
		}
		return x, nil
	case lang.Time:
		p.space()
		if p.i < len(p.s) && p.s[p.i] == '"' {
			q, err := p.quoted()
			if err != nil {
				return nil, err
			}
			tm, err := time.Parse(time.RFC3339Nano, q)
			if err != nil {
				return nil, p.errorf("bad time %q", q)
			}
			return Time(tm.UnixNano()), nil
		}
		w := p.word()
		x, err := strconv.ParseInt(w, 10, 64)
		if err != nil {
			return nil, p.errorf("bad time %q", w)
		}
		return Time(x), nil
	case lang.Float:
		w := p.word()
		x, err := strconv.ParseFloat(w, 64)
		if err != nil {
			return nil, p.errorf("bad float %q", w)
		}
		return x, nil
	case lang.Bool, lang.LBool:
		switch w := p.word(); w {
		case "true":
			return true, nil
		case "false":
			return false, nil
		default:
			return nil, p.errorf("bad bool %q", w)
		}
	case lang.String, lang.Addr, lang.Bytes:
		q, err := p.quoted()
		if err != nil {
			return nil, err
		}
		switch t.Kind {
		case lang.Addr:
			return Addr(q), nil
		case lang.Bytes:
			return Bytes(q), nil
		}
		return q, nil
	case lang.LMax, lang.LMin:
		p.space()
		if strings.HasPrefix(p.s[p.i:], BottomText) {
			save := p.i
			if p.word() == BottomText {
				return nil, nil
			}
			p.i = save
		}
		return p.value(t.Elem)
	case lang.LSet:
		if err := p.expect('{'); err != nil {
			return nil, err
		}
		var elems []Value
		if !p.eat('}') {
			for {
				e, err := p.value(t.Elem)
				if err != nil {
					return nil, err
				}
				elems = append(elems, e)
				if p.eat('}') {
					break
				}
				if err := p.expect(','); err != nil {
					return nil, err
				}
			}
		}
		return NewSet(t.Elem, elems...), nil
	case lang.LMap:
		if err := p.expect('{'); err != nil {
			return nil, err
		}
		var keys, vals []Value
		if !p.eat('}') {
			for {
				k, err := p.value(t.Key)
				if err != nil {
					return nil, err
				}
				if err := p.expect(':'); err != nil {
					return nil, err
				}
				v, err := p.value(t.Elem)
				if err != nil {
					return nil, err
				}
				keys, vals = append(keys, k), append(vals, v)
				if p.eat('}') {
					break
				}
				if err := p.expect(','); err != nil {
					return nil, err
				}
			}
		}
		return NewMap(t.Key, t.Elem, keys, vals), nil
	case lang.LPair:
		if err := p.expect('('); err != nil {
			return nil, err
		}
		a, err := p.value(t.Key)
		if err != nil {
			return nil, err
		}
		if err := p.expect(','); err != nil {
			return nil, err
		}
		b, err := p.value(t.Elem)
		if err != nil {
			return nil, err
		}
		if err := p.expect(')'); err != nil {
			return nil, err
		}
		return Pair{A: a, B: b}, nil
	}
	return nil, p.errorf("unsupported type %s", t)
}
