package lang

import (
	"fmt"
	"sort"
	"strings"
)

// This file holds the checker's entry points, the type rules shared by the
// whole checker (ResolveType, Assignable, literalType) and the checking of
// collection declarations. Rules are checked in check_rule.go, expressions
// in check_expr.go; loader.go finds and parses the files.

// CheckFile parses and checks one program held in memory. Imports are read
// from disk relative to filename's directory (there is no standard library:
// use a Loader with Std set for that). The error is an ErrorList.
func CheckFile(filename string, src []byte) (*Program, error) {
	return (&Loader{}).LoadSource(filename, src)
}

// Check checks already parsed files: files[0] is the root, the others are
// the modules it may import, matched by their File.Name against the import's
// resolved path (see Loader). Nothing is read from disk. The error is an
// ErrorList.
func Check(files ...*File) (*Program, error) {
	if len(files) == 0 || files[0] == nil {
		return nil, ErrorList{{Pos: Pos{Line: 1, Col: 1}, Msg: "no file to check"}}
	}
	s := newSession(nil)
	for _, f := range files {
		if f != nil {
			s.given[cleanKey(f.Name)] = f
		}
	}
	return s.run(files[0].Name, nil)
}

// reservedWords cannot name a collection or an import alias.
var reservedWords = map[string]bool{
	"module": true, "import": true, "as": true, "table": true, "durable": true,
	"scratch": true, "input": true, "output": true, "channel": true,
	"periodic": true, "lattice": true, "key": true, "every": true, "not": true,
	"true": true, "false": true, "_": true,
}

// checker checks a whole program: every file instance of one session.
type checker struct {
	errs ErrorList
	prog *Program
}

func (c *checker) errorf(pos Pos, format string, args ...any) {
	c.errs.Add(pos, format, args...)
}

// ---------------------------------------------------------------------------
// Types

// ResolveType builds the *Type of a written type. On error it returns
// TInvalid and an ErrorList.
func ResolveType(te *TypeExpr) (*Type, error) {
	c := &checker{}
	t := c.resolveType(te)
	if len(c.errs) > 0 {
		c.errs.Sort()
		return TInvalid, c.errs
	}
	return t, nil
}

var typeNames = []string{"int", "float", "string", "bool", "addr", "time", "bytes",
	"lmax", "lmin", "lbool", "lset", "lmap", "lcounter", "lpair"}

var typeUsage = map[Kind]string{
	LMax: "lmax<T>", LMin: "lmin<T>", LSet: "lset<T>", LMap: "lmap<K, L>", LPair: "lpair<L1, L2>",
}

// resolveType builds a Type, reporting errors; a wrong type gives TInvalid.
func (c *checker) resolveType(te *TypeExpr) *Type {
	if te == nil {
		return TInvalid
	}
	k, ok := KindByName(te.Name)
	if !ok {
		c.errorf(te.At, "unknown type %s%s", te.Name, suggest(te.Name, typeNames))
		return TInvalid
	}
	want := 0
	switch k {
	case LMax, LMin, LSet:
		want = 1
	case LMap, LPair:
		want = 2
	}
	if want == 0 {
		if len(te.Args) > 0 {
			c.errorf(te.At, "%s takes no type parameters", te.Name)
			return TInvalid
		}
		return Scalar(k)
	}
	args := make([]*Type, len(te.Args))
	bad := false
	for i, a := range te.Args {
		args[i] = c.resolveType(a)
		bad = bad || args[i].Kind == Invalid
	}
	if len(te.Args) != want {
		c.errorf(te.At, "%s takes %d type %s (%s), got %d", te.Name, want, plural(want, "parameter"), typeUsage[k], len(te.Args))
		return TInvalid
	}
	if bad {
		return TInvalid
	}
	switch k {
	case LMax, LMin:
		if !args[0].IsOrdered() {
			c.errorf(te.Args[0].At, "%s needs an ordered scalar type parameter (int, float, string, time or addr), got %s", te.Name, args[0])
			return TInvalid
		}
		return &Type{Kind: k, Elem: args[0]}
	case LSet:
		if !args[0].IsScalar() {
			c.errorf(te.Args[0].At, "lset needs a scalar element type, got %s", args[0])
			return TInvalid
		}
		return &Type{Kind: k, Elem: args[0]}
	case LMap:
		ok := true
		if !args[0].IsScalar() {
			c.errorf(te.Args[0].At, "lmap needs a scalar key type, got %s", args[0])
			ok = false
		}
		if !args[1].IsLattice() {
			c.errorf(te.Args[1].At, "lmap needs a lattice value type (such as lmax<int> or lset<string>), got %s", args[1])
			ok = false
		}
		if !ok {
			return TInvalid
		}
		return &Type{Kind: k, Key: args[0], Elem: args[1]}
	default: // LPair
		ok := true
		for i, a := range args {
			if !a.IsLattice() {
				c.errorf(te.Args[i].At, "lpair needs lattice types (such as lmax<int>), got %s", a)
				ok = false
			}
		}
		if !ok {
			return TInvalid
		}
		return &Type{Kind: k, Key: args[0], Elem: args[1]}
	}
}

// LiteralKind tells which literal widening rules apply to an expression.
type LiteralKind int

// Literal kinds; see Assignable.
const (
	NotLiteral    LiteralKind = iota
	IntLiteral                // an integer literal, or arithmetic on integer literals only
	StringLiteral             // a string literal
	EmptyBraces               // {}, the empty set or map
)

// literalKind classifies an expression for the literal rules.
func literalKind(e Expr) LiteralKind {
	switch e := e.(type) {
	case *IntLit:
		return IntLiteral
	case *StringLit:
		return StringLiteral
	case *SetLit:
		if len(e.Elems) == 0 {
			return EmptyBraces
		}
	case *Unary:
		if e.Op == "-" && literalKind(e.X) == IntLiteral {
			return IntLiteral
		}
	case *Binary:
		switch e.Op {
		case "+", "-", "*", "/", "%":
			if literalKind(e.X) == IntLiteral && literalKind(e.Y) == IntLiteral {
				return IntLiteral
			}
		}
	}
	return NotLiteral
}

// Assignable reports whether a value of type from — of literal kind lit —
// fits a place of type to: a column written by a rule head or a fact, an
// element of a set, map or pair literal, and (through literalType) the type
// a literal takes from its context. These are all of the conversion rules
// of the language:
//
//  1. a type fits itself;
//  2. an integer literal (IntLiteral) fits int, float and time;
//  3. a string literal fits string, addr and bytes;
//  4. {} fits every lset and lmap (from is only looked at when invalid);
//  5. a scalar T fits lmax<T> and lmin<T> — the value is merged into the
//     lattice — and with it a literal that fits T (rules 2 and 3);
//  6. bool fits lbool, and int fits lcounter (it is added to this node's
//     count);
//  7. an invalid type (an error reported elsewhere) fits everything and
//     everything fits it, so that one mistake gives one message.
//
// Nothing else converts implicitly: int and float do not mix (use float(x)
// or int(x)), and a lattice does not fit its scalar (use value(l)).
// Function arguments and the operands of operators must have the same type
// after literals have taken the type of their context; a condition on a
// lattice compares its current value (see the expression rules).
func Assignable(from *Type, lit LiteralKind, to *Type) bool {
	if to == nil || to.Kind == Invalid {
		return true
	}
	if from != nil && from.Kind == Invalid {
		return true
	}
	if lit == EmptyBraces {
		return to.Kind == LSet || to.Kind == LMap
	}
	if from == nil {
		return true
	}
	if from.Equal(to) {
		return true
	}
	switch lit {
	case IntLiteral:
		if from.Kind == Int && (to.Kind == Float || to.Kind == Time) {
			return true
		}
	case StringLiteral:
		if from.Kind == String && (to.Kind == Addr || to.Kind == Bytes) {
			return true
		}
	}
	switch to.Kind {
	case LMax, LMin:
		return from.IsScalar() && Assignable(from, lit, to.Elem)
	case LBool:
		return from.Kind == Bool
	case LCounter:
		return from.Kind == Int
	}
	return false
}

// literalType is the type a literal of kind lit takes where a value of type
// hint is expected (hint may be nil): the first of its possible types that
// is Assignable to hint, else its default type (int, string). {} takes the
// hint when it is an lset or lmap, and is nil otherwise (it cannot be typed).
func literalType(lit LiteralKind, hint *Type) *Type {
	var cands []*Type
	switch lit {
	case IntLiteral:
		cands = []*Type{TInt, TFloat, TTime}
	case StringLiteral:
		cands = []*Type{TString, TAddr, TBytes}
	case EmptyBraces:
		if hint != nil && (hint.Kind == LSet || hint.Kind == LMap) {
			return hint
		}
		return nil
	default:
		return nil
	}
	if hint != nil && hint.Kind != Invalid {
		for _, c := range cands {
			if Assignable(c, NotLiteral, hint) {
				return c
			}
		}
	}
	return cands[0]
}

// ---------------------------------------------------------------------------
// Declarations

// declare resolves the collections declared by one file instance.
func (c *checker) declare(inst *instance) {
	for _, d := range inst.file.Decls {
		if reservedWords[d.Name] {
			c.errorf(d.NamePos, "%s is a reserved word and cannot name a collection", d.Name)
		}
		if prev, dup := inst.colls[d.Name]; dup {
			c.errorf(d.NamePos, "%s is already declared at %s", d.Name, lineCol(prev.Decl.NamePos))
			continue
		}
		coll := &Collection{
			Name:    qualify(inst.prefix, d.Name),
			Local:   d.Name,
			Module:  inst.prefix,
			Decl:    d,
			Kind:    d.Kind,
			Durable: d.Durable,
		}
		switch d.Kind {
		case Periodic:
			coll.Cols = []ColInfo{{Name: "n", Type: TInt}}
		case Lattice:
			t := TInvalid
			if d.LatType != nil {
				t = c.resolveType(d.LatType)
				if t.Kind != Invalid && !t.IsLattice() {
					c.errorf(d.LatType.At, "lattice %s needs a lattice type such as lmax<int> or lset<string>, got %s (declare a table for scalars)", d.Name, t)
					t = TInvalid
				}
			}
			coll.Cols = []ColInfo{{Name: "value", Type: t}}
		default:
			c.columns(coll, d)
		}
		c.key(coll, d)
		inst.colls[d.Name] = coll
		c.prog.Collections = append(c.prog.Collections, coll)
		c.prog.ByName[coll.Name] = coll
	}
}

func (c *checker) columns(coll *Collection, d *Decl) {
	seen := map[string]Pos{}
	locs := 0
	for i, col := range d.Cols {
		t := c.resolveType(col.Type)
		if prev, dup := seen[col.Name]; dup {
			c.errorf(col.At, "duplicate column %s in %s (first at %s)", col.Name, d.Name, lineCol(prev))
		} else {
			seen[col.Name] = col.At
		}
		if col.Loc {
			locs++
			switch {
			case d.Kind != Channel:
				c.errorf(col.At, "@%s: only a channel has a location (@) column, and %s is %s", col.Name, d.Name, kindArticle(d.Kind))
			case locs > 1:
				c.errorf(col.At, "channel %s has more than one @ column: only its first column is the location", d.Name)
			case i != 0:
				c.errorf(col.At, "the @ column %s of channel %s must be its first column", col.Name, d.Name)
			}
			if d.Kind == Channel && t.Kind != Invalid && t.Kind != Addr {
				c.errorf(col.Type.At, "the @ column %s of channel %s must have type addr, got %s", col.Name, d.Name, t)
			}
		}
		coll.Cols = append(coll.Cols, ColInfo{Name: col.Name, Type: t, Loc: col.Loc})
	}
	if d.Kind == Channel && locs == 0 {
		c.errorf(d.NamePos, "channel %s needs a location column first, e.g. channel %s(@to: addr, ...)", d.Name, d.Name)
	}
}

func (c *checker) key(coll *Collection, d *Decl) {
	if d.Key == nil {
		coll.Key = make([]int, len(coll.Cols))
		for i := range coll.Cols {
			coll.Key[i] = i
		}
		return
	}
	coll.HasKey = true
	coll.Key = []int{}
	if len(d.Key) == 0 {
		c.errorf(d.NamePos, "empty key() in %s: name at least one column, or leave key(...) out to key on the whole tuple", d.Name)
		return
	}
	seen := map[int]bool{}
	for _, k := range d.Key {
		i := coll.ColIndex(k.Name)
		switch {
		case i < 0:
			c.errorf(k.At, "key column %s is not a column of %s; its columns are %s%s", k.Name, d.Name, colNames(coll), suggest(k.Name, colNameList(coll)))
		case seen[i]:
			c.errorf(k.At, "key column %s is listed twice", k.Name)
		default:
			seen[i] = true
			if t := coll.Cols[i].Type; t.IsLattice() {
				c.errorf(k.At, "key column %s of %s has lattice type %s; key columns must be scalars", k.Name, d.Name, t)
			}
			coll.Key = append(coll.Key, i)
		}
	}
	sort.Ints(coll.Key)
}

// ---------------------------------------------------------------------------
// Helpers

func qualify(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func lineCol(p Pos) string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

func kindArticle(k CollKind) string {
	if k == Input || k == Output {
		return "an " + k.String()
	}
	return "a " + k.String()
}

func colNameList(coll *Collection) []string {
	names := make([]string, len(coll.Cols))
	for i, col := range coll.Cols {
		names[i] = col.Name
	}
	return names
}

func colNames(coll *Collection) string {
	if len(coll.Cols) == 0 {
		return "(none)"
	}
	return strings.Join(colNameList(coll), ", ")
}

// suggest returns "; did you mean `x`?" for the candidate closest to name,
// or "" when none is close enough.
func suggest(name string, cands []string) string {
	best, bestD := "", -1
	limit := max(1, (len(name)+1)/3)
	for _, c := range cands {
		if c == name {
			continue
		}
		d := editDistance(strings.ToLower(name), strings.ToLower(c))
		if d > limit || d >= len(c) || d >= len(name) {
			continue
		}
		if bestD < 0 || d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return "; did you mean `" + best + "`?"
}

// editDistance is the optimal-string-alignment distance: insertions,
// deletions, substitutions and transpositions of adjacent bytes cost 1.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
