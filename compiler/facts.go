package compiler

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
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
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	var out []*Fact
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				// The line where the bad record starts (an unterminated
				// quote is only detected at the end of the file).
				return nil, fmt.Errorf("%s:%d: %v", path, pe.StartLine, pe.Err)
			}
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		// FieldPos is only valid for a record that was read without error
		// (it panics after a parse error).
		line, _ := cr.FieldPos(0)
		if len(rec) != len(coll.Types) {
			return nil, fmt.Errorf("%s:%d: %s has %d columns, the line has %d fields", path, line, rel, len(coll.Types), len(rec))
		}
		t := make([]stdlib.Value, len(rec))
		for i, field := range rec {
			v, err := parseField(coll.Types[i], field)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: column %s (%s): %v", path, line, coll.Info.Cols[i].Name, coll.Types[i], err)
			}
			t[i] = v
		}
		out = append(out, &Fact{Coll: coll.ID, Tuple: t, Pos: lang.Pos{File: path, Line: line, Col: 1}})
	}
}

func parseField(t *lang.Type, field string) (stdlib.Value, error) {
	if t.IsLattice() && t.Kind != lang.LMax && t.Kind != lang.LMin && t.Kind != lang.LBool {
		return stdlib.ParseLiteral(t, strings.TrimSpace(field))
	}
	return stdlib.ParseText(t, field)
}

// FactsFromFlag reads one --facts argument: a .bloom facts file, or
// REL=path.csv.
func (p *Plan) FactsFromFlag(arg string) ([]*Fact, error) {
	if rel, path, ok := strings.Cut(arg, "="); ok && !strings.HasSuffix(arg, ".bloom") {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return p.FactsFromCSV(rel, path, f)
	}
	src, err := os.ReadFile(arg)
	if err != nil {
		return nil, err
	}
	return p.FactsFromSource(arg, src)
}
