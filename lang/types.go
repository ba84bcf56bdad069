package lang

import "strings"

// Kind classifies a Type.
type Kind int

// The scalar kinds come first, then the lattice kinds.
const (
	Invalid Kind = iota
	Int
	Float
	String
	Bool
	Addr
	Time
	Bytes
	LMax
	LMin
	LBool
	LSet
	LMap
	LCounter
	LPair
)

var kindNames = [...]string{
	Invalid:  "invalid",
	Int:      "int",
	Float:    "float",
	String:   "string",
	Bool:     "bool",
	Addr:     "addr",
	Time:     "time",
	Bytes:    "bytes",
	LMax:     "lmax",
	LMin:     "lmin",
	LBool:    "lbool",
	LSet:     "lset",
	LMap:     "lmap",
	LCounter: "lcounter",
	LPair:    "lpair",
}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "invalid"
	}
	return kindNames[k]
}

// KindByName maps a type keyword to its kind; ok is false for unknown names.
func KindByName(name string) (Kind, bool) {
	for k, n := range kindNames {
		if n == name && Kind(k) != Invalid {
			return Kind(k), true
		}
	}
	return Invalid, false
}

// Type is a resolved column or expression type. Types are immutable values
// once built; compare them with Equal.
//
//	lmax<T>, lmin<T>, lset<T>: Elem = T
//	lmap<K, L>:                Key = K, Elem = L
//	lpair<L1, L2>:             Key = L1, Elem = L2
type Type struct {
	Kind Kind
	Key  *Type
	Elem *Type
}

// Common scalar types, shared because types are immutable.
var (
	TInvalid = &Type{Kind: Invalid}
	TInt     = &Type{Kind: Int}
	TFloat   = &Type{Kind: Float}
	TString  = &Type{Kind: String}
	TBool    = &Type{Kind: Bool}
	TAddr    = &Type{Kind: Addr}
	TTime    = &Type{Kind: Time}
	TBytes   = &Type{Kind: Bytes}
	TLBool   = &Type{Kind: LBool}
	TLCount  = &Type{Kind: LCounter}
)

// Scalar returns the shared Type of a scalar kind.
func Scalar(k Kind) *Type {
	switch k {
	case Int:
		return TInt
	case Float:
		return TFloat
	case String:
		return TString
	case Bool:
		return TBool
	case Addr:
		return TAddr
	case Time:
		return TTime
	case Bytes:
		return TBytes
	case LBool:
		return TLBool
	case LCounter:
		return TLCount
	}
	return TInvalid
}

// IsLattice reports whether values of t merge by least upper bound.
func (t *Type) IsLattice() bool { return t != nil && t.Kind >= LMax }

// IsScalar reports whether t is a non-lattice type.
func (t *Type) IsScalar() bool { return t != nil && t.Kind >= Int && t.Kind <= Bytes }

// IsOrdered reports whether t is a scalar with a total order usable by
// lmax/lmin and comparisons.
func (t *Type) IsOrdered() bool {
	if t == nil {
		return false
	}
	switch t.Kind {
	case Int, Float, String, Time, Addr:
		return true
	}
	return false
}

// IsNumeric reports whether t is int or float.
func (t *Type) IsNumeric() bool { return t != nil && (t.Kind == Int || t.Kind == Float) }

// Equal reports structural equality.
func (t *Type) Equal(u *Type) bool {
	if t == nil || u == nil {
		return t == u
	}
	if t.Kind != u.Kind {
		return false
	}
	return t.Key.Equal(u.Key) && t.Elem.Equal(u.Elem)
}

// String renders the type in source syntax, e.g. lmap<string, lset<int>>.
func (t *Type) String() string {
	if t == nil {
		return "invalid"
	}
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t *Type) write(b *strings.Builder) {
	b.WriteString(t.Kind.String())
	switch t.Kind {
	case LMax, LMin, LSet:
		b.WriteByte('<')
		t.Elem.write(b)
		b.WriteByte('>')
	case LMap, LPair:
		b.WriteByte('<')
		t.Key.write(b)
		b.WriteString(", ")
		t.Elem.write(b)
		b.WriteByte('>')
	}
}

// Scalar value type revealed by value() on a lattice: lmax<T>/lmin<T> give T,
// lbool gives bool, lcounter gives int; sets, maps and pairs have no scalar
// value and return nil.
func (t *Type) ValueType() *Type {
	switch t.Kind {
	case LMax, LMin:
		return t.Elem
	case LBool:
		return TBool
	case LCounter:
		return TInt
	}
	if t.IsScalar() {
		return t
	}
	return nil
}
