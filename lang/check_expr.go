package lang

import "fmt"

// Expression typing.
//
// Typing is bidirectional in one respect: an expression is checked with a
// hint, the type its context expects (a column's type, the other operand of
// a binary operator, a function's parameter), and literals take their type
// from it through literalType: `x * 2` with x float types 2 as float, a
// string literal stored into an addr column is an addr, `{}` compared with an
// lset<int> is an lset<int>. Operators then require the same types on both
// sides, with these additions:
//
//   - `+` concatenates strings (and bytes);
//   - time + int, int + time, time - int give time; time - time gives int;
//   - l + c, c + l and l - c on lmax<T>/lmin<T> with c of type T give the
//     lattice type (order-preserving, hence monotone);
//   - a comparison between a lattice with a scalar value (lmax<T>, lmin<T>,
//     lbool, lcounter) and a scalar of that value's type compares the
//     current value; the threshold tests l >= c and l > c on lmax and
//     lcounter, and l <= c and l < c on lmin, are monotone and give lbool,
//     other comparisons give bool;
//   - && and || take bool or lbool and give lbool when both sides are
//     lbool, else bool; ! takes bool or lbool and gives bool.

// ectx is where an expression occurs.
type ectx struct {
	at    int    // body index: variables assigned at an index < at are visible
	where string // "the head", "a condition", ... for messages
	head  bool
	agg   string // the enclosing aggregate, if any
}

// expr types e, records the type in the rule's Types and returns it (never
// nil; TInvalid after an error).
func (rc *ruleCheck) expr(e Expr, hint *Type, x *ectx) *Type {
	t := rc.expr1(e, hint, x)
	if t == nil {
		t = TInvalid
	}
	rc.types[e] = t
	return t
}

func (rc *ruleCheck) expr1(e Expr, hint *Type, x *ectx) *Type {
	switch e := e.(type) {
	case *Ident:
		return rc.useVar(e, x)
	case *Wildcard:
		if x.head {
			if x.agg == "count" {
				rc.errorf(e.At, "count(_) is not allowed: count a variable bound in the body, e.g. count(x) (count counts each group's body matches)")
			} else {
				rc.errorf(e.At, "_ in the head: every head argument needs a value")
			}
		} else {
			rc.errorf(e.At, "_ cannot be used in %s; use a named variable", x.where)
		}
		return TInvalid
	case *IntLit:
		return literalType(IntLiteral, hint)
	case *StringLit:
		return literalType(StringLiteral, hint)
	case *FloatLit:
		return TFloat
	case *BoolLit:
		return TBool
	case *Unary:
		return rc.unary(e, hint, x)
	case *Binary:
		return rc.binary(e, hint, x)
	case *Call:
		return rc.call(e, hint, x)
	case *SetLit:
		return rc.setLit(e, hint, x)
	case *MapLit:
		return rc.mapLit(e, hint, x)
	case *PairLit:
		return rc.pairLit(e, hint, x)
	}
	return TInvalid
}

// useVar returns a variable's type, reporting it (once per rule) when it is
// not bound at this point.
func (rc *ruleCheck) useVar(id *Ident, x *ectx) *Type {
	if rc.unsafe[id.Name] {
		return TInvalid
	}
	if v := rc.vars[id.Name]; v != nil && v.assign < x.at {
		return v.typ
	}
	rc.unsafe[id.Name] = true
	ai, assigned := rc.assignAt[id.Name]
	switch {
	case assigned && ai == x.at:
		rc.errorf(id.At, "unsafe variable %s: it is used in its own assignment", id.Name)
	case assigned && ai > x.at:
		rc.errorf(id.At, "unsafe variable %s: it is assigned at %s, after this use; move the assignment earlier", id.Name, lineCol(rc.rule.Body[ai].Pos()))
	default:
		rc.errorf(id.At, "unsafe variable %s: it is not bound by a positive atom or an earlier assignment", id.Name)
	}
	return TInvalid
}

func (rc *ruleCheck) unary(e *Unary, hint *Type, x *ectx) *Type {
	switch e.Op {
	case "-":
		t := rc.expr(e.X, hint, x)
		if t.Kind == Invalid || t.IsNumeric() {
			return t
		}
		rc.errorf(e.At, "unary - needs an int or float, got %s", t)
	default: // "!"
		t := rc.expr(e.X, TBool, x)
		if t.Kind == Invalid || t.Kind == Bool || t.Kind == LBool {
			return TBool
		}
		rc.errorf(e.At, "! needs a bool, got %s", t)
	}
	return TInvalid
}

func isArith(op string) bool {
	switch op {
	case "+", "-", "*", "/", "%":
		return true
	}
	return false
}

// operandHint is the hint for one operand of op given the other's type t.
func operandHint(op string, t *Type) *Type {
	if t == nil || t.Kind == Invalid {
		return nil
	}
	if isArith(op) {
		switch t.Kind {
		case Time:
			return TInt
		case LMax, LMin:
			return t.Elem
		}
		return t
	}
	if t.IsLattice() {
		if vt := t.ValueType(); vt != nil {
			return vt
		}
	}
	return t
}

func (rc *ruleCheck) binary(e *Binary, hint *Type, x *ectx) *Type {
	if e.Op == "&&" || e.Op == "||" {
		xt := rc.expr(e.X, TBool, x)
		yt := rc.expr(e.Y, TBool, x)
		for i, t := range []*Type{xt, yt} {
			if t.Kind != Invalid && t.Kind != Bool && t.Kind != LBool {
				side := e.X
				if i == 1 {
					side = e.Y
				}
				rc.errorf(side.Pos(), "%s needs bool operands, got %s", e.Op, t)
			}
		}
		if xt.Kind == LBool && yt.Kind == LBool {
			return TLBool
		}
		return TBool
	}
	outer := hint
	if !isArith(e.Op) {
		outer = nil
	}
	var xt, yt *Type
	if literalKind(e.X) != NotLiteral && literalKind(e.Y) == NotLiteral {
		yt = rc.expr(e.Y, outer, x)
		xt = rc.expr(e.X, operandHint(e.Op, yt), x)
	} else {
		xt = rc.expr(e.X, outer, x)
		h := operandHint(e.Op, xt)
		if h == nil && literalKind(e.X) != NotLiteral {
			h = outer
		}
		yt = rc.expr(e.Y, h, x)
	}
	if isArith(e.Op) {
		return rc.arith(e, xt, yt)
	}
	return rc.compare(e, xt, yt)
}

func (rc *ruleCheck) arith(e *Binary, xt, yt *Type) *Type {
	if xt.Kind == Invalid || yt.Kind == Invalid {
		return TInvalid
	}
	op := e.Op
	addSub := op == "+" || op == "-"
	switch {
	case xt.Equal(yt) && xt.IsNumeric():
		if op == "%" && xt.Kind == Float {
			rc.errorf(e.OpPos, "%% needs int operands, got float")
			return TInvalid
		}
		return xt
	case op == "+" && xt.Equal(yt) && (xt.Kind == String || xt.Kind == Bytes):
		return xt
	case xt.Kind == Time && yt.Kind == Int && addSub:
		return TTime
	case xt.Kind == Int && yt.Kind == Time && op == "+":
		return TTime
	case xt.Kind == Time && yt.Kind == Time && op == "-":
		return TInt
	case (xt.Kind == LMax || xt.Kind == LMin) && addSub && yt.Equal(xt.Elem):
		return xt
	case (yt.Kind == LMax || yt.Kind == LMin) && op == "+" && xt.Equal(yt.Elem):
		return yt
	}
	switch {
	case xt.IsLattice() || yt.IsLattice():
		rc.errorf(e.OpPos, "operator %s does not apply to %s and %s: a lattice only has l + c and l - c, on lmax<T> and lmin<T> with c of type T (value(l) reads the current value)", op, xt, yt)
	case xt.IsNumeric() && yt.IsNumeric():
		rc.errorf(e.OpPos, "mismatched types %s and %s for %s: convert one side with float(...) or int(...)", xt, yt, op)
	default:
		rc.errorf(e.OpPos, "operator %s does not apply to %s and %s", op, xt, yt)
	}
	return TInvalid
}

func isOrdering(op string) bool { return op == "<" || op == "<=" || op == ">" || op == ">=" }

func flipOp(op string) string {
	switch op {
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">":
		return "<"
	case ">=":
		return "<="
	}
	return op
}

func (rc *ruleCheck) compare(e *Binary, xt, yt *Type) *Type {
	if xt.Kind == Invalid || yt.Kind == Invalid {
		return TBool
	}
	op := e.Op
	lx, ly := xt.IsLattice(), yt.IsLattice()
	switch {
	case lx == ly:
		if !xt.Equal(yt) {
			tip := ""
			if xt.IsNumeric() && yt.IsNumeric() {
				tip = ": convert one side with float(...) or int(...)"
			}
			rc.errorf(e.OpPos, "cannot compare %s with %s%s", xt, yt, tip)
			return TBool
		}
		if isOrdering(op) {
			vt := xt
			if lx {
				vt = xt.ValueType()
			}
			if vt == nil || !vt.IsOrdered() {
				rc.errorf(e.OpPos, "%s needs ordered operands (int, float, string, time or addr), got %s", op, xt)
			}
		}
		return TBool
	}
	l, s := xt, yt
	if ly {
		l, s, op = yt, xt, flipOp(op)
	}
	vt := l.ValueType()
	if vt == nil {
		rc.errorf(e.OpPos, "cannot compare %s with %s: only lmax, lmin, lbool and lcounter have a scalar value", xt, yt)
		return TBool
	}
	if !vt.Equal(s) {
		rc.errorf(e.OpPos, "cannot compare %s with %s (the lattice's value is %s)", xt, yt, vt)
		return TBool
	}
	if isOrdering(op) && !vt.IsOrdered() {
		rc.errorf(e.OpPos, "%s needs ordered operands (int, float, string, time or addr), got %s", e.Op, l)
		return TBool
	}
	switch {
	case (l.Kind == LMax || l.Kind == LCounter) && (op == ">=" || op == ">"):
		return TLBool
	case l.Kind == LMin && (op == "<=" || op == "<"):
		return TLBool
	}
	return TBool
}

// args types a call's arguments without expectations, after an error in
// the call itself, so that unsafe variables in them are still reported.
func (rc *ruleCheck) args(e *Call, x *ectx) {
	for _, a := range e.Args {
		rc.expr(a, nil, x)
	}
}

func (rc *ruleCheck) call(e *Call, hint *Type, x *ectx) *Type {
	if IsAggregate(e) {
		switch {
		case x.agg != "":
			rc.errorf(e.At, "aggregate %s cannot be nested inside %s", e.Name, x.agg)
		case x.head:
			rc.errorf(e.At, "aggregate %s must be a whole argument of the head, e.g. p(k, %s(x))", e.Name, e.Name)
		default:
			rc.errorf(e.At, "aggregate %s is only allowed as an argument of a rule head, not in %s", e.Name, x.where)
		}
		inner := *x
		inner.agg = e.Name
		rc.args(e, &inner)
		return TInvalid
	}
	b := builtinFuncs[e.Name]
	if b == nil {
		if rc.inst.colls[e.Name] != nil {
			rc.errorf(e.At, "%s is a collection, not a function: atoms cannot be nested in expressions", e.Name)
		} else {
			rc.errorf(e.At, "unknown function %s%s", e.Name, suggest(e.Name, builtinList()))
		}
		rc.args(e, x)
		return TInvalid
	}
	if n := len(e.Args); n < b.MinArgs || b.MaxArgs >= 0 && n > b.MaxArgs {
		rc.errorf(e.At, "%s takes %s, got %d: %s", e.Name, b.arityText(), n, b.usage())
		rc.args(e, x)
		return TInvalid
	}
	return b.check(&callCheck{rc: rc, call: e, b: b, x: x, hint: hint})
}

// aggregate types an aggregate call that is a whole head argument.
func (rc *ruleCheck) aggregate(e *Call, hint *Type, x *ectx) *Type {
	b := builtinAggs[e.Name]
	inner := *x
	inner.agg = e.Name
	var t *Type
	if n := len(e.Args); n < b.MinArgs || n > b.MaxArgs {
		note := ""
		if e.Name == "min" || e.Name == "max" {
			note = fmt.Sprintf("; %s(a, b) with two arguments is the scalar function", e.Name)
		}
		rc.errorf(e.At, "aggregate %s takes %s, got %d: %s%s", e.Name, b.arityText(), n, b.usage(), note)
		rc.args(e, &inner)
		t = TInvalid
	} else {
		t = b.check(&callCheck{rc: rc, call: e, b: b, x: &inner, hint: hint})
	}
	rc.types[e] = t
	return t
}

// elems types the elements of a set literal or the keys of a map literal:
// scalars of one type. Typed elements go first so that literals follow
// them. It returns the element type, or nil.
func (rc *ruleCheck) elems(es []Expr, hint *Type, what string, x *ectx) *Type {
	order := make([]Expr, 0, len(es))
	for _, e := range es {
		if literalKind(e) == NotLiteral {
			order = append(order, e)
		}
	}
	for _, e := range es {
		if literalKind(e) != NotLiteral {
			order = append(order, e)
		}
	}
	et := hint
	var first *Type
	bad := false
	for _, e := range order {
		t := rc.expr(e, et, x)
		switch {
		case t.Kind == Invalid:
			bad = true
		case !t.IsScalar():
			rc.errorf(e.Pos(), "%ss must be scalars, got %s", what, t)
			bad = true
		case hint != nil && hint.Kind != Invalid && !t.Equal(hint):
			rc.errorf(e.Pos(), "%s must be %s here, got %s", what, hint, t)
			bad = true
		case first == nil:
			first = t
			if et == nil {
				et = t
			}
		case !t.Equal(first):
			rc.errorf(e.Pos(), "%ss must all have the same type: %s and %s", what, first, t)
			bad = true
		}
	}
	if bad {
		return nil
	}
	return first
}

func (rc *ruleCheck) setLit(e *SetLit, hint *Type, x *ectx) *Type {
	if len(e.Elems) == 0 {
		if t := literalType(EmptyBraces, hint); t != nil {
			return t
		}
		if hint != nil && hint.Kind != Invalid {
			rc.errorf(e.At, "{} is an empty set or map, but %s is expected here", hint)
		} else if hint == nil {
			rc.errorf(e.At, "cannot tell the type of {} here: use it where an lset or lmap is expected")
		}
		return TInvalid
	}
	var eh *Type
	if hint != nil && hint.Kind == LSet {
		eh = hint.Elem
	}
	et := rc.elems(e.Elems, eh, "set element", x)
	if et == nil {
		return TInvalid
	}
	return lsetOf(et)
}

func (rc *ruleCheck) mapLit(e *MapLit, hint *Type, x *ectx) *Type {
	var kh, vh *Type
	if hint != nil && hint.Kind == LMap {
		kh, vh = hint.Key, hint.Elem
	}
	kt := rc.elems(e.Keys, kh, "map key", x)
	var vt *Type
	bad := kt == nil
	for _, v := range e.Vals {
		t := rc.expr(v, vh, x)
		switch {
		case t.Kind == Invalid:
			bad = true
		case vh != nil:
			if !Assignable(t, literalKind(v), vh) {
				rc.errorf(v.Pos(), "map value must fit %s, got %s", vh, t)
				bad = true
			}
		case !t.IsLattice():
			rc.errorf(v.Pos(), "cannot tell the type of this map: its values must be lattices, got %s; use the map where an lmap type is expected", t)
			bad = true
		case vt == nil:
			vt = t
		case !t.Equal(vt):
			rc.errorf(v.Pos(), "map values must all have the same type: %s and %s", vt, t)
			bad = true
		}
	}
	if bad {
		return TInvalid
	}
	if vh != nil {
		vt = vh
	}
	return &Type{Kind: LMap, Key: kt, Elem: vt}
}

func (rc *ruleCheck) pairLit(e *PairLit, hint *Type, x *ectx) *Type {
	if hint != nil && hint.Kind == LPair {
		at := rc.expr(e.A, hint.Key, x)
		bt := rc.expr(e.B, hint.Elem, x)
		ok := true
		if !Assignable(at, literalKind(e.A), hint.Key) {
			rc.errorf(e.A.Pos(), "the first part of %s must fit %s, got %s", hint, hint.Key, at)
			ok = false
		}
		if !Assignable(bt, literalKind(e.B), hint.Elem) {
			rc.errorf(e.B.Pos(), "the second part of %s must fit %s, got %s", hint, hint.Elem, bt)
			ok = false
		}
		if !ok {
			return TInvalid
		}
		return hint
	}
	at := rc.expr(e.A, nil, x)
	bt := rc.expr(e.B, nil, x)
	if at.Kind == Invalid || bt.Kind == Invalid {
		return TInvalid
	}
	if !at.IsLattice() || !bt.IsLattice() {
		rc.errorf(e.At, "cannot tell the type of the pair %s here: use it where an lpair is expected", ExprString(e))
		return TInvalid
	}
	return &Type{Kind: LPair, Key: at, Elem: bt}
}
