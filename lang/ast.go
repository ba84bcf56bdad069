package lang

import (
	"fmt"
	"time"
)

// Pos is a source position. Line and Col are 1-based; Col counts bytes.
type Pos struct {
	File   string
	Offset int
	Line   int
	Col    int
}

func (p Pos) String() string {
	if p.File == "" {
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// IsValid reports whether the position was set.
func (p Pos) IsValid() bool { return p.Line > 0 }

// Before orders positions within one file (and by file name across files).
func (p Pos) Before(q Pos) bool {
	if p.File != q.File {
		return p.File < q.File
	}
	if p.Line != q.Line {
		return p.Line < q.Line
	}
	return p.Col < q.Col
}

// File is one parsed .bloom source file.
type File struct {
	Name     string
	Module   *ModuleDecl // nil when the file has no module line
	Imports  []*Import
	Decls    []*Decl
	Rules    []*Rule // rules and facts, in source order
	Stmts    []Stmt  // every statement in source order
	Comments []*Comment

	// ends holds the position just after each parsed statement's `;`, so
	// that the printer can keep blank lines and trailing comments in place.
	ends map[Stmt]Pos
}

// Stmt is a top-level statement: *ModuleDecl, *Import, *Decl or *Rule.
type Stmt interface {
	Pos() Pos
	stmt()
}

// Comment is a // or /* */ comment, kept so that the formatter preserves it.
type Comment struct {
	At   Pos
	Text string // including the comment markers
}

// ModuleDecl is `module NAME;`.
type ModuleDecl struct {
	At   Pos
	Name string
}

// Import is `import "PATH" as NAME;`.
type Import struct {
	At       Pos
	Path     string
	PathPos  Pos
	Alias    string
	AliasPos Pos
}

// CollKind is the kind of a declared collection.
type CollKind int

// Collection kinds of spec section 2.
const (
	Table CollKind = iota
	Scratch
	Input
	Output
	Channel
	Periodic
	Lattice
)

var collKindNames = [...]string{"table", "scratch", "input", "output", "channel", "periodic", "lattice"}

func (k CollKind) String() string { return collKindNames[k] }

// Transient reports whether the collection is emptied at every tick.
func (k CollKind) Transient() bool {
	switch k {
	case Scratch, Input, Output, Channel, Periodic:
		return true
	}
	return false
}

// Decl declares a collection.
type Decl struct {
	At      Pos
	Durable bool
	Kind    CollKind
	Name    string
	NamePos Pos
	Cols    []*Column
	Key     []*Ident // nil when no key(...) clause: the whole tuple is the key
	// Periodic only.
	Every    time.Duration
	EveryRaw string
	EveryPos Pos
	// Lattice only: the lattice's type.
	LatType *TypeExpr
}

// Column is `name: type`, or `@name: type` for a channel's location column.
type Column struct {
	At   Pos
	Loc  bool
	Name string
	Type *TypeExpr
}

// TypeExpr is a type as written, e.g. lmap<string, lset<int>>.
type TypeExpr struct {
	At   Pos
	Name string
	Args []*TypeExpr
}

// Annotation is `@name(args)` written before a rule, e.g. @coordinated("2PC").
type Annotation struct {
	At   Pos
	Name string
	Args []Expr
}

// Op is a rule's merge operator.
type Op int

// Rule operators of spec section 4. OpFact marks a fact (no body).
const (
	OpFact   Op = iota
	OpSame      // <=
	OpNext      // <+
	OpDelete    // <-
	OpUpsert    // <+-
	OpAsync     // <~
)

var opNames = [...]string{"", "<=", "<+", "<-", "<+-", "<~"}

func (o Op) String() string { return opNames[o] }

// Temporal reports whether the op defers the head to a later tick.
func (o Op) Temporal() bool { return o == OpNext || o == OpDelete || o == OpUpsert || o == OpAsync }

// Rule is `HEAD OP BODY;` or a fact `HEAD;` (Op == OpFact, Body empty).
type Rule struct {
	At          Pos
	Annotations []*Annotation
	Head        *Atom
	Op          Op
	OpPos       Pos
	Body        []Literal
}

// IsFact reports whether the rule is a fact.
func (r *Rule) IsFact() bool { return r.Op == OpFact }

// Atom is `rel(args)` or `mod.rel(args)`; in a body it may be negated.
type Atom struct {
	At      Pos // of the name (or of `not`)
	Negated bool
	Module  string // import alias, "" for the current file
	Name    string
	NamePos Pos
	Args    []*Arg
}

// QualName returns "mod.rel" or "rel".
func (a *Atom) QualName() string {
	if a.Module == "" {
		return a.Name
	}
	return a.Module + "." + a.Name
}

// Arg is one argument of an atom: optionally named (`col: expr`), optionally
// the location marker (`@expr`).
type Arg struct {
	At      Pos
	Loc     bool
	Name    string // named column, "" when positional
	NamePos Pos
	X       Expr
}

// Literal is a body element: *Atom, *Cond or *Assign.
type Literal interface {
	Pos() Pos
	literal()
}

// Cond is a boolean condition, usually `expr CMP expr`.
type Cond struct {
	X Expr
}

// Assign is `v = expr`.
type Assign struct {
	Var *Ident
	X   Expr
}

// Expr is an expression.
type Expr interface {
	Pos() Pos
	expr()
}

// Ident is a variable (or, in key(...), a column name).
type Ident struct {
	At   Pos
	Name string
}

// Wildcard is `_`.
type Wildcard struct{ At Pos }

// IntLit is an integer literal (a leading minus is folded into it).
type IntLit struct {
	At  Pos
	Val int64
}

// FloatLit is a float literal (a leading minus is folded into it).
type FloatLit struct {
	At  Pos
	Val float64
	Raw string
}

// StringLit is a string literal; Val is unquoted.
type StringLit struct {
	At  Pos
	Val string
}

// BoolLit is true or false.
type BoolLit struct {
	At  Pos
	Val bool
}

// Unary is `-x` or `!x`.
type Unary struct {
	At Pos
	Op string
	X  Expr
}

// Binary is `x OP y`; At is the start of x, OpPos the operator.
type Binary struct {
	OpPos Pos
	Op    string
	X, Y  Expr
}

// Call is a built-in function or aggregate call `f(args)`.
type Call struct {
	At   Pos
	Name string
	Args []Expr
}

// SetLit is a set literal `{e1, e2}` (an lset value); `{}` is the empty set
// or map, resolved by the expected type.
type SetLit struct {
	At    Pos
	Elems []Expr
}

// MapLit is a map literal `{k1: v1, k2: v2}` (an lmap value).
type MapLit struct {
	At   Pos
	Keys []Expr
	Vals []Expr
}

// PairLit is a pair literal `(a, b)` (an lpair value).
type PairLit struct {
	At   Pos
	A, B Expr
}

func (s *ModuleDecl) Pos() Pos { return s.At }
func (s *Import) Pos() Pos     { return s.At }
func (s *Decl) Pos() Pos       { return s.At }
func (s *Rule) Pos() Pos       { return s.At }
func (*ModuleDecl) stmt()      {}
func (*Import) stmt()          {}
func (*Decl) stmt()            {}
func (*Rule) stmt()            {}

func (a *Atom) Pos() Pos   { return a.At }
func (c *Cond) Pos() Pos   { return c.X.Pos() }
func (a *Assign) Pos() Pos { return a.Var.At }
func (*Atom) literal()     {}
func (*Cond) literal()     {}
func (*Assign) literal()   {}

func (e *Ident) Pos() Pos     { return e.At }
func (e *Wildcard) Pos() Pos  { return e.At }
func (e *IntLit) Pos() Pos    { return e.At }
func (e *FloatLit) Pos() Pos  { return e.At }
func (e *StringLit) Pos() Pos { return e.At }
func (e *BoolLit) Pos() Pos   { return e.At }
func (e *Unary) Pos() Pos     { return e.At }
func (e *Binary) Pos() Pos    { return e.X.Pos() }
func (e *Call) Pos() Pos      { return e.At }
func (e *SetLit) Pos() Pos    { return e.At }
func (e *MapLit) Pos() Pos    { return e.At }
func (e *PairLit) Pos() Pos   { return e.At }
func (*SetLit) expr()         {}
func (*MapLit) expr()         {}
func (*PairLit) expr()        {}
func (*Ident) expr()          {}
func (*Wildcard) expr()       {}
func (*IntLit) expr()         {}
func (*FloatLit) expr()       {}
func (*StringLit) expr()      {}
func (*BoolLit) expr()        {}
func (*Unary) expr()          {}
func (*Binary) expr()         {}
func (*Call) expr()           {}

// Aggregates are the aggregate function names allowed in rule heads.
var Aggregates = map[string]bool{
	"count": true, "sum": true, "min": true, "max": true, "avg": true,
	"argmin": true, "argmax": true, "set": true,
}

// IsAggregate reports whether e is a call to an aggregate. min and max with
// two arguments are the scalar functions, not aggregates.
func IsAggregate(e Expr) bool {
	c, ok := e.(*Call)
	if !ok || !Aggregates[c.Name] {
		return false
	}
	if (c.Name == "min" || c.Name == "max") && len(c.Args) == 2 {
		return false
	}
	return true
}

// Walk calls f for e and every sub-expression, depth first, pre-order.
func Walk(e Expr, f func(Expr)) {
	if e == nil {
		return
	}
	f(e)
	switch e := e.(type) {
	case *Unary:
		Walk(e.X, f)
	case *Binary:
		Walk(e.X, f)
		Walk(e.Y, f)
	case *Call:
		for _, a := range e.Args {
			Walk(a, f)
		}
	case *SetLit:
		for _, a := range e.Elems {
			Walk(a, f)
		}
	case *MapLit:
		for i := range e.Keys {
			Walk(e.Keys[i], f)
			Walk(e.Vals[i], f)
		}
	case *PairLit:
		Walk(e.A, f)
		Walk(e.B, f)
	}
}
