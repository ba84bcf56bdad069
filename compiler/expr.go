package compiler

import (
	"fmt"

	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/stdlib"
)

// Expr is a compiled expression: a closure over the rule's variable slots.
// Constant sub-expressions are folded at compile time.
type Expr struct {
	Src     lang.Expr
	Type    *lang.Type
	IsConst bool
	Const   stdlib.Value
	fn      func(env []stdlib.Value, ctx *stdlib.CallContext) (stdlib.Value, error)
	// Word computes the expression over word-packed variables (see
	// stdlib.IsWordType) when the expression and every variable it reads
	// have word types and its operators cannot fail: variables, literals,
	// + - * on ints (wrapping, as on boxed values), / and % by a non-zero
	// constant, comparisons, && || !.
	// It is nil otherwise; the runtime then evaluates the expression on
	// boxed values.
	Word func(env []uint64) uint64
	// VarSlot is the slot + 1 of the variable the expression is, or 0
	// when it is not a plain variable (the kernel copies such head
	// columns without a call).
	VarSlot int
}

// Eval computes the expression for one binding of the variables.
func (e *Expr) Eval(env []stdlib.Value, ctx *stdlib.CallContext) (stdlib.Value, error) {
	if e.IsConst {
		return e.Const, nil
	}
	return e.fn(env, ctx)
}

// String shows the source expression.
func (e *Expr) String() string {
	if e.Src == nil {
		return "?"
	}
	return lang.ExprString(e.Src)
}

func constExpr(src lang.Expr, t *lang.Type, v stdlib.Value) *Expr {
	e := &Expr{Src: src, Type: t, IsConst: true, Const: v}
	if stdlib.IsWordType(t) {
		if w, ok := stdlib.PackWord(t, v); ok {
			e.Word = func([]uint64) uint64 { return w }
		}
	}
	return e
}

// impure functions must not be folded: their value depends on the tick.
var impure = map[string]bool{"self": true, "now": true}

func compileExpr(e lang.Expr, types map[lang.Expr]*lang.Type, slots map[string]int) (*Expr, error) {
	t := types[e]
	switch x := e.(type) {
	case *lang.Ident:
		s, ok := slots[x.Name]
		if !ok || s < 0 {
			return nil, fmt.Errorf("%s: variable %s is not bound", x.At, x.Name)
		}
		r := &Expr{Src: e, Type: t, fn: func(env []stdlib.Value, _ *stdlib.CallContext) (stdlib.Value, error) {
			return env[s], nil
		}}
		if stdlib.IsWordType(t) {
			r.Word = func(env []uint64) uint64 { return env[s] }
		}
		r.VarSlot = s + 1
		return r, nil
	case *lang.IntLit:
		return literal(e, t, x.Val)
	case *lang.FloatLit:
		return literal(e, t, x.Val)
	case *lang.StringLit:
		return literal(e, t, x.Val)
	case *lang.BoolLit:
		return literal(e, t, x.Val)
	case *lang.Wildcard:
		return nil, fmt.Errorf("%s: _ is not a value", x.At)
	case *lang.Unary:
		a, err := compileExpr(x.X, types, slots)
		if err != nil {
			return nil, err
		}
		op, at := x.Op, a.Type
		r := &Expr{Src: e, Type: t, fn: func(env []stdlib.Value, ctx *stdlib.CallContext) (stdlib.Value, error) {
			v, err := a.Eval(env, ctx)
			if err != nil {
				return nil, err
			}
			return stdlib.UnaryOp(op, at, v)
		}}
		if aw := a.Word; aw != nil && at != nil && t != nil && at.Kind == t.Kind {
			switch {
			case op == "-" && t.Kind == lang.Int:
				r.Word = func(env []uint64) uint64 { return -aw(env) }
			case op == "!" && t.Kind == lang.Bool:
				r.Word = func(env []uint64) uint64 { return aw(env) ^ 1 }
			}
		}
		return fold(r, a.IsConst)
	case *lang.Binary:
		a, err := compileExpr(x.X, types, slots)
		if err != nil {
			return nil, err
		}
		b, err := compileExpr(x.Y, types, slots)
		if err != nil {
			return nil, err
		}
		return binary(e, t, x.Op, a, b)
	case *lang.Call:
		return compileCall(x, t, types, slots)
	case *lang.SetLit:
		if t == nil || (t.Kind != lang.LSet && t.Kind != lang.LMap) {
			return nil, fmt.Errorf("%s: set literal of unknown type", x.At)
		}
		if t.Kind == lang.LMap {
			return constExpr(e, t, stdlib.NewMap(t.Key, t.Elem, nil, nil)), nil
		}
		elems, allConst, err := compileList(x.Elems, types, slots)
		if err != nil {
			return nil, err
		}
		r := &Expr{Src: e, Type: t, fn: func(env []stdlib.Value, ctx *stdlib.CallContext) (stdlib.Value, error) {
			vals, err := evalList(elems, env, ctx)
			if err != nil {
				return nil, err
			}
			for i, v := range vals {
				if vals[i], err = stdlib.Coerce(t.Elem, v); err != nil {
					return nil, err
				}
			}
			return stdlib.NewSet(t.Elem, vals...), nil
		}}
		return fold(r, allConst)
	case *lang.MapLit:
		if t == nil || t.Kind != lang.LMap {
			return nil, fmt.Errorf("%s: map literal of unknown type", x.At)
		}
		keys, c1, err := compileList(x.Keys, types, slots)
		if err != nil {
			return nil, err
		}
		vals, c2, err := compileList(x.Vals, types, slots)
		if err != nil {
			return nil, err
		}
		r := &Expr{Src: e, Type: t, fn: func(env []stdlib.Value, ctx *stdlib.CallContext) (stdlib.Value, error) {
			ks, err := evalList(keys, env, ctx)
			if err != nil {
				return nil, err
			}
			vs, err := evalList(vals, env, ctx)
			if err != nil {
				return nil, err
			}
			for i := range ks {
				if ks[i], err = stdlib.Coerce(t.Key, ks[i]); err != nil {
					return nil, err
				}
				if vs[i], err = stdlib.Coerce(t.Elem, vs[i]); err != nil {
					return nil, err
				}
			}
			return stdlib.NewMap(t.Key, t.Elem, ks, vs), nil
		}}
		return fold(r, c1 && c2)
	case *lang.PairLit:
		if t == nil || t.Kind != lang.LPair {
			return nil, fmt.Errorf("%s: pair literal of unknown type", x.At)
		}
		a, err := compileExpr(x.A, types, slots)
		if err != nil {
			return nil, err
		}
		b, err := compileExpr(x.B, types, slots)
		if err != nil {
			return nil, err
		}
		a, b = coerceTo(a, t.Key), coerceTo(b, t.Elem)
		r := &Expr{Src: e, Type: t, fn: func(env []stdlib.Value, ctx *stdlib.CallContext) (stdlib.Value, error) {
			va, err := a.Eval(env, ctx)
			if err != nil {
				return nil, err
			}
			vb, err := b.Eval(env, ctx)
			if err != nil {
				return nil, err
			}
			return stdlib.Pair{A: va, B: vb}, nil
		}}
		return fold(r, a.IsConst && b.IsConst)
	}
	return nil, fmt.Errorf("%s: unsupported expression %T", e.Pos(), e)
}

func literal(e lang.Expr, t *lang.Type, raw stdlib.Value) (*Expr, error) {
	v, err := stdlib.Coerce(t, raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", e.Pos(), err)
	}
	return constExpr(e, t, v), nil
}

// fold evaluates an expression whose inputs are all constant.
func fold(e *Expr, allConst bool) (*Expr, error) {
	if !allConst {
		return e, nil
	}
	v, err := e.fn(nil, &stdlib.CallContext{})
	if err != nil {
		return nil, fmt.Errorf("%s: %v", e.Src.Pos(), err)
	}
	return constExpr(e.Src, e.Type, v), nil
}

func compileList(xs []lang.Expr, types map[lang.Expr]*lang.Type, slots map[string]int) ([]*Expr, bool, error) {
	out := make([]*Expr, len(xs))
	all := true
	for i, x := range xs {
		c, err := compileExpr(x, types, slots)
		if err != nil {
			return nil, false, err
		}
		out[i] = c
		all = all && c.IsConst
	}
	return out, all, nil
}

func evalList(xs []*Expr, env []stdlib.Value, ctx *stdlib.CallContext) ([]stdlib.Value, error) {
	out := make([]stdlib.Value, len(xs))
	for i, x := range xs {
		v, err := x.Eval(env, ctx)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func binary(src lang.Expr, t *lang.Type, op string, a, b *Expr) (*Expr, error) {
	// The operand type drives the operator; a lattice side wins so that a
	// comparison of a lattice with a scalar compares the lattice's value.
	ot := a.Type
	if ot == nil || (!ot.IsLattice() && b.Type != nil && b.Type.IsLattice()) {
		ot = b.Type
	}
	var fn func(env []stdlib.Value, ctx *stdlib.CallContext) (stdlib.Value, error)
	switch op {
	case "&&", "||":
		isAnd := op == "&&"
		fn = func(env []stdlib.Value, ctx *stdlib.CallContext) (stdlib.Value, error) {
			x, err := a.Eval(env, ctx)
			if err != nil {
				return nil, err
			}
			if xb, _ := x.(bool); xb != isAnd {
				return xb, nil // short circuit
			}
			y, err := b.Eval(env, ctx)
			if err != nil {
				return nil, err
			}
			yb, _ := y.(bool)
			return yb, nil
		}
	default:
		fn = func(env []stdlib.Value, ctx *stdlib.CallContext) (stdlib.Value, error) {
			x, err := a.Eval(env, ctx)
			if err != nil {
				return nil, err
			}
			y, err := b.Eval(env, ctx)
			if err != nil {
				return nil, err
			}
			return stdlib.BinaryOp(op, ot, x, y)
		}
	}
	return fold(&Expr{Src: src, Type: t, fn: fn, Word: binaryWord(op, t, a, b)}, a.IsConst && b.IsConst)
}

// binaryWord is the word form of a op b, or nil (see Expr.Word).
func binaryWord(op string, t *lang.Type, a, b *Expr) func([]uint64) uint64 {
	x, y := a.Word, b.Word
	if x == nil || y == nil || a.Type == nil || b.Type == nil || !stdlib.IsWordType(t) {
		return nil
	}
	// lmin<int> and lmax<int> words are ints (a word is never bottom):
	// they take part in int arithmetic and comparisons as their value.
	k, kb := a.Type.Kind, b.Type.Kind
	lattice := k != lang.Int && stdlib.IsIntWord(a.Type) || kb != lang.Int && stdlib.IsIntWord(b.Type)
	if stdlib.IsIntWord(a.Type) {
		k = lang.Int
	}
	if stdlib.IsIntWord(b.Type) {
		kb = lang.Int
	}
	if k != kb {
		return nil
	}
	b2w := func(c bool) uint64 {
		if c {
			return 1
		}
		return 0
	}
	switch op {
	case "+", "-", "*":
		if k != lang.Int || !stdlib.IsIntWord(t) || lattice && op == "*" {
			return nil
		}
		switch op {
		case "+":
			return func(env []uint64) uint64 { return x(env) + y(env) }
		case "-":
			return func(env []uint64) uint64 { return x(env) - y(env) }
		}
		return func(env []uint64) uint64 { return x(env) * y(env) }
	case "/", "%":
		// Only by a non-zero constant: a zero divisor is an error, which
		// words cannot report.
		if lattice || k != lang.Int || t.Kind != lang.Int || !b.IsConst {
			return nil
		}
		d, ok := b.Const.(int64)
		if !ok || d == 0 {
			return nil
		}
		if op == "/" {
			return func(env []uint64) uint64 { return uint64(int64(x(env)) / d) }
		}
		return func(env []uint64) uint64 { return uint64(int64(x(env)) % d) }
	case "==":
		return func(env []uint64) uint64 { return b2w(x(env) == y(env)) }
	case "!=":
		return func(env []uint64) uint64 { return b2w(x(env) != y(env)) }
	case "&&":
		if k != lang.Bool {
			return nil
		}
		return func(env []uint64) uint64 { return x(env) & y(env) }
	case "||":
		if k != lang.Bool {
			return nil
		}
		return func(env []uint64) uint64 { return x(env) | y(env) }
	case "<", "<=", ">", ">=":
		// Ints and times order as signed words; false < true as 0 < 1.
		cmp := func(env []uint64) int {
			p, q := x(env), y(env)
			if k == lang.Bool {
				return int(p) - int(q)
			}
			switch {
			case int64(p) < int64(q):
				return -1
			case int64(p) > int64(q):
				return 1
			}
			return 0
		}
		switch op {
		case "<":
			return func(env []uint64) uint64 { return b2w(cmp(env) < 0) }
		case "<=":
			return func(env []uint64) uint64 { return b2w(cmp(env) <= 0) }
		case ">":
			return func(env []uint64) uint64 { return b2w(cmp(env) > 0) }
		}
		return func(env []uint64) uint64 { return b2w(cmp(env) >= 0) }
	}
	return nil
}

func compileCall(c *lang.Call, t *lang.Type, types map[lang.Expr]*lang.Type, slots map[string]int) (*Expr, error) {
	b, ok := stdlib.LookupBuiltin(c.Name)
	if !ok {
		return nil, fmt.Errorf("%s: unknown function %s", c.At, c.Name)
	}
	if err := b.CheckArity(len(c.Args)); err != nil {
		return nil, fmt.Errorf("%s: %v", c.At, err)
	}
	args, allConst, err := compileList(c.Args, types, slots)
	if err != nil {
		return nil, err
	}
	argTypes := make([]*lang.Type, len(args))
	for i, a := range args {
		argTypes[i] = a.Type
	}
	call := b.Call
	r := &Expr{Src: c, Type: t, fn: func(env []stdlib.Value, ctx *stdlib.CallContext) (stdlib.Value, error) {
		var buf [4]stdlib.Value
		vals := buf[:0]
		for _, a := range args {
			v, err := a.Eval(env, ctx)
			if err != nil {
				return nil, err
			}
			vals = append(vals, v)
		}
		return call(ctx, argTypes, vals)
	}}
	return fold(r, allConst && !impure[c.Name])
}

// coerceTo converts an expression's value to the representation of a
// column type when the two types differ: integer literals into floats,
// strings into addr or bytes, an int into this node's share of an lcounter.
func coerceTo(e *Expr, t *lang.Type) *Expr {
	if t == nil || e.Type.Equal(t) {
		return e
	}
	if t.Kind == lang.LCounter && e.Type != nil && e.Type.Kind == lang.Int {
		inner := e
		return &Expr{Src: e.Src, Type: t, fn: func(env []stdlib.Value, ctx *stdlib.CallContext) (stdlib.Value, error) {
			v, err := inner.Eval(env, ctx)
			if err != nil {
				return nil, err
			}
			n, _ := v.(int64)
			if n < 0 {
				return nil, fmt.Errorf("cannot add negative %d to an lcounter", n)
			}
			return stdlib.CounterOf(ctx.Self, n), nil
		}}
	}
	if e.IsConst {
		if v, err := stdlib.Coerce(t, e.Const); err == nil {
			return constExpr(e.Src, t, v)
		}
	}
	inner := e
	r := &Expr{Src: e.Src, Type: t, fn: func(env []stdlib.Value, ctx *stdlib.CallContext) (stdlib.Value, error) {
		v, err := inner.Eval(env, ctx)
		if err != nil {
			return nil, err
		}
		return stdlib.Coerce(t, v)
	}}
	if stdlib.IsIntWord(e.Type) && stdlib.IsIntWord(t) {
		// int, lmin<int> and lmax<int> share their words.
		r.Word, r.VarSlot = e.Word, e.VarSlot
	}
	return r
}

// equalsSlot is the condition env[slot] == e.
func equalsSlot(slot int, e *Expr, t *lang.Type) *Expr {
	r := &Expr{Src: e.Src, Type: lang.TBool, fn: func(env []stdlib.Value, ctx *stdlib.CallContext) (stdlib.Value, error) {
		v, err := e.Eval(env, ctx)
		if err != nil {
			return nil, err
		}
		return stdlib.Equal(t, env[slot], v), nil
	}}
	if w := e.Word; w != nil && stdlib.IsWordType(t) && e.Type != nil && e.Type.Kind == t.Kind {
		r.Word = func(env []uint64) uint64 {
			if env[slot] == w(env) {
				return 1
			}
			return 0
		}
	}
	return r
}
