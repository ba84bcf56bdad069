package stdlib

import (
	"fmt"
	"math"
	"slices"

	"github.com/bloomlang/bloom/lang"
)

// Agg accumulates one aggregate over the matches of one group.
//
// The runtime calls Add once per distinct body match of the group (so equal
// values from different matches are all added: an Agg never deduplicates
// its inputs, except set, which builds a set, and argmin/argmax, which yield
// each winning x once). x is the aggregated argument; by is the second
// argument of argmin/argmax and is ignored (pass nil) for the others.
//
// Result returns the aggregate's output rows: exactly one value for count,
// sum, min, max, avg and set, one value per distinct tied winner for
// argmin/argmax (sorted by Compare). On an accumulator to which nothing was
// added it never panics: count and sum give 0, set gives {}, and min, max,
// avg, argmin and argmax give no value. Result may be called more than once
// and Add may continue afterwards.
type Agg interface {
	Add(x, by Value)
	Result() []Value
}

// aggNames lists the aggregate function names, sorted.
var aggNames = []string{"argmax", "argmin", "avg", "count", "max", "min", "set", "sum"}

// AggNames returns the aggregate function names, sorted.
func AggNames() []string { return slices.Clone(aggNames) }

// IsAggName reports whether name is an aggregate function.
func IsAggName(name string) bool { return slices.Contains(aggNames, name) }

// AggArity returns the number of arguments aggregate name takes (2 for
// argmin/argmax, 1 otherwise; 0 for an unknown name).
func AggArity(name string) int {
	switch name {
	case "argmin", "argmax":
		return 2
	}
	if IsAggName(name) {
		return 1
	}
	return 0
}

// AggMonotone reports whether aggregate name is monotone (only set, which
// yields a growing lset).
func AggMonotone(name string) bool { return name == "set" }

// AggResultType returns the type of the values produced by aggregate name
// over an argument of type argType (and, for argmin/argmax, a `by` of type
// byType):
//
//	count → int; sum → int or float (the numeric type of the argument);
//	avg → float; min, max, argmin, argmax → argType; set → lset<argType>.
//
// sum and avg accept int, float, and lmax/lmin of those and lcounter (their
// current value is used).
func AggResultType(name string, argType, byType *lang.Type) (*lang.Type, error) {
	if argType == nil {
		return nil, fmt.Errorf("%s: missing argument type", name)
	}
	switch name {
	case "count":
		return lang.TInt, nil
	case "sum", "avg":
		nt := numericType(argType)
		if nt == nil {
			return nil, fmt.Errorf("%s of %s: want a numeric argument", name, argType)
		}
		if name == "avg" {
			return lang.TFloat, nil
		}
		return nt, nil
	case "min", "max":
		return argType, nil
	case "argmin", "argmax":
		if byType == nil {
			return nil, fmt.Errorf("%s: missing second argument", name)
		}
		return argType, nil
	case "set":
		return &lang.Type{Kind: lang.LSet, Elem: argType}, nil
	}
	return nil, fmt.Errorf("unknown aggregate %s", name)
}

// numericType returns int or float for the types sum and avg accept.
func numericType(t *lang.Type) *lang.Type {
	switch t.Kind {
	case lang.Int, lang.LCounter:
		return lang.TInt
	case lang.Float:
		return lang.TFloat
	case lang.LMax, lang.LMin:
		if t.Elem != nil && (t.Elem.Kind == lang.Int || t.Elem.Kind == lang.Float) {
			return t.Elem
		}
	}
	return nil
}

// NewAgg returns an empty accumulator for aggregate name (count, sum, min,
// max, avg, argmin, argmax, set) over an argument of type argType; byType is
// the type of argmin/argmax's second argument (nil otherwise).
func NewAgg(name string, argType, byType *lang.Type) (Agg, error) {
	if _, err := AggResultType(name, argType, byType); err != nil {
		return nil, err
	}
	switch name {
	case "count":
		return &countAgg{}, nil
	case "sum":
		if numericType(argType).Kind == lang.Float {
			return &floatSumAgg{}, nil
		}
		return &intSumAgg{}, nil
	case "avg":
		return &avgAgg{float: numericType(argType).Kind == lang.Float}, nil
	case "min":
		return &extremeAgg{t: argType, sign: -1}, nil
	case "max":
		return &extremeAgg{t: argType, sign: 1}, nil
	case "argmin":
		return &argAgg{t: argType, by: byType, sign: -1}, nil
	case "argmax":
		return &argAgg{t: argType, by: byType, sign: 1}, nil
	case "set":
		return &setAgg{t: argType}, nil
	}
	return nil, fmt.Errorf("unknown aggregate %s", name)
}

type countAgg struct{ n int64 }

func (a *countAgg) Add(Value, Value) { a.n++ }
func (a *countAgg) Result() []Value  { return []Value{a.n} }

// intSumAgg sums integers (wrapping on overflow). Bottom lmax/lmin values
// (nil) are skipped.
type intSumAgg struct{ sum int64 }

func (a *intSumAgg) Add(x, _ Value) {
	if n, ok := toInt64(x); ok {
		a.sum += n
	} else if f, ok := x.(float64); ok {
		a.sum += int64(f)
	}
}
func (a *intSumAgg) Result() []Value { return []Value{a.sum} }

// floatSumAgg sums floats exactly (see exactSum), so the result does not
// depend on the order in which the runtime adds the matches.
type floatSumAgg struct{ s exactSum }

func (a *floatSumAgg) Add(x, _ Value) {
	if f, ok := toFloat64(x); ok {
		a.s.add(f)
	}
}
func (a *floatSumAgg) Result() []Value { return []Value{a.s.result()} }

// avgAgg is sum/count as a float. Integer sums are kept exact in int64 while
// they fit; the float sum is exact-then-rounded, so the result is independent
// of the order of the matches.
type avgAgg struct {
	float    bool
	n        int64
	isum     int64
	overflow bool
	s        exactSum
}

func (a *avgAgg) Add(x, _ Value) {
	if a.float {
		f, ok := toFloat64(x)
		if !ok {
			return
		}
		a.n++
		a.s.add(f)
		return
	}
	v, ok := toInt64(x)
	if !ok {
		return
	}
	a.n++
	a.s.add(float64(v))
	sum := a.isum + v
	if (v > 0 && sum < a.isum) || (v < 0 && sum > a.isum) {
		a.overflow = true
	}
	a.isum = sum
}

func (a *avgAgg) Result() []Value {
	if a.n == 0 {
		return nil
	}
	if a.float || a.overflow {
		return []Value{a.s.result() / float64(a.n)}
	}
	return []Value{float64(a.isum) / float64(a.n)}
}

// extremeAgg is min (sign -1) or max (sign +1) by Compare.
type extremeAgg struct {
	t    *lang.Type
	sign int
	best Value
	have bool
}

func (a *extremeAgg) Add(x, _ Value) {
	if !a.have || Compare(a.t, x, a.best)*a.sign > 0 {
		a.best, a.have = x, true
	}
}

func (a *extremeAgg) Result() []Value {
	if !a.have {
		return nil
	}
	return []Value{a.best}
}

// argAgg is argmin (sign -1) or argmax (sign +1): every distinct x whose by
// is the minimum (maximum).
type argAgg struct {
	t, by *lang.Type
	sign  int
	best  Value
	have  bool
	xs    []Value
	seen  map[string]struct{}
	buf   []byte
}

func (a *argAgg) Add(x, by Value) {
	c := 1
	if a.have {
		c = Compare(a.by, by, a.best) * a.sign
	}
	switch {
	case c > 0:
		a.best, a.have = by, true
		a.xs = append(a.xs[:0], x)
		clear(a.seen)
		a.buf = AppendKey(a.buf[:0], a.t, x)
		if a.seen == nil {
			a.seen = make(map[string]struct{})
		}
		a.seen[string(a.buf)] = struct{}{}
	case c == 0:
		a.buf = AppendKey(a.buf[:0], a.t, x)
		if _, dup := a.seen[string(a.buf)]; !dup {
			a.seen[string(a.buf)] = struct{}{}
			a.xs = append(a.xs, x)
		}
	}
}

func (a *argAgg) Result() []Value {
	if !a.have {
		return nil
	}
	out := slices.Clone(a.xs)
	slices.SortFunc(out, func(p, q Value) int { return Compare(a.t, p, q) })
	return out
}

// setAgg collects its inputs into an lset.
type setAgg struct {
	t     *lang.Type
	elems []Value
}

func (a *setAgg) Add(x, _ Value) { a.elems = append(a.elems, x) }

func (a *setAgg) Result() []Value {
	s := NewSet(a.t, a.elems...)
	a.elems = append(a.elems[:0], s.elems...) // compact the buffer
	return []Value{s}
}

// exactSum accumulates float64 values exactly as a list of non-overlapping
// partial sums (Shewchuk's algorithm, as Python's math.fsum) and rounds once
// at the end, so the result is the correctly rounded sum, independent of the
// order of the additions. NaN and infinities are summed separately.
type exactSum struct {
	partials []float64
	special  float64
	hasSpec  bool
}

func (s *exactSum) add(x float64) {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		s.special += x
		s.hasSpec = true
		return
	}
	i := 0
	for _, y := range s.partials {
		if math.Abs(x) < math.Abs(y) {
			x, y = y, x
		}
		hi := x + y
		lo := y - (hi - x)
		if lo != 0 {
			s.partials[i] = lo
			i++
		}
		x = hi
	}
	if math.IsInf(x, 0) { // intermediate overflow
		s.special += x
		s.hasSpec = true
		s.partials = s.partials[:i]
		return
	}
	s.partials = append(s.partials[:i], x)
}

func (s *exactSum) result() float64 {
	if s.hasSpec {
		return s.special
	}
	p := s.partials
	n := len(p)
	if n == 0 {
		return 0
	}
	n--
	hi := p[n]
	var lo float64
	for n > 0 {
		x := hi
		n--
		y := p[n]
		hi = x + y
		yr := hi - x
		lo = y - yr
		if lo != 0 {
			break
		}
	}
	// Make half-even rounding work across multiple partials.
	if n > 0 && ((lo < 0 && p[n-1] < 0) || (lo > 0 && p[n-1] > 0)) {
		y := lo * 2
		x := hi + y
		yr := x - hi
		if y == yr {
			hi = x
		}
	}
	return hi
}
