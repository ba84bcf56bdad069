package analysis

import (
	"strings"

	"github.com/bloomlang/bloom/compiler"
)

// Marks returns the report as marks for compiler.Plan.Render (`bloomc
// graph`): edges made non-monotone by something their kind does not show
// (value(), now(), a rejecting key constraint, a lattice comparison, or an
// acknowledged point of order), the edges of unacknowledged points of order
// and the edges of unacknowledged races, each with a one-line reason.
func (r *Report) Marks() compiler.Marks {
	m := compiler.Marks{NonMonotone: map[int]string{}, PointOfOrder: map[int]string{}, Race: map[int]string{}}
	for i, l := range r.Edges {
		var extra, poo, ack []string
		for _, p := range l.Points {
			if !shownByKind(l.Edge, p.Construct) {
				extra = append(extra, p.Detail)
			}
			switch p.Verdict {
			case PointOfOrder:
				poo = append(poo, p.What+" (channel "+p.Channel+")")
			case Acknowledged:
				ack = append(ack, "acknowledged: "+p.What+" (@coordinated \""+p.Reason+"\")")
			}
		}
		if len(extra) > 0 || len(ack) > 0 {
			m.NonMonotone[i] = strings.Join(append(dedup(extra), dedup(ack)...), "; ")
		}
		if len(poo) > 0 {
			m.PointOfOrder[i] = "point of order: " + strings.Join(dedup(poo), "; ")
		}
	}
	for _, rc := range r.Races {
		if rc.Acknowledged {
			continue
		}
		for i, l := range r.Edges {
			if l.Edge.Rule != rc.Rule || !l.Race {
				continue
			}
			m.Race[i] = "race: " + rc.Message()
		}
	}
	return m
}

// shownByKind reports whether the edge's kind (or its Negated and
// Aggregates flags) already shows construct c.
func shownByKind(e *compiler.Edge, c Construct) bool {
	switch c {
	case Negation:
		return e.Kind == compiler.Negated || e.Negated
	case Aggregate:
		return e.Kind == compiler.Aggregated || e.Aggregates
	case Deletion:
		return e.Kind == compiler.Delete
	case Upsert:
		return e.Kind == compiler.Upsert
	}
	return false
}

func dedup(ss []string) []string {
	seen := map[string]bool{}
	out := ss[:0]
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
