package transport

import (
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
)

// Coll describes one collection of a node's interface: what a client needs
// to encode inputs and decode outputs.
type Coll struct {
	Name  string
	Kind  lang.CollKind
	Cols  []string
	Types []*lang.Type
}

// NewSchemaOf makes a schema of the given collections.
func NewSchemaOf(colls []Coll) *Schema {
	s := &Schema{colls: map[string]*schemaColl{}}
	for _, c := range colls {
		s.add(c.Name, c.Kind, c.Types)
	}
	return s
}

// Interface lists a plan's input, output and channel collections in name
// order.
func Interface(plan *compiler.Plan) []Coll {
	var out []Coll
	for _, c := range plan.Colls {
		switch c.Info.Kind {
		case lang.Input, lang.Output, lang.Channel:
		default:
			continue
		}
		cols := make([]string, len(c.Info.Cols))
		for i, ci := range c.Info.Cols {
			cols[i] = ci.Name
		}
		out = append(out, Coll{Name: c.Name, Kind: c.Info.Kind, Cols: cols, Types: c.Types})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// PlanOf builds a plan holding only the collections (no rules), enough for
// compiler.Plan.FactsFromSource to parse tuples against them.
func PlanOf(colls []Coll) *compiler.Plan {
	p := &compiler.Plan{ByName: map[string]*compiler.Coll{}}
	for i, c := range colls {
		info := &lang.Collection{Name: c.Name, Local: c.Name, Kind: c.Kind}
		for k, t := range c.Types {
			info.Cols = append(info.Cols, lang.ColInfo{Name: c.Cols[k], Type: t, Loc: k == 0 && c.Kind == lang.Channel})
		}
		cc := &compiler.Coll{ID: i, Name: c.Name, Info: info, Types: c.Types}
		p.Colls = append(p.Colls, cc)
		p.ByName[c.Name] = cc
	}
	return p
}

// appendSchema encodes collections for the schema request:
// count, then per collection name, kind byte, column count and per column
// its name and type (see appendType).
func appendSchema(buf []byte, colls []Coll) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(colls)))
	for _, c := range colls {
		buf = appendString(buf, c.Name)
		buf = append(buf, byte(c.Kind))
		buf = binary.AppendUvarint(buf, uint64(len(c.Types)))
		for i, t := range c.Types {
			buf = appendString(buf, c.Cols[i])
			buf = appendType(buf, t)
		}
	}
	return buf
}

// appendType writes a type as its kind byte followed by its parameters:
// the element of lmax/lmin/lset, the key and value of lmap, the two
// components of lpair.
func appendType(buf []byte, t *lang.Type) []byte {
	buf = append(buf, byte(t.Kind))
	switch t.Kind {
	case lang.LMax, lang.LMin, lang.LSet:
		buf = appendType(buf, t.Elem)
	case lang.LMap, lang.LPair:
		buf = appendType(buf, t.Key)
		buf = appendType(buf, t.Elem)
	}
	return buf
}

func decodeSchema(b []byte) ([]Coll, error) {
	d := decoder{b: b}
	n, err := d.count(3)
	if err != nil {
		return nil, err
	}
	out := make([]Coll, 0, n)
	for range n {
		var c Coll
		if c.Name, err = d.str("name"); err != nil {
			return nil, err
		}
		if len(d.b) < 1 {
			return nil, derr("truncated", "truncated schema")
		}
		c.Kind = lang.CollKind(d.b[0])
		d.b = d.b[1:]
		if c.Kind < lang.Table || c.Kind > lang.Lattice {
			return nil, derr("bad_value", "collection kind %d", c.Kind)
		}
		ncols, err := d.count(2)
		if err != nil {
			return nil, err
		}
		for range ncols {
			name, err := d.str("column")
			if err != nil {
				return nil, err
			}
			t, err := d.typ(0)
			if err != nil {
				return nil, err
			}
			c.Cols = append(c.Cols, name)
			c.Types = append(c.Types, t)
		}
		out = append(out, c)
	}
	if len(d.b) != 0 {
		return nil, derr("trailing", "bytes after the schema")
	}
	return out, nil
}

func (d *decoder) typ(depth int) (*lang.Type, error) {
	if depth > 16 {
		return nil, derr("bad_type", "type nested too deeply")
	}
	if len(d.b) < 1 {
		return nil, derr("truncated", "truncated type")
	}
	k := lang.Kind(d.b[0])
	d.b = d.b[1:]
	switch k {
	case lang.Int, lang.Float, lang.String, lang.Bool, lang.Addr, lang.Time, lang.Bytes, lang.LBool, lang.LCounter:
		return lang.Scalar(k), nil
	case lang.LMax, lang.LMin, lang.LSet:
		e, err := d.typ(depth + 1)
		if err != nil {
			return nil, err
		}
		return &lang.Type{Kind: k, Elem: e}, nil
	case lang.LMap, lang.LPair:
		key, err := d.typ(depth + 1)
		if err != nil {
			return nil, err
		}
		e, err := d.typ(depth + 1)
		if err != nil {
			return nil, err
		}
		return &lang.Type{Kind: k, Key: key, Elem: e}, nil
	}
	return nil, derr("bad_type", "%s", fmt.Sprintf("type kind %d", k))
}
