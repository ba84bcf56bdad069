package lang

import (
	"sort"
	"strings"
)

// ruleCheck checks one rule or fact of one file instance.
type ruleCheck struct {
	c    *checker
	inst *instance
	rule *Rule
	info *RuleInfo

	vars     map[string]*varInfo
	assignAt map[string]int  // body index of each variable's first assignment
	unsafe   map[string]bool // variables already reported as unsafe
	types    map[Expr]*Type
}

// varInfo is a bound variable.
type varInfo struct {
	typ    *Type
	pos    Pos    // where it was first bound
	where  string // what bound it, e.g. "column qty of cart"
	assign int    // body index of the assignment that binds it; -1 for atoms
}

// rule checks r and returns its RuleInfo (incomplete when there are errors:
// the Program is then not returned anyway).
func (c *checker) rule(inst *instance, r *Rule) *RuleInfo {
	rc := &ruleCheck{
		c: c, inst: inst, rule: r,
		vars: map[string]*varInfo{}, assignAt: map[string]int{},
		unsafe: map[string]bool{}, types: map[Expr]*Type{},
	}
	info := &RuleInfo{Rule: r, File: inst.file, Module: inst.prefix, Types: rc.types, Vars: map[string]*Type{}}
	rc.info = info
	rc.annotations()
	if r.IsFact() {
		rc.fact()
	} else {
		rc.body()
		rc.head()
	}
	for name, v := range rc.vars {
		info.Vars[name] = v.typ
	}
	for name := range rc.unsafe {
		if _, ok := info.Vars[name]; !ok {
			info.Vars[name] = TInvalid
		}
	}
	return info
}

func (rc *ruleCheck) errorf(pos Pos, format string, args ...any) {
	rc.c.errorf(pos, format, args...)
}

func (rc *ruleCheck) annotations() {
	r, info := rc.rule, rc.info
	for _, an := range r.Annotations {
		if an.Name != "coordinated" {
			rc.errorf(an.At, "unknown annotation @%s; the only annotation is @coordinated(\"reason\")%s", an.Name, suggest(an.Name, []string{"coordinated"}))
			continue
		}
		if info.HasCoordinated {
			rc.errorf(an.At, "@coordinated is given twice")
			continue
		}
		info.HasCoordinated = true
		var s *StringLit
		if len(an.Args) == 1 {
			s, _ = an.Args[0].(*StringLit)
		}
		if s == nil {
			rc.errorf(an.At, "@coordinated takes one string argument, the reason: @coordinated(\"two-phase commit\")")
			continue
		}
		info.Coordinated = s.Val
		rc.types[s] = TString
		if r.IsFact() {
			rc.errorf(an.At, "@coordinated applies to rules, not facts")
		}
	}
}

// ---------------------------------------------------------------------------
// Collections and arguments

// lookup resolves an atom's collection. It returns nil after reporting an
// error, or silently when the atom names a module that failed to load.
func (rc *ruleCheck) lookup(a *Atom, head bool) *Collection {
	if a.Module != "" {
		ref, ok := rc.inst.imports[a.Module]
		if !ok {
			aliases := make([]string, 0, len(rc.inst.imports))
			for al := range rc.inst.imports {
				aliases = append(aliases, al)
			}
			rc.errorf(modulePos(a), "unknown module %s in %s: no import is named %s%s", a.Module, a.QualName(), a.Module, suggest(a.Module, aliases))
			return nil
		}
		if ref.inst == nil {
			return nil // the import failed; that error is enough
		}
		coll := ref.inst.colls[a.Name]
		if coll == nil {
			names := make([]string, 0, len(ref.inst.colls))
			for n := range ref.inst.colls {
				names = append(names, n)
			}
			rc.errorf(a.NamePos, "unknown collection %s: module %s (%s) declares no %s%s", a.QualName(), a.Module, ref.imp.Path, a.Name, qualSuggest(a.Module, suggest(a.Name, names)))
		}
		return coll
	}
	coll := rc.inst.colls[a.Name]
	if coll != nil {
		return coll
	}
	names := make([]string, 0, len(rc.inst.colls))
	for n := range rc.inst.colls {
		names = append(names, n)
	}
	hint := suggest(a.Name, names)
	if hint == "" {
		var quals []string
		for al, ref := range rc.inst.imports {
			if ref.inst != nil && ref.inst.colls[a.Name] != nil {
				quals = append(quals, al+"."+a.Name)
			}
		}
		if len(quals) > 0 {
			sort.Strings(quals)
			hint = "; did you mean `" + quals[0] + "`?"
		}
	}
	if hint == "" && !head {
		if hint = suggest(a.Name, FuncNames()); hint != "" {
			rc.errorf(a.NamePos, "unknown collection or function %s%s", a.Name, hint)
			return nil
		}
	}
	if hint == "" && head {
		hint = " (every collection must be declared, e.g. `table " + a.Name + "(...);`)"
	}
	rc.errorf(a.NamePos, "unknown collection %s%s", a.Name, hint)
	return nil
}

func qualSuggest(mod, s string) string {
	return strings.Replace(s, "`", "`"+mod+".", 1)
}

// modulePos is the position of the module qualifier of an atom `m.rel`.
func modulePos(a *Atom) Pos {
	p := a.NamePos
	n := len(a.Module) + 1
	if p.Col > n {
		p.Col -= n
		p.Offset -= n
	}
	return p
}

// colDesc names column i of coll for messages; name is the collection as
// written in the atom.
func colDesc(coll *Collection, name string, i int) string {
	switch coll.Kind {
	case Lattice:
		return "lattice " + name
	case Periodic:
		return "column n of periodic " + name
	}
	return "column " + coll.Cols[i].Name + " of " + name
}

// placeArgs puts an atom's arguments in column order. Missing columns are
// nil. ok is false when an error made the placement meaningless.
func (rc *ruleCheck) placeArgs(a *Atom, coll *Collection, head bool) (slots []*Arg, ok bool) {
	name := a.QualName()
	n := coll.Arity()
	slots = make([]*Arg, n)
	ok = true
	named := false
	positional := 0
	var extra *Arg
	for _, arg := range a.Args {
		if arg.Name == "" {
			if named {
				rc.errorf(arg.At, "positional argument after a named one in %s: put positional arguments first", name)
				ok = false
				continue
			}
			if positional < n {
				slots[positional] = arg
			} else if extra == nil {
				extra = arg
			}
			positional++
			continue
		}
		named = true
		i := coll.ColIndex(arg.Name)
		if i < 0 {
			rc.errorf(arg.NamePos, "%s has no column %s; its columns are %s%s", name, arg.Name, colNames(coll), suggest(arg.Name, colNameList(coll)))
			ok = false
			continue
		}
		if slots[i] != nil {
			rc.errorf(arg.NamePos, "column %s of %s is given twice", arg.Name, name)
			ok = false
			continue
		}
		slots[i] = arg
	}
	note := ""
	switch coll.Kind {
	case Lattice:
		note = " (a lattice holds one value)"
	case Periodic:
		note = " (n: int, the firing count)"
	}
	switch {
	case extra != nil:
		rc.errorf(extra.At, "%s has %d %s%s, got %d", name, n, plural(n, "column"), note, len(a.Args))
		return slots, false
	case !named && positional < n:
		rc.errorf(a.NamePos, "%s has %d %s%s, got %d", name, n, plural(n, "column"), note, positional)
		return slots, false
	case head && named && ok:
		var missing []string
		for i, s := range slots {
			if s == nil {
				missing = append(missing, coll.Cols[i].Name)
			}
		}
		if len(missing) > 0 {
			rc.errorf(a.NamePos, "%s leaves out %s %s: a head or fact must give every column", name, plural(len(missing), "column"), strings.Join(missing, ", "))
			return slots, false
		}
	}
	return slots, ok
}

// checkLoc reports `@` arguments on anything but a channel's first column.
func (rc *ruleCheck) checkLoc(a *Atom, coll *Collection, slots []*Arg) {
	for i, arg := range slots {
		if arg == nil || !arg.Loc {
			continue
		}
		switch {
		case coll.Kind != Channel:
			rc.errorf(arg.At, "@ marks the destination address of a channel, but %s is %s", a.QualName(), kindArticle(coll.Kind))
		case i != 0:
			rc.errorf(arg.At, "@ goes on the location column %s of channel %s only, not on %s", coll.Cols[0].Name, a.QualName(), coll.Cols[i].Name)
		}
	}
}

// ---------------------------------------------------------------------------
// Body

func (rc *ruleCheck) body() {
	r := rc.rule
	for i, l := range r.Body {
		if as, ok := l.(*Assign); ok {
			if _, seen := rc.assignAt[as.Var.Name]; !seen {
				rc.assignAt[as.Var.Name] = i
			}
		}
	}
	// Pass 1: resolve the atoms and bind the variables of positive ones.
	type atomSlots struct {
		coll  *Collection
		slots []*Arg
	}
	body := make([]BodyInfo, len(r.Body))
	atoms := make([]*atomSlots, len(r.Body))
	for i, l := range r.Body {
		a, ok := l.(*Atom)
		if !ok {
			continue
		}
		if cond := rc.builtinAtom(a); cond != nil {
			body[i].Cond = cond
			continue
		}
		coll := rc.lookup(a, false)
		if coll == nil {
			if !a.Negated {
				rc.bindLoose(a)
			}
			continue
		}
		slots, ok := rc.placeArgs(a, coll, false)
		if !ok {
			if !a.Negated {
				rc.bindLoose(a)
			}
			continue
		}
		if a.Negated && coll.Kind == Lattice {
			rc.errorf(a.At, "a lattice cannot be negated: %s always holds one value; bind it and compare instead, e.g. %s(v), v != x", a.QualName(), a.QualName())
			continue
		}
		atoms[i] = &atomSlots{coll, slots}
		if a.Negated {
			continue
		}
		for ci, arg := range slots {
			if arg == nil {
				continue
			}
			if id, ok := arg.X.(*Ident); ok {
				rc.bind(id, coll.Cols[ci].Type, colDesc(coll, a.QualName(), ci))
			}
		}
	}
	// Pass 2, in order: conditions, assignments and the non-binding parts
	// of atoms.
	for i, l := range r.Body {
		switch l := l.(type) {
		case *Atom:
			if body[i].Cond != nil {
				rc.condition(body[i].Cond, i)
			} else if as := atoms[i]; as != nil {
				body[i].Atom = rc.bodyAtom(l, as.coll, as.slots, i)
			}
		case *Cond:
			body[i].Cond = l
			rc.condition(l, i)
		case *Assign:
			body[i].Assign = l
			rc.assign(l, i)
		}
	}
	rc.info.Body = body
}

// builtinAtom turns a body atom that names a built-in function (and no
// collection) into the condition it means: `contains(s, "x")` or
// `not has(seen, x)`.
func (rc *ruleCheck) builtinAtom(a *Atom) *Cond {
	if a.Module != "" || rc.inst.colls[a.Name] != nil {
		return nil
	}
	if builtinFuncs[a.Name] == nil && builtinAggs[a.Name] == nil {
		return nil
	}
	call := &Call{At: a.NamePos, Name: a.Name}
	for _, arg := range a.Args {
		if arg.Loc || arg.Name != "" {
			rc.errorf(arg.At, "`@` and named arguments belong to atoms, not to the function call %s(...)", a.Name)
		}
		call.Args = append(call.Args, arg.X)
	}
	if a.Negated {
		return &Cond{X: &Unary{At: a.At, Op: "!", X: call}}
	}
	return &Cond{X: call}
}

// bindLoose binds the variables of a positive atom that could not be
// resolved to the invalid type, so that they cause no further errors.
func (rc *ruleCheck) bindLoose(a *Atom) {
	for _, arg := range a.Args {
		if id, ok := arg.X.(*Ident); ok {
			rc.bind(id, TInvalid, "")
		}
	}
}

// bind records that a positive atom binds id to a column of type t.
func (rc *ruleCheck) bind(id *Ident, t *Type, where string) {
	v := rc.vars[id.Name]
	switch {
	case v == nil:
		rc.vars[id.Name] = &varInfo{typ: t, pos: id.At, where: where, assign: -1}
	case v.typ.Kind == Invalid:
		v.typ, v.where = t, where
	case t.Kind == Invalid || v.typ.Equal(t):
	default:
		rc.errorf(id.At, "variable %s is %s here (%s) but %s at %s (%s)", id.Name, t, where, v.typ, lineCol(v.pos), v.where)
	}
}

// bodyAtom checks the arguments of a resolved body atom that do not bind.
func (rc *ruleCheck) bodyAtom(a *Atom, coll *Collection, slots []*Arg, at int) *AtomInfo {
	ai := &AtomInfo{Atom: a, Collection: coll, Args: make([]Expr, len(slots))}
	rc.checkLoc(a, coll, slots)
	name := a.QualName()
	x := &ectx{at: at, where: "a body atom"}
	for i, arg := range slots {
		ct := coll.Cols[i].Type
		if arg == nil {
			w := &Wildcard{At: a.NamePos}
			ai.Args[i] = w
			rc.types[w] = ct
			continue
		}
		ai.Args[i] = arg.X
		switch e := arg.X.(type) {
		case *Ident:
			if !a.Negated {
				if v := rc.vars[e.Name]; v != nil {
					rc.types[e] = v.typ
				}
				continue
			}
			t := rc.expr(e, nil, x)
			if t.Kind != Invalid && ct.Kind != Invalid && !t.Equal(ct) {
				v := rc.vars[e.Name]
				rc.errorf(e.At, "variable %s is %s here (%s) but %s at %s (%s)", e.Name, ct, colDesc(coll, name, i), t, lineCol(v.pos), v.where)
			}
		case *Wildcard:
			rc.types[e] = ct
		default:
			if !isConst(e) {
				rc.errorf(e.Pos(), "argument %s of %s is an expression; body atoms take only variables, constants and _: bind a new variable and compare it, e.g. v == %s", ExprString(e), name, ExprString(e))
				continue
			}
			t := rc.expr(e, ct, x)
			if t.Kind != Invalid && ct.Kind != Invalid && !t.Equal(ct) {
				rc.mismatch(e, coll, name, i, t)
			}
		}
	}
	return ai
}

func (rc *ruleCheck) mismatch(e Expr, coll *Collection, name string, i int, got *Type) {
	want := coll.Cols[i].Type
	tip := ""
	switch {
	case got.IsLattice() && got.ValueType() != nil && Assignable(got.ValueType(), NotLiteral, want):
		tip = " (value(...) reads a lattice's current value)"
	case got.Kind == Int && want.Kind == Float:
		tip = " (convert with float(...))"
	case got.Kind == Float && want.Kind == Int:
		tip = " (convert with int(...))"
	}
	rc.errorf(e.Pos(), "type mismatch: %s is %s, got %s%s", colDesc(coll, name, i), want, got, tip)
}

// isConst reports whether e is a constant: a literal, a negated number, or
// a set, map or pair literal of constants.
func isConst(e Expr) bool {
	switch e := e.(type) {
	case *IntLit, *FloatLit, *StringLit, *BoolLit:
		return true
	case *Unary:
		switch e.X.(type) {
		case *IntLit, *FloatLit:
			return e.Op == "-"
		}
	case *SetLit:
		for _, x := range e.Elems {
			if !isConst(x) {
				return false
			}
		}
		return true
	case *MapLit:
		for i := range e.Keys {
			if !isConst(e.Keys[i]) || !isConst(e.Vals[i]) {
				return false
			}
		}
		return true
	case *PairLit:
		return isConst(e.A) && isConst(e.B)
	}
	return false
}

func (rc *ruleCheck) condition(cond *Cond, at int) {
	t := rc.expr(cond.X, nil, &ectx{at: at, where: "a condition"})
	if t.Kind != Invalid && t.Kind != Bool && t.Kind != LBool {
		rc.errorf(cond.X.Pos(), "a condition must be bool, got %s", t)
	}
}

func (rc *ruleCheck) assign(as *Assign, at int) {
	t := rc.expr(as.X, nil, &ectx{at: at, where: "an assignment"})
	name := as.Var.Name
	if name == "_" {
		return // the parser reported it
	}
	rc.types[as.Var] = t
	if v := rc.vars[name]; v != nil {
		where := ""
		if v.where != "" && v.assign < 0 {
			where = " (" + v.where + ")"
		}
		rc.errorf(as.Var.At, "variable %s is already bound at %s%s; use == to compare", name, lineCol(v.pos), where)
		return
	}
	rc.vars[name] = &varInfo{typ: t, pos: as.Var.At, where: "assigned", assign: at}
}

// ---------------------------------------------------------------------------
// Heads and facts

// writeCheck reports writes that the collection's kind forbids. It returns
// false after an error.
func (rc *ruleCheck) writeCheck(a *Atom, coll *Collection) bool {
	r := rc.rule
	name := a.QualName()
	local := rc.inst.colls[coll.Local] == coll
	switch {
	case coll.Kind == Periodic:
		rc.errorf(a.NamePos, "periodic %s is filled by the runtime; rules and facts cannot write it", name)
	case coll.Kind == Input && local && !r.IsFact():
		rc.errorf(a.NamePos, "input %s is filled from outside (CLI, REPL, client API), so rules cannot write it (facts can); use a scratch for derived tuples", name)
	case coll.Kind == Channel && r.IsFact():
		rc.errorf(a.NamePos, "channel %s cannot hold facts: send messages with a <~ rule", name)
	case coll.Kind == Channel && r.Op != OpAsync:
		rc.errorf(r.OpPos, "channel %s is written only with <~ (asynchronous send), not %s", name, r.Op)
	case coll.Kind != Channel && r.Op == OpAsync:
		rc.errorf(r.OpPos, "<~ sends to a channel, but %s is %s", name, kindArticle(coll.Kind))
	case coll.Kind == Lattice && (r.Op == OpDelete || r.Op == OpUpsert):
		rc.errorf(r.OpPos, "lattice %s only grows: %s cannot remove or replace its value", name, r.Op)
	case !local && coll.Kind != Input && coll.Kind != Channel:
		rc.errorf(a.NamePos, "%s belongs to module %s: from outside a module only its input collections and channels can be written", name, a.Module)
	default:
		return true
	}
	return false
}

func (rc *ruleCheck) head() {
	a := rc.rule.Head
	x := &ectx{at: len(rc.rule.Body) + 1, where: "the head", head: true}
	coll := rc.lookup(a, true)
	var slots []*Arg
	ok := coll != nil
	if ok {
		writeOK := rc.writeCheck(a, coll)
		slots, ok = rc.placeArgs(a, coll, true)
		if ok && writeOK {
			rc.checkLoc(a, coll, slots)
			if coll.Kind == Channel && len(slots) > 0 && slots[0] != nil && !slots[0].Loc {
				dest := "@" + ExprString(slots[0].X)
				if slots[0].Name != "" {
					dest = "@" + slots[0].Name + ": " + ExprString(slots[0].X)
				}
				rc.errorf(slots[0].At, "the destination of %s must be marked with @: write %s(%s, ...)", a.QualName(), a.QualName(), dest)
			}
		}
	}
	if !ok {
		// Still check the expressions, for unsafe variables and the like.
		for _, arg := range a.Args {
			if c, isAgg := arg.X.(*Call); isAgg && IsAggregate(c) {
				rc.aggregate(c, nil, x)
			} else {
				rc.expr(arg.X, nil, x)
			}
		}
		return
	}
	ai := &AtomInfo{Atom: a, Collection: coll, Args: make([]Expr, len(slots))}
	name := a.QualName()
	for i, arg := range slots {
		ct := coll.Cols[i].Type
		ai.Args[i] = arg.X
		var t *Type
		if c, isAgg := arg.X.(*Call); isAgg && IsAggregate(c) {
			ai.Agg = true
			ai.AggCols = append(ai.AggCols, i)
			t = rc.aggregate(c, ct, x)
		} else {
			t = rc.expr(arg.X, ct, x)
		}
		if !Assignable(t, literalKind(arg.X), ct) {
			rc.mismatch(arg.X, coll, name, i, t)
		}
	}
	rc.info.Head = ai
}

func (rc *ruleCheck) fact() {
	a := rc.rule.Head
	coll := rc.lookup(a, true)
	if coll == nil {
		return
	}
	writeOK := rc.writeCheck(a, coll)
	slots, ok := rc.placeArgs(a, coll, true)
	if !ok {
		return
	}
	if writeOK {
		rc.checkLoc(a, coll, slots)
	}
	// Variables are reported once for the whole fact.
	var vars []string
	var firstVar Pos
	seen := map[string]bool{}
	for _, arg := range a.Args {
		Walk(arg.X, func(e Expr) {
			if id, ok := e.(*Ident); ok && !seen[id.Name] {
				if len(vars) == 0 {
					firstVar = id.At
				}
				seen[id.Name] = true
				vars = append(vars, id.Name)
			}
		})
	}
	if len(vars) > 0 {
		rc.errorf(firstVar, "fact %s has %s %s: facts hold constants only (a rule with a body computes values)", a.QualName(), plural(len(vars), "variable"), strings.Join(vars, ", "))
	}
	ai := &AtomInfo{Atom: a, Collection: coll, Args: make([]Expr, len(slots))}
	x := &ectx{where: "a fact"}
	name := a.QualName()
	for i, arg := range slots {
		ai.Args[i] = arg.X
		if !isConst(arg.X) {
			hasVar, wild := false, Pos{}
			Walk(arg.X, func(e Expr) {
				switch e := e.(type) {
				case *Ident:
					hasVar = true
				case *Wildcard:
					if !wild.IsValid() {
						wild = e.At
					}
				}
			})
			switch {
			case hasVar:
			case wild.IsValid():
				rc.errorf(wild, "_ in a fact: a fact gives every column a constant")
			default:
				rc.errorf(arg.X.Pos(), "fact argument %s is not a constant: facts hold literals, {...} sets and maps and (a, b) pairs", ExprString(arg.X))
			}
			continue
		}
		ct := coll.Cols[i].Type
		t := rc.expr(arg.X, ct, x)
		if !Assignable(t, literalKind(arg.X), ct) {
			rc.mismatch(arg.X, coll, name, i, t)
		}
	}
	rc.info.Head = ai
	rc.info.Body = nil
}
