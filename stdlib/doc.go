// Package stdlib holds the runtime values, lattices, built-in functions and
// aggregates of the Bloom language.
//
// # Values
//
// A Value (an alias of any) is always interpreted through its static Bloom
// type (*lang.Type), which every operation takes as an argument. The Go
// representation of each type is fixed:
//
//	Bloom type       Go representation           bottom / notes
//	---------------  --------------------------  ------------------------------------
//	int              int64
//	float            float64
//	string           string
//	bool             bool
//	addr             Addr (string "host:port")
//	time             Time (int64 ns since epoch)
//	bytes            Bytes (string, so comparable)
//	lmax<T>, lmin<T> the representation of T    nil (printed "bottom")
//	lbool            bool                        false (nil accepted)
//	lcounter         *Counter                    empty counter (nil accepted), value 0
//	lset<T>          *Set (sorted, immutable)    empty set (nil accepted)
//	lmap<K, L>       *Map (sorted by key)        empty map (nil accepted)
//	lpair<L1, L2>    Pair{A, B}                  Pair{bottom(L1), bottom(L2)} (nil accepted)
//
// All values are immutable: Merge and the Set/Map/Counter operations return
// new values (or one of their inputs unchanged) and never modify an
// argument, so tuples may share values freely.
//
// # Lattices
//
// Merge (least upper bound), Leq (lattice order), Bottom and IsBottom cover
// every lattice type. lmax/lmin merge by max/min of T (lmin's bottom is
// "+infinity"); lbool by or; lset by union; lmap key-wise (a key present with
// a bottom value is above an absent key, as in Bloom^L); lcounter by
// per-address max (value = sum); lpair lexicographically: the second
// components merge only when the first components are equal; when one first
// component is strictly above the other its pair wins; when the firsts are
// incomparable the result is (first1 ⊔ first2, bottom of L2), the least upper
// bound of the lexicographic order.
//
// Compare is a total order on all values (for sorting and min/max), Equal
// the matching equality and AppendKey an injective binary encoding for hash
// keys. Format/AppendFormat/FormatTuple print the canonical literal syntax of
// spec section 9; ParseText reads CSV fields and ParseLiteral reads the
// literal syntax back.
//
// # Operators
//
// BinaryOp and UnaryOp evaluate the expression operators: arithmetic on int
// (division by zero is an error) and float, string concatenation, time ± int,
// lmax/lmin ± scalar (bottom stays bottom), comparisons through Compare
// (a lattice operand compares by its current value, so `l >= c` is the
// threshold test), && || and !.
//
// # Built-in functions
//
// LookupBuiltin returns a *Builtin by name; its Call (or Apply, which checks
// the argument count) receives a *CallContext (Self, Now: fixed per tick),
// the static argument types and the values. Errors are returned, never
// panics.
//
//	function                 result     semantics
//	-----------------------  ---------  --------------------------------------------------
//	len(s)                   int        byte length of a string/bytes/addr; elements of an lset, keys of an lmap
//	lower(s), upper(s)       string     Unicode case mapping
//	substr(s, start, n)      string     n bytes from 0-based byte offset start, clamped to s;
//	                                    negative start or n count as 0; never fails
//	contains(s, sub)         bool       sub occurs in s
//	concat(a, b, ...)        string     concatenation (≥ 1 argument); non-strings as by str()
//	hash(x)                  int        FNV-1a 64 of x's AppendKey encoding, as int64
//	str(x)                   string     canonical text (Format) but strings/addr/bytes unquoted
//	int(x)                   int        from int, float (truncates; NaN/Inf/out of range: error),
//	                                    string (decimal; bad text: error), bool (1/0), time (ns)
//	float(x)                 float      from int, float, string (bad text: error), time
//	abs(x)                   int|float  absolute value (abs of min int64: overflow error)
//	min(a, b), max(a, b)     T          smaller/larger by Compare (a on ties)
//	self()                   addr       this node's address (CallContext.Self)
//	now()                    time       tick start time (CallContext.Now); non-monotone
//	size(s)                  lmax<int>  elements of an lset (keys of an lmap); monotone
//	has(s, x)                lbool      x ∈ s for an lset; monotone
//	at(m, k)                 L          value of lmap<K, L> at k, bottom of L if absent; monotone
//	value(l)                 scalar     lmax/lmin → T (error wrapping ErrBottom if bottom),
//	                                    lbool → bool, lcounter → int (sum), lset/lmap → int (size);
//	                                    non-monotone
//
// # Aggregates
//
// NewAgg(name, argType, byType) returns an Agg accumulator; Add(x, by) is
// called once per distinct body match of the group (inputs are not
// deduplicated: two equal salaries both count) and Result returns the rows:
//
//	aggregate      result            semantics
//	-------------  ----------------  ------------------------------------------------
//	count(x)       int               number of matches added
//	sum(x)         int | float       sum (ints wrap on overflow; floats summed exactly,
//	                                 then rounded once: independent of order)
//	min(x), max(x) T                 least/greatest by Compare
//	avg(x)         float             sum/count, also of ints
//	argmin(x, by)  T (one row each)  every distinct x whose by is minimal (ties: all)
//	argmax(x, by)  T (one row each)  every distinct x whose by is maximal
//	set(x)         lset<T>           the set of the x values (monotone)
package stdlib
