package compiler

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/stdlib"
)

// FactsFromSource reads a file of facts (`rel(1, "a");` statements, as in
// a .bloom file) for the plan's collections. Errors are a lang.ErrorList.
func (p *Plan) FactsFromSource(filename string, src []byte) ([]*Fact, error) {
	f, err := lang.ParseFile(filename, src)
	if err != nil {
		return nil, err
	}
	var errs lang.ErrorList
	var out []*Fact
	for _, s := range f.Stmts {
		r, ok := s.(*lang.Rule)
		if !ok || !r.IsFact() {
			errs.Add(s.Pos(), "a facts file holds only facts such as edge(1, 2);")
			continue
		}
		coll := p.ByName[r.Head.QualName()]
		if coll == nil {
			errs.Add(r.Head.At, "unknown collection %s", r.Head.QualName())
			continue
		}
		switch coll.Info.Kind {
		case lang.Channel, lang.Periodic:
			errs.Add(r.Head.At, "facts cannot be inserted into %s %s", coll.Info.Kind, coll.Name)
			continue
		}
		tuple := make([]stdlib.Value, len(coll.Types))
		set := make([]bool, len(coll.Types))
		bad := false
		for i, a := range r.Head.Args {
			col := i
			if a.Name != "" {
				col = coll.Info.ColIndex(a.Name)
				if col < 0 {
					errs.Add(a.NamePos, "%s has no column %s", coll.Name, a.Name)
					bad = true
					continue
				}
			}
			if col >= len(tuple) || set[col] {
				errs.Add(a.X.Pos(), "%s has %d columns", coll.Name, len(tuple))
				bad = true
				break
			}
			v, err := ConstValue(a.X, coll.Types[col])
			if err != nil {
				errs.Add(a.X.Pos(), "column %s of %s: %v", coll.Info.Cols[col].Name, coll.Name, err)
				bad = true
				continue
			}
			tuple[col], set[col] = v, true
		}
		for i, ok := range set {
			if !ok && !bad {
				errs.Add(r.Head.At, "%s has %d columns, got %d values (missing %s)", coll.Name, len(tuple), len(r.Head.Args), coll.Info.Cols[i].Name)
				bad = true
			}
		}
		if !bad {
			out = append(out, &Fact{Coll: coll.ID, Tuple: tuple, Pos: r.At})
		}
	}
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	return out, nil
}

// ConstValue converts a constant expression (a literal, a negative number,
// a set, map or pair of constants) to a value of type t.
func ConstValue(e lang.Expr, t *lang.Type) (stdlib.Value, error) {
	switch x := e.(type) {
	case *lang.IntLit:
		if t.Kind == lang.LCounter {
			return stdlib.Coerce(t, x.Val)
		}
		return coerceLit(t, x.Val, "an integer", lang.Int, lang.Float, lang.Time, lang.LMax, lang.LMin)
	case *lang.FloatLit:
		return coerceLit(t, x.Val, "a float", lang.Float, lang.LMax, lang.LMin)
	case *lang.StringLit:
		return coerceLit(t, x.Val, "a string", lang.String, lang.Addr, lang.Bytes, lang.LMax, lang.LMin)
	case *lang.BoolLit:
		return coerceLit(t, x.Val, "a bool", lang.Bool, lang.LBool)
	case *lang.SetLit:
		if t.Kind == lang.LMap && len(x.Elems) == 0 {
			return stdlib.NewMap(t.Key, t.Elem, nil, nil), nil
		}
		if t.Kind != lang.LSet {
			return nil, fmt.Errorf("want %s, got a set", t)
		}
		elems := make([]stdlib.Value, len(x.Elems))
		for i, el := range x.Elems {
			v, err := ConstValue(el, t.Elem)
			if err != nil {
				return nil, err
			}
			elems[i] = v
		}
		return stdlib.NewSet(t.Elem, elems...), nil
	case *lang.MapLit:
		if t.Kind != lang.LMap {
			return nil, fmt.Errorf("want %s, got a map", t)
		}
		keys := make([]stdlib.Value, len(x.Keys))
		vals := make([]stdlib.Value, len(x.Vals))
		for i := range x.Keys {
			k, err := ConstValue(x.Keys[i], t.Key)
			if err != nil {
				return nil, err
			}
			v, err := ConstValue(x.Vals[i], t.Elem)
			if err != nil {
				return nil, err
			}
			keys[i], vals[i] = k, v
		}
		return stdlib.NewMap(t.Key, t.Elem, keys, vals), nil
	case *lang.PairLit:
		if t.Kind != lang.LPair {
			return nil, fmt.Errorf("want %s, got a pair", t)
		}
		a, err := ConstValue(x.A, t.Key)
		if err != nil {
			return nil, err
		}
		b, err := ConstValue(x.B, t.Elem)
		if err != nil {
			return nil, err
		}
		return stdlib.Pair{A: a, B: b}, nil
	case *lang.Ident:
		return nil, fmt.Errorf("a fact holds constants only, not the variable %s", x.Name)
	case *lang.Wildcard:
		return nil, errors.New("a fact holds constants only, not _")
	}
	return nil, fmt.Errorf("a fact holds constants only, not %s", lang.ExprString(e))
}

func coerceLit(t *lang.Type, v stdlib.Value, what string, kinds ...lang.Kind) (stdlib.Value, error) {
	for _, k := range kinds {
		if t.Kind == k {
			if k == lang.LMax || k == lang.LMin {
				return coerceLit(t.Elem, v, what, lang.Int, lang.Float, lang.Time, lang.String, lang.Addr)
			}
			return stdlib.Coerce(t, v)
		}
	}
	return nil, fmt.Errorf("want %s, got %s", t, what)
}

// FactsFromCSV reads header-less CSV rows for collection rel, columns in
// declaration order. A bad line is an error `path:LINE: message`.
func (p *Plan) FactsFromCSV(rel, path string, r io.Reader) ([]*Fact, error) {
	coll := p.ByName[rel]
	if coll == nil {
		return nil, fmt.Errorf("%s: unknown collection %s", path, rel)
	}
	var out []*Fact
	err := p.readCSV(coll, path, r, func(line int, t []stdlib.Value) error {
		out = append(out, &Fact{Coll: coll.ID, Tuple: slices.Clone(t), Pos: lang.Pos{File: path, Line: line, Col: 1}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readCSV parses the rows of a CSV file for coll and calls row for each
// (t is reused between calls).
func (p *Plan) readCSV(coll *Coll, path string, r io.Reader, row func(line int, t []stdlib.Value) error) error {
	rel := coll.Name
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	t := make([]stdlib.Value, len(coll.Types))
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				// The line where the bad record starts (an unterminated
				// quote is only detected at the end of the file).
				return fmt.Errorf("%s:%d: %v", path, pe.StartLine, pe.Err)
			}
			return fmt.Errorf("%s: %v", path, err)
		}
		// FieldPos is only valid for a record that was read without error
		// (it panics after a parse error).
		line, _ := cr.FieldPos(0)
		if len(rec) != len(coll.Types) {
			return fmt.Errorf("%s:%d: %s has %d columns, the line has %d fields", path, line, rel, len(coll.Types), len(rec))
		}
		for i, field := range rec {
			v, err := parseField(coll.Types[i], field)
			if err != nil {
				return fmt.Errorf("%s:%d: column %s (%s): %v", path, line, coll.Info.Cols[i].Name, coll.Types[i], err)
			}
			t[i] = v
		}
		if err := row(line, t); err != nil {
			return err
		}
	}
}

func parseField(t *lang.Type, field string) (stdlib.Value, error) {
	if t.IsLattice() && t.Kind != lang.LMax && t.Kind != lang.LMin && t.Kind != lang.LBool {
		return stdlib.ParseLiteral(t, strings.TrimSpace(field))
	}
	return stdlib.ParseText(t, field)
}

// FactRows is a block of facts from one CSV file for a collection whose
// columns all have word types (stdlib.IsWordType), kept as packed words:
// a boxed Fact costs some 150 bytes, a row of three ints 28, and a
// benchmark's input is most of its memory. Row i is
// Words[i*w:(i+1)*w] with w the collection's column count.
type FactRows struct {
	Coll  int
	File  string
	Lines []int32 // the CSV line of each row, for errors
	Words []uint64
}

// Len is the number of rows.
func (b *FactRows) Len() int { return len(b.Lines) }

// Pos is row i's position.
func (b *FactRows) Pos(i int) lang.Pos { return lang.Pos{File: b.File, Line: int(b.Lines[i]), Col: 1} }

// Tuple returns row i as values of the collection's column types.
func (b *FactRows) Tuple(p *Plan, i int) []stdlib.Value {
	types := p.Colls[b.Coll].Types
	w := len(types)
	t := make([]stdlib.Value, w)
	for j, typ := range types {
		t[j] = stdlib.UnpackWord(typ, b.Words[i*w+j])
	}
	return t
}

// NumFacts counts the facts of the plan, boxed and packed.
func (p *Plan) NumFacts() int {
	n := len(p.Facts)
	for _, b := range p.FactRows {
		n += b.Len()
	}
	return n
}

// AddFactsFromFlag reads one --facts argument, a .bloom facts file or
// REL=path.csv, into p.Facts (or p.FactRows, for a CSV file whose
// collection has only word-typed columns).
func (p *Plan) AddFactsFromFlag(arg string) error {
	if rel, path, ok := strings.Cut(arg, "="); ok && !strings.HasSuffix(arg, ".bloom") {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if coll := p.ByName[rel]; coll != nil && allWords(coll.Types) {
			b, err := p.factRowsFromCSV(coll, path, f)
			if err == nil {
				p.FactRows = append(p.FactRows, b)
				return nil
			}
			if !errors.Is(err, errNoWord) {
				return err
			}
			// A value without a word (an lmin<int> bottom): read the
			// file again as boxed facts.
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return err
			}
		}
		fs, err := p.FactsFromCSV(rel, path, f)
		p.Facts = append(p.Facts, fs...)
		return err
	}
	src, err := os.ReadFile(arg)
	if err != nil {
		return err
	}
	fs, err := p.FactsFromSource(arg, src)
	p.Facts = append(p.Facts, fs...)
	return err
}

func allWords(types []*lang.Type) bool {
	for _, t := range types {
		if !stdlib.IsWordType(t) {
			return false
		}
	}
	return true
}

var errNoWord = errors.New("a value without a word")

// factRowsFromCSV is FactsFromCSV into packed rows, with the same errors,
// or errNoWord.
func (p *Plan) factRowsFromCSV(coll *Coll, path string, r io.Reader) (*FactRows, error) {
	b := &FactRows{Coll: coll.ID, File: path}
	err := p.readCSV(coll, path, r, func(line int, t []stdlib.Value) error {
		for i, v := range t {
			w, ok := stdlib.PackWord(coll.Types[i], v)
			if !ok {
				return errNoWord
			}
			b.Words = append(b.Words, w)
		}
		b.Lines = append(b.Lines, int32(line))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}
