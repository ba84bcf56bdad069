package storage

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
)

// collSchema is the stored declaration of a durable collection (the value
// of key s/NAME, as JSON). It is what the data was written with, and so
// what it is read back with.
type collSchema struct {
	Kind    string      `json:"kind"` // "table" or "lattice"
	Columns []colSchema `json:"columns"`
	// Key lists the key columns by index (0-based); every column of a
	// table without key(...); none for a lattice (it holds one value).
	Key []int `json:"key"`

	name  string
	types []*lang.Type
}

type colSchema struct {
	Name string `json:"name"`
	Type string `json:"type"` // source syntax, e.g. lmap<string, lmax<int>>
}

// schemaOf describes a durable collection of a plan.
func schemaOf(c *compiler.Coll) *collSchema {
	s := &collSchema{Kind: c.Info.Kind.String(), Key: slices.Clone(c.Key), name: c.Name, types: c.Types}
	if s.Key == nil {
		s.Key = []int{}
	}
	for i, col := range c.Info.Cols {
		s.Columns = append(s.Columns, colSchema{Name: col.Name, Type: c.Types[i].String()})
	}
	return s
}

func (s *collSchema) encode() []byte {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // plain strings and ints
	}
	return b
}

// parseSchema reads a stored schema and its column types.
func parseSchema(name string, b []byte) (*collSchema, error) {
	s := &collSchema{name: name}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("schema of %s: %w", name, err)
	}
	if s.Kind != lang.Table.String() && s.Kind != lang.Lattice.String() {
		return nil, fmt.Errorf("schema of %s: kind %q is not table or lattice", name, s.Kind)
	}
	if len(s.Columns) == 0 {
		return nil, fmt.Errorf("schema of %s: no columns", name)
	}
	for _, c := range s.Columns {
		t, err := parseType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("schema of %s: column %s: %w", name, c.Name, err)
		}
		s.types = append(s.types, t)
	}
	for _, k := range s.Key {
		if k < 0 || k >= len(s.Columns) {
			return nil, fmt.Errorf("schema of %s: key column %d out of range", name, k)
		}
	}
	return s, nil
}

// cols renders the columns as in a declaration: (k: string, v: int).
func (s *collSchema) cols() string {
	var parts []string
	for _, c := range s.Columns {
		parts = append(parts, c.Name+": "+c.Type)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func (s *collSchema) keyText() string {
	var parts []string
	for _, k := range s.Key {
		parts = append(parts, s.Columns[k].Name)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// describe names the collection as declared: "durable table kv".
func (s *collSchema) describe() string { return "durable " + s.Kind + " " + s.name }

// incompatibility returns why data stored with schema old cannot be read
// as collection c of the program, or "" when it can. Column names may
// change (data is positional); kinds, column types and the key may not.
func incompatibility(old *collSchema, c *compiler.Coll) string {
	now := schemaOf(c)
	switch {
	case old.Kind != now.Kind:
		return fmt.Sprintf("it was a durable %s and is now a durable %s", old.Kind, now.Kind)
	case len(old.Columns) != len(now.Columns):
		return fmt.Sprintf("its columns changed from %s to %s", old.cols(), now.cols())
	}
	for i := range old.Columns {
		if !old.types[i].Equal(now.types[i]) {
			return fmt.Sprintf("column %d (%s) changed type from %s to %s", i+1, now.Columns[i].Name, old.Columns[i].Type, now.Columns[i].Type)
		}
	}
	if !slices.Equal(old.Key, now.Key) {
		return fmt.Sprintf("its key changed from %s to %s", old.keyText(), now.keyText())
	}
	return ""
}

// parseType reads a type in source syntax (lang.Type.String's output).
func parseType(src string) (*lang.Type, error) {
	p := &typeParser{s: src}
	t, err := p.typ()
	if err != nil {
		return nil, err
	}
	if p.skip(); p.i != len(p.s) {
		return nil, fmt.Errorf("type %q: unexpected %q", src, p.s[p.i:])
	}
	return t, nil
}

type typeParser struct {
	s string
	i int
}

func (p *typeParser) skip() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *typeParser) eat(c byte) bool {
	p.skip()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *typeParser) typ() (*lang.Type, error) {
	p.skip()
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= 'a' && p.s[p.i] <= 'z' {
		p.i++
	}
	name := p.s[start:p.i]
	k, ok := lang.KindByName(name)
	if !ok {
		return nil, fmt.Errorf("type %q: unknown type name %q", p.s, name)
	}
	params := 0
	switch k {
	case lang.LMax, lang.LMin, lang.LSet:
		params = 1
	case lang.LMap, lang.LPair:
		params = 2
	}
	if params == 0 {
		return lang.Scalar(k), nil
	}
	if !p.eat('<') {
		return nil, fmt.Errorf("type %q: %s needs type parameters", p.s, name)
	}
	t := &lang.Type{Kind: k}
	a, err := p.typ()
	if err != nil {
		return nil, err
	}
	if params == 1 {
		t.Elem = a
	} else {
		if !p.eat(',') {
			return nil, fmt.Errorf("type %q: %s needs two type parameters", p.s, name)
		}
		b, err := p.typ()
		if err != nil {
			return nil, err
		}
		t.Key, t.Elem = a, b
	}
	if !p.eat('>') {
		return nil, fmt.Errorf("type %q: missing '>'", p.s)
	}
	return t, nil
}
