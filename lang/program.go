package lang

// Program is a checked program: the root file and every module it imports,
// with names resolved and every expression typed. It is what the compiler
// consumes. A Program is only returned when checking found no errors.
type Program struct {
	// Name is the root file's module name (`module NAME;`), "" without one.
	Name        string
	Root        *File
	Files       []*File       // root first, then imported files in load order
	Collections []*Collection // in declaration order, imported modules' included
	ByName      map[string]*Collection
	Rules       []*RuleInfo // rules and facts of all files, root file first
}

// Collection is a declared collection with resolved types.
type Collection struct {
	// Name is qualified by the import aliases that lead to it from the root
	// file ("cart", "dl.pending", "a.b.c"); Local is the declared name.
	Name   string
	Local  string
	Module string // alias path, "" for the root file
	Decl   *Decl
	Kind   CollKind
	// Durable tables and lattices survive restarts.
	Durable bool
	Cols    []ColInfo
	// Key holds the key column indexes in column order; when the
	// declaration has no key(...) clause it lists every column.
	Key []int
	// HasKey is true when the declaration had a key(...) clause.
	HasKey bool
}

// ColInfo is one resolved column. A `lattice NAME: L` collection has a
// single column named "value" of type L; a periodic has one column "n: int".
type ColInfo struct {
	Name string
	Type *Type
	Loc  bool
}

// Arity is the number of columns.
func (c *Collection) Arity() int { return len(c.Cols) }

// ColIndex returns the index of the named column, or -1.
func (c *Collection) ColIndex(name string) int {
	for i, col := range c.Cols {
		if col.Name == name {
			return i
		}
	}
	return -1
}

// IsKey reports whether column i is part of the key.
func (c *Collection) IsKey(i int) bool {
	for _, k := range c.Key {
		if k == i {
			return true
		}
	}
	return false
}

// RuleInfo is a checked rule or fact.
type RuleInfo struct {
	Rule *Rule
	File *File
	// Module is the alias path of the file the rule is in ("" for the root).
	Module string
	Head   *AtomInfo
	Body   []BodyInfo
	// Vars gives every named variable of the rule its inferred type.
	Vars map[string]*Type
	// Types gives every expression in the rule (head and body) its type.
	Types map[Expr]*Type
	// Coordinated is the reason given by an @coordinated("...") annotation,
	// or "" when the rule has none.
	Coordinated    string
	HasCoordinated bool
}

// AtomInfo is an atom with its collection resolved and its arguments in
// column order: named arguments are moved to their column, and columns that
// were not mentioned are filled with a *Wildcard.
type AtomInfo struct {
	Atom       *Atom
	Collection *Collection
	Args       []Expr // len == Collection.Arity()
	// Agg is true for a head that contains aggregate calls; AggCols lists
	// the argument indexes that hold them (the rest are the group-by key).
	Agg     bool
	AggCols []int
}

// BodyInfo is one body literal; exactly one field is set. A body atom that
// names a built-in function and no collection, such as `contains(s, "x")`
// or `not has(seen, x)`, is a condition: its Cond is built by the checker
// (a *Call, under a `!` *Unary when negated) and is not in Rule.Body.
type BodyInfo struct {
	Atom   *AtomInfo // positive or negated (Atom.Atom.Negated) atom
	Cond   *Cond
	Assign *Assign
}
